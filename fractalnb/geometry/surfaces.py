r"""Rough surfaces and series of known dimension: fractional Brownian surfaces and motion.

Two generators of fractional Brownian surfaces are offered, and they are not equally
"known". ``method="spectral"`` (the default, used since chapter 4) shapes white noise to
the power spectrum :math:`|k|^{-(2H+2)}`: it is fast and has the right roughness at
large lags, but on a lattice it is only approximately fBm, and at the finest lags (the
ones roughness estimators read) it is smoother than its nominal :math:`H` — much smoother
for small :math:`H` (``tests/test_roughness.py`` measures it). ``method="exact"`` is
the circulant embedding of Stein (2002): its increments have exactly the fBm variogram
:math:`\propto |h|^{2H}` at every lag of the grid. :func:`fractional_brownian_motion` is
the exact 1-D analogue (Davies & Harte, 1987).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validate import budget, choice, integer, real
from .._validate import seed as check_seed
from .fractals import _grid

__all__ = [
    "Surface",
    "fractional_brownian_motion",
    "fractional_brownian_surface",
]

_SURFACE_METHODS: tuple[str, ...] = ("spectral", "exact")
_MAX_EMBEDDING = 1 << 24  # circulant-embedding points (about 256 MiB of complex noise)


@dataclass(frozen=True, eq=False)
class Surface:
    """A random surface :math:`z(i, j)` with a known (almost sure) dimension.

    Attributes
    ----------
    name : str
        What it is.
    values : numpy.ndarray
        ``float64`` heights, shape ``(size, size)`` for a surface or ``(n,)`` for a
        series (read-only).
    dimension : float
        The dimension of the graph of the limit surface, :math:`3 - H` (of a series,
        :math:`2 - H`).
    hurst : float
        The Hurst exponent :math:`H`.
    """

    name: str
    values: np.ndarray = field(repr=False)
    dimension: float
    hurst: float

    def __post_init__(self) -> None:
        self.values.setflags(write=False)

    def __array__(self, dtype=None, copy=None):
        """Let ``numpy.asarray(surface)`` give the heights."""
        return self.values if dtype is None else self.values.astype(dtype)


def fractional_brownian_surface(size: int, hurst: float, seed: int,
                                method: str = "spectral") -> Surface:
    r"""Synthesise a fractional Brownian surface; its graph has dimension 3 - H.

    ``method="spectral"``: Gaussian noise is shaped in Fourier space to the power spectrum
    :math:`|k|^{-(2H + 2)}` on a grid twice as large, transformed back, and cropped to
    ``size x size`` (the crop removes the periodicity of the FFT). Approximate: at the
    smallest lags the surface is smoother than :math:`H` says (see the module docstring).

    ``method="exact"``: Stein's (2002) circulant embedding of the covariance
    :math:`c_0 - r^{2H} + c_2 r^2` (:math:`r \le 1`, with a cubic tail to radius
    :math:`R = 2` when :math:`H > 3/4`), plus a random plane that restores the
    :math:`c_2 r^2` term: the heights are an exact sample of fBm on the grid.

    Parameters
    ----------
    size
        Side of the surface, ``>= 8``.
    hurst
        Hurst exponent H in ``(0, 1)``.
    seed
        Seed of the random generator, an integer ``>= 0``.
    method
        ``"spectral"`` (default) or ``"exact"``.

    Returns
    -------
    Surface
        Heights (zero mean, unit standard deviation), dimension :math:`3 - H`.

    Examples
    --------
    >>> surface = fractional_brownian_surface(64, 0.5, seed=0)
    >>> surface.values.shape, surface.dimension
    ((64, 64), 2.5)
    >>> fractional_brownian_surface(64, 0.8, seed=0, method="exact").values.shape
    (64, 64)
    """
    size = integer(size, "size", 8)
    hurst = real(hurst, "hurst", 0, 1, open_min=True, open_max=True)
    seed = check_seed(seed)
    method = choice(method, "method", _SURFACE_METHODS)
    _grid(2 * size, 2, "size")
    rng = np.random.default_rng(seed)
    if method == "exact":
        values = _stein_surface(size, hurst, rng)
    else:
        n = 2 * size
        k = np.hypot(*np.meshgrid(np.fft.fftfreq(n), np.fft.fftfreq(n), indexing="ij"))
        k[0, 0] = 1.0
        amplitude = k ** (-(hurst + 1.0))
        amplitude[0, 0] = 0.0
        noise = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
        values = np.fft.ifft2(amplitude * noise).real[:size, :size]
    values = (values - values.mean()) / values.std()
    kind = "" if method == "spectral" else ", exact"
    return Surface(f"fractional Brownian surface H={hurst:g}, {size}x{size}{kind}, seed {seed}",
                   values, 3.0 - hurst, hurst)  # fmt: skip


def _stein_surface(size: int, hurst: float, rng: np.random.Generator) -> np.ndarray:
    """Stein's (2002) exact fBm surface on a ``size x size`` grid of diagonal 1."""
    alpha = 2.0 * hurst
    if alpha <= 1.5:
        radius, beta, c2 = 1.0, 0.0, alpha / 2
        c0 = 1.0 - alpha / 2
    else:
        radius = 2.0
        beta = alpha * (2 - alpha) / (3 * radius * (radius**2 - 1))
        c2 = (alpha - beta * (radius - 1) ** 2 * (radius + 2)) / 2
        c0 = beta * (radius - 1) ** 3 + 1 - c2
    step = 1.0 / ((size - 1) * np.sqrt(2.0))  # the grid fits in the unit disc's reach
    m = int(np.ceil(radius / step)) + 1
    budget((2 * (m - 1)) ** 2, "size", _MAX_EMBEDDING, "circulant-embedding points")
    t = np.arange(m) * step
    r = np.hypot(*np.meshgrid(t, t, indexing="ij"))
    r[0, 0] = 1.0  # placeholder, set below
    rho = np.where(r <= 1, c0 - r**alpha + c2 * r**2,
                   np.where(r <= radius, beta * (radius - r) ** 3 / r, 0.0))  # fmt: skip
    rho[0, 0] = c0
    block = np.block([[rho, rho[:, -2:0:-1]], [rho[-2:0:-1, :], rho[-2:0:-1, -2:0:-1]]])
    eigen = np.fft.fft2(block).real
    if eigen.min() < -1e-8 * eigen.max():  # Stein proves this cannot happen
        raise RuntimeError(f"circulant embedding not non-negative ({eigen.min():.3g})")
    eigen = np.sqrt(np.clip(eigen, 0.0, None) / block.size)
    noise = rng.standard_normal(block.shape) + 1j * rng.standard_normal(block.shape)
    field_ = np.fft.fft2(eigen * noise)[:size, :size].real
    x = np.arange(size) * step
    a, b = rng.standard_normal(2)
    return field_ - field_[0, 0] + np.sqrt(2 * c2) * (a * x[:, None] + b * x[None, :])


def fractional_brownian_motion(n: int, hurst: float, seed: int) -> Surface:
    r"""Sample fractional Brownian motion exactly (Davies-Harte); its graph has dimension 2 - H.

    Fractional Gaussian noise (unit variance, autocovariance
    :math:`\tfrac12(|k+1|^{2H} - 2|k|^{2H} + |k-1|^{2H})`) is drawn by circulant
    embedding, which is exact for every :math:`H \in (0, 1)`, and summed.

    Parameters
    ----------
    n
        Number of points, ``>= 8``; the path is :math:`B(0) = 0, B(1), \dots, B(n-1)`.
    hurst
        Hurst exponent H in ``(0, 1)``.
    seed
        Seed of the random generator, an integer ``>= 0``.

    Returns
    -------
    Surface
        The series as ``values`` (shape ``(n,)``, :math:`\operatorname{Var} B(t) = t^{2H}`),
        dimension :math:`2 - H`.

    Examples
    --------
    >>> path = fractional_brownian_motion(1000, 0.3, seed=0)
    >>> path.values.shape, path.dimension, float(path.values[0])
    ((1000,), 1.7, 0.0)
    """
    n = integer(n, "n", 8)
    hurst = real(hurst, "hurst", 0, 1, open_min=True, open_max=True)
    seed = check_seed(seed)
    budget(2 * n, "n", _MAX_EMBEDDING, "circulant-embedding points")
    rng = np.random.default_rng(seed)
    k = np.arange(n, dtype=np.float64)
    h2 = 2.0 * hurst
    gamma = 0.5 * ((k + 1) ** h2 - 2 * k**h2 + np.abs(k - 1) ** h2)
    row = np.concatenate([gamma, gamma[-2:0:-1]])
    eigen = np.fft.fft(row).real
    if eigen.min() < -1e-8 * eigen.max():  # known never to happen for fGn
        raise RuntimeError(f"circulant embedding not non-negative ({eigen.min():.3g})")
    eigen = np.sqrt(np.clip(eigen, 0.0, None) / row.size)
    noise = rng.standard_normal(row.size) + 1j * rng.standard_normal(row.size)
    increments = np.fft.fft(eigen * noise)[: n - 1].real
    values = np.concatenate([[0.0], np.cumsum(increments)])
    return Surface(f"fractional Brownian motion H={hurst:g}, n={n}, seed {seed}",
                   values, 2.0 - hurst, hurst)  # fmt: skip
