"""Permutations that respect the boxes of the fractal transformation (exact equivariance).

A permutation *respects* the box side ``r`` when it maps every ``r``-box of its axis onto an
``r``-box; three generators draw random permutations that respect chosen sides.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validate import integer, sizes
from .._validate import rng as generator
from ._arguments import IndexLike, Seed, _check_count, _check_permutation

__all__ = [
    "respects_scale",
    "respected_scales",
    "block_permutation",
    "within_block_permutation",
    "hierarchical_permutation",
]


def _respects(p: np.ndarray, r: int) -> bool:
    boxes = p // r
    starts = (np.arange(p.size) // r) * r
    return bool(np.all(boxes == boxes[starts]))


def respects_scale(perm: IndexLike, r: int) -> bool:
    """Whether a permutation maps every ``r``-box of its axis onto an ``r``-box.

    The ``r``-boxes of ``0..n-1`` are ``[kr, kr + r) ∩ [0, n)``, the last possibly
    partial (the tiling of :func:`fractalnb.geometry.fractal_transform`). A permutation
    respects ``r`` when the entries of each box are sent into one box; by counting, each
    box is then sent *onto* a box of the same size (a partial box onto itself). Then
    ``T_r(x[perm]) = T_r(x)[P_r]`` along that axis, with ``P_r = perm[::r] // r`` the
    induced permutation of the boxes (see :func:`equivariance_table`).

    Parameters
    ----------
    perm
        A permutation of ``0..n-1``.
    r
        Box side, a positive integer (``r ≥ n``: one box, always respected).

    Returns
    -------
    bool

    Examples
    --------
    >>> respects_scale([2, 3, 0, 1], 2), respects_scale([1, 2, 3, 0], 2)
    (True, False)
    """
    return _respects(_check_permutation(perm), integer(r, "r", minimum=1))


def respected_scales(perm: IndexLike, scales: Sequence[int] | None = None) -> np.ndarray:
    """Return the box sides (among ``scales``) that a permutation respects.

    Parameters
    ----------
    perm
        A permutation of ``0..n-1``.
    scales
        Candidate box sides (strictly increasing positive integers); default every ``r`` in
        ``1..n``.

    Returns
    -------
    numpy.ndarray
        The respected sides, in the order given. ``1`` and every ``r ≥ n`` are always
        respected.

    Examples
    --------
    >>> respected_scales([4, 5, 6, 7, 0, 1, 2, 3]).tolist()
    [1, 2, 4, 8]
    """
    p = _check_permutation(perm)
    candidates = range(1, p.size + 1) if scales is None else sizes(scales, "scales")
    return np.array([r for r in candidates if _respects(p, r)], dtype=np.int64)


def block_permutation(n: int, r: int, *, seed: Seed = 0) -> np.ndarray:
    """Return a random permutation that moves whole ``r``-blocks rigidly.

    The ``⌊n / r⌋`` full blocks are permuted uniformly; a partial last block stays in
    place; the order inside each block is kept. Such a permutation respects every divisor
    of ``r``, and a multiple ``m·r`` exactly when the induced block permutation respects
    ``m``.

    Parameters
    ----------
    n
        Number of items.
    r
        Block side.
    seed
        Seed (an integer ``>= 0``) or ``numpy.random.Generator``.

    Returns
    -------
    numpy.ndarray
        ``int64`` permutation of ``0..n-1``.

    Examples
    --------
    >>> p = block_permutation(8, 2, seed=0)
    >>> bool(respects_scale(p, 2))
    True
    """
    n = _check_count(n)
    r = integer(r, "r", minimum=1)
    full = n // r
    order = generator(seed).permutation(full)
    head = (order[:, None] * r + np.arange(r)[None, :]).reshape(-1)
    return np.concatenate([head, np.arange(full * r, n)]).astype(np.int64)


def within_block_permutation(n: int, r: int, *, seed: Seed = 0) -> np.ndarray:
    """Return a random permutation that shuffles the items inside each ``r``-block.

    Each block (the last possibly partial) is shuffled uniformly and independently. The
    result respects ``r`` and every multiple of ``r`` with the identity as induced
    permutation: ``T_r`` and every coarser transform do not see it.

    Parameters
    ----------
    n
        Number of items.
    r
        Block side.
    seed
        Seed (an integer ``>= 0``) or ``numpy.random.Generator``.

    Returns
    -------
    numpy.ndarray
        ``int64`` permutation of ``0..n-1``.

    Examples
    --------
    >>> p = within_block_permutation(6, 3, seed=0)
    >>> sorted(p[:3].tolist()), sorted(p[3:].tolist())
    ([0, 1, 2], [3, 4, 5])
    """
    n = _check_count(n)
    r = integer(r, "r", minimum=1)
    keys = generator(seed).random(n)
    blocks = np.arange(n) // r
    return np.lexsort((keys, blocks)).astype(np.int64)


def hierarchical_permutation(n: int, base: int = 2, *, seed: Seed = 0) -> np.ndarray:
    """Return a random permutation of the ``base``-ary tree of blocks: it respects every ``base^k``.

    At every level ``k ≥ 1``, the full children (blocks of side ``base^(k-1)``) of each
    node (a block of side ``base^k``) are permuted uniformly and independently; a partial
    child (at the end of the axis) stays in place. The result respects every scale
    ``base^k``, ``k = 0, 1, …``, at once. For ``n = base^K`` it is uniformly distributed over
    the group of all such permutations (the iterated wreath product of symmetric groups).

    Parameters
    ----------
    n
        Number of items (any positive integer; not necessarily a power of ``base``).
    base
        The dilation factor ``λ ≥ 2``.
    seed
        Seed (an integer ``>= 0``) or ``numpy.random.Generator``.

    Returns
    -------
    numpy.ndarray
        ``int64`` permutation of ``0..n-1``.

    Examples
    --------
    >>> p = hierarchical_permutation(16, 2, seed=0)
    >>> [bool(respects_scale(p, r)) for r in (1, 2, 4, 8, 16)]
    [True, True, True, True, True]
    """
    n = _check_count(n)
    base = integer(base, "base", minimum=2)
    rng = generator(seed)
    perm = np.arange(n, dtype=np.int64)
    child = 1
    while child < n:
        full = n // child  # full children at this level
        parents = np.arange(full) // base
        order = np.lexsort((rng.random(full), parents))  # shuffle children within parents
        level = np.arange(n, dtype=np.int64)
        level[: full * child] = (order[:, None] * child + np.arange(child)[None, :]).reshape(-1)
        perm = perm[level]
        child *= base
    return perm
