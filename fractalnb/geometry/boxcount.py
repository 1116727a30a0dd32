r"""Box counting: occupancy rules, pyramid counts N(r), and the box-counting dimension.

The pipeline from a parameter tensor :math:`W` to a dimension:

1. :func:`occupancy` turns :math:`W` into a set :math:`A = \{\omega : |W(\omega)| > \tau\}`
   by an explicit rule for :math:`\tau` (:class:`Absolute`, :class:`Quantile`,
   :class:`MeanStd`);
2. :func:`box_counts` counts, for each box side :math:`r`, the boxes of the tiling of
   :mod:`fractalnb.geometry.transform` that meet :math:`A` (``mode="occupied"``) or that hold
   points of both :math:`A` and its complement (``mode="boundary"``), all sides from one
   pyramid pass; :func:`differential_box_counts` counts boxes under a grey-level surface
   instead (no threshold);
3. :func:`fit_dimension` fits :math:`\log N(r) = c + D \log(1/r)` by least squares over a
   stated range of scales and returns a :class:`BoxDimension` with the dimension, its
   confidence interval, :math:`R^2`, the local slopes, the degree of self-similarity and
   the DSI residual (the ratio test of :mod:`fractalnb.geometry.dsi`).

:func:`box_dimension` runs the three steps. The definitions, the default scales and fit
range, and the degree of self-similarity are explained on the book's page *The fractal
transformation: our formalisation*.

**The default scales** (:func:`default_scales`, used when neither ``scales`` nor
``dilation`` is given) are a ladder from ``r = 1`` with steps between :math:`\sqrt 2` and
3: the next scale is the smallest side in :math:`[\sqrt 2\, r, 3r]` that tiles every axis
of the grid exactly (a common divisor of the sides), else one that tiles the longest
axis, else :math:`\max(r + 1, \operatorname{round}(\sqrt 2\, r))`. Exact tilings leave no
partial box: on a grid of side :math:`\lambda^L` they are the matched scales
:math:`\lambda^k` of a set built there, so its estimate is exact. A scale that does not
tile the grid is regressed on the *mean* box side
:math:`\bar r = (\prod_i n_i / \lceil n_i / r \rceil)^{1/d}` (over the :math:`d` axes of
length > 1) instead of :math:`r`: the side at which the partial boxes along the edges
count as much as they cover, which makes a filled grid and an axis-aligned line exact at
every size. ``dilation=λ`` gives the scales :math:`\lambda^k` instead (``dilation=2`` is
the dyadic default of earlier versions), and explicit ``scales`` are used exactly as
given, with :math:`r` itself in the regression. The fit range is :func:`default_fit_range`
in every case.

Examples
--------
>>> from fractalnb.geometry import fractals
>>> from fractalnb.geometry import box_counts, box_dimension
>>> carpet = fractals.sierpinski_carpet(4)
>>> box_counts(carpet.mask, [1, 3, 9, 27, 81])
array([4096,  512,   64,    8,    1])
>>> round(box_dimension(carpet.mask, scales=[1, 3, 9, 27, 81], fit_range="all").dimension, 6)
1.892789
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from .._validate import MAX_RANK, as_tensor, choice, integer, sizes
from .._validate import shape as grid_shape
from .fit import _MODES, DEFAULT_CONFIDENCE, BoxDimension, _fit, fit_dimension
from .occupancy_rules import _segment
from .transform import _reduce_axis

__all__ = [
    "DEFAULT_DILATION",
    "dilation_scales",
    "default_scales",
    "box_counts",
    "differential_box_counts",
    "box_dimension",
]


DEFAULT_DILATION = 2
r"""The default dilation factor :math:`\lambda` of the scales :math:`r_k = \lambda^k`."""


def dilation_scales(shape: Sequence[int], dilation: int = DEFAULT_DILATION) -> np.ndarray:
    r"""Return the scales :math:`r_k = \lambda^k,\ k = 0, 1, \dots` up to ``max(shape)``.

    Parameters
    ----------
    shape
        Grid shape.
    dilation
        The integer dilation factor :math:`\lambda \ge 2`.

    Returns
    -------
    numpy.ndarray
        ``int64`` scales ``1, λ, λ², …`` with ``λ^k <= max(shape)``.

    Examples
    --------
    >>> dilation_scales((64, 3, 3, 3))
    array([ 1,  2,  4,  8, 16, 32, 64])
    >>> dilation_scales((100,), 3)
    array([ 1,  3,  9, 27, 81])
    """
    dilation = integer(dilation, "dilation", 2)
    largest = max(grid_shape(shape, max_rank=MAX_RANK))
    scales = [1]
    while scales[-1] * dilation <= largest:
        scales.append(scales[-1] * dilation)
    return np.asarray(scales, dtype=np.int64)


_STEP_MIN, _STEP_MAX = math.sqrt(2.0), 3
"""Bounds of the step between consecutive default scales (see :func:`default_scales`)."""


def _divisors(n: int) -> list[int]:
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))


def default_scales(shape: Sequence[int]) -> np.ndarray:
    r"""Return the default box sides of a grid: exact tilings first, steps of √2 to 3.

    From ``r = 1``, the next scale is the smallest common divisor of the grid's sides
    (axes of length 1 left out) in :math:`[\sqrt 2\, r, 3 r]`; when there is none, the
    smallest divisor of the longest side there (boxes that tile the long axis of an
    elongated grid); when there is none either,
    :math:`\max(r + 1, \operatorname{round}(\sqrt 2\, r))`. The ladder stops at
    ``max(shape)``. On a grid of side :math:`\lambda^L` (:math:`\lambda` = 2 or 3) it is
    :math:`\lambda^k`, the matched scales of a set built by :math:`\lambda`-subdivision;
    on a prime side it is the :math:`\sqrt 2` ladder ``1, 2, 3, 4, 6, 8, 11, 16, …``.

    Parameters
    ----------
    shape
        Grid shape, rank 1 to 4.

    Returns
    -------
    numpy.ndarray
        Strictly increasing ``int64`` scales from 1 to at most ``max(shape)``.

    Examples
    --------
    >>> default_scales((729, 729))
    array([  1,   3,   9,  27,  81, 243, 729])
    >>> default_scales((100,))
    array([  1,   2,   4,  10,  20,  50, 100])
    >>> default_scales((127, 127))[:10]
    array([ 1,  2,  3,  4,  6,  8, 11, 16, 23, 33])
    """
    shape = grid_shape(shape, max_rank=MAX_RANK)
    sides = [n for n in shape if n > 1] or [1]
    largest = max(shape)
    tilings = (_divisors(math.gcd(*sides)), _divisors(largest))
    scales = [1]
    while True:
        r = scales[-1]
        step = max(r + 1, round(_STEP_MIN * r))
        for divisors in tilings:
            tiling = [d for d in divisors if _STEP_MIN * r <= d <= _STEP_MAX * r]
            if tiling:
                step = tiling[0]
                break
        if step > largest:
            return np.asarray(scales, dtype=np.int64)
        scales.append(step)


def _mean_box_sides(scales: np.ndarray, shape: Sequence[int]) -> np.ndarray | None:
    """Return the mean box sides (prod n_i / ceil(n_i / r))^(1/d); None when all tile."""
    sides = [int(n) for n in shape if n > 1] or [1]
    mean, exact = [], True
    for r in scales.tolist():
        if all(n % r == 0 for n in sides):
            mean.append(float(r))  # an exact tiling: r itself, to the last digit
        else:
            exact = False
            logs = [math.log(n / -(-n // r)) for n in sides]
            mean.append(math.exp(sum(logs) / len(logs)))
    return None if exact else np.asarray(mean, dtype=np.float64)


def _check_scales(scales: object, shape: Sequence[int]) -> np.ndarray:
    """Strictly increasing integers ``>= 1`` up to ``max(shape)`` (one integer is one scale)."""
    if isinstance(scales, (int, np.integer)) and not isinstance(scales, bool):
        scales = [scales]
    values = sizes(scales, "scales")
    largest = max(int(n) for n in shape)
    if values.max() > largest:
        raise ValueError(
            f"scales holds {int(values.max())}, larger than the grid "
            f"{tuple(int(n) for n in shape)} (one box covers the grid from r = max(shape) = "
            f"{largest} on)"
        )
    return values


def _pyramid(t: torch.Tensor, scales: np.ndarray, ops: tuple[str, ...]):
    """Yield, for each scale, the box reductions of ``t`` by each op in ``ops``.

    Each level is computed from the finest level already computed whose side divides
    the new side (the boxes are nested, for every shape); powers of one dilation factor
    form a chain, so the whole pyramid costs O(n). Scales that no computed side divides
    start again from the base grid (still vectorised, O(n) each).
    """
    levels: dict[int, tuple[torch.Tensor, ...]] = {1: tuple(t for _ in ops)}
    for r in scales.tolist():
        base = max(p for p in levels if r % p == 0)
        factor = r // base
        level = levels[base]
        if factor > 1:
            reduced = []
            for tensor, op in zip(level, ops):
                for axis in range(tensor.ndim):
                    tensor = _reduce_axis(tensor, axis, factor, op)
                reduced.append(tensor)
            level = tuple(reduced)
        levels[r] = level
        yield level


_COMPILED = True
"""Count CPU grids with the compiled kernel (False: the torch pyramid, for benchmarks)."""


def _as_mask(mask: object) -> torch.Tensor:
    t, _ = as_tensor(mask, "mask", check_finite=False)
    if t.dtype != torch.bool:
        raise ValueError(
            f"mask must be boolean, got dtype {t.dtype}; "
            "segment a real array first with occupancy(x, threshold)"
        )
    return t


def box_counts(mask, scales: Sequence[int], mode: str = "occupied") -> np.ndarray:
    """Count the boxes of side ``r`` that meet the set (or its boundary), for every scale.

    The grid is tiled by boxes aligned at the origin, the last partial box along an axis
    kept (the tiling of :func:`fractalnb.geometry.fractal_transform`). All scales come
    from one pyramid pass: each scale's boxes are reduced from the finest computed scale
    that divides it, so powers of a dilation factor cost O(n) in total; other scales are
    still exact, reduced from the finest dividing level. NumPy arrays and CPU tensors are
    counted by a compiled kernel (numba; factor-2 levels eight cells per 64-bit word, see
    ``fractalnb/geometry/_pyramid.py``), GPU tensors by torch on their device; the
    counts are the same.

    Parameters
    ----------
    mask
        Boolean array or tensor of rank 1 to 4: the set :math:`A`.
    scales
        Strictly increasing integers ``>= 1`` and ``<= max(mask.shape)``.
    mode
        ``"occupied"``: boxes holding a point of :math:`A`; ``"boundary"``: boxes holding
        points of both :math:`A` and its complement (grid points only: the padding of a
        partial box is neither).

    Returns
    -------
    numpy.ndarray
        ``int64`` counts :math:`N(r)`, one per scale. An empty ``mask`` gives zeros
        (so does a full one in ``boundary`` mode).

    Raises
    ------
    TypeError
        If ``mask`` is not an array or tensor, or the scales are not integers.
    ValueError
        If ``mask`` is not a boolean array of rank 1 to 4 (or has more than
        ``2**30`` elements), a scale is ``< 1`` or exceeds the grid, the scales do not
        strictly increase, or ``mode`` is unknown.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.zeros((4, 4), dtype=bool); a[0, :] = True
    >>> box_counts(a, [1, 2, 4])
    array([4, 2, 1])
    >>> box_counts(a, [1, 2, 4], mode="boundary")
    array([0, 2, 1])
    """
    if mode == "differential":
        raise ValueError(
            "mode must be 'occupied' or 'boundary', got 'differential' "
            "(differential box counting: differential_box_counts)"
        )
    mode = choice(mode, "mode", ("occupied", "boundary"))
    t = _as_mask(mask)
    values = _check_scales(scales, t.shape)
    if t.device.type == "cpu" and _COMPILED:
        from ._pyramid import pyramid_counts

        counts = pyramid_counts(t.numpy(), values.tolist(), mode == "boundary")
        return np.asarray(counts, dtype=np.int64)
    counts = []
    if mode == "occupied":
        for (occupied,) in _pyramid(t, values, ("or",)):
            counts.append(torch.count_nonzero(occupied))
    else:
        for occupied, full in _pyramid(t, values, ("or", "and")):
            counts.append(torch.count_nonzero(occupied ^ full))
    return torch.stack(counts).cpu().numpy().astype(np.int64)


def differential_box_counts(x, scales: Sequence[int]) -> np.ndarray:
    r"""Differential box counting (Sarkar & Chaudhuri, 1994) for a 2-D grey-level surface.

    The surface :math:`z = W(i, j)` is rescaled so that its range spans ``M = max(shape)``
    height units, the side of the grid: :math:`z' = (z - \min z)\, M / (\max z - \min z)`
    (a constant surface is flat, :math:`z' = 0`). For a box side :math:`s`, each
    :math:`s \times s` block of the tiling (partial blocks kept) is covered by a column of
    cubes of height :math:`s`; the block needs
    :math:`n_s = \lfloor \max z'/s \rfloor - \lfloor \min z'/s \rfloor + 1` of them, and
    :math:`N(s) = \sum n_s` over blocks. No threshold is involved.

    Parameters
    ----------
    x
        Real 2-D array or tensor, finite.
    scales
        Strictly increasing integers ``>= 1`` and ``<= max(x.shape)``.

    Returns
    -------
    numpy.ndarray
        ``int64`` counts :math:`N(s)`.

    Examples
    --------
    >>> import numpy as np
    >>> differential_box_counts(np.zeros((8, 8)), [1, 2, 4, 8])   # a plane: N = (8/s)^2
    array([64, 16,  4,  1])
    """
    t, _ = as_tensor(x, allow_bool=False)
    if t.ndim != 2:
        raise ValueError(
            f"differential box counting needs a 2-D surface, got rank {t.ndim} "
            f"(shape {tuple(t.shape)}); unfold a conv kernel with unfold_conv first"
        )
    values = _check_scales(scales, t.shape)
    z = t.to(torch.float64)
    low, high = float(z.min()), float(z.max())
    side = max(t.shape)
    z = (z - low) * (side / (high - low)) if high > low else torch.zeros_like(z)
    counts = []
    for r, (top, bottom) in zip(values.tolist(), _pyramid(z, values, ("max", "min"))):
        columns = torch.floor(top / r) - torch.floor(bottom / r) + 1
        counts.append(columns.sum())
    return torch.stack(counts).cpu().numpy().round().astype(np.int64)


def box_dimension(
    x,
    scales: Sequence[int] | None = None,
    threshold: object = None,
    mode: str = "occupied",
    *,
    dilation: int | None = None,
    fit_range: object = None,
    confidence: float = DEFAULT_CONFIDENCE,
) -> BoxDimension:
    r"""Estimate the box-counting dimension of a set, a tensor's occupied set, or a surface.

    Parameters
    ----------
    x
        A boolean mask (the set :math:`A` itself), or a real array / tensor of rank 1 to 4
        (segmented by ``threshold``; a conv kernel is counted as the 4-D grid it is —
        pass :func:`fractalnb.geometry.unfold_conv` ``(w)`` for the 2-D unfolding). For
        ``mode="differential"``, a real 2-D surface.
    scales
        Box sides to count, strictly increasing integers ``<= max(x.shape)``, used
        exactly as given (with :math:`r` in the regression). Default:
        :func:`default_scales` ``(x.shape)``, exact tilings first in steps of
        :math:`\sqrt 2` to 3, each regressed on its mean box side (see the module's
        notes); with ``dilation``, :func:`dilation_scales` ``(x.shape, dilation)``.
    threshold
        Occupancy rule for real ``x`` (see :func:`occupancy_rule`); default
        :data:`~fractalnb.geometry.occupancy_rules.DEFAULT_RULE` (``MeanStd(1.0)``). Must be None
        for a boolean mask and for
        ``mode="differential"``.
    mode
        ``"occupied"`` (boxes meeting :math:`A`), ``"boundary"`` (boxes holding points of
        :math:`A` and of its complement) or ``"differential"`` (Sarkar-Chaudhuri
        differential box counting of a grey-level surface, see
        :func:`differential_box_counts`).
    dilation
        :math:`\lambda`, integer ``>= 2``: count at ``1, λ, λ², …`` instead of the default
        scales (``dilation=2`` is the dyadic default of earlier versions). Differential
        counting uses ``λ = 2`` when None.
    fit_range
        ``None`` (default: :func:`default_fit_range`, leaving out ``r = 1`` and
        ``r > max(shape)/4``), ``"all"``, or inclusive bounds ``(r_min, r_max)``.
    confidence
        Level of the confidence interval on :math:`D`.

    Returns
    -------
    BoxDimension

    Raises
    ------
    ValueError
        For invalid input (see :func:`fractalnb.geometry.fractal_transform`), a threshold
        leaving :math:`A` empty or full, bad scales or dilation, fewer than 3 scales in
        the fit range, or no boxes counted at a fitted scale.

    Examples
    --------
    >>> from fractalnb.geometry import fractals
    >>> triangle = fractals.sierpinski_triangle(8)
    >>> fit = box_dimension(triangle.mask)
    >>> round(fit.dimension, 6), round(triangle.dimension, 6), fit.self_similarity
    (1.584963, 1.584963, 1.0)
    >>> vicsek = fractals.vicsek_fractal(6)              # 729 x 729
    >>> round(box_dimension(vicsek.mask).dimension - vicsek.dimension, 6)
    0.0
    >>> round(box_dimension(vicsek.mask, dilation=2).dimension - vicsek.dimension, 3)
    -0.072
    """
    mode = choice(mode, "mode", _MODES)
    if dilation is not None:
        dilation = integer(dilation, "dilation", 2)
    if mode == "differential":
        dilation = DEFAULT_DILATION if dilation is None else dilation
        if threshold is not None:
            raise ValueError("differential box counting takes no threshold: pass threshold=None")
        t, _ = as_tensor(x, allow_bool=False)
        values = dilation_scales(t.shape, dilation) if scales is None else scales
        values = _check_scales(values, t.shape)
        counts = differential_box_counts(t, values)
        return fit_dimension(
            values, counts, fit_range=fit_range, confidence=confidence,
            shape=tuple(t.shape), mode=mode, rule="surface",
        )  # fmt: skip
    mask, rule, tau, density = _segment(as_tensor(x)[0], threshold)
    sides = None
    if scales is not None:
        values = _check_scales(scales, mask.shape)
    elif dilation is not None:
        values = dilation_scales(mask.shape, dilation)
    else:
        values = default_scales(mask.shape)
        sides = _mean_box_sides(values, mask.shape)
    counts = box_counts(mask, values, mode)
    return _fit(
        values, counts, sides, fit_range=fit_range, confidence=confidence,
        shape=tuple(mask.shape), mode=mode, rule=rule, tau=tau, density=density,
    )  # fmt: skip
