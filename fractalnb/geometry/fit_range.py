"""The fit range: which of the counted scales a dimension is fitted on."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validate import MAX_RANK, describe, integer, sizes
from .._validate import shape as grid_shape

__all__ = ["default_fit_range"]


_MIN_FIT_SCALES = 3
"""The fewest scales a dimension is fitted on (a confidence interval needs 3)."""


def default_fit_range(scales: Sequence[int], shape: Sequence[int]) -> tuple[int, int]:
    """Return the default fit range ``(r_min, r_max)``: the scales free of finite-size effects.

    Left out are the finest scale ``r = 1`` (the pixel level: :math:`N(1) = |A|`, where
    digitisation dominates) and the scales ``r > min(shape) / 4`` (at most four boxes
    along the shortest axis: the count is dominated by the grid's edges, and on an elongated
    grid the boxes span the short axis, so the local slope falls to that of a line). Axes of
    length 1 (a bias seen as a 1-by-n grid) do not count as shortest. When that leaves
    fewer than 3 scales (the fewest a fit takes), the range is widened to the coarse end first,
    then to ``r = 1``.

    Parameters
    ----------
    scales
        The increasing scales counted.
    shape
        The grid shape.

    Returns
    -------
    tuple of int
        Inclusive bounds ``(r_min, r_max)``, both among ``scales``.

    Examples
    --------
    >>> default_fit_range([1, 2, 4, 8, 16, 32, 64, 128, 256], (256, 256))
    (2, 64)
    """
    r = sizes(scales, "scales")
    return _default_fit_range(r, grid_shape(shape, max_rank=MAX_RANK))


def _default_fit_range(r: np.ndarray, shape: tuple[int, ...]) -> tuple[int, int]:
    sides = [n for n in shape if n > 1] or [1]
    shortest = min(sides)
    inside = np.flatnonzero((r > 1) & (4 * r <= shortest))
    if inside.size >= _MIN_FIT_SCALES:
        return int(r[inside[0]]), int(r[inside[-1]])
    lo = int(np.flatnonzero(r > 1)[0]) if np.any(r > 1) else 0
    hi = min(lo + _MIN_FIT_SCALES, r.size) - 1
    if hi - lo + 1 < _MIN_FIT_SCALES:
        lo = max(0, hi - _MIN_FIT_SCALES + 1)
    return int(r[lo]), int(r[hi])


def _resolve_fit_range(
    fit_range: object, scales: np.ndarray, shape: Sequence[int]
) -> tuple[int, int]:
    kinds = "fit_range must be None, 'all' or (r_min, r_max)"
    if fit_range is None:
        if not shape:
            raise ValueError("fit_range=None needs the grid shape; pass fit_range explicitly")
        return _default_fit_range(scales, tuple(shape))
    if isinstance(fit_range, str):
        if fit_range != "all":
            raise ValueError(f"{kinds}, got {fit_range!r}")
        return int(scales[0]), int(scales[-1])
    if isinstance(fit_range, np.ndarray) and fit_range.ndim == 1:
        fit_range = tuple(fit_range.tolist())
    if not isinstance(fit_range, (tuple, list)):
        raise TypeError(f"{kinds}, got {describe(fit_range)}")
    if len(fit_range) != 2:
        raise ValueError(f"{kinds}, got {fit_range!r}")
    lo, hi = integer(fit_range[0], "fit_range[0]", 1), integer(fit_range[1], "fit_range[1]", 1)
    if lo > hi:
        raise ValueError(f"fit_range must have r_min <= r_max, got {fit_range!r}")
    return lo, hi
