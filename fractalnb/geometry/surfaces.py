"""Rough surfaces of known dimension: fractional Brownian surfaces."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validate import integer, real
from .._validate import seed as check_seed
from .fractals import _grid

__all__ = [
    "Surface",
    "fractional_brownian_surface",
]


@dataclass(frozen=True, eq=False)
class Surface:
    """A random surface :math:`z(i, j)` with a known (almost sure) dimension.

    Attributes
    ----------
    name : str
        What it is.
    values : numpy.ndarray
        ``float64`` heights, shape ``(size, size)`` (read-only).
    dimension : float
        The dimension of the graph of the limit surface, :math:`3 - H`.
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


def fractional_brownian_surface(size: int, hurst: float, seed: int) -> Surface:
    """Synthesise a fractional Brownian surface (spectral method); its graph has dimension 3 - H.

    Gaussian noise is shaped in Fourier space to the power spectrum
    :math:`|k|^{-(2H + 2)}` on a grid twice as large, transformed back, and cropped to
    ``size x size`` (the crop removes the periodicity of the FFT).

    Parameters
    ----------
    size
        Side of the surface, ``>= 8``.
    hurst
        Hurst exponent H in ``(0, 1)``.
    seed
        Seed of the random generator, an integer ``>= 0``.

    Returns
    -------
    Surface
        Heights (zero mean, unit standard deviation), dimension :math:`3 - H`.

    Examples
    --------
    >>> surface = fractional_brownian_surface(64, 0.5, seed=0)
    >>> surface.values.shape, surface.dimension
    ((64, 64), 2.5)
    """
    size = integer(size, "size", 8)
    hurst = real(hurst, "hurst", 0, 1, open_min=True, open_max=True)
    seed = check_seed(seed)
    _grid(2 * size, 2, "size")
    rng = np.random.default_rng(seed)
    n = 2 * size
    k = np.hypot(*np.meshgrid(np.fft.fftfreq(n), np.fft.fftfreq(n), indexing="ij"))
    k[0, 0] = 1.0
    amplitude = k ** (-(hurst + 1.0))
    amplitude[0, 0] = 0.0
    noise = rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
    values = np.fft.ifft2(amplitude * noise).real[:size, :size]
    values = (values - values.mean()) / values.std()
    return Surface(f"fractional Brownian surface H={hurst:g}, {size}x{size}, seed {seed}",
                   values, 3.0 - hurst, hurst)  # fmt: skip
