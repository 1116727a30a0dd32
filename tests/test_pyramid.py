"""The compiled box-count pyramid gives exactly the counts of the plain NumPy definition.

fractalnb.geometry._pyramid (numba; 64-bit words for factor-2 levels whose last axis is a
multiple of 8) against the per-scale NumPy reference (pad and reshape the whole grid at
every scale, the baseline of benchmarks/bench_boxcount.py) and against the torch pyramid
(the path of GPU tensors), on random masks of odd and of word-aligned shapes, rank 1-4,
both modes, dyadic chains, mixed chains and arbitrary scales.
"""

import math

import numpy as np
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from fractalnb.geometry import box_counts, default_scales, dilation_scales
from fractalnb.geometry._pyramid import pyramid_counts
from fractalnb.geometry.boxcount import _pyramid

SETTINGS = settings(deadline=None, max_examples=60, derandomize=True)


def numpy_counts(mask: np.ndarray, scales, mode: str) -> list[int]:
    """Pad to a multiple of r (False for "any", True for "all") and reshape, per scale."""
    counts = []
    for r in scales:
        padded = tuple(-(-n // r) * r for n in mask.shape)
        inside = tuple(slice(0, n) for n in mask.shape)
        split = [v for n in padded for v in (n // r, r)]
        axes = tuple(range(1, 2 * mask.ndim, 2))
        occupied = np.zeros(padded, bool)
        occupied[inside] = mask
        anyv = occupied.reshape(split).any(axis=axes)
        if mode == "occupied":
            counts.append(int(anyv.sum()))
            continue
        full = np.ones(padded, bool)
        full[inside] = mask
        allv = full.reshape(split).all(axis=axes)
        counts.append(int((anyv & ~allv).sum()))
    return counts


def torch_counts(mask: np.ndarray, scales, mode: str) -> list[int]:
    t = torch.from_numpy(np.ascontiguousarray(mask))
    ops = ("or",) if mode == "occupied" else ("or", "and")
    out = []
    for level in _pyramid(t, np.asarray(scales), ops):
        occupied = level[0] if mode == "occupied" else level[0] ^ level[1]
        out.append(int(torch.count_nonzero(occupied)))
    return out


@st.composite
def grids(draw):
    rank = draw(st.integers(1, 4))
    side = {1: 3000, 2: 130, 3: 40, 4: 17}[rank]
    aligned = draw(st.booleans())  # a last axis of whole 64-bit words: the SWAR path
    shape = list(draw(st.lists(st.integers(1, side), min_size=rank, max_size=rank)))
    if aligned:
        shape[-1] = 8 * draw(st.integers(1, max(1, side // 8)))
    assume(math.prod(shape) <= 40_000)
    density = draw(st.sampled_from([0.01, 0.3, 0.7, 0.99]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.random(shape) < density


@st.composite
def scale_sets(draw, shape):
    kind = draw(st.sampled_from(["dyadic", "default", "triadic", "any"]))
    if kind == "dyadic":
        return dilation_scales(shape).tolist()
    if kind == "default":
        return default_scales(shape).tolist()
    if kind == "triadic":
        return dilation_scales(shape, 3).tolist()
    values = draw(st.lists(st.integers(1, max(shape)), min_size=1, max_size=8, unique=True))
    return sorted(values)


@SETTINGS
@given(mask=grids(), mode=st.sampled_from(["occupied", "boundary"]), data=st.data())
def test_compiled_counts_are_the_numpy_and_torch_counts(mask, mode, data):
    scales = data.draw(scale_sets(mask.shape))
    expected = numpy_counts(mask, scales, mode)
    assert pyramid_counts(mask, scales, mode == "boundary") == expected
    assert torch_counts(mask, scales, mode) == expected
    got = box_counts(mask, scales, mode)
    assert got.dtype == np.int64 and got.tolist() == expected


@SETTINGS
@given(mask=grids(), data=st.data())
def test_strided_views_and_cpu_tensors_give_the_same_counts(mask, data):
    order = data.draw(st.permutations(range(mask.ndim)))
    view = np.transpose(mask, order)[..., ::2]  # not contiguous
    scales = data.draw(scale_sets(view.shape))
    expected = numpy_counts(np.ascontiguousarray(view), scales, "boundary")
    assert box_counts(view, scales, "boundary").tolist() == expected
    assert box_counts(torch.from_numpy(mask).permute(*order), scales, "boundary").tolist() == (
        numpy_counts(np.transpose(mask, order), scales, "boundary")
    )


def test_large_word_aligned_grids_and_extreme_densities():
    rng = np.random.default_rng(7)
    for shape in [(1024, 1024), (4096,), (96, 64, 40), (9, 16, 24, 32), (1000, 1000)]:
        for density in (0.0, 1e-4, 0.5, 1.0):
            mask = rng.random(shape) < density
            for scales in (dilation_scales(shape).tolist(), default_scales(shape).tolist()):
                for mode in ("occupied", "boundary"):
                    assert box_counts(mask, scales, mode).tolist() == numpy_counts(
                        mask, scales, mode
                    ), (shape, density, mode)
