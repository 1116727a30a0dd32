"""Power-law fits.

The box-counting dimension, local slopes, self-similarity, and the scaling fits of graph box counts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from .._validate import integer

__all__ = [
    "DEFAULT_CONFIDENCE",
    "MIN_FIT_SCALES",
    "local_slopes",
    "self_similarity",
    "default_fit_range",
    "BoxDimension",
    "fit_dimension",
    "ScalingFit",
    "fit_box_dimension",
    "fit_exponential_decay",
]


DEFAULT_CONFIDENCE = 0.95
"""Confidence level of the interval on the fitted dimension."""


MIN_FIT_SCALES = 3
"""The fewest scales a dimension is fitted on (a confidence interval needs 3)."""


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


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
        units of dimension, 0 when the ratios are constant (see :mod:`fractalnb.geometry.dsi`);
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
    lo, hi = integer(lo, "fit_range[0]", 1), integer(hi, "fit_range[1]", 1)
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


@dataclass(frozen=True)
class ScalingFit:
    r"""A straight-line fit of :math:`\ln N_B` against :math:`\ln \ell_B` or :math:`\ell_B`.

    Attributes
    ----------
    law : str
        ``"power"`` (:math:`N_B \propto \ell_B^{-d_B}`) or ``"exponential"``
        (:math:`N_B \propto e^{-\ell_B / \ell_0}`).
    exponent : float
        :math:`d_B` for the power law, :math:`1/\ell_0` for the exponential law.
    intercept : float
        Intercept of the line.
    r2 : float
        Coefficient of determination of the line on the fitted points.
    box_sizes : numpy.ndarray
        The box sizes used in the fit.
    """

    law: str
    exponent: float
    intercept: float
    r2: float
    box_sizes: np.ndarray

    @property
    def dimension(self) -> float:
        """The box dimension :math:`d_B` (power law only)."""
        if self.law != "power":
            raise ValueError("an exponential fit has no box dimension")
        return self.exponent

    @property
    def length(self) -> float:
        r"""The characteristic length :math:`\ell_0` (exponential law only)."""
        if self.law != "exponential":
            raise ValueError("a power-law fit has no characteristic length")
        return 1.0 / self.exponent if self.exponent != 0 else np.inf


def _fit_line(box_sizes, n_boxes, fit_min, fit_max, law: str) -> ScalingFit:
    sizes = np.asarray(box_sizes, dtype=np.float64)
    counts = np.asarray(n_boxes, dtype=np.float64)
    if sizes.shape != counts.shape or sizes.ndim != 1:
        raise ValueError(
            f"box_sizes and n_boxes must be 1-D of equal length, got {sizes.shape}, {counts.shape}"
        )
    if not np.all(np.isfinite(sizes)) or np.any(sizes <= 0):
        raise ValueError("box sizes must be finite and > 0")
    if not np.all(np.isfinite(counts)) or np.any(counts < 1):
        raise ValueError("box counts must be finite and >= 1")
    keep = np.ones(len(sizes), dtype=bool)
    if fit_min is not None:
        keep &= sizes >= fit_min
    if fit_max is not None:
        keep &= sizes <= fit_max
    if keep.sum() < 2:
        raise ValueError(
            f"need at least 2 box sizes in the fit range [{fit_min}, {fit_max}], "
            f"got {int(keep.sum())}"
        )
    x = np.log(sizes[keep]) if law == "power" else sizes[keep]
    y = np.log(counts[keep])
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (slope * x + intercept)
    total = np.sum((y - y.mean()) ** 2)
    r2 = 1.0 - np.sum(residual**2) / total if total > 0 else 1.0
    return ScalingFit(law=law, exponent=float(-slope), intercept=float(intercept),
                      r2=float(r2), box_sizes=sizes[keep])


def fit_box_dimension(
    box_sizes: Sequence[float] | np.ndarray,
    n_boxes: Sequence[float] | np.ndarray,
    *,
    fit_min: float | None = None,
    fit_max: float | None = None,
) -> ScalingFit:
    r"""Fit :math:`N_B \propto \ell_B^{-d_B}` by least squares in log–log over stated scales.

    Parameters
    ----------
    box_sizes, n_boxes
        The curve :math:`N_B(\ell_B)`.
    fit_min, fit_max
        Only box sizes in ``[fit_min, fit_max]`` enter the fit (inclusive); all by default.

    Returns
    -------
    ScalingFit
        ``law="power"``; ``.dimension`` is :math:`d_B`.

    Examples
    --------
    >>> sizes = np.array([1, 2, 4, 8])
    >>> round(fit_box_dimension(sizes, 1000 * sizes ** -1.5).dimension, 6)
    1.5
    """
    return _fit_line(box_sizes, n_boxes, fit_min, fit_max, "power")


def fit_exponential_decay(
    box_sizes: Sequence[float] | np.ndarray,
    n_boxes: Sequence[float] | np.ndarray,
    *,
    fit_min: float | None = None,
    fit_max: float | None = None,
) -> ScalingFit:
    r"""Fit :math:`N_B \propto e^{-\ell_B/\ell_0}` by least squares in semi-log axes.

    Examples
    --------
    >>> sizes = np.arange(1, 6)
    >>> round(fit_exponential_decay(sizes, 500 * np.exp(-sizes / 2.0)).length, 6)
    2.0
    """
    return _fit_line(box_sizes, n_boxes, fit_min, fit_max, "exponential")
