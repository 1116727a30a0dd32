r"""Threshold-free roughness: the fractal dimension of a series or surface from its increments.

The *power variation* of order :math:`p` of a series :math:`X` at lag :math:`l`,

.. math:: V_p(l) = \frac{1}{2(n - l)} \sum_{t=1}^{n-l} |X_{t+l} - X_t|^p ,

grows as :math:`l^{pH}` at small lags for a process whose variogram behaves as
:math:`|h|^{2H}` at the origin, and the graph of such a process has dimension
:math:`D = d + 1 - H` (:math:`d = 1` for a series, 2 for a surface). The *variation
estimator* fits the slope of :math:`\log V_p(l)` on :math:`\log l` over the smallest lags
:math:`l = 1, 2` and reads :math:`\hat D = d + 1 - \text{slope}/p`; :math:`p = 1` is the
**madogram**, :math:`p = 2` the **variogram** estimator. Gneiting, Ševčíková & Percival
(2012) find them nearly unbiased where box counting is not, and recommend the madogram
(robust to outliers, efficient) for series; for lattice data they propose the **transect**
estimator, the median of the 1-D estimates along every row and every column. The
**isotropic** estimator pools increments along the axes (distances 1, 2) and the two
diagonals (distance :math:`\sqrt 2`) into one log-log fit (Davies & Hall, 1999).

:data:`RECOMMENDED` names the estimator :func:`fractalnb.training.analyze` uses: the
transect madogram. The conventions follow the R package ``fractaldim`` (``fd.estim.madogram``,
``fd.estim.variogram``, ``fd.estim.transect.var``, ``fd.estim.isotropic``), which is not
used here. Nothing is clipped: an anti-correlated signal can give :math:`\hat D > d + 1`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validate import choice, integer, real, real_array, sizes

__all__ = [
    "RECOMMENDED",
    "RoughnessDimension",
    "madogram_dimension",
    "power_variation",
    "variation_dimension",
    "variogram_dimension",
]

_METHODS: tuple[str, ...] = ("transect", "isotropic")
RECOMMENDED: dict[str, object] = {"power": 1.0, "method": "transect", "max_lag": 2}
"""The keyword arguments of the estimator recommended by Gneiting, Ševčíková and Percival
(2012), the madogram (``power=1``) on lags 1 and 2, median-combined over the rows and the
columns of a surface."""


@dataclass(frozen=True, eq=False)
class RoughnessDimension:
    r"""The result of a variation estimator.

    Attributes
    ----------
    dimension : float
        :math:`\hat D = d + 1 - \hat H`.
    hurst : float
        :math:`\hat H`, the fitted log-log slope divided by ``power``.
    power : float
        The order :math:`p` (1: madogram, 2: variogram).
    method : str
        ``"series"``, ``"transect"`` or ``"isotropic"``.
    distances : numpy.ndarray
        The lag distances of the fit (for ``"transect"``, of each transect's fit).
    variations : numpy.ndarray
        :math:`V_p` at those distances (for ``"transect"``, pooled over all transects;
        the estimate itself is the median of the per-transect estimates).
    transects : numpy.ndarray
        For ``"transect"``, the per-row then per-column estimates of :math:`D` of the
        surface (``1 +`` each 1-D estimate); empty otherwise.
    n_flat : int
        Transects left out because they are constant (no increment, no slope).
    """

    dimension: float
    hurst: float
    power: float
    method: str
    distances: np.ndarray = field(repr=False)
    variations: np.ndarray = field(repr=False)
    transects: np.ndarray = field(repr=False)
    n_flat: int = 0


def _variations(x: np.ndarray, lags: np.ndarray, power: float, axis: int) -> np.ndarray:
    """:math:`V_p(l)` along ``axis`` for each lag (stacked first), per transect."""
    n = x.shape[axis]
    out = []
    for lag in lags.tolist():
        diff = np.take(x, np.arange(lag, n), axis) - np.take(x, np.arange(n - lag), axis)
        out.append(np.sum(np.abs(diff) ** power, axis=axis) / (2 * (n - lag)))
    return np.stack(out)


def _slopes(distances: np.ndarray, variations: np.ndarray) -> np.ndarray:
    """Least-squares slopes of log V on log distance, one per column of ``variations``."""
    s = np.log(distances)
    s = s - s.mean()
    logv = np.log(variations)
    return (s @ (logv - logv.mean(axis=0))) / (s @ s)


def _check(x: object, power: object, max_lag: object, min_ndim: int = 1
           ) -> tuple[np.ndarray, float, int]:
    a = real_array(x, "x", min_ndim=min_ndim, max_ndim=2)
    power = real(power, "power", 0, open_min=True)
    max_lag = integer(max_lag, "max_lag", 2)
    short = min(a.shape)
    if short < max_lag + 2:
        raise ValueError(f"x must have at least max_lag + 2 = {max_lag + 2} entries along "
                         f"every axis (two increments at the largest lag), got shape {a.shape}")
    return a, power, max_lag


def power_variation(x, lags, power: float = 1.0) -> np.ndarray:
    r"""Compute the power variation :math:`V_p(l) = \sum_t |X_{t+l} - X_t|^p / (2(n - l))`.

    Parameters
    ----------
    x
        A real 1-D series (NumPy array, tensor or sequence), at least 3 entries.
    lags
        Strictly increasing lags :math:`l \ge 1`, each ``< len(x)``.
    power
        The order :math:`p > 0` (1: madogram, 2: variogram; half the variogram is the
        semivariogram of geostatistics).

    Returns
    -------
    numpy.ndarray
        :math:`V_p(l)` for each lag.

    Examples
    --------
    >>> power_variation([0.0, 1.0, 0.0, 1.0], [1, 2], power=2)
    array([0.5, 0. ])
    """
    a = real_array(x, "x", ndim=1)
    lags = sizes(lags, "lags")
    power = real(power, "power", 0, open_min=True)
    if lags[-1] >= a.size:
        raise ValueError(f"lags must be < len(x) = {a.size}, got {lags[-1]}")
    return _variations(a, np.asarray(lags), power, 0)


def variation_dimension(x, power: float = 1.0, *, method: str = "transect",
                        max_lag: int = 2) -> RoughnessDimension:
    r"""Estimate the fractal dimension of a series or a surface by a variation estimator.

    Parameters
    ----------
    x
        A real 1-D series (dimension in [1, 2]) or 2-D surface (dimension in [2, 3]),
        NumPy array or tensor, at least ``max_lag + 2`` entries along every axis.
    power
        The order :math:`p > 0`: 1 (madogram, recommended), 2 (variogram).
    method
        For a surface: ``"transect"`` (median over rows and columns, default) or
        ``"isotropic"`` (one fit on the axis and diagonal increments pooled). Ignored for
        a series.
    max_lag
        The largest lag of the fit (``>= 2``; default 2: lags 1 and 2, as recommended).
        ``"isotropic"`` adds the diagonal lags :math:`k` with :math:`k\sqrt 2 \le`
        ``max_lag``.

    Returns
    -------
    RoughnessDimension

    Raises
    ------
    TypeError
        If ``x`` is not an array, or ``power``, ``method`` or ``max_lag`` has the wrong type.
    ValueError
        For NaN/Inf, rank other than 1 or 2, a side shorter than ``max_lag + 2``, a
        constant ``x`` (no roughness to measure), ``power <= 0`` or an unknown ``method``.

    Examples
    --------
    >>> from fractalnb.geometry import fractional_brownian_motion
    >>> path = fractional_brownian_motion(4096, 0.3, seed=0)
    >>> round(variation_dimension(path.values).dimension, 1), path.dimension
    (1.7, 1.7)
    """
    method = choice(method, "method", _METHODS)
    a, power, max_lag = _check(x, power, max_lag)
    lags = np.arange(1, max_lag + 1)
    if a.ndim == 1:
        v = _variations(a, lags, power, 0)
        if not np.all(v > 0):
            raise ValueError("x is constant (or repeats with period 1 or 2): it has no "
                             "roughness to measure")
        h = float(_slopes(lags.astype(float), v[:, None])[0]) / power
        return RoughnessDimension(2.0 - h, h, power, "series", lags.astype(float), v,
                                  np.empty(0))  # fmt: skip
    if method == "transect":
        v = np.concatenate([_variations(a, lags, power, 1), _variations(a, lags, power, 0)],
                           axis=1)  # fmt: skip
        ok = np.all(v > 0, axis=0)
        if not ok.any():
            raise ValueError("x has no non-constant row or column: it has no roughness "
                             "to measure")
        d = 3.0 - _slopes(lags.astype(float), v[:, ok]) / power
        dim = float(np.median(d))
        return RoughnessDimension(dim, 3.0 - dim, power, "transect", lags.astype(float),
                                  v[:, ok].mean(axis=1), d, int((~ok).sum()))  # fmt: skip
    distances, values = [], []
    for lag in lags.tolist():
        axis_v = np.concatenate([np.abs(a[:, lag:] - a[:, :-lag]).ravel(),
                                 np.abs(a[lag:] - a[:-lag]).ravel()]) ** power  # fmt: skip
        distances.append(float(lag))
        values.append(axis_v.mean() / 2)
    for lag in range(1, int(max_lag / np.sqrt(2)) + 1):
        diag = np.concatenate([np.abs(a[lag:, lag:] - a[:-lag, :-lag]).ravel(),
                               np.abs(a[lag:, :-lag] - a[:-lag, lag:]).ravel()]) ** power
        distances.append(lag * np.sqrt(2))
        values.append(diag.mean() / 2)
    order = np.argsort(distances)
    dist, v = np.asarray(distances)[order], np.asarray(values)[order]
    if not np.all(v > 0):
        raise ValueError("x is constant along some lag: it has no roughness to measure")
    h = float(_slopes(dist, v[:, None])[0]) / power
    return RoughnessDimension(3.0 - h, h, power, "isotropic", dist, v, np.empty(0))


def madogram_dimension(x, *, method: str = "transect", max_lag: int = 2
                       ) -> RoughnessDimension:
    """Estimate D by the madogram (``power=1``, recommended) of :func:`variation_dimension`.

    Examples
    --------
    >>> from fractalnb.geometry import fractional_brownian_surface
    >>> z = fractional_brownian_surface(128, 0.4, seed=0, method="exact").values
    >>> round(madogram_dimension(z).dimension, 1)
    2.6
    """
    return variation_dimension(x, 1.0, method=method, max_lag=max_lag)


def variogram_dimension(x, *, method: str = "transect", max_lag: int = 2
                        ) -> RoughnessDimension:
    """Estimate D by the variogram (``power=2``) of :func:`variation_dimension`.

    Examples
    --------
    >>> from fractalnb.geometry import fractional_brownian_surface
    >>> z = fractional_brownian_surface(128, 0.4, seed=0, method="exact").values
    >>> round(variogram_dimension(z, method="isotropic").dimension, 1)
    2.6
    """
    return variation_dimension(x, 2.0, method=method, max_lag=max_lag)
