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

__all__ = [
    "SphereGrid",
    "latlong_grid",
    "cap_grid",
    "area_weights",
    "geodesic_distance",
    "excursion_set",
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
        """Return the points as a torch tensor ``(rows·cols, 3)``, ready to feed a network."""
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
        For a grid too coarse to carry a curve (``n_lat < 3`` or ``n_lon < 4``).

    Examples
    --------
    >>> latlong_grid(5).points.shape
    (5, 8, 3)
    """
    n_lon = 2 * (n_lat - 1) if n_lon is None else n_lon
    for name, value, low in (("n_lat", n_lat, 3), ("n_lon", n_lon, 4)):
        if isinstance(value, bool) or int(value) != value:
            raise ValueError(f"{name} must be an integer, got {value!r}")
        if value < low:
            raise ValueError(f"grid too coarse: {name} must be >= {low}, got {value}")
    theta = np.linspace(0.0, np.pi, int(n_lat))
    phi = np.arange(int(n_lon)) * (2 * np.pi / n_lon)
    st, ct = np.sin(theta)[:, None], np.cos(theta)[:, None]
    points = np.stack([st * np.cos(phi)[None, :], st * np.sin(phi)[None, :],
                       np.broadcast_to(ct, (len(theta), len(phi)))], axis=-1)
    points[0] = (0.0, 0.0, 1.0)
    points[-1] = (0.0, 0.0, -1.0)
    spacing = max(np.pi / (n_lat - 1), 2 * np.pi / n_lon)
    return SphereGrid(points, "latlong", True, theta, phi, float(spacing))


def _orthonormal_frame(center) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    c = np.asarray(center, dtype=float)
    if c.shape != (3,) or not np.all(np.isfinite(c)) or np.linalg.norm(c) == 0:
        raise ValueError(f"center must be a non-zero finite 3-vector, got {center!r}")
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
    if isinstance(size, bool) or int(size) != size:
        raise ValueError(f"size must be an integer, got {size!r}")
    if size < 8:
        raise ValueError(f"grid too coarse: size must be >= 8, got {size}")
    if not (isinstance(half_width, (int, float)) and math.isfinite(half_width)
            and 0 < half_width <= math.pi / 4):
        raise ValueError(f"half_width must be an angle in (0, pi/4], got {half_width!r}")
    if projection not in _PROJECTIONS:
        raise ValueError(f"projection must be one of {_PROJECTIONS}, got {projection!r}")
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


def area_weights(grid: SphereGrid) -> np.ndarray:
    """Area of the sphere attached to each grid point (a quadrature rule for ∫ f dA).

    Lat–long grids: each point owns the band θ ± dθ/2 over its share of longitude (the
    pole rows share the polar caps), so the weights sum to 4π exactly; caps: the chart's
    area element (Jacobian) times the cell area.

    Examples
    --------
    >>> bool(abs(area_weights(latlong_grid(181)).sum() - 4 * np.pi) < 1e-12)
    True
    """
    if grid.kind == "latlong":
        theta = grid.rows_coord
        n_lon = len(grid.cols_coord)
        half = (theta[1] - theta[0]) / 2
        # each point owns the band θ ± dθ/2 over its 2π/n_lon of longitude; each pole row
        # shares the polar cap of angular radius dθ/2 between its n_lon (coincident) points
        w = 2 * np.sin(theta) * np.sin(half) * (2 * np.pi / n_lon)
        w[0] = w[-1] = 2 * np.pi * (1 - np.cos(half)) / n_lon
        return np.broadcast_to(w[:, None], grid.shape).copy()
    if grid.kind == "patch":
        # the lat–long area element sin θ dθ dφ (midpoint rule on the uniform patch)
        d_theta = grid.rows_coord[1] - grid.rows_coord[0]
        d_phi = grid.cols_coord[1] - grid.cols_coord[0]
        w = np.sin(grid.rows_coord) * d_theta * d_phi
        return np.broadcast_to(w[:, None], grid.shape).copy()
    coord = grid.cols_coord
    h = coord[1] - coord[0]
    a, b = np.meshgrid(coord, coord, indexing="xy")
    if grid.projection == "equidistant":
        rho = np.hypot(a, b)
        jac = np.where(rho > 0, np.sin(rho) / np.where(rho > 0, rho, 1.0), 1.0)
    else:
        jac = (1 + a * a + b * b) ** -1.5
    return jac * h * h


def geodesic_distance(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Great-circle distance between unit vectors (last axis), stable at small angles.

    Examples
    --------
    >>> round(float(geodesic_distance(np.array([1., 0, 0]), np.array([0., 1, 0]))), 6)
    1.570796
    """
    chord = np.linalg.norm(np.asarray(p) - np.asarray(q), axis=-1)
    return 2 * np.arcsin(np.clip(chord / 2, 0.0, 1.0))


def _values_array(values, grid: SphereGrid | None = None) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    arr = np.asarray(values)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"values must be real numbers, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise ValueError("values must be real, got a complex array")
    arr = arr.astype(np.float64, copy=False)
    if arr.ndim < 2:
        raise ValueError(f"values must have shape (..., rows, cols), got {arr.shape}")
    if grid is not None and arr.shape[-2:] != grid.shape:
        raise ValueError(f"values of shape {arr.shape} do not match the grid {grid.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("values contain NaN or infinite entries")
    return arr


def _check_level(level) -> float:
    if isinstance(level, bool) or not isinstance(level, (int, float, np.integer, np.floating)):
        raise ValueError(f"level must be a finite real number, got {level!r}")
    if not math.isfinite(float(level)):
        raise ValueError(f"level must be finite, got {level!r}")
    return float(level)


def excursion_set(values, level: float = 0.0) -> np.ndarray:
    """Return the excursion set {f ≥ u} as a boolean array (numpy).

    Examples
    --------
    >>> excursion_set(np.array([[-1.0, 0.0], [0.5, 2.0]]), 0.5).tolist()
    [[False, False], [True, True]]
    """
    return _values_array(values) >= _check_level(level)


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
        raise TypeError(f"grid must be a SphereGrid, got {type(grid).__name__}")
    v = _values_array(values, grid)
    level = _check_level(level)
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
                    total += float(geodesic_distance(pts[i][sel], pts[j][sel]).sum())
    four = count == 4
    if np.any(four):
        centre = (v[:-1, :-1] + v[:-1, 1:] + v[1:, :-1] + v[1:, 1:])[four] / 4
        corner_in = (v[:-1, :-1] >= level)[four]
        cut_01_10 = (centre >= level) == corner_in     # curves cut off corners (0,1), (1,0)
        t, r, b, l = (q[four] for q in pts)
        a1 = geodesic_distance(t, r) + geodesic_distance(b, l)
        a2 = geodesic_distance(t, l) + geodesic_distance(r, b)
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
    cols = size if cols is None else cols
    for name, value in (("size", size), ("cols", cols)):
        if isinstance(value, bool) or int(value) != value:
            raise ValueError(f"{name} must be an integer, got {value!r}")
        if value < 8:
            raise ValueError(f"grid too coarse: {name} must be >= 8, got {value}")
    if not (isinstance(half_width, (int, float)) and math.isfinite(half_width)
            and 0 < half_width <= math.pi / 4):
        raise ValueError(f"half_width must be an angle in (0, pi/4], got {half_width!r}")
    theta = np.pi / 2 + np.linspace(-half_width, half_width, int(size))
    step = 2 * half_width / (size - 1)
    phi = (np.arange(int(cols)) - (cols - 1) / 2) * step
    st, ct = np.sin(theta)[:, None], np.cos(theta)[:, None]
    points = np.stack([st * np.cos(phi)[None, :], st * np.sin(phi)[None, :],
                       np.broadcast_to(ct, (len(theta), len(phi)))], axis=-1)
    return SphereGrid(points, "patch", False, theta, phi, float(step), "equirectangular",
                      float(1 / math.cos(half_width)))
