r"""Power-law fits: every straight-line fit of box counts in the package.

The box-counting dimension of a grid set (:func:`fit_dimension`, a :class:`BoxDimension`),
its local slopes and degree of self-similarity, and the scaling fits of graph box counts
(:func:`fit_box_dimension`, :func:`fit_exponential_decay`, a :class:`ScalingFit`).

Conventions. Every fit is an ordinary least-squares line :math:`y = c + s\,x` through
points :math:`(x_k, y_k)` (``_least_squares``, one implementation of the slope, the
intercept, the sums of squares and :math:`R^2`), with :math:`y = \log N`:

- :func:`fit_dimension`: :math:`x = \log(1/r)`, so the slope *is* :math:`D`; solved by the
  centred normal equations :math:`s = S_{xy}/S_{xx}` (they give the standard error too);
- :func:`fit_box_dimension`: :math:`x = \log \ell_B`, :math:`d_B = -s`;
  :func:`fit_exponential_decay`: :math:`x = \ell_B`, :math:`1/\ell_0 = -s`; both solved by
  :func:`numpy.polyfit` (least squares by SVD). The two solvers agree to about
  :math:`10^{-12}` relative, not to the last digit; each fit keeps its own so that the
  numbers it has always given do not change;
- :math:`R^2 = 1 - SS_{res}/SS_{tot}`, and exactly 1 when the points lie on a line up to
  round-off (:math:`SS_{res} \le 10^{-24}\max(1, SS_{tot})`) or are flat (:math:`SS_{tot} = 0`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import stats

from .._validate import (
    MAX_RANK,
    choice,
    describe,
    integer_array,
    real,
    real_array,
    same_length,
    sizes,
)
from .._validate import shape as grid_shape
from .fit_range import _MIN_FIT_SCALES, _resolve_fit_range

__all__ = [
    "DEFAULT_CONFIDENCE",
    "local_slopes",
    "self_similarity",
    "BoxDimension",
    "fit_dimension",
    "ScalingFit",
    "fit_box_dimension",
    "fit_exponential_decay",
]


DEFAULT_CONFIDENCE = 0.95
"""Confidence level of the interval on the fitted dimension."""


_MODES: tuple[str, ...] = ("occupied", "boundary", "differential")
"""The counting modes (boxes meeting A; boxes on the boundary of A; boxes under a surface)."""


@dataclass(frozen=True)
class _Line:
    """A least-squares line ``y = intercept + slope * x`` and its sums of squares."""

    slope: float
    intercept: float
    ssr: float  # residual sum of squares
    sst: float  # total sum of squares about the mean of y
    sxx: float  # sum of squares of x about its mean

    @property
    def r2(self) -> float:
        # exact power laws give round-off residuals ~1e-16; a flat line (sst = 0) fits exactly
        if self.ssr <= 1e-24 * max(1.0, self.sst) or self.sst == 0.0:
            return 1.0
        return 1.0 - self.ssr / self.sst


def _least_squares(x: np.ndarray, y: np.ndarray, solver: Literal["centred", "polyfit"]) -> _Line:
    """Fit ``y = c + s x`` by least squares (see the module's conventions for ``solver``)."""
    x_mean, y_mean = x.mean(), y.mean()
    sxx = float(np.sum((x - x_mean) ** 2))
    if solver == "centred":
        slope = float(np.sum((x - x_mean) * (y - y_mean)) / sxx)
        intercept = float(y_mean - slope * x_mean)
    else:
        slope, intercept = (float(v) for v in np.polyfit(x, y, 1))
    residuals = y - (intercept + slope * x)
    return _Line(slope, intercept, float(np.sum(residuals**2)),
                 float(np.sum((y - y_mean) ** 2)), sxx)  # fmt: skip


def _positive_sizes(value: object, name: str, *, integral: bool, min_count: int) -> np.ndarray:
    """Strictly increasing sizes: integers ``>= 1``, or reals ``> 0``."""
    a = sizes(value, name, integral=integral, minimum=1 if integral else 0, min_count=min_count)
    if not integral and a.min() <= 0:
        raise ValueError(f"{name} must hold values > 0, got {a.min()}")
    return a


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


def _scales_and_counts(
    scales: object, counts: object, *, integral: bool, min_count: int
) -> tuple[np.ndarray, np.ndarray]:
    """Check strictly increasing scales and their counts ``>= 0`` (equal lengths)."""
    r = _positive_sizes(scales, "scales", integral=integral, min_count=min_count)
    if integral:
        n = integer_array(counts, "counts", ndim=1, minimum=0)
    else:
        n = real_array(counts, "counts", ndim=1)
        if n.min() < 0:
            raise ValueError(f"counts must hold values >= 0, got {n.min()}")
    same_length(r, n, "scales and counts")
    return (r, n) if integral else (r.astype(np.float64), n)


def local_slopes(scales: Sequence[int], counts: Sequence[int]) -> np.ndarray:
    r"""Return the local slopes :math:`-\Delta \log N / \Delta \log r` between consecutive scales.

    Parameters
    ----------
    scales
        At least 2 strictly increasing positive scales (reals: graph box sizes too).
    counts
        Their counts :math:`N(r)`, finite and ``>= 0``, one per scale.

    Returns
    -------
    numpy.ndarray
        ``len(scales) - 1`` slopes; NaN where a count is zero.

    Examples
    --------
    >>> local_slopes([1, 2, 4], [9, 3, 1]).round(4)
    array([1.585, 1.585])
    """
    r, n = _scales_and_counts(scales, counts, integral=False, min_count=2)
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
    r, n = _scales_and_counts(scales, counts, integral=False, min_count=3)
    if n.min() <= 0:
        raise ValueError(f"counts must be positive at every scale for self_similarity, got {n}")
    slopes = local_slopes(r, n)
    weights = np.diff(np.log(r))
    mean = float(np.average(slopes, weights=weights))
    spread = float(np.sqrt(np.average((slopes - mean) ** 2, weights=weights)))
    if spread <= 1e-12 * max(1.0, abs(mean)):
        return 1.0
    if mean == 0.0:
        return 0.0
    return 1.0 / (1.0 + spread / abs(mean))


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
    sides : numpy.ndarray or None
        The box sides regressed on, when they are not the scales themselves: the mean
        box sides of the default scales that do not tile the grid exactly (see
        :func:`fractalnb.geometry.box_dimension`); the local slopes and :math:`S` use
        them too. None when the fit is on ``scales``.
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
    sides: np.ndarray | None = field(default=None, repr=False)

    @property
    def fit_mask(self) -> np.ndarray:
        """Boolean mask of the scales inside the fit range."""
        return (self.scales >= self.fit_range[0]) & (self.scales <= self.fit_range[1])

    def to_dict(self) -> dict[str, object]:
        """Return the result as a flat dict: one row of a :class:`pandas.DataFrame`.

        Examples
        --------
        >>> from fractalnb.geometry import box_dimension, fractals
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


def _check_record(mode: object, rule: object, tau: object, density: object) -> str:
    """Check what :func:`fit_dimension` records (NaN stands for "none" in tau and density)."""
    mode = choice(mode, "mode", _MODES)
    if not isinstance(rule, str):
        raise TypeError(f"rule must be a string, got {describe(rule)}")
    for value, name, maximum in ((tau, "tau", None), (density, "density", 1)):
        if not (isinstance(value, (float, np.floating)) and math.isnan(value)):
            real(value, name, 0, maximum)
    return mode


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
        If fewer than 3 scales lie in the fit range, or a count
        there is not positive.

    Examples
    --------
    >>> fit = fit_dimension([1, 2, 4, 8], [27, 9, 3, 1])   # N ∝ r^-log2(3)
    >>> round(fit.dimension, 6), fit.r2
    (1.584963, 1.0)
    """
    return _fit(scales, counts, None, fit_range=fit_range, confidence=confidence,
                shape=shape, mode=mode, rule=rule, tau=tau, density=density)


def _fit(
    scales: Sequence[int],
    counts: Sequence[int],
    sides: np.ndarray | None,
    *,
    fit_range: object,
    confidence: float,
    shape: Sequence[int],
    mode: str,
    rule: str,
    tau: float,
    density: float,
) -> BoxDimension:
    """:func:`fit_dimension`, regressing on ``sides`` (mean box sides) when not None."""
    r, n = _scales_and_counts(scales, counts, integral=True, min_count=1)
    x_sides = r.astype(np.float64) if sides is None else np.asarray(sides, dtype=np.float64)
    confidence = real(confidence, "confidence", 0, 1, open_min=True, open_max=True)
    shape = grid_shape(shape, max_rank=MAX_RANK, allow_empty=True)
    mode = _check_record(mode, rule, tau, density)
    lo, hi = _resolve_fit_range(fit_range, r, shape)
    selected = (r >= lo) & (r <= hi)
    n_fit = int(selected.sum())
    if n_fit < _MIN_FIT_SCALES:
        raise ValueError(
            f"the fit range r = {lo}..{hi} holds {n_fit} of the scales {r.tolist()}; "
            f"a dimension needs at least {_MIN_FIT_SCALES} (use larger input, more scales "
            "or a wider fit_range)"
        )
    if np.any(n[selected] <= 0):
        zero = r[selected][n[selected] <= 0].tolist()
        raise ValueError(
            f"counts: N(r) = 0 at scales {zero} in the fit range ({mode} mode): the set"
            + (" has no boundary there" if mode == "boundary" else " is empty there")
        )
    line = _least_squares(-np.log(x_sides[selected]),
                          np.log(n[selected].astype(np.float64)), "centred")  # fmt: skip
    slope = line.slope
    dof = n_fit - 2
    stderr = math.sqrt(line.ssr / dof / line.sxx)
    half = float(stats.t.ppf(0.5 + confidence / 2, dof)) * stderr
    return BoxDimension(
        dimension=slope,
        intercept=line.intercept,
        stderr=stderr,
        ci=(slope - half, slope + half),
        confidence=confidence,
        r2=line.r2,
        self_similarity=self_similarity(x_sides[selected], n[selected]),
        scales=_frozen(r),
        counts=_frozen(n),
        local_slopes=_frozen(local_slopes(x_sides, n)),
        fit_range=(lo, hi),
        n_fit=n_fit,
        mode=mode,
        rule=rule,
        tau=float(tau),
        density=float(density),
        dilation=_infer_dilation(r),
        shape=shape,
        dsi_residual=(
            _ratio_residual(n[selected], _infer_dilation(r[selected]))
            if _infer_dilation(r[selected]) is not None
            and np.array_equal(x_sides[selected], r[selected]) else math.nan
        ),
        sides=None if sides is None else _frozen(x_sides),
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
    sizes_ = _positive_sizes(box_sizes, "box_sizes", integral=False, min_count=2)
    counts = real_array(n_boxes, "n_boxes", ndim=1)
    same_length(sizes_, counts, "box_sizes and n_boxes")
    if counts.min() < 1:
        raise ValueError(f"n_boxes must hold counts >= 1, got {counts.min()}")
    bounds = [None if v is None else real(v, name, open_min=True, minimum=0)
              for v, name in ((fit_min, "fit_min"), (fit_max, "fit_max"))]
    keep = np.ones(len(sizes_), dtype=bool)
    if bounds[0] is not None:
        keep &= sizes_ >= bounds[0]
    if bounds[1] is not None:
        keep &= sizes_ <= bounds[1]
    if keep.sum() < 2:
        raise ValueError(
            f"need at least 2 box sizes in the fit range [fit_min, fit_max] = "
            f"[{fit_min}, {fit_max}], got {int(keep.sum())}"
        )
    x = np.log(sizes_[keep]) if law == "power" else sizes_[keep]
    line = _least_squares(x, np.log(counts[keep]), "polyfit")
    return ScalingFit(law=law, exponent=-line.slope, intercept=line.intercept, r2=line.r2,
                      box_sizes=sizes_[keep])


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
    box_sizes
        Strictly increasing box sizes :math:`\ell_B > 0`, at least 2.
    n_boxes
        The counts :math:`N_B(\ell_B) \ge 1`, one per size.
    fit_min, fit_max
        Only box sizes in ``[fit_min, fit_max]`` enter the fit (inclusive, ``> 0``); all by
        default. At least 2 sizes must remain.

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

    Parameters
    ----------
    box_sizes, n_boxes, fit_min, fit_max
        As in :func:`fit_box_dimension`.

    Returns
    -------
    ScalingFit
        ``law="exponential"``; ``.length`` is :math:`\ell_0`.

    Examples
    --------
    >>> sizes = np.arange(1, 6)
    >>> round(fit_exponential_decay(sizes, 500 * np.exp(-sizes / 2.0)).length, 6)
    2.0
    """
    return _fit_line(box_sizes, n_boxes, fit_min, fit_max, "exponential")
