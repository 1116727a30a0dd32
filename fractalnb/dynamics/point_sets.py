r"""Point sets of known dimension: the test sets of the PH₀ dimension estimator.

- :func:`uniform_cube` — uniform points in :math:`[0, 1]^d`: dimension :math:`d`;
- :func:`fractal_points` — points of a :mod:`fractalnb.geometry` fractal (the occupied
  cells of its mask, e.g. the Sierpinski gasket, :math:`\ln 3 / \ln 2`);
- :func:`brownian_path` — a sampled Brownian path in :math:`\mathbb{R}^d`, :math:`d \ge 3`:
  its trace has dimension 2;
- :func:`stable_path` — a sampled symmetric :math:`\alpha`-stable Lévy flight in
  :math:`\mathbb{R}^d`: its trace has dimension :math:`\alpha` for :math:`\alpha < d`
  (Blumenthal & Getoor 1960), the heavy-tailed model of SGD of Şimşekli et al. (2020).

Examples
--------
>>> from fractalnb.dynamics import uniform_cube
>>> uniform_cube(4, 3, seed=0).shape
(4, 3)
"""

from __future__ import annotations

import numpy as np

from .. import _validate

__all__ = ["uniform_cube", "fractal_points", "brownian_path", "stable_path"]


MAX_POINTS = 10**6
"""Most points any generator here returns."""


def _count(n: object, dim: object) -> tuple[int, int]:
    count = _validate.integer(n, "n", minimum=1)
    d = _validate.integer(dim, "dim", minimum=1)
    _validate.budget(count, "n", MAX_POINTS, "points")
    _validate.budget(count * d, "dim", _validate.MAX_ELEMENTS, "coordinates")
    return count, d


def uniform_cube(n: int, dim: int, seed: int = 0) -> np.ndarray:
    """Return ``n`` uniform random points of the unit cube :math:`[0, 1]^{dim}`.

    Examples
    --------
    >>> float(uniform_cube(1000, 2, seed=1).max()) <= 1.0
    True
    """
    count, d = _count(n, dim)
    return _validate.rng(seed, "seed").random((count, d))


def fractal_points(fractal: object, n: int, seed: int = 0) -> np.ndarray:
    """Return ``n`` distinct occupied cells of a fractal's mask, scaled into the unit cube.

    Parameters
    ----------
    fractal
        A :class:`fractalnb.geometry.Fractal` (or a boolean mask): its ``True`` cells are
        the set at the resolution of its level.
    n
        Points to draw (without replacement, at most the number of occupied cells; keep
        ``n`` well below it so that the sampled scales stay above the grid's).
    seed
        Seed of the draw.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, rank)``: cell centres divided by the grid side.

    Examples
    --------
    >>> from fractalnb.geometry import sierpinski_triangle
    >>> fractal_points(sierpinski_triangle(6), 5, seed=0).shape
    (5, 2)
    """
    mask = getattr(fractal, "mask", fractal)
    cells = _validate.boolean_array(mask, "fractal", min_ndim=1)
    count = _validate.integer(n, "n", minimum=1)
    occupied = np.argwhere(cells)
    if count > occupied.shape[0]:
        raise ValueError(f"n must be <= the {occupied.shape[0]} occupied cells of fractal, "
                         f"got {count}")
    rng = _validate.rng(seed, "seed")
    pick = rng.choice(occupied.shape[0], size=count, replace=False)
    return (occupied[pick] + 0.5) / max(cells.shape)


def brownian_path(n: int, dim: int = 3, seed: int = 0) -> np.ndarray:
    r"""Return a Brownian path on :math:`[0, 1]` sampled at ``n`` equally spaced times.

    Its trace has dimension 2 in :math:`\mathbb{R}^d` for :math:`d \ge 2` (use
    :math:`d \ge 3` to keep :math:`\alpha = 1` and the dimension below :math:`d`).

    Examples
    --------
    >>> brownian_path(100, 3, seed=0).shape
    (100, 3)
    """
    count, d = _count(n, dim)
    steps = _validate.rng(seed, "seed").standard_normal((count, d)) / np.sqrt(count)
    return np.cumsum(steps, axis=0)


def stable_path(n: int, alpha: float, dim: int = 3, seed: int = 0) -> np.ndarray:
    r"""Return ``n`` steps of a symmetric :math:`\alpha`-stable Lévy flight in :math:`\mathbb{R}^d`.

    The coordinates are independent symmetric :math:`\alpha`-stable processes
    (:data:`scipy.stats.levy_stable`, :math:`\beta = 0`), each step scaled by
    :math:`n^{-1/\alpha}`. The trace has dimension :math:`\min(\alpha, d)`.

    Parameters
    ----------
    n
        Number of steps (points).
    alpha
        Stability index in ``(0, 2]`` (2 is Brownian motion, up to a factor).
    dim
        Ambient dimension.
    seed
        Seed of the increments.

    Examples
    --------
    >>> stable_path(50, 1.5, 3, seed=0).shape
    (50, 3)
    """
    count, d = _count(n, dim)
    a = _validate.real(alpha, "alpha", minimum=0, maximum=2, open_min=True)
    from scipy.stats import levy_stable

    rng = _validate.rng(seed, "seed")
    steps = levy_stable.rvs(a, 0.0, size=(count, d), random_state=rng)
    return np.cumsum(steps * count ** (-1 / a), axis=0)
