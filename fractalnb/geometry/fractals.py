"""Analytic fractal sets with known dimension: the test sets of every estimator."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._validate import budget, integer, real
from .._validate import seed as check_seed

__all__ = [
    "Fractal",
    "cantor_set",
    "cantor_dust",
    "sierpinski_triangle",
    "sierpinski_carpet",
    "vicsek_fractal",
    "menger_sponge",
    "line",
    "filled_square",
    "fractal_percolation",
]


_MAX_CELLS = 1 << 28  # refuse grids above 268 M points (about 256 MiB as booleans)


@dataclass(frozen=True, eq=False)
class Fractal:
    r"""A set on the integer grid with its known dimension.

    Attributes
    ----------
    name : str
        What it is, e.g. ``"Sierpinski carpet, level 4"``.
    mask : numpy.ndarray
        Boolean grid, ``True`` on the set (read-only).
    dimension : float
        The exact (similarity = Hausdorff = box-counting) dimension of the limit set.
    formula : str
        The dimension as a formula, e.g. ``"ln 8 / ln 3"``.
    dilation : int or None
        The construction's scale ratio :math:`\lambda` (None when there is none).
    level : int or None
        Construction level :math:`L` (the grid side is :math:`\lambda^L`).
    """

    name: str
    mask: np.ndarray = field(repr=False)
    dimension: float
    formula: str
    dilation: int | None = None
    level: int | None = None

    def __post_init__(self) -> None:
        self.mask.setflags(write=False)

    def matched_scales(self) -> np.ndarray:
        r"""Return the box sides matched to the construction, :math:`\lambda^k`, k = 0..L.

        Raises
        ------
        ValueError
            If the set has no construction ratio or level.
        """
        if self.dilation is None or self.level is None:
            raise ValueError(f"{self.name} has no construction scale ratio")
        return self.dilation ** np.arange(self.level + 1, dtype=np.int64)

    def __array__(self, dtype=None, copy=None):
        """Let ``numpy.asarray(fractal)`` give the mask."""
        return self.mask if dtype is None else self.mask.astype(dtype)


def _grid(base: int, power: int, name: str) -> None:
    """Refuse up front a grid of ``base**power`` points above ``_MAX_CELLS`` (set by ``name``)."""
    if power * math.log2(base) > 62:  # do not even form the number
        raise ValueError(
            f"{name} asks for {base}**{power} grid points, more than the limit of {_MAX_CELLS}"
        )
    budget(base**power, name, _MAX_CELLS, "grid points")


def _digits_avoid(index: np.ndarray, base: int, level: int, forbidden: int) -> np.ndarray:
    """Whether no base-``base`` digit of ``index`` (``level`` digits) equals ``forbidden``."""
    keep = np.ones(index.shape, dtype=bool)
    value = index.copy()
    for _ in range(level):
        keep &= value % base != forbidden
        value //= base
    return keep


def cantor_set(level: int) -> Fractal:
    r"""Build the middle-thirds Cantor set at ``level`` L: :math:`2^L` points of :math:`3^L`.

    Point ``i`` belongs to the set when no base-3 digit of ``i`` is 1.

    Parameters
    ----------
    level
        Construction level, ``>= 0``.

    Returns
    -------
    Fractal
        Dimension :math:`\ln 2 / \ln 3`, dilation 3.

    Examples
    --------
    >>> cantor_set(2).mask.astype(int)
    array([1, 0, 1, 0, 0, 0, 1, 0, 1])
    """
    level = integer(level, "level", 0)
    _grid(3, level, "level")
    index = np.arange(3**level)
    mask = _digits_avoid(index, 3, level, 1)
    return Fractal(f"Cantor set, level {level}", mask, math.log(2) / math.log(3),
                   "ln 2 / ln 3", 3, level)  # fmt: skip


def cantor_dust(level: int, rank: int = 2) -> Fractal:
    r"""Build the product of ``rank`` Cantor sets: :math:`2^{dL}` points of :math:`(3^L)^d`.

    Parameters
    ----------
    level
        Construction level, ``>= 0``.
    rank
        Number of axes d, 1 to 4 (rank 4: the shape of a conv kernel).

    Returns
    -------
    Fractal
        Dimension :math:`d \ln 2 / \ln 3`, dilation 3.

    Examples
    --------
    >>> dust = cantor_dust(2, rank=3)
    >>> dust.mask.shape, int(dust.mask.sum())
    ((9, 9, 9), 64)
    """
    level = integer(level, "level", 0)
    rank = integer(rank, "rank", 1, 4)
    _grid(3, level * rank, "level")
    line_mask = cantor_set(level).mask
    mask = line_mask
    for _ in range(rank - 1):
        mask = np.multiply.outer(mask, line_mask)
    return Fractal(f"Cantor dust, rank {rank}, level {level}", mask.astype(bool),
                   rank * math.log(2) / math.log(3), f"{rank} ln 2 / ln 3", 3, level)  # fmt: skip


def sierpinski_triangle(level: int) -> Fractal:
    r"""Build the Sierpinski triangle on a grid of :math:`2^L \times 2^L`: Pascal's triangle mod 2.

    Cell ``(i, j)`` belongs to the set when ``i & j == 0`` (:math:`3^L` cells).

    Parameters
    ----------
    level
        Construction level, ``>= 0``.

    Returns
    -------
    Fractal
        Dimension :math:`\ln 3 / \ln 2`, dilation 2.

    Examples
    --------
    >>> sierpinski_triangle(2).mask.astype(int)
    array([[1, 1, 1, 1],
           [1, 0, 1, 0],
           [1, 1, 0, 0],
           [1, 0, 0, 0]])
    """
    level = integer(level, "level", 0)
    _grid(4, level, "level")
    index = np.arange(2**level)
    mask = (index[:, None] & index[None, :]) == 0
    return Fractal(f"Sierpinski triangle, level {level}", mask, math.log(3) / math.log(2),
                   "ln 3 / ln 2", 2, level)  # fmt: skip


def _base3_pattern(level: int, keep: np.ndarray, rank: int) -> np.ndarray:
    """Cells whose base-3 digit tuples are all allowed by ``keep`` (a 3^rank boolean table)."""
    index = np.indices((3**level,) * rank).reshape(rank, -1)
    mask = np.ones(index.shape[1], dtype=bool)
    value = index.copy()
    for _ in range(level):
        mask &= keep[tuple(value % 3)]
        value //= 3
    return mask.reshape((3**level,) * rank)


def _base3_fractal(title: str, level: object, keep: np.ndarray) -> Fractal:
    """Build the self-similar set keeping the ``m = keep.sum()`` cells of ``3 x ... x 3``."""
    level = integer(level, "level", 0)
    rank, copies = keep.ndim, int(keep.sum())
    _grid(3**rank, level, "level")
    return Fractal(f"{title}, level {level}", _base3_pattern(level, keep, rank),
                   math.log(copies) / math.log(3), f"ln {copies} / ln 3", 3, level)  # fmt: skip


def sierpinski_carpet(level: int) -> Fractal:
    r"""Build the Sierpinski carpet on a grid of :math:`3^L \times 3^L` (:math:`8^L` cells).

    A cell is removed when, at some base-3 digit place, both its coordinates have digit 1.

    Parameters
    ----------
    level
        Construction level, ``>= 0``.

    Returns
    -------
    Fractal
        Dimension :math:`\ln 8 / \ln 3`, dilation 3.

    Examples
    --------
    >>> sierpinski_carpet(1).mask.astype(int)
    array([[1, 1, 1],
           [1, 0, 1],
           [1, 1, 1]])
    """
    keep = np.ones((3, 3), dtype=bool)
    keep[1, 1] = False
    return _base3_fractal("Sierpinski carpet", level, keep)


def vicsek_fractal(level: int) -> Fractal:
    r"""Build the Vicsek fractal (cross form) on :math:`3^L \times 3^L` (:math:`5^L` cells).

    Parameters
    ----------
    level
        Construction level, ``>= 0``.

    Returns
    -------
    Fractal
        Dimension :math:`\ln 5 / \ln 3`, dilation 3.

    Examples
    --------
    >>> vicsek_fractal(1).mask.astype(int)
    array([[0, 1, 0],
           [1, 1, 1],
           [0, 1, 0]])
    """
    keep = np.zeros((3, 3), dtype=bool)
    keep[1, :] = keep[:, 1] = True
    return _base3_fractal("Vicsek fractal", level, keep)


def menger_sponge(level: int) -> Fractal:
    r"""Build the Menger sponge on a grid of :math:`(3^L)^3` (:math:`20^L` cells).

    A cell is removed when, at some base-3 digit place, at least two coordinates have
    digit 1.

    Parameters
    ----------
    level
        Construction level, ``>= 0``.

    Returns
    -------
    Fractal
        Dimension :math:`\ln 20 / \ln 3`, dilation 3.

    Examples
    --------
    >>> int(menger_sponge(2).mask.sum())
    400
    """
    keep = (np.indices((3, 3, 3)) == 1).sum(axis=0) < 2
    return _base3_fractal("Menger sponge", level, keep)


def _power_level(size: int, base: int = 2) -> int | None:
    level = round(math.log(size, base)) if size > 0 else 0
    return level if base**level == size else None


def line(size: int, angle: float = 0.0) -> Fractal:
    r"""Draw a digital straight line from the origin at ``angle`` degrees in a square grid.

    Column ``j`` holds the cell ``(round(j tan θ), j)`` for ``0 <= θ <= 45°`` (one cell per
    column; the line leaves the grid by its right edge). ``angle = 0`` is a row,
    ``angle = 45`` the diagonal: both are exactly self-similar under boxes of side
    :math:`2^k` when ``size`` is a power of 2.

    Parameters
    ----------
    size
        Grid side, ``>= 2``.
    angle
        Angle to the first axis in degrees, in ``[0, 45]``.

    Returns
    -------
    Fractal
        Dimension 1; dilation 2 and level :math:`\log_2` size when ``size`` is a power
        of 2 and the angle is 0 or 45.

    Examples
    --------
    >>> line(4, 45).mask.astype(int)
    array([[1, 0, 0, 0],
           [0, 1, 0, 0],
           [0, 0, 1, 0],
           [0, 0, 0, 1]])
    """
    size = integer(size, "size", 2)
    angle = real(angle, "angle", 0, 45)
    _grid(size, 2, "size")
    columns = np.arange(size)
    rows = np.floor(columns * math.tan(math.radians(angle)) + 0.5).astype(np.int64)
    rows = np.minimum(rows, size - 1)  # tan(45°) rounds to 0.999…: stay on the grid
    mask = np.zeros((size, size), dtype=bool)
    mask[rows, columns] = True
    level = _power_level(size) if angle in (0.0, 45.0) else None
    return Fractal(f"straight line at {angle:g}°, {size}x{size}", mask, 1.0, "1",
                   2 if level is not None else None, level)  # fmt: skip


def filled_square(size: int) -> Fractal:
    r"""Build the full ``size x size`` grid: a filled square, dimension 2.

    Parameters
    ----------
    size
        Grid side, ``>= 2``.

    Returns
    -------
    Fractal
        Dimension 2; dilation 2 and level :math:`\log_2` size when ``size`` is a power of 2.

    Examples
    --------
    >>> filled_square(4).mask.all()
    np.True_
    """
    size = integer(size, "size", 2)
    _grid(size, 2, "size")
    level = _power_level(size)
    return Fractal(f"filled square, {size}x{size}", np.ones((size, size), dtype=bool), 2.0,
                   "2", 2 if level is not None else None, level)  # fmt: skip


def fractal_percolation(level: int, keep: float, seed: int) -> Fractal:
    r"""Mandelbrot's fractal percolation (a random Cantor dust) on :math:`3^L \times 3^L`.

    Start from the whole square; at each of ``level`` steps split every kept square into
    :math:`3 \times 3` and keep each sub-square independently with probability ``keep``.
    Conditioned on survival, the limit set has dimension :math:`\ln(9p) / \ln 3` almost
    surely (Falconer, *Fractal Geometry*, ch. 15); the expected count at the matched scale
    :math:`3^k` is :math:`(9p)^{L-k}`.

    Parameters
    ----------
    level
        Construction level, ``>= 1``.
    keep
        Probability p of keeping a sub-square, in ``(1/9, 1]``.
    seed
        Seed of the random generator, an integer ``>= 0``.

    Returns
    -------
    Fractal
        Dimension :math:`\ln(9p)/\ln 3`, dilation 3. The mask may be empty (extinction,
        probability small for p well above 1/9).

    Examples
    --------
    >>> dust = fractal_percolation(4, 0.75, seed=0)
    >>> dust.mask.shape, round(dust.dimension, 4)
    ((81, 81), 1.7381)
    """
    level = integer(level, "level", 1)
    keep = real(keep, "keep", 1 / 9, 1, open_min=True)  # at p <= 1/9 the set dies out
    seed = check_seed(seed)
    _grid(9, level, "level")
    rng = np.random.default_rng(seed)
    mask = np.ones((1, 1), dtype=bool)
    for _ in range(level):
        mask = np.repeat(np.repeat(mask, 3, axis=0), 3, axis=1)
        mask &= rng.random(mask.shape) < keep
    return Fractal(f"fractal percolation p={keep:g}, level {level}, seed {seed}", mask,
                   math.log(9 * keep) / math.log(3), "ln(9p) / ln 3", 3, level)  # fmt: skip
