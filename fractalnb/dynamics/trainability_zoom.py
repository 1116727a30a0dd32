r"""Zooming into the trainability boundary, and the boundary's box-counting dimension.

:func:`zoom_window` picks, in a :class:`~fractalnb.dynamics.TrainabilityMap`, the
sub-window ``factor`` times smaller that holds the most boundary pixels (pixels with a
4-neighbour of the other class), so that the next map is centred on the boundary.
:func:`zoom_sequence` trains the overview and each zoom in turn. The dimension of the
boundary is the book's engine in boundary mode (:func:`fractalnb.geometry.box_dimension`,
``mode="boundary"``: boxes holding converged and diverged grid points), through
:func:`boundary_dimension`; :func:`zoom_table` tabulates it per magnification.

Examples
--------
>>> import numpy as np
>>> from fractalnb.dynamics import boundary_dimension
>>> half = np.zeros((256, 256), dtype=bool); half[:, :101] = True   # a straight edge
>>> round(boundary_dimension(half, fit_range=(8, 64)).dimension, 6)
1.0
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .. import _validate
from .trainability import TrainabilityMap, TrainabilitySetup, _check_setup, trainability_map

__all__ = ["boundary_dimension", "rank_colours", "zoom_window", "zoom_sequence", "zoom_table"]


def _mask(value: object) -> np.ndarray:
    if isinstance(value, TrainabilityMap):
        return value.converged
    a = _validate.boolean_array(value, "converged", ndim=2)
    return np.asarray(a)


def _boundary_pixels(converged: np.ndarray) -> np.ndarray:
    """Pixels with a 4-neighbour of the other class (both sides of the boundary)."""
    edge = np.zeros_like(converged, dtype=bool)
    dv = converged[1:, :] != converged[:-1, :]
    dh = converged[:, 1:] != converged[:, :-1]
    edge[1:, :] |= dv
    edge[:-1, :] |= dv
    edge[:, 1:] |= dh
    edge[:, :-1] |= dh
    return edge


def rank_colours(measure, buffer: float = 0.25) -> np.ndarray:
    r"""Rank-transform a signed measure for display, keeping its sign (the paper's colours).

    Converged points (measure < 0) get values spread uniformly by rank over
    ``[buffer, 1]`` (fastest convergence last), diverged points over ``[-1, -buffer]``,
    as the paper's ``cdf_img``: with a diverging colour map the two classes never share
    a colour and the structure inside each shows.

    Parameters
    ----------
    measure
        Real array (the ``measure`` of a :class:`~fractalnb.dynamics.TrainabilityMap`).
    buffer
        Gap around 0, in ``[0, 1)``.

    Returns
    -------
    numpy.ndarray
        Same shape, values in ``[-1, 1]``: positive where converged.

    Examples
    --------
    >>> rank_colours(np.array([-3.0, -1.0, 2.0, 5.0])).round(3).tolist()
    [0.25, 1.0, -1.0, -0.25]
    """
    a = _validate.real_array(measure, "measure", min_ndim=1)
    buffer = _validate.real(buffer, "buffer", 0.0, 1.0, open_max=True)
    flat = a.ravel()
    out = np.empty_like(flat)
    for sign, (low, high) in ((-1, (buffer, 1.0)), (1, (-1.0, -buffer))):
        idx = np.flatnonzero(flat < 0) if sign < 0 else np.flatnonzero(flat >= 0)
        if idx.size == 0:
            continue
        order = np.argsort(flat[idx], kind="stable")
        ranks = np.empty(idx.size)
        ranks[order] = np.linspace(0.0, 1.0, idx.size) if idx.size > 1 else 0.5
        out[idx] = low + (high - low) * ranks
    return out.reshape(a.shape)


def boundary_dimension(converged, *, fit_range: object = None, scales: Sequence[int] | None = None,
                       dilation: int = 2):
    r"""Estimate the box-counting dimension of the converged / diverged boundary.

    Boxes of side :math:`r` holding grid points of both classes are counted
    (:func:`fractalnb.geometry.box_counts`, ``mode="boundary"``) and :math:`\log N(r)`
    is fitted against :math:`\log(1/r)` over ``fit_range``.

    Parameters
    ----------
    converged
        A :class:`~fractalnb.dynamics.TrainabilityMap` or a 2-D boolean mask.
    fit_range
        Inclusive ``(r_min, r_max)`` in pixels, ``"all"``, or None (the engine's default,
        :func:`fractalnb.geometry.default_fit_range`).
    scales
        Box sides, default the powers of ``dilation`` from ``dilation`` up to the grid
        side (not 1: a one-pixel box never holds both classes, :math:`N(1) = 0`).
    dilation
        Integer ``>= 2`` for the default scales.

    Returns
    -------
    fractalnb.geometry.BoxDimension

    Raises
    ------
    ValueError
        If the mask is all converged or all diverged (no boundary), or as
        :func:`fractalnb.geometry.box_dimension`.

    Examples
    --------
    >>> import numpy as np
    >>> half = np.zeros((64, 64), dtype=bool); half[:, :21] = True   # a straight edge
    >>> fit = boundary_dimension(half, fit_range="all")
    >>> round(fit.dimension, 6)
    1.0
    """
    from ..geometry import box_dimension, dilation_scales

    mask = _mask(converged)
    if mask.all() or not mask.any():
        raise ValueError("converged has no boundary: every grid point is in one class")
    dilation = _validate.integer(dilation, "dilation", 2)
    chosen = dilation_scales(mask.shape, dilation)[1:] if scales is None else scales
    return box_dimension(mask, scales=chosen, mode="boundary", fit_range=fit_range)


def zoom_window(converged, extent: Sequence[float], factor: float) -> tuple[float, ...]:
    r"""Return the sub-window ``factor`` times smaller holding the most boundary pixels.

    Parameters
    ----------
    converged
        A :class:`~fractalnb.dynamics.TrainabilityMap` (its own extent is used when
        ``extent`` is None) or a 2-D boolean mask.
    extent
        The mask's ``(x min, x max, y min, y max)`` (pixel centres at the ends); columns
        run along x, rows along y. None for a map.
    factor
        Magnification, a real number ``>= 2`` and at most the grid side over 2.

    Returns
    -------
    tuple of float
        The new extent, inside the old one; ties are broken towards the centre.

    Examples
    --------
    >>> import numpy as np
    >>> mask = np.zeros((101, 101), dtype=bool); mask[:, 70:] = True   # edge at x = 0.695
    >>> x0, x1, y0, y1 = zoom_window(mask, (0.0, 1.0, 0.0, 1.0), 10)
    >>> bool(x0 < 0.695 < x1), round(x1 - x0, 6), round(y1 - y0, 6)
    (True, 0.1, 0.1)
    """
    mask = _mask(converged)
    if extent is None:
        if not isinstance(converged, TrainabilityMap):
            raise ValueError("extent is needed for a mask (None only with a TrainabilityMap)")
        extent = converged.extent
    from .trainability import _extent

    e = _extent(extent)
    rows, cols = mask.shape
    factor = _validate.real(factor, "factor", 2.0, min(rows, cols) / 2.0)
    edge = _boundary_pixels(mask)
    if not edge.any():
        raise ValueError("converged has no boundary: every grid point is in one class")
    kr, kc = max(1, round(rows / factor)), max(1, round(cols / factor))
    s = np.zeros((rows + 1, cols + 1), dtype=np.int64)
    s[1:, 1:] = edge.cumsum(0).cumsum(1)
    counts = s[kr:, kc:] - s[:-kr, kc:] - s[kr:, :-kc] + s[:-kr, :-kc]
    ii, jj = np.nonzero(counts == counts.max())
    centre_i, centre_j = ii + (kr - 1) / 2.0, jj + (kc - 1) / 2.0
    best = np.argmin((centre_i - (rows - 1) / 2.0) ** 2 + (centre_j - (cols - 1) / 2.0) ** 2)
    ci, cj = centre_i[best], centre_j[best]
    x0, x1, y0, y1 = e
    cx = x0 + (x1 - x0) * cj / (cols - 1)
    cy = y0 + (y1 - y0) * ci / (rows - 1)
    hx, hy = (x1 - x0) / factor / 2.0, (y1 - y0) / factor / 2.0
    return (float(cx - hx), float(cx + hx), float(cy - hy), float(cy + hy))


def zoom_sequence(setup: TrainabilitySetup, extent: Sequence[float], resolution: int,
                  steps: int, zooms: int, factor: float = 10.0, *,
                  dtype: torch.dtype = torch.float64, device=None, chunk: int = 4096,
                  progress: bool = False) -> list[TrainabilityMap]:
    r"""Train the overview map and ``zooms`` successive zooms into its boundary.

    Each zoom is :func:`zoom_window` of the previous map (``factor`` times smaller, on
    the densest boundary) trained anew at the same resolution.

    Parameters
    ----------
    setup
        From :func:`~fractalnb.dynamics.paper_setup`.
    extent, resolution, steps
        The overview, as in :func:`~fractalnb.dynamics.trainability_map`.
    zooms
        Number of zooms, 0 to 12.
    factor
        Magnification of each zoom over the previous one, ``>= 2``.
    dtype, device, chunk, progress
        As in :func:`~fractalnb.dynamics.train_grid`.

    Returns
    -------
    list of TrainabilityMap
        ``zooms + 1`` maps, the overview first.

    Raises
    ------
    ValueError
        If a map has no boundary to zoom into.

    Examples
    --------
    >>> from fractalnb.dynamics import paper_setup
    >>> maps = zoom_sequence(paper_setup("tanh", width=4), (-1, 2, -1, 2), 16, 30, 1, 4)
    >>> len(maps), round(maps[0].width / maps[1].width, 6)
    (2, 4.0)
    """
    setup = _check_setup(setup)
    zooms = _validate.integer(zooms, "zooms", 0, 12)
    resolution = _validate.integer(resolution, "resolution", 4, 2048)
    factor = _validate.real(factor, "factor", 2.0, resolution / 2.0)
    maps = [trainability_map(setup, extent, resolution, steps, dtype=dtype, device=device,
                             chunk=chunk, progress=progress)]
    for _ in range(zooms):
        window = zoom_window(maps[-1], None, factor)
        maps.append(trainability_map(setup, window, resolution, steps, dtype=dtype,
                                     device=device, chunk=chunk, progress=progress))
    return maps


def zoom_table(maps: Sequence[TrainabilityMap], *, fit_range: object = None):
    """One row per map: window, magnification, converged fraction, boundary dimension.

    Parameters
    ----------
    maps
        Maps of one zoom sequence (the first is the reference for the magnification).
    fit_range
        As in :func:`boundary_dimension`.

    Returns
    -------
    pandas.DataFrame
        Columns ``level, magnification, log10_eta0, log10_eta1`` (window centre),
        ``width_decades, converged_fraction, dimension, ci_low, ci_high, r2, r_min,
        r_max, scales, counts, local_slopes``.

    Examples
    --------
    >>> from fractalnb.dynamics import paper_setup, zoom_sequence
    >>> maps = zoom_sequence(paper_setup("tanh", width=4), (-1, 2, -1, 2), 32, 30, 1, 4)
    >>> zoom_table(maps, fit_range="all").magnification.tolist()
    [1.0, 4.0]
    """
    import pandas as pd

    if isinstance(maps, TrainabilityMap) or not isinstance(maps, (list, tuple)) or not maps:
        raise TypeError(f"maps must be a non-empty list of TrainabilityMap, got "
                        f"{_validate.describe(maps)}")
    for k, m in enumerate(maps):
        if not isinstance(m, TrainabilityMap):
            raise TypeError(f"maps[{k}] must be a TrainabilityMap, got {_validate.describe(m)}")
    rows = []
    for k, m in enumerate(maps):
        fit = boundary_dimension(m, fit_range=fit_range)
        rows.append({
            "level": k,
            "magnification": maps[0].width / m.width,
            "log10_eta0": (m.extent[0] + m.extent[1]) / 2,
            "log10_eta1": (m.extent[2] + m.extent[3]) / 2,
            "width_decades": m.width,
            "converged_fraction": float(m.converged.mean()),
            "dimension": fit.dimension,
            "ci_low": fit.ci[0],
            "ci_high": fit.ci[1],
            "r2": fit.r2,
            "r_min": fit.fit_range[0],
            "r_max": fit.fit_range[1],
            "scales": tuple(int(v) for v in fit.scales),
            "counts": tuple(int(v) for v in fit.counts),
            "local_slopes": tuple(float(v) for v in fit.local_slopes),
        })
    return pd.DataFrame(rows)
