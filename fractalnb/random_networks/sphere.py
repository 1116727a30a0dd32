"""Grids on the sphere S², charts of a cap, excursion sets and their boundary length.

Two kinds of grid, both :class:`SphereGrid` (points as unit vectors, shape ``(rows, cols, 3)``):

- :func:`latlong_grid`, the whole sphere: colatitude θ from pole to pole (the pole rows
  included, so no curve escapes through a hole) and longitude φ periodic;
- :func:`cap_grid`, a square in a planar chart of a cap around any centre: the azimuthal
  equidistant chart (near-isometric: every local scale factor lies in
  [sin ρ/ρ, 1] at chart radius ρ) or the gnomonic chart (maps great circles to straight
  lines). Box counting is done in the chart; its bi-Lipschitz constant bounds how far
  counts can move.

:func:`boundary_length` measures the length of the level curve {f = u} of values on a grid
by marching squares with the sphere's metric: crossing points are interpolated linearly
along grid edges, put back on the sphere, and joined by great-circle arcs (saddles are
resolved by the cell-centre value). On a smooth curve it converges at second order in the
grid spacing: a great circle measures 2π, a latitude circle 2π sin θ.

Examples
--------
>>> import numpy as np
>>> from fractalnb.random_networks import latlong_grid, boundary_length
>>> grid = latlong_grid(181)
>>> z = grid.points[..., 2]
>>> round(float(boundary_length(z, grid)), 3)            # the equator
6.283
>>> bool(abs(boundary_length(z - 0.5, grid) - 2 * np.pi * np.sqrt(0.75)) < 1e-3)
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from .. import _validate

__all__ = [
    "SphereGrid",
    "latlong_grid",
    "cap_grid",
    "geodesic_distance",
    "boundary_length",
    "latlong_patch",
]


@dataclass(frozen=True)
class SphereGrid:
    """A rectangular grid of points on the unit sphere.

    Attributes
    ----------
    points
        Unit vectors, ``float64`` array ``(rows, cols, 3)``.
    kind
        ``"latlong"`` (whole sphere), ``"cap"`` (a chart of a cap) or ``"patch"`` (a
        lat–long rectangle, :func:`latlong_patch`).
    periodic
        Whether the last axis wraps around (longitude on the whole sphere).
    rows_coord, cols_coord
        The grid's own coordinates: colatitude θ and longitude φ (radians) for a lat–long
        grid; chart coordinates (radians for the equidistant chart, tangent-plane units
        for the gnomonic one) for a cap.
    spacing
        Largest angular distance between neighbouring grid points (radians).
    projection
        The chart of a cap (``"equidistant"`` or ``"gnomonic"``); ``None`` for lat–long.
    distortion
        For a cap: the ratio of the largest to the smallest local scale factor of the
        chart over the grid (1 for an isometry). Box counts in the chart and on the sphere
        differ by at most a bounded factor set by it, so dimensions agree.
    """

    points: np.ndarray = field(repr=False)
    kind: str
    periodic: bool
    rows_coord: np.ndarray = field(repr=False)
    cols_coord: np.ndarray = field(repr=False)
    spacing: float
    projection: str | None = None
    distortion: float = 1.0

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)``."""
        return self.points.shape[:2]

    def flat_points(self, device: torch.device | str | None = None,
                    dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """Return the points as a torch tensor ``(rows·cols, 3)``, ready to feed a network.

        Examples
        --------
        >>> latlong_grid(5).flat_points(dtype=torch.float64).shape
        torch.Size([40, 3])
        """
        device = _validate.device(device)
        dtype = _validate.float_dtype(dtype)
        return torch.as_tensor(self.points.reshape(-1, 3), dtype=dtype, device=device)


def latlong_grid(n_lat: int, n_lon: int | None = None) -> SphereGrid:
    """Build a latitude–longitude grid of the whole sphere, poles included, longitude periodic.

    Parameters
    ----------
    n_lat
        Rows: colatitudes θ_i = iπ/(n_lat − 1), i = 0 … n_lat − 1 (≥ 3).
    n_lon
        Columns: longitudes φ_j = 2πj/n_lon (≥ 4); default 2(n_lat − 1), square cells at
        the equator.

    Raises
    ------
    ValueError
        For a grid too coarse to carry a curve (``n_lat < 3`` or ``n_lon < 4``), or one of
        more than 2^30 (the package budget ``MAX_ELEMENTS``) coordinates.

    Examples
    --------
    >>> latlong_grid(5).points.shape
    (5, 8, 3)
    """
    n_lat = _validate.integer(n_lat, "n_lat", minimum=3)
    n_lon = 2 * (n_lat - 1) if n_lon is None else _validate.integer(n_lon, "n_lon", minimum=4)
    _validate.budget(n_lat * n_lon * 3, "n_lat and n_lon", _validate.MAX_ELEMENTS, "coordinates")
    theta = np.linspace(0.0, np.pi, int(n_lat))
    phi = np.arange(int(n_lon)) * (2 * np.pi / n_lon)
    st, ct = np.sin(theta)[:, None], np.cos(theta)[:, None]
    points = np.stack([st * np.cos(phi)[None, :], st * np.sin(phi)[None, :],
                       np.broadcast_to(ct, (len(theta), len(phi)))], axis=-1)
    points[0] = (0.0, 0.0, 1.0)
    points[-1] = (0.0, 0.0, -1.0)
    spacing = max(np.pi / (n_lat - 1), 2 * np.pi / n_lon)
    return SphereGrid(points, "latlong", True, theta, phi, float(spacing))


def _orthonormal_frame(center: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    c = _validate.real_array(center, "center", ndim=1)
    if c.shape != (3,) or np.linalg.norm(c) == 0:
        raise ValueError(f"center must be a non-zero 3-vector, got {c.tolist()}")
    c = c / np.linalg.norm(c)
    helper = np.array([0.0, 0.0, 1.0]) if abs(c[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    e1 = np.cross(helper, c)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(c, e1)
    return c, e1, e2


_PROJECTIONS = ("equidistant", "gnomonic")


def cap_grid(size: int, half_width: float, *, center=(1.0, 0.0, 0.0),
             projection: str = "equidistant") -> SphereGrid:
    """Build a ``size × size`` grid on a square of a planar chart of the cap around ``center``.

    Parameters
    ----------
    size
        Points per side (≥ 8).
    half_width
        Half the side of the square, as an angle (radians, in (0, π/4]): chart coordinates
        run over [−h, h] (equidistant) or [−tan h, tan h] (gnomonic).
    center
        The cap's centre (any non-zero 3-vector, normalised).
    projection
        ``"equidistant"`` (azimuthal equidistant: distances from the centre exact; local
        scale factors in [sin ρ/ρ, 1]) or ``"gnomonic"`` (great circles become straight
        lines; scale factors in [cos² ρ, 1]).

    Examples
    --------
    >>> g = cap_grid(64, 0.2)
    >>> g.points.shape, round(g.distortion, 4)
    ((64, 64, 3), 1.0135)
    """
    size = _validate.integer(size, "size", minimum=8)
    half_width = _validate.real(half_width, "half_width", 0, math.pi / 4, open_min=True)
    projection = _validate.choice(projection, "projection", _PROJECTIONS)
    _validate.budget(size * size * 3, "size", _validate.MAX_ELEMENTS, "coordinates")
    c, e1, e2 = _orthonormal_frame(center)
    if projection == "equidistant":
        coord = np.linspace(-half_width, half_width, int(size))
        a, b = np.meshgrid(coord, coord, indexing="xy")      # rows: b (second axis e2)
        rho = np.hypot(a, b)
        with np.errstate(invalid="ignore", divide="ignore"):
            sinc = np.where(rho > 0, np.sin(rho) / np.where(rho > 0, rho, 1.0), 1.0)
        points = (np.cos(rho)[..., None] * c + sinc[..., None] * (a[..., None] * e1
                                                                   + b[..., None] * e2))
        rho_max = math.sqrt(2) * half_width
        distortion = rho_max / math.sin(rho_max)
        spacing = coord[1] - coord[0]
    else:
        t = math.tan(half_width)
        coord = np.linspace(-t, t, int(size))
        a, b = np.meshgrid(coord, coord, indexing="xy")
        raw = c + a[..., None] * e1 + b[..., None] * e2
        points = raw / np.linalg.norm(raw, axis=-1, keepdims=True)
        rho_max = math.atan(math.sqrt(2) * t)
        distortion = 1.0 / math.cos(rho_max) ** 2
        spacing = coord[1] - coord[0]                          # at the centre, the largest
    points /= np.linalg.norm(points, axis=-1, keepdims=True)
    return SphereGrid(points, "cap", False, coord, coord, float(spacing), projection,
                      float(distortion))


def geodesic_distance(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Great-circle distance between unit vectors (last axis), stable at small angles.

    Parameters
    ----------
    p, q
        Arrays of vectors along the last axis (numpy, torch or sequences), of the same
        length and broadcastable shapes.

    Examples
    --------
    >>> round(float(geodesic_distance(np.array([1., 0, 0]), np.array([0., 1, 0]))), 6)
    1.570796
    """
    p = _validate.real_array(p, "p", min_ndim=1)
    q = _validate.real_array(q, "q", min_ndim=1)
    try:
        shape = np.broadcast_shapes(p.shape, q.shape)
    except ValueError:
        raise ValueError(f"p and q must have broadcastable shapes, got {p.shape} and "
                         f"{q.shape}") from None
    if p.shape[-1] != q.shape[-1]:
        raise ValueError(f"p and q must hold vectors of one length, got {p.shape[-1]} and "
                         f"{q.shape[-1]}")
    _validate.budget(math.prod(shape), "p and q", _validate.MAX_ELEMENTS)
    return _arc(p, q)


def _arc(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    chord = np.linalg.norm(p - q, axis=-1)
    return 2 * np.arcsin(np.clip(chord / 2, 0.0, 1.0))


def _edge_points(va, vb, pa, pb, level):
    """Crossing points of the level on edges a→b (where they cross), put on the sphere."""
    cross = (va >= level) != (vb >= level)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(cross, (level - va) / (vb - va), 0.0)
    p = pa + t[..., None] * (pb - pa)
    p /= np.linalg.norm(p, axis=-1, keepdims=True)
    return cross, p


def boundary_length(values, grid: SphereGrid, level: float = 0.0) -> np.ndarray | float:
    """Length of the level curve {f = u} of a field sampled on a sphere grid.

    Marching squares on the grid: in every cell the curve crosses the edges whose end
    values straddle ``level``, at the linearly interpolated point; the crossings of a cell
    are joined by great-circle arcs (two per cell at a saddle, paired by the value at the
    cell's centre). The grid's points carry the metric, so the same code measures on a
    lat–long grid (longitude wraps) and on a cap in any chart.

    Parameters
    ----------
    values
        Field values, numpy or torch, shape ``(..., rows, cols)`` matching ``grid``
        (leading axes: a batch of fields).
    grid
        The :class:`SphereGrid` the values were sampled on.
    level
        u (finite).

    Returns
    -------
    float or numpy.ndarray
        Length(s) in radians (unit sphere), one per leading index.

    Raises
    ------
    ValueError
        For values that are not finite or do not match the grid, or a level that is not
        finite.

    Examples
    --------
    >>> grid = latlong_grid(91)
    >>> x, y, z = np.moveaxis(grid.points, -1, 0)
    >>> round(float(boundary_length(x + y + z, grid)), 2)     # a tilted great circle
    6.28
    """
    if not isinstance(grid, SphereGrid):
        raise TypeError(f"grid must be a SphereGrid, got {_validate.describe(grid)}")
    v = _validate.real_array(values, "values", min_ndim=2)
    if v.shape[-2:] != grid.shape:
        raise ValueError(f"values of shape {v.shape} do not match the grid {grid.shape}")
    level = _validate.real(level, "level")
    p = grid.points
    if grid.periodic:
        v = np.concatenate([v, v[..., :1]], axis=-1)
        p = np.concatenate([p, p[:, :1]], axis=1)
    batch = v.shape[:-2]
    v = v.reshape((-1, *v.shape[-2:]))
    out = np.empty(v.shape[0])
    for k in range(v.shape[0]):
        out[k] = _marching_squares_length(v[k], p, level)
    return float(out[0]) if batch == () else out.reshape(batch)


def _marching_squares_length(v: np.ndarray, p: np.ndarray, level: float) -> float:
    # horizontal edges (i, j)→(i, j+1) and vertical edges (i, j)→(i+1, j)
    h_cross, h_pt = _edge_points(v[:, :-1], v[:, 1:], p[:, :-1], p[:, 1:], level)
    v_cross, v_pt = _edge_points(v[:-1, :], v[1:, :], p[:-1, :], p[1:, :], level)
    # per cell (i, j): top = h[i, j], bottom = h[i+1, j], left = v[i, j], right = v[i, j+1]
    masks = [h_cross[:-1], v_cross[:, 1:], h_cross[1:], v_cross[:, :-1]]   # t, r, b, l
    pts = [h_pt[:-1], v_pt[:, 1:], h_pt[1:], v_pt[:, :-1]]
    count = masks[0].astype(np.int8) + masks[1] + masks[2] + masks[3]
    total = 0.0
    two = count == 2
    if np.any(two):
        for i in range(4):
            for j in range(i + 1, 4):
                sel = two & masks[i] & masks[j]
                if np.any(sel):
                    total += float(_arc(pts[i][sel], pts[j][sel]).sum())
    four = count == 4
    if np.any(four):
        centre = (v[:-1, :-1] + v[:-1, 1:] + v[1:, :-1] + v[1:, 1:])[four] / 4
        corner_in = (v[:-1, :-1] >= level)[four]
        cut_01_10 = (centre >= level) == corner_in     # curves cut off corners (0,1), (1,0)
        t, r, b, l = (q[four] for q in pts)
        a1 = _arc(t, r) + _arc(b, l)
        a2 = _arc(t, l) + _arc(r, b)
        total += float(np.where(cut_01_10, a1, a2).sum())
    return total


def latlong_patch(size: int, half_width: float, *, cols: int | None = None) -> SphereGrid:
    """Build a ``size × cols`` lat–long grid of the equatorial square θ − π/2, φ ∈ [−h, h].

    Here h = ``half_width``. Near the equator the lat–long chart is near-isometric (local
    scale factors sin θ in [cos h, 1]), so box counting in it measures the sphere's
    geometry up to the ``distortion`` 1/cos h; its rows are latitude rows, so isotropic
    fields are synthesised on it fast (:func:`sample_isotropic_field`).

    Examples
    --------
    >>> g = latlong_patch(128, 0.3)
    >>> g.shape, round(g.distortion, 4)
    ((128, 128), 1.0468)
    """
    size = _validate.integer(size, "size", minimum=8)
    cols = size if cols is None else _validate.integer(cols, "cols", minimum=8)
    half_width = _validate.real(half_width, "half_width", 0, math.pi / 4, open_min=True)
    _validate.budget(size * cols * 3, "size and cols", _validate.MAX_ELEMENTS, "coordinates")
    theta = np.pi / 2 + np.linspace(-half_width, half_width, int(size))
    step = 2 * half_width / (size - 1)
    phi = (np.arange(int(cols)) - (cols - 1) / 2) * step
    st, ct = np.sin(theta)[:, None], np.cos(theta)[:, None]
    points = np.stack([st * np.cos(phi)[None, :], st * np.sin(phi)[None, :],
                       np.broadcast_to(ct, (len(theta), len(phi)))], axis=-1)
    return SphereGrid(points, "patch", False, theta, phi, float(step), "equirectangular",
                      float(1 / math.cos(half_width)))
