"""Isotropic random fields on the sphere: angular power spectra and sampling.

Also the infinite-width limit of a random network: the isotropic Gaussian field with
covariance κ_L, its spectrum and samples.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .. import _validate
from ._limits import MAX_DEPTH, MAX_NETWORKS, MAX_ORDER, MAX_TERMS
from .activations import activation
from .kernels import _gauss_legendre_panels, kappa_depth
from .sphere import SphereGrid

__all__ = [
    "angular_power_spectrum",
    "sample_isotropic_field",
    "limiting_spectrum",
    "limiting_fields",
]


def angular_power_spectrum(covariance: Callable[[np.ndarray], np.ndarray], ell_max: int, *,
                           panels_per_degree: int = 2, order: int = 12) -> np.ndarray:
    r"""Compute the angular power spectrum C_0 … C_ℓmax of an isotropic covariance K(cos γ).

    With K(cos γ) = Σ_ℓ C_ℓ (2ℓ+1)/(4π) P_ℓ(cos γ),

    .. math::

        C_\ell = 2\pi \int_0^\pi K(\cos\gamma) P_\ell(\cos\gamma) \sin\gamma\,d\gamma,

    computed by composite Gauss–Legendre quadrature in γ: uniform panels
    (``panels_per_degree`` per 2π/ℓ_max wavelength) refined geometrically towards γ = 0 and
    γ = π, where non-smooth covariances such as the Heaviside network's
    (1 − κ(1 − t) ∝ t^{β}) have their cusps.

    Parameters
    ----------
    covariance
        Callable K(u) on numpy arrays of u = cos γ in [−1, 1] (e.g.
        ``lambda u: rn.kappa_depth(u, "heaviside", 2)``).
    ell_max
        Highest multipole (≥ 1).
    panels_per_degree
        Uniform panels per wavelength (≥ 1).
    order
        Gauss–Legendre nodes per panel (1 to 48). The nodes times the multipoles may not
        exceed 10^10 (ℓ_max ≈ 20,000 at the defaults): a larger request is refused up front.

    Returns
    -------
    numpy.ndarray
        C_0 … C_ℓmax (non-negative for a valid covariance, up to rounding).

    Examples
    --------
    >>> c = angular_power_spectrum(lambda u: u, 4)          # K(u) = u: only ℓ = 1
    >>> (np.round(c / (4 * np.pi / 3), 12) + 0.0).tolist()
    [0.0, 1.0, 0.0, 0.0, 0.0]
    """
    if not callable(covariance):
        raise TypeError(f"covariance must be a callable K(u), got {_validate.describe(covariance)}")
    ell_max = _validate.integer(ell_max, "ell_max", minimum=1)
    panels_per_degree = _validate.integer(panels_per_degree, "panels_per_degree", minimum=1)
    order = _validate.integer(order, "order", minimum=1, maximum=MAX_ORDER)
    n_uniform = max(8, panels_per_degree * ell_max)
    _validate.budget((n_uniform + 80) * order * (ell_max + 1),
                     "ell_max, panels_per_degree and order", MAX_TERMS, "quadrature terms")
    width = np.pi / n_uniform
    inner = width * 2.0 ** -np.arange(40, 0, -1)        # geometric panels inside [0, width]
    breaks = np.concatenate([[0.0], inner, np.linspace(width, np.pi - width, n_uniform - 1),
                             np.pi - inner[::-1], [np.pi]])
    gamma, weights = _gauss_legendre_panels(breaks, order)
    u = np.cos(gamma)
    k = np.asarray(covariance(u), dtype=float)
    if k.shape != u.shape or not np.all(np.isfinite(k)):
        raise ValueError("covariance must map an array of cosines to finite values "
                         "of the same shape")
    integrand = weights * np.sin(gamma) * k
    spectrum = np.empty(ell_max + 1)
    # P_ℓ at all nodes, in blocks of ℓ to bound memory
    p_prev, p_cur = np.ones_like(u), u.copy()
    spectrum[0] = 2 * np.pi * integrand.sum()
    spectrum[1] = 2 * np.pi * (integrand * u).sum()
    for ell in range(2, ell_max + 1):
        p_prev, p_cur = p_cur, ((2 * ell - 1) * u * p_cur - (ell - 1) * p_prev) / ell
        spectrum[ell] = 2 * np.pi * (integrand * p_cur).sum()
    return spectrum


def _spectrum(spectrum: object) -> np.ndarray:
    """Return C_0 … C_ℓmax as float64, or raise: a covariance's spectrum is non-negative."""
    c = _validate.real_array(spectrum, "spectrum", ndim=1)
    if c.size < 2:
        raise ValueError(f"spectrum must hold at least 2 multipoles, got {c.size}")
    scale = max(float(np.max(np.abs(c))), 1e-300)
    if np.any(c < -1e-9 * scale):
        worst = int(np.argmin(c))
        raise ValueError(f"spectrum must be non-negative (a covariance), "
                         f"got C_{worst} = {c[worst]:.3g}")
    return np.clip(c, 0.0, None)   # rounding-level negatives (|C| < 1e-9 max C) only


_BLOCK = 64  # multipoles per matrix product of sample_isotropic_field


def sample_isotropic_field(spectrum, grid: SphereGrid, n_samples: int = 1, *, seed: int = 0,
                           first: int = 0, block: int = _BLOCK) -> np.ndarray:
    """Draw isotropic Gaussian fields with angular power spectrum C_ℓ on a lat–long grid.

    f = Σ_{ℓ ≤ ℓmax} Σ_m a_ℓm Y_ℓm with real spherical harmonics and independent
    a_ℓm ~ N(0, C_ℓ): exact in distribution for the spectrum truncated at ℓmax =
    ``len(spectrum) − 1``. The normalised associated Legendre functions are built by the
    standard stable recurrences in float64, all m at once, and summed by batched matrix
    products; longitude is a matrix product with cos mφ, sin mφ.

    Parameters
    ----------
    spectrum
        C_0 … C_ℓmax (non-negative).
    grid
        A lat–long grid: :func:`latlong_grid` or :func:`latlong_patch`.
    n_samples
        How many fields (1 to 10^6).
    seed, first
        Field ``k`` is drawn from the stream ``(seed, first + k)``: the same whatever the
        batching (both integers ``>= 0``).
    block
        Multipoles per matrix product (memory ≈ block · ℓmax · rows · 8 bytes).

    Returns
    -------
    numpy.ndarray
        ``(n_samples, rows, cols)``.

    Raises
    ------
    ValueError
        Also, up front, when the coefficients, the Legendre blocks or the fields would
        exceed 2^30 (the package budget ``MAX_ELEMENTS``) numbers.

    Examples
    --------
    >>> from fractalnb.random_networks import latlong_grid
    >>> c = angular_power_spectrum(lambda u: u, 2)
    >>> f = sample_isotropic_field(c, latlong_grid(9), 2, seed=1)
    >>> f.shape
    (2, 9, 16)
    """
    c = _spectrum(spectrum)
    n_samples, seed, first, block = _field_arguments(c.size - 1, grid, n_samples, seed, first,
                                                     block, "n_samples", "spectrum")
    ell_max = c.size - 1
    theta, phi = grid.rows_coord, grid.cols_coord
    m = np.arange(ell_max + 1)
    # coefficients: cos and sin parts, (ℓ, m, sample); zero for m > ℓ and for sin at m = 0
    coef_c = np.zeros((ell_max + 1, ell_max + 1, n_samples))
    coef_s = np.zeros_like(coef_c)
    lower = m[None, :] <= m[:, None]
    for k in range(n_samples):
        rng = np.random.default_rng([seed, first + k])
        coef_c[..., k] = rng.standard_normal((ell_max + 1, ell_max + 1)) * lower
        coef_s[..., k] = rng.standard_normal((ell_max + 1, ell_max + 1)) * lower
    coef_s[:, 0, :] = 0.0
    amp = np.sqrt(c)[:, None] * np.where(m == 0, 1.0, math.sqrt(2.0))[None, :]
    coef_c *= amp[..., None]
    coef_s *= amp[..., None]
    f_cos = np.zeros((ell_max + 1, theta.size, n_samples))
    f_sin = np.zeros_like(f_cos)
    for start, table in _normalised_legendre_blocks(theta, ell_max, block):
        stop = start + table.shape[0]
        # table: (ℓ block, m, rows); F[m] += table[:, m, :]^T @ coef[ℓ block, m, :]
        f_cos += np.einsum("lmr,lmb->mrb", table, coef_c[start:stop], optimize=True)
        f_sin += np.einsum("lmr,lmb->mrb", table, coef_s[start:stop], optimize=True)
    cos_m = np.cos(np.outer(m, phi))
    sin_m = np.sin(np.outer(m, phi))
    fields = np.einsum("mrb,mc->brc", f_cos, cos_m, optimize=True) \
        + np.einsum("mrb,mc->brc", f_sin, sin_m, optimize=True)
    return fields


def limiting_spectrum(spec, depth: int, ell_max: int) -> np.ndarray:
    """Angular power spectrum C_0 … C_ℓmax of the limiting field of depth L (covariance κ_L).

    The field's variance Σ_ℓ C_ℓ (2ℓ + 1)/(4π) is κ_L(1) = 1.

    Parameters
    ----------
    spec, depth
        The activation and L (1 to 1000).
    ell_max
        Highest multipole (see :func:`~fractalnb.random_networks.angular_power_spectrum`).

    Examples
    --------
    >>> c = limiting_spectrum("tanh", 2, 64)
    >>> round(float(np.sum(c * (2 * np.arange(65) + 1)) / (4 * np.pi)), 8)
    1.0
    """
    act = activation(spec)
    depth = _validate.integer(depth, "depth", minimum=1, maximum=MAX_DEPTH)
    return angular_power_spectrum(lambda u: kappa_depth(u, act, depth), ell_max)


def limiting_fields(spec, depth: int, grid, ell_max: int, n_fields: int = 1, *,
                    seed: int = 0, first: int = 0) -> np.ndarray:
    """Draw samples of the infinite-width limit f_L: the Gaussian field with covariance κ_L.

    The angular power spectrum of κ_L (:func:`limiting_spectrum`) truncated at ``ell_max``
    and synthesised by spherical harmonics
    (:func:`sample_isotropic_field`):
    exact in law for the truncated spectrum, so the field is smooth below the angular scale
    ≈ π/ℓmax — the harmonic analogue of a network's finite width.

    Parameters
    ----------
    spec, depth
        The activation and L.
    grid
        A lat–long grid (:func:`fractalnb.random_networks.latlong_grid` or
        :func:`fractalnb.random_networks.latlong_patch`).
    ell_max
        Highest multipole (≥ 1).
    n_fields, seed, first
        How many fields (1 to 10^6), and their seeded stream (field k from
        ``(seed, first + k)``).

    Returns
    -------
    numpy.ndarray
        ``(n_fields, rows, cols)``.

    Examples
    --------
    >>> from fractalnb.random_networks import latlong_grid
    >>> limiting_fields("heaviside", 2, latlong_grid(17), 16, 3).shape
    (3, 17, 32)
    """
    act = activation(spec)
    depth = _validate.integer(depth, "depth", minimum=1, maximum=MAX_DEPTH)
    ell_max = _validate.integer(ell_max, "ell_max", minimum=1)
    n_fields, seed, first, _ = _field_arguments(ell_max, grid, n_fields, seed, first, _BLOCK,
                                                "n_fields", "ell_max")
    spectrum = limiting_spectrum(act, depth, ell_max)
    return sample_isotropic_field(spectrum, grid, n_fields, seed=seed, first=first)


def _field_arguments(ell_max: int, grid: object, n_samples: object, seed: object,
                     first: object, block: object, count_name: str,
                     size_name: str) -> tuple[int, int, int, int]:
    """Check the arguments of :func:`sample_isotropic_field`; ``ell_max`` is ``size_name``'s.

    Refuses up front fields whose coefficients, Legendre blocks or values would exceed
    2^30 (the package budget ``MAX_ELEMENTS``).
    """
    if not isinstance(grid, SphereGrid):
        raise TypeError(f"grid must be a SphereGrid, got {_validate.describe(grid)}")
    if grid.kind not in ("latlong", "patch"):
        raise ValueError(f"grid must be a lat-long grid (latlong_grid or latlong_patch), "
                         f"got kind {grid.kind!r}")
    n_samples = _validate.integer(n_samples, count_name, minimum=1, maximum=MAX_NETWORKS)
    seed = _validate.seed(seed)
    first = _validate.integer(first, "first", minimum=0)
    block = _validate.integer(block, "block", minimum=1)
    rows, cols = grid.shape
    limit = _validate.MAX_ELEMENTS
    _validate.budget((ell_max + 1) ** 2 * n_samples, f"{size_name} and {count_name}", limit,
                     "coefficients")
    _validate.budget(block * (ell_max + 1) * rows, "block", limit,
                     "Legendre values")
    _validate.budget(n_samples * max(ell_max + 1, cols) * rows, count_name, limit,
                     "field values")
    return n_samples, seed, first, block


def _normalised_legendre_blocks(theta: np.ndarray, ell_max: int, block: int):
    """Yield (ℓ_start, table) with table[ℓ − ℓ_start, m, i] = P̄_ℓm(cos θ_i), orthonormal.

    P̄_ℓm(cos θ) e^{imφ} are the complex spherical harmonics without the Condon–Shortley
    phase; P̄_mm = √((2m+1)/(4π) ∏_{k≤m} (2k−1)/(2k)) sin^m θ, P̄_{m+1,m} = √(2m+3) cos θ P̄_mm,
    and P̄_ℓm = a_ℓm (cos θ P̄_{ℓ−1,m} − P̄_{ℓ−2,m} / a_{ℓ−1,m}), a_ℓm = √((4ℓ²−1)/(ℓ²−m²)).
    """
    x, s = np.cos(theta), np.sin(theta)
    m = np.arange(ell_max + 1, dtype=float)
    log_ratio = np.concatenate([[0.0], np.cumsum(np.log((2 * m[1:] - 1) / (2 * m[1:])))])
    with np.errstate(divide="ignore"):
        log_s = np.log(np.abs(s))                   # −inf at the poles: P̄_mm = 0 there, m ≥ 1
    log_pmm = 0.5 * (np.log((2 * m + 1) / (4 * np.pi)) + log_ratio)[:, None] \
        + m[:, None] * np.where(np.isfinite(log_s), log_s, 0.0)[None, :]
    pmm = np.exp(log_pmm)
    pmm[1:, ~np.isfinite(log_s)] = 0.0
    prev2 = np.zeros((ell_max + 1, theta.size))
    prev1 = np.zeros_like(prev2)
    buffer = np.zeros((block, ell_max + 1, theta.size))
    start = 0
    for ell in range(ell_max + 1):
        cur = np.zeros_like(prev1)
        if ell >= 2:
            mm = m[: ell - 1]
            a = np.sqrt((4 * ell * ell - 1) / (ell * ell - mm * mm))
            a_prev = np.sqrt((4 * (ell - 1) ** 2 - 1) / ((ell - 1) ** 2 - mm * mm))
            cur[: ell - 1] = a[:, None] * (x[None, :] * prev1[: ell - 1]
                                          - prev2[: ell - 1] / a_prev[:, None])
        if ell >= 1:
            cur[ell - 1] = math.sqrt(2 * ell + 1) * x * pmm[ell - 1]
        cur[ell] = pmm[ell]
        buffer[ell - start] = cur
        prev2, prev1 = prev1, cur
        if ell - start + 1 == block or ell == ell_max:
            yield start, buffer[: ell - start + 1].copy()
            start = ell + 1
