r"""Box counting: occupancy rules, pyramid counts N(r), and the box-counting dimension.

The pipeline from a parameter tensor :math:`W` to a dimension:

1. :func:`occupancy` turns :math:`W` into a set :math:`A = \{\omega : |W(\omega)| > \tau\}`
   by an explicit rule for :math:`\tau` (:class:`Absolute`, :class:`Quantile`,
   :class:`MeanStd`);
2. :func:`box_counts` counts, for each box side :math:`r`, the boxes of the tiling of
   :mod:`fractalnb.transform` that meet :math:`A` (``mode="occupied"``) or that hold
   points of both :math:`A` and its complement (``mode="boundary"``), all sides from one
   pyramid pass; :func:`differential_box_counts` counts boxes under a grey-level surface
   instead (no threshold);
3. :func:`fit_dimension` fits :math:`\log N(r) = c + D \log(1/r)` by least squares over a
   stated range of scales and returns a :class:`BoxDimension` with the dimension, its
   confidence interval, :math:`R^2`, the local slopes, the degree of self-similarity and
   the DSI residual (the ratio test of :mod:`fractalnb.dsi`).

:func:`box_dimension` runs the three steps. The definitions, the default scales and fit
range, and the degree of self-similarity are explained on the book's page *The fractal
transformation: our formalisation*.

Examples
--------
>>> from fractalnb import fractals
>>> from fractalnb.boxcount import box_counts, box_dimension
>>> carpet = fractals.sierpinski_carpet(4)
>>> box_counts(carpet.mask, [1, 3, 9, 27, 81])
array([4096,  512,   64,    8,    1])
>>> round(box_dimension(carpet.mask, scales=[1, 3, 9, 27, 81], fit_range="all").dimension, 6)
1.892789
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
from scipy import stats

from .transform import _as_tensor, _check_int, _reduce_axis

__all__ = [
    "DEFAULT_CONFIDENCE",
    "DEFAULT_DILATION",
    "DEFAULT_RULE",
    "MIN_FIT_SCALES",
    "MODES",
    "Absolute",
    "BoxDimension",
    "MeanStd",
    "OccupancyRule",
    "Quantile",
    "box_counts",
    "box_dimension",
    "default_fit_range",
    "differential_box_counts",
    "dilation_scales",
    "fit_dimension",
    "local_slopes",
    "occupancy",
    "occupancy_rule",
    "self_similarity",
]

Mode = Literal["occupied", "boundary", "differential"]
MODES: tuple[str, ...] = ("occupied", "boundary", "differential")
"""The counting modes (boxes meeting A; boxes on the boundary of A; boxes under a surface)."""

DEFAULT_DILATION = 2
r"""The default dilation factor :math:`\lambda` of the scales :math:`r_k = \lambda^k`."""

DEFAULT_CONFIDENCE = 0.95
"""Confidence level of the interval on the fitted dimension."""

MIN_FIT_SCALES = 3
"""The fewest scales a dimension is fitted on (a confidence interval needs 3)."""


# --------------------------------------------------------------------------------------
# occupancy rules


class OccupancyRule(ABC):
    r"""A rule for the threshold :math:`\tau` of the occupied set :math:`A = \{|W| > \tau\}`.

    Subclasses: :class:`Absolute`, :class:`Quantile`, :class:`MeanStd`.
    """

    @abstractmethod
    def threshold(self, magnitudes: torch.Tensor) -> float:
        r"""Return :math:`\tau` for the magnitudes :math:`|W|` (a flat float tensor)."""

    @abstractmethod
    def describe(self) -> str:
        """Return the rule as a short formula, e.g. ``"|W| > q0.9(|W|)"``."""


@dataclass(frozen=True)
class Absolute(OccupancyRule):
    r""":math:`\tau` given as an absolute value: :math:`A = \{|W| > \tau\}`, ``tau >= 0``.

    Examples
    --------
    >>> Absolute(0.1).describe()
    '|W| > 0.1'
    """

    tau: float

    def __post_init__(self) -> None:
        tau = float(self.tau)
        if not math.isfinite(tau) or tau < 0:
            raise ValueError(f"Absolute threshold tau must be finite and >= 0, got {self.tau!r}")
        object.__setattr__(self, "tau", tau)

    def threshold(self, magnitudes: torch.Tensor) -> float:  # noqa: D102
        return self.tau

    def describe(self) -> str:  # noqa: D102
        return f"|W| > {self.tau:g}"


@dataclass(frozen=True)
class Quantile(OccupancyRule):
    r""":math:`\tau` = the ``q``-quantile of :math:`|W|` (linear interpolation), ``0 <= q < 1``.

    About a fraction ``1 - q`` of the entries is occupied (fewer when :math:`|W|` has ties).

    Examples
    --------
    >>> Quantile(0.9).describe()
    '|W| > q0.9(|W|)'
    """

    q: float

    def __post_init__(self) -> None:
        q = float(self.q)
        if not (0.0 <= q < 1.0):
            raise ValueError(
                f"Quantile q must lie in [0, 1), got {self.q!r} (q = 1 leaves A empty)"
            )
        object.__setattr__(self, "q", q)

    def threshold(self, magnitudes: torch.Tensor) -> float:  # noqa: D102
        return _quantile(magnitudes, self.q)

    def describe(self) -> str:  # noqa: D102
        return f"|W| > q{self.q:g}(|W|)"


@dataclass(frozen=True)
class MeanStd(OccupancyRule):
    r""":math:`\tau = \operatorname{mean}|W| + k \operatorname{std}|W|` (population std).

    Examples
    --------
    >>> MeanStd(1.0).describe()
    '|W| > mean|W| + 1 std|W|'
    """

    k: float

    def __post_init__(self) -> None:
        k = float(self.k)
        if not math.isfinite(k):
            raise ValueError(f"MeanStd k must be finite, got {self.k!r}")
        object.__setattr__(self, "k", k)

    def threshold(self, magnitudes: torch.Tensor) -> float:  # noqa: D102
        # two passes in float64 (several times faster than torch.std_mean on CPU)
        flat = magnitudes.reshape(-1).to(torch.float64)
        mean = float(flat.sum()) / flat.numel()
        centred = flat - mean
        std = math.sqrt(max(float(torch.dot(centred, centred)), 0.0) / flat.numel())
        return mean + self.k * std

    def describe(self) -> str:  # noqa: D102
        return f"|W| > mean|W| + {self.k:g} std|W|"


DEFAULT_RULE: OccupancyRule = MeanStd(1.0)
"""The occupancy rule used when a real-valued tensor is given without a threshold."""

_RULE_NAMES = {"absolute": Absolute, "quantile": Quantile, "mean_std": MeanStd}


def occupancy_rule(threshold: object) -> OccupancyRule:
    """Read an occupancy rule from its spec.

    Parameters
    ----------
    threshold
        An :class:`OccupancyRule`; a number ``tau`` (absolute threshold); or a pair
        ``("absolute", tau)``, ``("quantile", q)`` or ``("mean_std", k)``.

    Returns
    -------
    OccupancyRule

    Raises
    ------
    ValueError
        If the spec is not one of these, or its value is out of range.

    Examples
    --------
    >>> occupancy_rule(("quantile", 0.9))
    Quantile(q=0.9)
    >>> occupancy_rule(0.05)
    Absolute(tau=0.05)
    """
    if isinstance(threshold, OccupancyRule):
        return threshold
    if isinstance(threshold, (bool, np.bool_)):
        raise ValueError(f"threshold must be a number or a rule, got {threshold!r}")
    if isinstance(threshold, (int, float, np.integer, np.floating)):
        return Absolute(float(threshold))
    if isinstance(threshold, (tuple, list)) and len(threshold) == 2:
        name, value = threshold
        if name in _RULE_NAMES:
            if isinstance(value, (bool, np.bool_)) or not isinstance(
                value, (int, float, np.integer, np.floating)
            ):
                raise ValueError(f"threshold {name!r} needs a number, got {value!r}")
            return _RULE_NAMES[name](float(value))
    raise ValueError(
        "threshold must be a number tau (|W| > tau), ('absolute', tau), ('quantile', q), "
        f"('mean_std', k) or an OccupancyRule, got {threshold!r}"
    )


def _quantile(values: torch.Tensor, q: float) -> float:
    """Return the q-quantile (linear interpolation, as numpy's default) of a flat tensor.

    Uses :func:`torch.kthvalue`, which, unlike :func:`torch.quantile`, takes any size.
    """
    n = values.numel()
    position = q * (n - 1)
    low = math.floor(position)
    frac = position - low
    values = values.cpu() if values.device.type == "mps" else values
    lo = float(torch.kthvalue(values, low + 1).values)
    if frac == 0.0 or low + 1 >= n:
        return lo
    hi = float(torch.kthvalue(values, low + 2).values)
    return lo + frac * (hi - lo)


def _occupancy(t: torch.Tensor, rule: OccupancyRule) -> tuple[torch.Tensor, float, float]:
    """Return ``(mask, tau, density)``; raise if the mask is empty or full."""
    magnitudes = t.abs() if t.is_floating_point() else t.to(torch.float64).abs()
    tau = float(rule.threshold(magnitudes.reshape(-1)))
    mask = magnitudes > tau
    occupied = int(torch.count_nonzero(mask))
    n = mask.numel()
    if occupied == 0:
        raise ValueError(
            f"threshold {rule.describe()} (tau = {tau:.6g}) leaves the occupied set A empty: "
            f"max |W| = {float(magnitudes.max()):.6g}"
        )
    if occupied == n:
        raise ValueError(
            f"threshold {rule.describe()} (tau = {tau:.6g}) leaves the occupied set A full: "
            f"min |W| = {float(magnitudes.min()):.6g} > tau"
        )
    return mask, tau, occupied / n


def occupancy(x: np.ndarray | torch.Tensor, threshold: object = DEFAULT_RULE):
    r"""Return the occupied set :math:`A = \{\omega : |W(\omega)| > \tau\}` as a boolean mask.

    Parameters
    ----------
    x
        Real array or tensor of rank 1 to 4, finite (not boolean: a mask is its own set).
    threshold
        The rule for :math:`\tau`: a number (absolute), ``("quantile", q)``,
        ``("mean_std", k)``, or an :class:`OccupancyRule`; default
        :data:`DEFAULT_RULE` = ``MeanStd(1.0)``.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        Boolean mask of ``x``'s shape and type (torch: on ``x``'s device).

    Raises
    ------
    ValueError
        If ``x`` is not a valid real array, the rule is malformed, or the threshold leaves
        :math:`A` empty or full.

    Examples
    --------
    >>> import numpy as np
    >>> occupancy(np.array([0.1, -0.5, 0.3, 0.0]), 0.2)
    array([False,  True,  True, False])
    >>> occupancy(np.array([0.1, -0.5, 0.3, 0.0]), ("quantile", 0.5))
    array([False,  True,  True, False])
    """
    rule = occupancy_rule(threshold)
    t, was_numpy = _as_tensor(x, allow_bool=False)
    mask, _, _ = _occupancy(t, rule)
    return mask.numpy() if was_numpy else mask


# --------------------------------------------------------------------------------------
# scales and pyramid counts


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
    dilation = _check_dilation(dilation)
    shape = tuple(_check_int(n, "shape", 1) for n in shape)
    if not shape:
        raise ValueError("shape must have rank >= 1")
    largest = max(shape)
    scales = [1]
    while scales[-1] * dilation <= largest:
        scales.append(scales[-1] * dilation)
    return np.asarray(scales, dtype=np.int64)


def _check_dilation(dilation: object) -> int:
    if isinstance(dilation, (bool, np.bool_)) or not isinstance(
        dilation, (int, np.integer, float, np.floating)
    ):
        raise ValueError(f"dilation must be an integer >= 2, got {dilation!r}")
    if not float(dilation).is_integer() or dilation < 2:
        raise ValueError(f"dilation must be an integer >= 2, got {dilation!r}")
    return int(dilation)


def _check_scales(scales: object, shape: Sequence[int]) -> np.ndarray:
    if isinstance(scales, (int, np.integer)) and not isinstance(scales, bool):
        scales = [scales]
    try:
        values = np.asarray(scales)
    except Exception as error:  # noqa: BLE001 - report what was given
        raise ValueError(f"scales must be a sequence of integers, got {scales!r}") from error
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"scales must be a non-empty 1-D sequence of integers, got {scales!r}")
    if values.dtype.kind == "f":
        if not np.all(np.isfinite(values)) or not np.all(values == np.round(values)):
            raise ValueError(f"scales must be integers, got {values.tolist()}")
        values = values.astype(np.int64)
    elif values.dtype.kind not in "iu":
        raise ValueError(f"scales must be integers, got {values.tolist()}")
    values = values.astype(np.int64)
    if values.min() < 1:
        raise ValueError(f"scales must be >= 1, got {values.tolist()}")
    if np.any(np.diff(values) <= 0):
        raise ValueError(f"scales must be strictly increasing, got {values.tolist()}")
    largest = max(int(n) for n in shape)
    if values.max() > largest:
        raise ValueError(
            f"scale {int(values.max())} is larger than the grid {tuple(int(n) for n in shape)} "
            f"(one box covers the grid from r = max(shape) = {largest} on)"
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


def _as_mask(mask: object) -> torch.Tensor:
    t, _ = _as_tensor(mask, "mask", check_finite=False)
    if t.dtype != torch.bool:
        raise ValueError(
            f"mask must be boolean, got dtype {t.dtype}; "
            "segment a real array first with occupancy(x, threshold)"
        )
    return t


def box_counts(mask, scales: Sequence[int], mode: str = "occupied") -> np.ndarray:
    """Count the boxes of side ``r`` that meet the set (or its boundary), for every scale.

    The grid is tiled by boxes aligned at the origin, the last partial box along an axis
    kept (the tiling of :func:`fractalnb.transform.fractal_transform`). All scales come
    from one pyramid pass in torch (CPU or GPU): each scale's boxes are reduced from the
    finest computed scale that divides it, so powers of a dilation factor cost O(n) in
    total; other scales are still exact, reduced from the finest dividing level.

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
    ValueError
        If ``mask`` is not a boolean array of rank 1 to 4, a scale is not an integer
        ``>= 1``, exceeds the grid or the scales do not increase, or ``mode`` is unknown.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.zeros((4, 4), dtype=bool); a[0, :] = True
    >>> box_counts(a, [1, 2, 4])
    array([4, 2, 1])
    >>> box_counts(a, [1, 2, 4], mode="boundary")
    array([0, 2, 1])
    """
    if mode not in ("occupied", "boundary"):
        raise ValueError(
            f"mode must be 'occupied' or 'boundary', got {mode!r} "
            "(differential box counting: differential_box_counts)"
        )
    t = _as_mask(mask)
    values = _check_scales(scales, t.shape)
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
    t, _ = _as_tensor(x, allow_bool=False)
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


# --------------------------------------------------------------------------------------
# fitting the dimension


def local_slopes(scales: Sequence[int], counts: Sequence[int]) -> np.ndarray:
    r"""Return the local slopes :math:`-\Delta \log N / \Delta \log r` between consecutive scales.

    Parameters
    ----------
    scales, counts
        Increasing scales and their counts :math:`N(r)`.

    Returns
    -------
    numpy.ndarray
        ``len(scales) - 1`` slopes; NaN where a count is zero.

    Examples
    --------
    >>> local_slopes([1, 2, 4], [9, 3, 1]).round(4)
    array([1.585, 1.585])
    """
    r = np.asarray(scales, dtype=np.float64)
    n = np.asarray(counts, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_n = np.where(n > 0, np.log(np.where(n > 0, n, 1.0)), np.nan)
    return -np.diff(log_n) / np.diff(np.log(r))


def self_similarity(scales: Sequence[int], counts: Sequence[int]) -> float:
    r"""Degree of self-similarity :math:`S = 1 / (1 + \mathrm{CV})` of the local slopes.

    :math:`\mathrm{CV} = \sigma_w / |\bar s_w|` is the coefficient of variation of the
    local slopes :math:`s_k`, weighted by the log-scale steps :math:`w_k = \Delta \log r_k`
    (the weighted mean :math:`\bar s_w` is the secant slope between the end scales).
    :math:`S = 1` exactly when every local slope is the same (a straight log-log plot: an
    exactly self-similar set at matched scales), and falls towards 0 as the plot curves
    or oscillates. :math:`S = 0` when the slopes vary around a zero mean.

    Parameters
    ----------
    scales, counts
        At least 3 increasing scales (2 local slopes) and their positive counts.

    Returns
    -------
    float
        :math:`S \in (0, 1]`, or 0.

    Examples
    --------
    >>> self_similarity([1, 3, 9, 27], [8, 4, 2, 1])
    1.0
    >>> round(self_similarity([1, 2, 4, 8], [64, 20, 8, 4]), 3)
    0.828
    """
    r = np.asarray(scales, dtype=np.float64)
    slopes = local_slopes(scales, counts)
    if slopes.size < 2:
        raise ValueError(f"self_similarity needs at least 3 scales, got {r.size}")
    if not np.all(np.isfinite(slopes)):
        raise ValueError("self_similarity needs positive counts at every scale")
    weights = np.diff(np.log(r))
    mean = float(np.average(slopes, weights=weights))
    spread = float(np.sqrt(np.average((slopes - mean) ** 2, weights=weights)))
    if spread <= 1e-12 * max(1.0, abs(mean)):
        return 1.0
    if mean == 0.0:
        return 0.0
    return 1.0 / (1.0 + spread / abs(mean))


def default_fit_range(scales: Sequence[int], shape: Sequence[int]) -> tuple[int, int]:
    """Return the default fit range ``(r_min, r_max)``: the scales free of finite-size effects.

    Left out are the finest scale ``r = 1`` (the pixel level: :math:`N(1) = |A|`, where
    digitisation dominates) and the scales ``r > min(shape) / 4`` (at most four boxes
    along the shortest axis: the count is dominated by the grid's edges, and on an elongated
    grid the boxes span the short axis, so the local slope falls to that of a line). Axes of
    length 1 (a bias seen as a 1-by-n grid) do not count as shortest. When that leaves
    fewer than :data:`MIN_FIT_SCALES` scales, the range is widened to the coarse end first,
    then to ``r = 1``.

    Parameters
    ----------
    scales
        The increasing scales counted.
    shape
        The grid shape.

    Returns
    -------
    tuple of int
        Inclusive bounds ``(r_min, r_max)``, both among ``scales``.

    Examples
    --------
    >>> default_fit_range([1, 2, 4, 8, 16, 32, 64, 128, 256], (256, 256))
    (2, 64)
    """
    r = np.asarray(scales, dtype=np.int64)
    sides = [int(n) for n in shape if int(n) > 1] or [1]
    shortest = min(sides)
    inside = np.flatnonzero((r > 1) & (4 * r <= shortest))
    if inside.size >= MIN_FIT_SCALES:
        return int(r[inside[0]]), int(r[inside[-1]])
    lo = int(np.flatnonzero(r > 1)[0]) if np.any(r > 1) else 0
    hi = min(lo + MIN_FIT_SCALES, r.size) - 1
    if hi - lo + 1 < MIN_FIT_SCALES:
        lo = max(0, hi - MIN_FIT_SCALES + 1)
    return int(r[lo]), int(r[hi])


@dataclass(frozen=True, eq=False)
class BoxDimension:
    r"""The box-counting dimension of a set, with its fit and diagnostics.

    Attributes
    ----------
    dimension : float
        :math:`D`, the least-squares slope of :math:`\log N(r)` against :math:`\log(1/r)`
        over the fit range.
    intercept : float
        :math:`c` in :math:`\log N = c + D\log(1/r)`.
    stderr : float
        Standard error of the slope.
    ci : tuple of float
        Confidence interval of :math:`D` (level ``confidence``), from the t-distribution
        with ``n_fit - 2`` degrees of freedom. It measures how straight the log-log plot
        is over the fit range, not a sampling error over random sets.
    confidence : float
        The confidence level of ``ci``.
    r2 : float
        Coefficient of determination of the fit (1 when the points lie on a line,
        a flat line included).
    self_similarity : float
        Degree of self-similarity :math:`S = 1/(1+\mathrm{CV})` of the local slopes in
        the fit range (see :func:`self_similarity`).
    scales, counts : numpy.ndarray
        Every scale counted and :math:`N(r)` there.
    local_slopes : numpy.ndarray
        Slopes between consecutive scales (``len(scales) - 1``; see :func:`local_slopes`).
    fit_range : tuple of int
        Inclusive bounds ``(r_min, r_max)`` of the scales fitted.
    n_fit : int
        Number of scales fitted.
    mode : str
        ``"occupied"``, ``"boundary"`` or ``"differential"``.
    rule : str
        How the set was obtained: the occupancy rule, ``"mask"`` for a boolean input,
        ``"surface"`` for differential counting, ``"counts"`` for given counts.
    tau : float
        The threshold :math:`\tau` the rule gave (NaN when none).
    density : float
        :math:`|A| / |\Omega|`, the fraction of occupied grid points (NaN when none).
    dilation : int or None
        :math:`\lambda` when the scales are its powers, else None.
    shape : tuple of int
        The grid shape (empty when only counts were given).
    dsi_residual : float
        The ratio residual :math:`\varepsilon_\rho` of the discrete-scale-invariance
        test over the fit range: the rms deviation of
        :math:`\log_\lambda(N(r_k)/N(r_{k+1}))` (the local slopes) from their mean, in
        units of dimension, 0 when the ratios are constant (see :mod:`fractalnb.dsi`);
        NaN when the fitted scales are not the powers of one factor :math:`\lambda`.
    """

    dimension: float
    intercept: float
    stderr: float
    ci: tuple[float, float]
    confidence: float
    r2: float
    self_similarity: float
    scales: np.ndarray = field(repr=False)
    counts: np.ndarray = field(repr=False)
    local_slopes: np.ndarray = field(repr=False)
    fit_range: tuple[int, int]
    n_fit: int
    mode: str
    rule: str
    tau: float = math.nan
    density: float = math.nan
    dilation: int | None = None
    shape: tuple[int, ...] = ()
    dsi_residual: float = math.nan

    @property
    def fit_mask(self) -> np.ndarray:
        """Boolean mask of the scales inside the fit range."""
        return (self.scales >= self.fit_range[0]) & (self.scales <= self.fit_range[1])

    def to_dict(self) -> dict[str, object]:
        """Return the result as a flat dict: one row of a :class:`pandas.DataFrame`.

        Examples
        --------
        >>> from fractalnb import fractals
        >>> row = box_dimension(fractals.cantor_set(6).mask, [1, 3, 9, 27], fit_range="all")
        >>> sorted(row.to_dict())[:4]
        ['ci_high', 'ci_low', 'confidence', 'counts']
        """
        return {
            "dimension": self.dimension,
            "ci_low": self.ci[0],
            "ci_high": self.ci[1],
            "stderr": self.stderr,
            "r2": self.r2,
            "self_similarity": self.self_similarity,
            "intercept": self.intercept,
            "confidence": self.confidence,
            "r_min": self.fit_range[0],
            "r_max": self.fit_range[1],
            "n_fit": self.n_fit,
            "mode": self.mode,
            "rule": self.rule,
            "tau": self.tau,
            "density": self.density,
            "dilation": self.dilation,
            "shape": self.shape,
            "dsi_residual": self.dsi_residual,
            "scales": tuple(int(v) for v in self.scales),
            "counts": tuple(int(v) for v in self.counts),
        }

    def __repr__(self) -> str:
        level = round(100 * self.confidence)
        return (
            f"BoxDimension(D={self.dimension:.4f}, {level}% CI [{self.ci[0]:.4f}, "
            f"{self.ci[1]:.4f}], R²={self.r2:.4f}, S={self.self_similarity:.4f}, "
            f"DSI residual={self.dsi_residual:.4f}, mode={self.mode!r}, rule={self.rule!r}, "
            f"fit r={self.fit_range[0]}..{self.fit_range[1]} "
            f"({self.n_fit} of {len(self.scales)} scales))"
        )


def _infer_dilation(scales: np.ndarray) -> int | None:
    if scales.size < 2 or scales[0] < 1:
        return None
    ratio = int(scales[1] // scales[0])
    if ratio < 2:
        return None
    if np.all(scales[1:] == scales[:-1] * ratio):
        return ratio
    return None


def _resolve_fit_range(
    fit_range: object, scales: np.ndarray, shape: Sequence[int]
) -> tuple[int, int]:
    if fit_range is None:
        if not shape:
            raise ValueError("fit_range=None needs the grid shape; pass fit_range explicitly")
        return default_fit_range(scales, shape)
    if isinstance(fit_range, str):
        if fit_range != "all":
            raise ValueError(f"fit_range must be None, 'all' or (r_min, r_max), got {fit_range!r}")
        return int(scales[0]), int(scales[-1])
    try:
        lo, hi = fit_range  # type: ignore[misc]
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"fit_range must be None, 'all' or (r_min, r_max), got {fit_range!r}"
        ) from error
    lo, hi = _check_int(lo, "fit_range[0]", 1), _check_int(hi, "fit_range[1]", 1)
    if lo > hi:
        raise ValueError(f"fit_range must have r_min <= r_max, got {fit_range!r}")
    return lo, hi


def fit_dimension(
    scales: Sequence[int],
    counts: Sequence[int],
    *,
    fit_range: object = "all",
    confidence: float = DEFAULT_CONFIDENCE,
    shape: Sequence[int] = (),
    mode: str = "occupied",
    rule: str = "counts",
    tau: float = math.nan,
    density: float = math.nan,
) -> BoxDimension:
    r"""Fit :math:`\log N(r) = c + D \log(1/r)` by least squares over a range of scales.

    Parameters
    ----------
    scales, counts
        Increasing scales and their box counts.
    fit_range
        ``"all"`` (default here), ``(r_min, r_max)`` (inclusive), or ``None`` for
        :func:`default_fit_range` (needs ``shape``).
    confidence
        Level of the confidence interval, in (0, 1).
    shape, mode, rule, tau, density
        Recorded in the result (see :class:`BoxDimension`).

    Returns
    -------
    BoxDimension

    Raises
    ------
    ValueError
        If fewer than :data:`MIN_FIT_SCALES` scales lie in the fit range, or a count
        there is not positive.

    Examples
    --------
    >>> fit = fit_dimension([1, 2, 4, 8], [27, 9, 3, 1])   # N ∝ r^-log2(3)
    >>> round(fit.dimension, 6), fit.r2
    (1.584963, 1.0)
    """
    r = np.asarray(scales, dtype=np.int64)
    n = np.asarray(counts, dtype=np.int64)
    if r.ndim != 1 or r.shape != n.shape:
        raise ValueError(f"scales and counts must be 1-D of equal length, got {r.shape}, {n.shape}")
    if r.size and (r.min() < 1 or np.any(np.diff(r) <= 0)):
        raise ValueError(f"scales must be strictly increasing integers >= 1, got {r.tolist()}")
    if not (0.0 < float(confidence) < 1.0):
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}")
    lo, hi = _resolve_fit_range(fit_range, r, shape)
    selected = (r >= lo) & (r <= hi)
    n_fit = int(selected.sum())
    if n_fit < MIN_FIT_SCALES:
        raise ValueError(
            f"the fit range r = {lo}..{hi} holds {n_fit} of the scales {r.tolist()}; "
            f"a dimension needs at least {MIN_FIT_SCALES} (use larger input, more scales "
            "or a wider fit_range)"
        )
    if np.any(n[selected] <= 0):
        zero = r[selected][n[selected] <= 0].tolist()
        raise ValueError(
            f"N(r) = 0 at scales {zero} in the fit range ({mode} mode): the set"
            + (" has no boundary there" if mode == "boundary" else " is empty there")
        )
    x = -np.log(r[selected].astype(np.float64))
    y = np.log(n[selected].astype(np.float64))
    x_mean, y_mean = x.mean(), y.mean()
    sxx = float(np.sum((x - x_mean) ** 2))
    slope = float(np.sum((x - x_mean) * (y - y_mean)) / sxx)
    intercept = float(y_mean - slope * x_mean)
    residuals = y - (intercept + slope * x)
    ssr = float(np.sum(residuals**2))
    sst = float(np.sum((y - y_mean) ** 2))
    dof = n_fit - 2
    stderr = math.sqrt(ssr / dof / sxx)
    half = float(stats.t.ppf(0.5 + confidence / 2, dof)) * stderr
    # exact power laws give round-off residuals ~1e-16; a flat line (sst = 0) fits exactly
    r2 = 1.0 if ssr <= 1e-24 * max(1.0, sst) or sst == 0.0 else 1.0 - ssr / sst
    return BoxDimension(
        dimension=slope,
        intercept=intercept,
        stderr=stderr,
        ci=(slope - half, slope + half),
        confidence=float(confidence),
        r2=r2,
        self_similarity=self_similarity(r[selected], n[selected]),
        scales=_frozen(r),
        counts=_frozen(n),
        local_slopes=_frozen(local_slopes(r, n)),
        fit_range=(lo, hi),
        n_fit=n_fit,
        mode=mode,
        rule=rule,
        tau=float(tau),
        density=float(density),
        dilation=_infer_dilation(r),
        shape=tuple(int(s) for s in shape),
        dsi_residual=(
            _ratio_residual(n[selected], _infer_dilation(r[selected]))
            if _infer_dilation(r[selected]) is not None else math.nan
        ),
    )


def _ratio_residual(counts: np.ndarray, dilation: int) -> float:
    """Return the rms deviation of log_lambda(N_k / N_k+1) from its mean (0: constant ratios)."""
    slopes = -np.diff(np.log(np.asarray(counts, dtype=np.float64))) / math.log(dilation)
    spread = float(np.sqrt(np.mean((slopes - slopes.mean()) ** 2)))
    return 0.0 if spread <= 1e-12 * max(1.0, abs(float(slopes.mean()))) else spread


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


def box_dimension(
    x,
    scales: Sequence[int] | None = None,
    threshold: object = None,
    mode: str = "occupied",
    *,
    dilation: int = DEFAULT_DILATION,
    fit_range: object = None,
    confidence: float = DEFAULT_CONFIDENCE,
) -> BoxDimension:
    r"""Estimate the box-counting dimension of a set, a tensor's occupied set, or a surface.

    Parameters
    ----------
    x
        A boolean mask (the set :math:`A` itself), or a real array / tensor of rank 1 to 4
        (segmented by ``threshold``; a conv kernel is counted as the 4-D grid it is —
        pass :func:`fractalnb.transform.unfold_conv` ``(w)`` for the 2-D unfolding). For
        ``mode="differential"``, a real 2-D surface.
    scales
        Box sides to count, strictly increasing integers ``<= max(x.shape)``; default
        :func:`dilation_scales` ``(x.shape, dilation)``: ``1, λ, λ², …``.
    threshold
        Occupancy rule for real ``x`` (see :func:`occupancy_rule`); default
        :data:`DEFAULT_RULE` (``MeanStd(1.0)``). Must be None for a boolean mask and for
        ``mode="differential"``.
    mode
        ``"occupied"`` (boxes meeting :math:`A`), ``"boundary"`` (boxes holding points of
        :math:`A` and of its complement) or ``"differential"`` (Sarkar-Chaudhuri
        differential box counting of a grey-level surface, see
        :func:`differential_box_counts`).
    dilation
        :math:`\lambda`, integer ``>= 2``, for the default scales.
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
        For invalid input (see :func:`fractalnb.transform.fractal_transform`), a threshold
        leaving :math:`A` empty or full, bad scales or dilation, fewer than 3 scales in
        the fit range, or no boxes counted at a fitted scale.

    Examples
    --------
    >>> from fractalnb import fractals
    >>> triangle = fractals.sierpinski_triangle(8)
    >>> fit = box_dimension(triangle.mask)
    >>> round(fit.dimension, 6), round(triangle.dimension, 6), fit.self_similarity
    (1.584963, 1.584963, 1.0)
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    dilation = _check_dilation(dilation)
    if mode == "differential":
        if threshold is not None:
            raise ValueError("differential box counting takes no threshold: pass threshold=None")
        t, _ = _as_tensor(x, allow_bool=False)
        values = dilation_scales(t.shape, dilation) if scales is None else scales
        values = _check_scales(values, t.shape)
        counts = differential_box_counts(t, values)
        return fit_dimension(
            values, counts, fit_range=fit_range, confidence=confidence,
            shape=tuple(t.shape), mode=mode, rule="surface",
        )  # fmt: skip
    t, _ = _as_tensor(x)
    if t.dtype == torch.bool:
        if threshold is not None:
            raise ValueError(
                "x is a boolean mask (its own occupied set); threshold must be None"
            )
        mask, rule, tau, density = t, "mask", math.nan, float(t.float().mean())
    else:
        chosen = DEFAULT_RULE if threshold is None else occupancy_rule(threshold)
        mask, tau, density = _occupancy(t, chosen)
        rule = chosen.describe()
    values = dilation_scales(mask.shape, dilation) if scales is None else scales
    values = _check_scales(values, mask.shape)
    counts = box_counts(mask, values, mode)
    return fit_dimension(
        values, counts, fit_range=fit_range, confidence=confidence,
        shape=tuple(mask.shape), mode=mode, rule=rule, tau=tau, density=density,
    )  # fmt: skip
