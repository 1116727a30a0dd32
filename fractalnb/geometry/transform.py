r"""The fractal transformation :math:`T_r`: coarse-graining a parameter tensor by boxes of side r.

A parameter tensor is a real signal :math:`W:\Omega\to\mathbb{R}` on the index grid
:math:`\Omega = [0,n_1)\times\dots\times[0,n_d)\subset\mathbb{Z}^d`, :math:`1\le d\le 4`.
For a box side :math:`r = (r_1,\dots,r_d)` the grid is tiled by the boxes

.. math:: B_r(j) = \prod_i [\,j_i r_i,\ (j_i+1) r_i\,) \cap \Omega ,
          \qquad 0 \le j_i < \lceil n_i / r_i \rceil ,

aligned at the origin; the last box along an axis is *partial* when :math:`r_i` does not
divide :math:`n_i` and is kept. Equivalently: :math:`W` is padded with zeros at the far
end of each axis up to a multiple of :math:`r_i`, and the padding never counts as part
of :math:`\Omega` (``mean`` divides by the number of grid points in the box, ``max`` and
``min`` see only grid points). :func:`fractal_transform` reduces every box to one number:

``"sum"`` (default)
    :math:`(T_r W)(j) = \sum_{\omega\in B_r(j)} W(\omega)`, a linear map.
``"mean"``
    the mean over the grid points of the box (partial boxes average fewer points).
``"max"``, ``"min"``
    the largest / smallest entry of the box.
``"any"``
    whether the box holds a non-zero entry (for boolean masks: the box meets the set).

:func:`upsample` is the map :math:`S_r` back to the fine grid (each coarse value spread
over its box), an inverse of :math:`T_r` up to the oscillation of :math:`W` inside a
box: :math:`\|S_r T_r W - W\|_\infty \le \max_j \operatorname{osc}_{B_r(j)} W`, and
:math:`T_r S_r = \mathrm{id}` exactly. The book's page *The fractal transformation: our
formalisation* states and proves these properties; ``tests/test_transform.py`` checks them.

Examples
--------
>>> import numpy as np
>>> from fractalnb.geometry import fractal_transform, upsample
>>> w = np.arange(10.0).reshape(2, 5)
>>> fractal_transform(w, 2)
array([[12., 20., 13.]])
>>> upsample(fractal_transform(w, 2), 2, w.shape)
array([[3. , 3. , 5. , 5. , 6.5],
       [3. , 3. , 5. , 5. , 6.5]])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal, TypeVar

import numpy as np
import torch

from .._validate import MAX_ELEMENTS, MAX_RANK, as_tensor, back, budget, choice, describe, integer
from .._validate import shape as grid_shape

__all__ = [
    "coarse_shape",
    "box_sizes",
    "fractal_transform",
    "upsample",
    "box_oscillation",
    "unfold_conv",
]


Reduce = Literal["sum", "mean", "max", "min", "any"]


_REDUCTIONS: tuple[str, ...] = ("sum", "mean", "max", "min", "any")
"""The box reductions understood by :func:`fractal_transform`."""


ArrayT = TypeVar("ArrayT", np.ndarray, torch.Tensor)


_SLICE_FACTOR_MAX = 8  # up to this factor an axis is reduced by strided slices, beyond by reshape


def _scale_tuple(r: int | Sequence[int], shape: Sequence[int], name: str = "r") -> tuple[int, ...]:
    """Validate a box side (an int or one int per axis) against a (valid) grid shape."""
    shape = tuple(int(n) for n in shape)
    if isinstance(r, (tuple, list, np.ndarray, torch.Tensor)) and not (
        isinstance(r, (np.ndarray, torch.Tensor)) and r.ndim == 0
    ):
        if isinstance(r, (np.ndarray, torch.Tensor)) and r.ndim != 1:
            raise ValueError(
                f"{name} must be an integer or one integer per axis, got {describe(r)}"
            )
        sides = [integer(v, f"{name}[{i}]", 1) for i, v in enumerate(list(r))]
        if len(sides) != len(shape):
            raise ValueError(
                f"{name} has {len(sides)} per-axis sides but the grid has rank {len(shape)}"
            )
    else:
        side = integer(r.item() if isinstance(r, (np.ndarray, torch.Tensor)) else r, name, 1)
        sides = [side] * len(shape)
    if all(s > n for s, n in zip(sides, shape)):
        raise ValueError(
            f"{name}={tuple(sides) if len(set(sides)) > 1 else sides[0]} is larger than the "
            f"grid {shape} on every axis (at r = max(shape) = {max(shape)} one box already "
            "covers the whole grid)"
        )
    return tuple(sides)


def _neutral(op: str, dtype: torch.dtype) -> bool | int | float:
    if op in ("sum", "or"):
        return False if dtype == torch.bool else 0
    if op == "and":
        return True
    if dtype == torch.bool:
        return op == "min"
    info = torch.finfo(dtype) if dtype.is_floating_point else torch.iinfo(dtype)
    if dtype.is_floating_point:
        return -math.inf if op == "max" else math.inf
    return info.min if op == "max" else info.max


def _reduce_axis(t: torch.Tensor, axis: int, factor: int, op: str) -> torch.Tensor:
    """Reduce ``t`` along ``axis`` by boxes of ``factor`` entries (last box partial).

    ``op`` is ``"sum"``, ``"max"``, ``"min"``, ``"or"`` or ``"and"``; the result has
    ``ceil(n / factor)`` entries along ``axis``. Small factors use strided slices combined
    in place (no padding copy); large ones pad with the neutral element and reshape.
    """
    n = t.shape[axis]
    if factor == 1:
        return t
    m = -(-n // factor)
    if m == 1 and n == 1:
        return t
    if factor <= _SLICE_FACTOR_MAX:
        index: list[slice] = [slice(None)] * t.ndim
        index[axis] = slice(0, None, factor)
        out = t[tuple(index)].clone()
        for offset in range(1, min(factor, n)):
            index[axis] = slice(offset, None, factor)
            part = t[tuple(index)]
            k = part.shape[axis]
            target = out if k == m else out.narrow(axis, 0, k)
            if op == "sum":
                target += part
            elif op == "or":
                target |= part
            elif op == "and":
                target &= part
            elif op == "max":
                torch.maximum(target, part, out=target)
            else:
                torch.minimum(target, part, out=target)
        return out
    pad = m * factor - n
    if pad:
        fill_shape = list(t.shape)
        fill_shape[axis] = pad
        fill = torch.full(fill_shape, _neutral(op, t.dtype), dtype=t.dtype, device=t.device)
        t = torch.cat([t, fill], dim=axis)
    shape = list(t.shape)
    t = t.reshape(shape[:axis] + [m, factor] + shape[axis + 1 :])
    if op == "sum":
        return t.sum(dim=axis + 1)
    if op in ("or", "max"):
        return t.any(dim=axis + 1) if t.dtype == torch.bool else t.amax(dim=axis + 1)
    return t.all(dim=axis + 1) if t.dtype == torch.bool else t.amin(dim=axis + 1)


def _reduce_boxes(t: torch.Tensor, sides: Sequence[int], op: str) -> torch.Tensor:
    for axis, factor in enumerate(sides):
        t = _reduce_axis(t, axis, factor, op)
    return t


def _axis_box_sizes(n: int, r: int) -> list[int]:
    m = -(-n // r)
    return [r] * (m - 1) + [n - (m - 1) * r]


def coarse_shape(shape: Sequence[int], r: int | Sequence[int]) -> tuple[int, ...]:
    r"""Return the shape of the coarse grid :math:`T_r(\Omega)`: ``ceil(n_i / r_i)`` per axis.

    Parameters
    ----------
    shape
        Shape of the fine grid :math:`\Omega`.
    r
        Box side, one int or one int per axis.

    Returns
    -------
    tuple of int

    Examples
    --------
    >>> coarse_shape((64, 3, 3, 3), 2)
    (32, 2, 2, 2)
    """
    shape = grid_shape(shape, max_rank=MAX_RANK)
    sides = _scale_tuple(r, shape)
    return tuple(-(-n // s) for n, s in zip(shape, sides))


def box_sizes(shape: Sequence[int], r: int | Sequence[int]) -> np.ndarray:
    r"""Return the number of grid points of :math:`\Omega` in each box :math:`B_r(j)`.

    Full boxes hold :math:`\prod_i r_i` points; the partial boxes at the far end of an
    axis hold fewer.

    Parameters
    ----------
    shape
        Shape of the fine grid.
    r
        Box side, one int or one int per axis.

    Returns
    -------
    numpy.ndarray
        ``int64`` array of shape :func:`coarse_shape(shape, r) <coarse_shape>`.

    Examples
    --------
    >>> box_sizes((5,), 2)
    array([2, 2, 1])
    """
    shape = grid_shape(shape, max_rank=MAX_RANK)
    sides = _scale_tuple(r, shape)
    budget(math.prod(-(-n // s) for n, s in zip(shape, sides)), "shape", MAX_ELEMENTS, "boxes")
    return _box_sizes(shape, sides)


def _box_sizes(shape: tuple[int, ...], sides: tuple[int, ...]) -> np.ndarray:
    sizes = np.ones((), dtype=np.int64)
    for n, s in zip(shape, sides):
        sizes = np.multiply.outer(sizes, np.asarray(_axis_box_sizes(n, s), dtype=np.int64))
    return sizes


def fractal_transform(x: ArrayT, r: int | Sequence[int], reduce: Reduce = "sum") -> ArrayT:
    r"""Coarse-grain ``x`` by boxes of side ``r``: the fractal transformation :math:`T_r`.

    The grid is tiled by boxes of side ``r`` aligned at the origin; the last box along an
    axis is partial when ``r`` does not divide the length, and is kept (zero padding at the
    far end, the padding not counted as grid points). Each box is reduced to one value.

    Parameters
    ----------
    x
        Real array or tensor of rank 1 to 4 (float, integer or boolean), finite.
    r
        Box side: an integer ``>= 1`` or one integer per axis. A box larger than the grid
        on every axis is refused (one box covers the grid from ``r = max(x.shape)`` on).
    reduce
        ``"sum"`` (default, linear), ``"mean"`` (over the grid points of the box),
        ``"max"``, ``"min"`` or ``"any"`` (a non-zero entry in the box).

    Returns
    -------
    numpy.ndarray or torch.Tensor
        The coarse grid, of shape ``ceil(n_i / r_i)``, same type as ``x`` (torch: same
        device). Dtype: ``sum`` keeps floats and gives ``int64`` for integers and booleans;
        ``mean`` keeps floats and gives ``float64`` otherwise; ``max`` / ``min`` keep the
        dtype; ``any`` gives booleans. (NumPy ``uint16``/``uint32``/``uint64`` are computed
        as ``int64``.)

    Raises
    ------
    TypeError
        If ``x`` is not an array or tensor, or ``r`` is not an integer (or one per axis).
    ValueError
        If ``x`` is empty, complex, of rank 0 or above 4, has NaN or infinite entries or
        more than ``2**30`` elements; if ``r`` is ``< 1`` or larger than the grid; if
        ``reduce`` is unknown.

    Notes
    -----
    :math:`T_1` is the identity; ``sum``, ``max``, ``min`` and ``any`` compose exactly,
    :math:`T_a\circ T_b = T_{ab}`, on every shape (the boxes are nested); ``mean`` does
    when ``b`` divides every side, and otherwise within the oscillation of ``x`` inside
    an ``ab``-box (see :func:`box_oscillation`).

    Examples
    --------
    >>> import numpy as np
    >>> fractal_transform(np.arange(5), 2)
    array([1, 5, 4])
    >>> fractal_transform(np.arange(5), 2, reduce="mean")
    array([0.5, 2.5, 4. ])
    >>> fractal_transform(np.array([[True, False, False]]), (1, 2), reduce="any")
    array([[ True, False]])
    """
    reduce = choice(reduce, "reduce", _REDUCTIONS)
    t, was_numpy = as_tensor(x)
    sides = _scale_tuple(r, t.shape)
    if reduce == "any":
        if t.dtype != torch.bool:
            t = t != 0
        out = _reduce_boxes(t, sides, "or")
    elif reduce in ("max", "min"):
        out = _reduce_boxes(t, sides, reduce)
    else:
        if not t.is_floating_point():
            t = t.to(torch.int64) if reduce == "sum" else t.to(torch.float64)
        out = _reduce_boxes(t, sides, "sum")
        if reduce == "mean":
            sizes = torch.from_numpy(_box_sizes(tuple(t.shape), sides)).to(device=out.device)
            out = out / sizes.to(out.dtype)
    if out is t:  # r = 1 everywhere: return a copy, never a view of the input
        out = t.clone()
    return back(out, was_numpy)


def upsample(
    y: ArrayT, r: int | Sequence[int], shape: Sequence[int], reduce: Reduce = "sum"
) -> ArrayT:
    r"""Spread a coarse grid back over the fine grid: the map :math:`S_r`, inverse of :math:`T_r`.

    Each fine grid point receives the value of its box, divided by the number of grid
    points in the box when ``reduce="sum"`` (so that :math:`S_r T_r W` is the box mean).

    Parameters
    ----------
    y
        Coarse grid, of shape ``coarse_shape(shape, r)``.
    r
        Box side used by :func:`fractal_transform`.
    shape
        Shape of the fine grid :math:`\Omega`.
    reduce
        The reduction :math:`T_r` used: ``"sum"`` divides by the box size, the others
        repeat the value.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        Array of shape ``shape``, same type (and device) as ``y``; floating for ``sum``.

    Notes
    -----
    :math:`T_r S_r y = y` for ``sum`` (up to floating-point rounding), ``mean``, ``max``,
    ``min`` and ``any``; and :math:`\|S_r T_r W - W\|_\infty \le \max_j
    \operatorname{osc}_{B_r(j)} W` for ``sum`` and ``mean`` (and ``max``, ``min``).

    Examples
    --------
    >>> import numpy as np
    >>> upsample(np.array([1.0, 5.0, 4.0]), 2, (5,))
    array([0.5, 0.5, 2.5, 2.5, 4. ])
    >>> upsample(np.array([3, 7]), 2, (3,), reduce="max")
    array([3, 3, 7])
    """
    reduce = choice(reduce, "reduce", _REDUCTIONS)
    t, was_numpy = as_tensor(y, "y")
    shape = grid_shape(shape, max_rank=MAX_RANK)
    budget(math.prod(shape), "shape", MAX_ELEMENTS)
    if len(shape) != t.ndim:
        raise ValueError(f"shape {shape} has rank {len(shape)} but y has rank {t.ndim}")
    sides = _scale_tuple(r, shape)
    expected = tuple(-(-n // s) for n, s in zip(shape, sides))
    if tuple(t.shape) != expected:
        raise ValueError(
            f"y has shape {tuple(t.shape)} but T_r of a grid {shape} with r={sides} has "
            f"shape {expected}"
        )
    if reduce == "sum":
        if not t.is_floating_point():
            t = t.to(torch.float64)
        sizes = torch.from_numpy(_box_sizes(shape, sides)).to(device=t.device, dtype=t.dtype)
        t = t / sizes
    for axis, (n, s) in enumerate(zip(shape, sides)):
        if s > 1:
            t = torch.repeat_interleave(t, s, dim=axis).narrow(axis, 0, n)
    return back(t.contiguous(), was_numpy)


def box_oscillation(x: ArrayT, r: int | Sequence[int]) -> ArrayT:
    r"""Return the oscillation ``max - min`` of ``x`` inside each box of side ``r``.

    Its largest value bounds the error of the asymptotic inverse,
    :math:`\|S_r T_r W - W\|_\infty \le \max_j \operatorname{osc}_{B_r(j)} W`, and the
    error of ``mean`` under composition.

    Parameters
    ----------
    x
        Real array or tensor of rank 1 to 4.
    r
        Box side, one int or one int per axis.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        Coarse grid of oscillations (``>= 0``), same type as ``x``; booleans are read
        as 0 / 1.

    Examples
    --------
    >>> import numpy as np
    >>> box_oscillation(np.array([0.0, 3.0, 1.0, 1.0, 7.0]), 2)
    array([3., 0., 0.])
    """
    t, was_numpy = as_tensor(x)
    if t.dtype == torch.bool:
        t = t.to(torch.uint8)
    sides = _scale_tuple(r, t.shape)
    top = _reduce_boxes(t, sides, "max")
    bottom = _reduce_boxes(t, sides, "min")
    if not t.is_floating_point():
        top, bottom = top.to(torch.int64), bottom.to(torch.int64)
    return back(top - bottom, was_numpy)


def unfold_conv(w: ArrayT) -> ArrayT:
    """Unfold a conv kernel ``(out, in, kh, kw)`` into the matrix ``out x (in * kh * kw)``.

    The explicit 2-D view of a convolution's weights: row ``o`` holds every weight that
    feeds output channel ``o``, in ``(in, kh, kw)`` order (PyTorch's layout). Tensors of
    rank 1 or 2 are returned unchanged.

    Parameters
    ----------
    w
        Array or tensor of rank 1 to 4.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        A view of ``w`` of rank ``<= 2`` where possible.

    Examples
    --------
    >>> import numpy as np
    >>> unfold_conv(np.zeros((64, 3, 3, 3))).shape
    (64, 27)
    """
    if not isinstance(w, (np.ndarray, torch.Tensor)):
        raise TypeError(f"w must be a numpy array or a torch tensor, got {describe(w)}")
    as_tensor(w, "w")  # dtype, rank 1 to 4, non-empty, finite
    if w.ndim <= 2:
        return w
    return w.reshape(w.shape[0], -1)
