"""Compiled box-count pyramid of a boolean grid on the CPU (numba).

:func:`fractalnb.geometry.box_counts` calls :func:`pyramid_counts` for NumPy arrays and CPU
tensors; it is not part of the public API. The grid is viewed as a 4-D ``uint8`` array
(leading axes of length 1 added; an axis of length 1 is one box at every side), and each
scale's boxes are reduced from the finest computed scale whose side divides it, as the torch
pyramid does, with the count taken in the same pass:

- a factor 2 on a last axis whose length is a multiple of 8 reads eight cells per 64-bit
  word: the rows of a box are OR-ed (AND-ed) word by word, then the pairs of bytes of each
  word are merged and packed by shifts and masks (SWAR) into a 32-bit word of four boxes,
  whose occupied (or boundary) boxes are summed by one multiplication;
- any other factor reduces each box's rows into a row buffer, then the row by boxes.

Both modes are exact: a box is occupied when it holds a point of the set and on the boundary
when it holds points of the set and of its complement, grid points only (the cells past the
grid of a partial box are neither). The kernels are compiled on first use and cached on disk
(``cache=True``).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["pyramid_counts"]


_M8 = np.uint64(0x00FF00FF00FF00FF)
_M16 = np.uint64(0x0000FFFF0000FFFF)
_M32 = np.uint64(0xFFFFFFFF)
_S8, _S16, _S56 = np.uint64(8), np.uint64(16), np.uint64(56)
_BYTES = np.uint64(0x0101010101010101)  # times a word of 0/1 bytes: their sum in the top byte


@numba.njit(cache=True, nogil=True)
def _pack_pairs(word):
    """Pack bytes 0, 2, 4, 6 of ``word`` (the merged byte pairs) into bytes 0..3."""
    y = word & _M8
    y = (y | (y >> _S8)) & _M16
    return (y | (y >> _S16)) & _M32


@numba.njit(cache=True, nogil=True)
def _halve_words(xo, xa, with_and):
    """Boxes of side 2 of a 4-D grid given as 64-bit words of 8 cells along the last axis."""
    n0, n1, n2, nw = xo.shape
    m0, m1, m2 = (n0 + 1) // 2, (n1 + 1) // 2, (n2 + 1) // 2
    out_o = np.empty((m0, m1, m2, nw), np.uint32)
    out_a = np.empty((m0, m1, m2, nw) if with_and else (1, 1, 1, 1), np.uint32)
    ro = np.empty(nw, np.uint64)
    ra = np.empty(nw, np.uint64)
    count = np.uint64(0)
    for p0 in range(m0):
        for p1 in range(m1):
            for p2 in range(m2):
                first = True
                for i0 in range(2 * p0, min(2 * p0 + 2, n0)):
                    for i1 in range(2 * p1, min(2 * p1 + 2, n1)):
                        for i2 in range(2 * p2, min(2 * p2 + 2, n2)):
                            so = xo[i0, i1, i2]
                            sa = xa[i0, i1, i2]
                            if first:
                                ro[:] = so
                                if with_and:
                                    ra[:] = sa
                            else:
                                for w in range(nw):
                                    ro[w] |= so[w]
                                if with_and:
                                    for w in range(nw):
                                        ra[w] &= sa[w]
                            first = False
                do = out_o[p0, p1, p2]
                if with_and:
                    da = out_a[p0, p1, p2]
                    for w in range(nw):
                        y = _pack_pairs(ro[w] | (ro[w] >> _S8))
                        z = _pack_pairs(ra[w] & (ra[w] >> _S8))
                        do[w] = np.uint32(y)
                        da[w] = np.uint32(z)
                        count += ((y & ~z) * _BYTES) >> _S56
                else:
                    for w in range(nw):
                        y = _pack_pairs(ro[w] | (ro[w] >> _S8))
                        do[w] = np.uint32(y)
                        count += (y * _BYTES) >> _S56
    return out_o, out_a, count


@numba.njit(cache=True, nogil=True)
def _reduce(xo, xa, f, with_and):
    """Boxes of side ``f`` of a 4-D ``uint8`` grid of 0/1 (last boxes partial)."""
    n0, n1, n2, n3 = xo.shape
    m0, m1 = (n0 + f - 1) // f, (n1 + f - 1) // f
    m2, m3 = (n2 + f - 1) // f, (n3 + f - 1) // f
    out_o = np.empty((m0, m1, m2, m3), np.uint8)
    out_a = np.empty((m0, m1, m2, m3) if with_and else (1, 1, 1, 1), np.uint8)
    ro = np.empty(n3, np.uint8)
    ra = np.empty(n3, np.uint8)
    count = 0
    for p0 in range(m0):
        for p1 in range(m1):
            for p2 in range(m2):
                first = True
                for i0 in range(p0 * f, min(p0 * f + f, n0)):
                    for i1 in range(p1 * f, min(p1 * f + f, n1)):
                        for i2 in range(p2 * f, min(p2 * f + f, n2)):
                            so = xo[i0, i1, i2]
                            sa = xa[i0, i1, i2]
                            if first:
                                ro[:] = so
                                if with_and:
                                    ra[:] = sa
                            else:
                                for j in range(n3):
                                    ro[j] |= so[j]
                                if with_and:
                                    for j in range(n3):
                                        ra[j] &= sa[j]
                            first = False
                do = out_o[p0, p1, p2]
                da = out_a[p0, p1, p2] if with_and else out_a[0, 0, 0]
                for q in range(m3):
                    occupied = 0
                    full = 1
                    for j in range(q * f, min(q * f + f, n3)):
                        occupied |= ro[j]
                        full &= ra[j]
                    do[q] = occupied
                    if with_and:
                        da[q] = full
                        count += occupied & (1 - full)
                    else:
                        count += occupied
    return out_o, out_a, count


def pyramid_counts(mask: np.ndarray, scales: list[int], boundary: bool) -> list[int]:
    """Return N(r) for each of the increasing ``scales`` of a boolean array of rank 1-4."""
    x = np.ascontiguousarray(mask, dtype=np.bool_).view(np.uint8)
    x = x.reshape((1,) * (4 - x.ndim) + x.shape)
    levels: dict[int, tuple[np.ndarray, np.ndarray]] = {1: (x, x)}
    counts = []
    for r in scales:
        base = max(p for p in levels if r % p == 0)
        factor = r // base
        occupied, full = levels[base]
        if factor == 1:  # r = 1 (scales strictly increase): the cells themselves
            count = 0 if boundary else int(np.count_nonzero(occupied))
        elif factor == 2 and occupied.shape[3] % 8 == 0:
            o, a, count = _halve_words(occupied.view(np.uint64), full.view(np.uint64), boundary)
            occupied, full = o.view(np.uint8), a.view(np.uint8)
        else:
            occupied, full, count = _reduce(occupied, full, factor, boundary)
        levels[r] = (occupied, full if boundary else occupied)
        counts.append(int(count))
    return counts
