r"""Discrete scale invariance (DSI): the ratio test and the log-periodic residual.

A set :math:`A` is *discretely scale invariant* with factor :math:`\lambda` when its box
counts obey :math:`N(r/\lambda) = \lambda^{D} N(r)` only for the scales of one geometric
sequence, not for every scale: the log-log plot is straight through the points
:math:`r_k = \lambda^k` and wiggles periodically in :math:`\log r` between them. Two
statistics test it (definitions on the book's page *The fractal transformation: our
formalisation*):

**Ratio test.** With :math:`\rho_k = N(r_k)/N(r_{k+1})` over the scales
:math:`r_k = \lambda^k` of the fit range, DSI with factor :math:`\lambda` means
:math:`\rho_k` constant in :math:`k` (equal to :math:`\lambda^D`). The *ratio residual*
is the root-mean-square deviation of the local slopes :math:`s_k = \log_\lambda\rho_k`
from their mean,

.. math:: \varepsilon_\rho = \Big(\tfrac{1}{K}\sum_{k=0}^{K-1}
          (s_k - \bar s)^2\Big)^{1/2},

in units of dimension, zero for an exact power law at those scales; the test passes when
:math:`\varepsilon_\rho \le` ``tolerance``.

**Log-periodic residual.** Count also at dense integer scales :math:`r` between the
:math:`\lambda^k` and at :math:`\lambda r`, and take the deviation
:math:`e(r) = \log N(r) - (c + D\log(1/r))` from the line fitted through the
:math:`\lambda^k`. Under DSI, :math:`e` is periodic in :math:`\log r` with period
:math:`\log\lambda`: :math:`e(\lambda r) = e(r)`. The test is Lin's concordance
:math:`\rho_c` of the pairs :math:`(e(r), e(\lambda r))` (1 for an exactly periodic
residual, about 0 for an unrelated one) together with the residual's amplitude (its
root-mean-square): a set with continuous scale invariance (a line, a filled square) has
a flat residual, DSI proper a periodic one of non-zero amplitude. A Fourier series in
the phase :math:`\varphi = \log_\lambda r \bmod 1` is fitted for the figures.

A set *is DSI with factor* :math:`\lambda` (``DSIResult.is_dsi``) when
:math:`\varepsilon_\rho \le 0.02`, :math:`\rho_c \ge 0.5` and the amplitude is at least
0.01; the thresholds are conventions of this package, reported with every result.

Examples
--------
>>> from fractalnb.geometry import fractals
>>> from fractalnb.geometry import dsi_test
>>> result = dsi_test(fractals.cantor_set(9).mask, dilation=3)
>>> result.ratio_residual < 1e-12, result.is_dsi
(True, True)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from .._validate import as_tensor, choice, describe, integer, real, real_array, same_length
from .boxcount import box_counts, dilation_scales
from .fit import _ratio_residual, fit_dimension
from .fit_range import _resolve_fit_range
from .occupancy_rules import _segment

__all__ = [
    "DEFAULT_DSI_TOLERANCE",
    "MIN_CONCORDANCE",
    "MIN_PERIODIC_AMPLITUDE",
    "ratio_residual",
    "log_periodic_concordance",
    "DSIResult",
    "dsi_test",
    "estimate_dilation",
]


DEFAULT_DSI_TOLERANCE = 0.02
r"""Largest ratio residual :math:`\varepsilon_\rho` accepted (units of dimension)."""


MIN_CONCORDANCE = 0.5
r"""The concordance of :math:`e(r)` and :math:`e(\lambda r)` that makes a residual log-periodic."""


MIN_PERIODIC_AMPLITUDE = 0.01
"""The residual's rms (log units) below which it counts as flat (no log-periodic part)."""


def ratio_residual(counts: Iterable[int], dilation: int) -> float:
    r"""Return :math:`\varepsilon_\rho`, the spread of the local slopes at scales :math:`\lambda^k`.

    The root-mean-square deviation of the slopes :math:`\log_\lambda(N_k/N_{k+1})` from
    their mean.

    Parameters
    ----------
    counts
        Positive counts at consecutive scales of one geometric sequence, at least 3
        (an array or a sequence of real numbers).
    dilation
        The ratio :math:`\lambda` of the sequence, an integer ``>= 2``.

    Returns
    -------
    float
        The ratio residual, in units of dimension (0 for an exact power law).

    Raises
    ------
    ValueError
        If fewer than 3 counts are given or a count is not positive.

    Examples
    --------
    >>> ratio_residual([64, 16, 4, 1], 2)
    0.0
    >>> round(ratio_residual([100, 40, 20, 12], 2), 4)
    0.2392
    """
    dilation = integer(dilation, "dilation", 2)
    n = real_array(counts, "counts", ndim=1)
    if n.size < 3:
        raise ValueError(f"counts must hold at least 3 values, got {n.size}")
    if np.any(n <= 0):
        raise ValueError(f"counts must be positive for the ratio test, got {n.tolist()}")
    return _ratio_residual(n, dilation)


def _dense_scales(r_min: int, r_max: int, points_per_period: int, dilation: int) -> np.ndarray:
    r"""Return integer scales in ``[r_min, r_max]``, geometrically spaced.

    About ``points_per_period`` scales per factor :math:`\lambda`, rounded to integers,
    duplicates removed; the endpoints are kept.

    Parameters
    ----------
    r_min, r_max
        Inclusive bounds, ``1 <= r_min < r_max`` (checked by the caller).
    points_per_period
        Scales per factor :math:`\lambda` (fewer where integers run out), ``>= 2``.
    dilation
        :math:`\lambda`.

    Returns
    -------
    numpy.ndarray
        Strictly increasing ``int64`` scales.

    Examples
    --------
    >>> _dense_scales(1, 9, 4, 3)
    array([1, 2, 3, 4, 5, 7, 9])
    """
    periods = math.log(r_max / r_min) / math.log(dilation)
    count = max(2, int(math.ceil(periods * points_per_period)) + 1)
    values = np.round(np.geomspace(r_min, r_max, count)).astype(np.int64)
    return np.unique(np.concatenate([[r_min], values, [r_max]]))


def _log_periodic_fit(
    scales: Iterable[int], residuals: Iterable[float], dilation: int, harmonics: int = 2
) -> tuple[float, float, np.ndarray]:
    r"""Fit a Fourier series in the phase :math:`\varphi = \log_\lambda r \bmod 1` to residuals.

    Parameters (checked by the caller, :func:`dsi_test`)
    ----------
    scales
        The scales :math:`r` (positive).
    residuals
        The deviations :math:`e(r)` from the power law.
    dilation
        :math:`\lambda`, the period in :math:`\log r` being :math:`\log\lambda`.
    harmonics
        Number of harmonics :math:`h \ge 1`; needs more than :math:`2h + 1` distinct phases.

    Returns
    -------
    r2 : float
        Fraction of the variance of :math:`e` (about its mean) explained by the series;
        0 when :math:`e` is constant.
    amplitude : float
        Root-mean-square of the fitted periodic part (its mean removed), log units.
    fitted : numpy.ndarray
        The fitted series at ``scales``.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.arange(1, 82)
    >>> e = 0.1 * np.cos(2 * np.pi * np.log(r) / np.log(3))
    >>> r2, amplitude, _ = _log_periodic_fit(r, e, 3)
    >>> round(r2, 6), round(amplitude, 3) > 0
    (1.0, True)
    """
    r = np.asarray(scales, dtype=np.float64)
    e = np.asarray(residuals, dtype=np.float64)
    phase = np.mod(np.log(r) / math.log(dilation), 1.0)
    if np.unique(np.round(phase, 9)).size <= 2 * harmonics + 1:
        raise ValueError(
            f"{np.unique(np.round(phase, 9)).size} distinct phases cannot fit {harmonics} "
            "harmonics: use more scales (a wider range or more points per period) or fewer "
            "harmonics"
        )
    columns = [np.ones_like(phase)]
    for h in range(1, harmonics + 1):
        columns += [np.cos(2 * np.pi * h * phase), np.sin(2 * np.pi * h * phase)]
    design = np.stack(columns, axis=1)
    coef, *_ = np.linalg.lstsq(design, e, rcond=None)
    fitted = design @ coef
    total = float(np.sum((e - e.mean()) ** 2))
    if total <= 1e-24:
        return 0.0, 0.0, fitted
    r2 = 1.0 - float(np.sum((e - fitted) ** 2)) / total
    amplitude = float(np.sqrt(np.mean((fitted - fitted.mean()) ** 2)))
    return r2, amplitude, fitted


def log_periodic_concordance(inner: Iterable[float], outer: Iterable[float]) -> float:
    r"""Return Lin's concordance of the residuals at :math:`r` and at :math:`\lambda r`.

    .. math:: \rho_c = \frac{2\operatorname{cov}(e_r, e_{\lambda r})}
              {\operatorname{var} e_r + \operatorname{var} e_{\lambda r}
              + (\bar e_r - \bar e_{\lambda r})^2},

    1 when :math:`e(\lambda r) = e(r)` for every pair (a residual of period
    :math:`\log\lambda` in :math:`\log r`), about 0 for unrelated residuals, and 0 by
    convention when both are constant.

    Parameters
    ----------
    inner, outer
        :math:`e(r)` and :math:`e(\lambda r)` for the same scales :math:`r`, at least 2.

    Returns
    -------
    float
        :math:`\rho_c \in [-1, 1]`.

    Examples
    --------
    >>> log_periodic_concordance([0.1, -0.2, 0.05], [0.1, -0.2, 0.05])
    1.0
    >>> log_periodic_concordance([0.0, 0.0], [0.0, 0.0])
    0.0
    """
    a = real_array(inner, "inner", ndim=1)
    b = real_array(outer, "outer", ndim=1)
    same_length(a, b, "inner and outer")
    if a.size < 2:
        raise ValueError(f"inner and outer must hold at least 2 values, got {a.size}")
    denominator = a.var() + b.var() + (a.mean() - b.mean()) ** 2
    if denominator <= 1e-24:
        return 0.0
    covariance = float(np.mean((a - a.mean()) * (b - b.mean())))
    return float(min(1.0, 2.0 * covariance / denominator))


@dataclass(frozen=True, eq=False)
class DSIResult:
    r"""The discrete-scale-invariance test of one set for one factor :math:`\lambda`.

    Attributes
    ----------
    dilation : int
        The factor :math:`\lambda` tested.
    scales, counts : numpy.ndarray
        The scales :math:`\lambda^k` in the fit range and :math:`N` there.
    ratios : numpy.ndarray
        :math:`\rho_k = N(r_k) / N(r_{k+1})`.
    dimension : float
        :math:`D` of the line through the :math:`\lambda^k` (least squares).
    ratio_residual : float
        :math:`\varepsilon_\rho` (see :func:`ratio_residual`).
    ratio_constant : bool
        ``ratio_residual <= tolerance``.
    dense_scales, dense_counts : numpy.ndarray
        Scales between the :math:`\lambda^k` and their counts.
    residuals : numpy.ndarray
        :math:`e(r)` at ``dense_scales``.
    phase : numpy.ndarray
        :math:`\log_\lambda r \bmod 1` at ``dense_scales``.
    periodic_fit : numpy.ndarray
        The fitted Fourier series at ``dense_scales``.
    log_periodic_r2 : float
        Fraction of the variance of :math:`e` explained by a Fourier series in phase
        (descriptive; NaN when there are too few phases).
    log_periodic_concordance : float
        Lin's concordance of :math:`e(r)` and :math:`e(\lambda r)` over the dense scales
        (see :func:`log_periodic_concordance`): 1 for an exactly log-periodic residual.
    log_periodic_amplitude : float
        Root-mean-square of :math:`e` about its mean, in units of :math:`\log N`.
    log_periodic : bool
        ``log_periodic_concordance >= 0.5`` and ``log_periodic_amplitude >= 0.01``.
    is_dsi : bool
        DSI proper: ``ratio_constant and log_periodic``. A set with constant ratios and a
        flat residual is continuously scale invariant over the range (``ratio_constant``
        alone).
    tolerance : float
        The tolerance of the ratio test.
    fit_range : tuple of int
        The scales ``(r_min, r_max)`` tested.
    """

    dilation: int
    scales: np.ndarray = field(repr=False)
    counts: np.ndarray = field(repr=False)
    ratios: np.ndarray = field(repr=False)
    dimension: float
    ratio_residual: float
    ratio_constant: bool
    dense_scales: np.ndarray = field(repr=False)
    dense_counts: np.ndarray = field(repr=False)
    residuals: np.ndarray = field(repr=False)
    phase: np.ndarray = field(repr=False)
    periodic_fit: np.ndarray = field(repr=False)
    log_periodic_r2: float
    log_periodic_concordance: float
    log_periodic_amplitude: float
    log_periodic: bool
    is_dsi: bool
    tolerance: float
    fit_range: tuple[int, int]

    def to_dict(self) -> dict[str, object]:
        """Return the scalar results as a flat dict (one row of a DataFrame).

        Examples
        --------
        >>> from fractalnb.geometry import fractals
        >>> sorted(dsi_test(fractals.cantor_set(8).mask, dilation=3).to_dict())[:3]
        ['dilation', 'dimension', 'is_dsi']
        """
        return {
            "dilation": self.dilation,
            "dimension": self.dimension,
            "ratio_residual": self.ratio_residual,
            "ratio_constant": self.ratio_constant,
            "log_periodic_r2": self.log_periodic_r2,
            "log_periodic_concordance": self.log_periodic_concordance,
            "log_periodic_amplitude": self.log_periodic_amplitude,
            "log_periodic": self.log_periodic,
            "is_dsi": self.is_dsi,
            "r_min": self.fit_range[0],
            "r_max": self.fit_range[1],
        }


def dsi_test(
    x,
    dilation: int = 2,
    threshold: object = None,
    mode: str = "occupied",
    *,
    fit_range: object = None,
    points_per_period: int = 8,
    harmonics: int = 2,
    tolerance: float = DEFAULT_DSI_TOLERANCE,
) -> DSIResult:
    r"""Test a set for discrete scale invariance with factor :math:`\lambda`.

    Parameters
    ----------
    x
        A boolean mask, or a real array / tensor of rank 1 to 4 segmented by ``threshold``
        (as in :func:`fractalnb.geometry.box_dimension`).
    dilation
        :math:`\lambda`, integer ``>= 2``.
    threshold
        Occupancy rule for real ``x``; None for a mask (default rule for real ``x``).
    mode
        ``"occupied"`` or ``"boundary"``.
    fit_range
        ``None`` (the default fit range of :func:`~fractalnb.geometry.default_fit_range`
        for the scales :math:`\lambda^k`), ``"all"``, or inclusive ``(r_min, r_max)``.
    points_per_period
        Dense scales per factor :math:`\lambda` for the log-periodic residual.
    harmonics
        Harmonics of the Fourier series in phase.
    tolerance
        Largest ratio residual accepted, ``> 0``.

    Returns
    -------
    DSIResult

    Raises
    ------
    ValueError
        For invalid input, fewer than 3 scales :math:`\lambda^k` in the range, a zero
        count there, or too few distinct phases for the Fourier fit.

    Examples
    --------
    >>> from fractalnb.geometry import fractals
    >>> triangle = dsi_test(fractals.sierpinski_triangle(9).mask, dilation=2)
    >>> round(triangle.dimension, 4), triangle.ratio_constant, triangle.is_dsi
    (1.585, True, True)
    """
    dilation = integer(dilation, "dilation", 2)
    tolerance = real(tolerance, "tolerance", 0, open_min=True)
    mode = choice(mode, "mode", ("occupied", "boundary"))
    points_per_period = integer(points_per_period, "points_per_period", 2)
    harmonics = integer(harmonics, "harmonics", 1)
    mask = _segment(as_tensor(x)[0], threshold)[0]
    shape = tuple(mask.shape)
    powers = dilation_scales(shape, dilation)
    lo, hi = _resolve_fit_range(fit_range, powers, shape)
    scales = powers[(powers >= lo) & (powers <= hi)]
    if scales.size < 3:
        raise ValueError(
            f"the range r = {lo}..{hi} holds {scales.size} powers of {dilation} "
            f"({scales.tolist()}); the ratio test needs at least 3"
        )
    lo, hi = int(scales[0]), int(scales[-1])
    base = _dense_scales(lo, hi // dilation, points_per_period, dilation)
    dense = np.union1d(base, base * dilation)
    all_scales = np.union1d(scales, dense)
    all_counts = box_counts(mask, all_scales, mode)
    lookup = dict(zip(all_scales.tolist(), all_counts.tolist()))
    counts = np.asarray([lookup[r] for r in scales.tolist()], dtype=np.int64)
    dense_counts = np.asarray([lookup[r] for r in dense.tolist()], dtype=np.int64)
    if np.any(dense_counts <= 0):
        raise ValueError(f"N(r) = 0 at scales {dense[dense_counts <= 0].tolist()} ({mode} mode)")
    line = fit_dimension(scales, counts, fit_range="all", mode=mode)
    residuals = np.log(dense_counts) - (line.intercept + line.dimension * -np.log(dense))
    residuals = np.where(np.abs(residuals) < 1e-12, 0.0, residuals)
    position = {r: i for i, r in enumerate(dense.tolist())}
    inner = residuals[[position[r] for r in base.tolist()]]
    outer = residuals[[position[r * dilation] for r in base.tolist()]]
    concordance = log_periodic_concordance(inner, outer)
    amplitude = float(np.sqrt(np.mean((residuals - residuals.mean()) ** 2)))
    try:
        r2, _, fitted = _log_periodic_fit(dense, residuals, dilation, harmonics)
    except ValueError:  # too few phases for the descriptive Fourier fit
        r2, fitted = math.nan, np.full(dense.shape, np.nan)
    eps = ratio_residual(counts, dilation)
    log_periodic = concordance >= MIN_CONCORDANCE and amplitude >= MIN_PERIODIC_AMPLITUDE
    return DSIResult(
        dilation=dilation,
        scales=scales,
        counts=counts,
        ratios=counts[:-1] / counts[1:],
        dimension=line.dimension,
        ratio_residual=eps,
        ratio_constant=eps <= tolerance,
        dense_scales=dense,
        dense_counts=dense_counts,
        residuals=residuals,
        phase=np.mod(np.log(dense) / math.log(dilation), 1.0),
        periodic_fit=fitted,
        log_periodic_r2=r2,
        log_periodic_concordance=concordance,
        log_periodic_amplitude=amplitude,
        log_periodic=bool(log_periodic),
        is_dsi=bool(eps <= tolerance and log_periodic),
        tolerance=tolerance,
        fit_range=(lo, hi),
    )


def estimate_dilation(
    x,
    candidates: Iterable[int] = range(2, 10),
    threshold: object = None,
    mode: str = "occupied",
    **kwargs: object,
) -> int | None:
    r"""Return the smallest :math:`\lambda` among ``candidates`` for which ``x`` is DSI, or None.

    A set DSI with factor :math:`\lambda` is also DSI with :math:`\lambda^2, \lambda^3, \dots`;
    the smallest factor that passes :func:`dsi_test` (``is_dsi``) is the fundamental one.
    Candidates with fewer than 3 powers in the fit range are skipped.

    Parameters
    ----------
    x
        A boolean mask or a real array (see :func:`dsi_test`).
    candidates
        Integer factors ``>= 2`` to try, in any order.
    threshold, mode, **kwargs
        Passed to :func:`dsi_test`.

    Returns
    -------
    int or None

    Examples
    --------
    >>> from fractalnb.geometry import fractals
    >>> estimate_dilation(fractals.cantor_set(10).mask)
    3
    """
    if isinstance(candidates, (str, bytes)) or not hasattr(candidates, "__iter__"):
        raise TypeError(
            f"candidates must be a sequence of integers >= 2, got {describe(candidates)}"
        )
    values = sorted({integer(c, "candidates", 2) for c in candidates})
    if not values:
        raise ValueError("candidates must hold at least one integer >= 2")
    for dilation in values:
        try:
            result = dsi_test(x, dilation, threshold, mode, **kwargs)  # type: ignore[arg-type]
        except ValueError as error:
            if "the ratio test needs at least 3" in str(error) or "distinct phases" in str(error):
                continue
            raise
        if result.is_dsi:
            return dilation
    return None
