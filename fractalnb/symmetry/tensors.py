"""Permutations and positive rescalings of weight tensors.

The group actions on one layer or a pair of layers.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ._arguments import (
    Array,
    IndexLike,
    ScalesLike,
    Seed,
    _check_array,
    _check_block,
    _check_length,
    _check_permutation,
    _check_real_float,
    _check_scale,
    _check_scales,
    _rng,
)

__all__ = [
    "invert_permutation",
    "expand_permutation",
    "permute_rows",
    "permute_columns",
    "scale_rows",
    "scale_columns",
    "permute_layer_pair",
    "rescale_layer_pair",
    "random_permutation",
    "random_scales",
    "box_constant_scales",
]


def _take(x: Array, index: np.ndarray, axis: int) -> Array:
    if isinstance(x, torch.Tensor):
        return x.index_select(axis, torch.as_tensor(index, device=x.device))
    return np.take(x, index, axis=axis)


def _multiply_axis(x: Array, factors: np.ndarray, axis: int, *, divide: bool = False) -> Array:
    shape = [1] * x.ndim
    shape[axis] = -1
    if isinstance(x, torch.Tensor):
        f = torch.as_tensor(factors, dtype=x.dtype, device=x.device).reshape(shape)
    else:
        f = factors.astype(x.dtype, copy=False).reshape(shape)
    return x / f if divide else x * f


def invert_permutation(perm: IndexLike) -> np.ndarray:
    """Return the inverse permutation: ``x[perm][invert_permutation(perm)]`` is ``x``.

    Parameters
    ----------
    perm
        A permutation of ``0..n-1``.

    Returns
    -------
    numpy.ndarray
        ``int64`` array ``inv`` with ``inv[perm[i]] = i``.

    Examples
    --------
    >>> invert_permutation([2, 0, 1])
    array([1, 2, 0])
    """
    p = _check_permutation(perm)
    inverse = np.empty_like(p)
    inverse[p] = np.arange(p.size)
    return inverse


def expand_permutation(perm: IndexLike, block: int) -> np.ndarray:
    """Blow a permutation of ``n`` items up to one of ``n·block`` items moving blocks rigidly.

    This is how a permutation of the channels of a convolution acts on the columns of a
    linear layer that reads them through ``flatten``: channel ``c`` owns columns
    ``c·block, …, c·block + block − 1``.

    Parameters
    ----------
    perm
        A permutation of ``0..n-1``.
    block
        Items per block (``h·w`` of the flattened feature map).

    Returns
    -------
    numpy.ndarray
        The expanded permutation, of length ``n·block``.

    Examples
    --------
    >>> expand_permutation([1, 0], 3)
    array([3, 4, 5, 0, 1, 2])
    """
    p = _check_permutation(perm)
    block = _check_block(block)
    return (p[:, None] * block + np.arange(block)[None, :]).reshape(-1)


def permute_rows(x: Array, perm: IndexLike) -> Array:
    """Permute the rows (axis 0: output neurons or output channels) of a parameter tensor.

    Parameters
    ----------
    x
        Array or tensor of rank ≥ 1: a weight ``(out, in[, kh, kw])``, a bias, a BatchNorm
        vector.
    perm
        A permutation of ``0..x.shape[0]-1``; row ``i`` of the result is row ``perm[i]``.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        ``x[perm]``, of the input's type (a torch result stays on the input's device).

    Examples
    --------
    >>> permute_rows(np.arange(6).reshape(3, 2), [2, 0, 1])
    array([[4, 5],
           [0, 1],
           [2, 3]])
    """
    _check_array(x, name="x", min_ndim=1)
    p = _check_permutation(perm, x.shape[0])
    return _take(x, p, 0)


def permute_columns(x: Array, perm: IndexLike, *, block: int = 1) -> Array:
    """Permute the columns (axis 1: input neurons or input channels) of a weight.

    Parameters
    ----------
    x
        Array or tensor of rank ≥ 2.
    perm
        A permutation of the ``x.shape[1] // block`` input neurons.
    block
        Consecutive columns owned by one neuron: 1, or ``h·w`` for a linear layer that
        reads a convolution's output through ``flatten``.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        ``x`` with its column blocks reordered: block ``i`` of the result is block
        ``perm[i]`` of ``x``.

    Examples
    --------
    >>> permute_columns(np.arange(4).reshape(1, 4), [1, 0], block=2)
    array([[2, 3, 0, 1]])
    """
    _check_array(x, name="x", min_ndim=2)
    block = _check_block(block)
    if x.shape[1] % block:
        raise ValueError(f"x has {x.shape[1]} columns, not a multiple of block={block}")
    index = expand_permutation(_check_permutation(perm, x.shape[1] // block), block)
    return _take(x, index, 1)


def scale_rows(x: Array, scales: ScalesLike) -> Array:
    """Multiply row ``i`` (axis 0) of a parameter tensor by ``scales[i] > 0``.

    Parameters
    ----------
    x
        Real floating array or tensor of rank ≥ 1.
    scales
        One positive factor per row.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        ``Λ x`` with ``Λ = diag(scales)``, in the input's dtype and on its device.

    Examples
    --------
    >>> scale_rows(np.ones((2, 2)), [2.0, 0.5])
    array([[2. , 2. ],
           [0.5, 0.5]])
    """
    _check_array(x, name="x", min_ndim=1)
    _check_real_float(x, name="x")
    return _multiply_axis(x, _check_scales(scales, x.shape[0]), 0)


def scale_columns(x: Array, scales: ScalesLike, *, block: int = 1) -> Array:
    """Multiply the columns (axis 1) of a weight by positive factors, one per input neuron.

    Parameters
    ----------
    x
        Real floating array or tensor of rank ≥ 2.
    scales
        One positive factor per input neuron (per block of ``block`` columns).
    block
        Consecutive columns owned by one neuron (see :func:`permute_columns`).

    Returns
    -------
    numpy.ndarray or torch.Tensor
        ``x Λ`` (the intertwiner compensates with ``1 / λ``: see :func:`rescale_layer_pair`).

    Examples
    --------
    >>> scale_columns(np.ones((1, 4)), [2.0, 0.5], block=2)
    array([[2. , 2. , 0.5, 0.5]])
    """
    _check_array(x, name="x", min_ndim=2)
    _check_real_float(x, name="x")
    block = _check_block(block)
    if x.shape[1] % block:
        raise ValueError(f"x has {x.shape[1]} columns, not a multiple of block={block}")
    s = _check_scales(scales, x.shape[1] // block)
    return _multiply_axis(x, np.repeat(s, block), 1)


def _check_pair(weight: Any, bias: Any, next_weight: Any, block: int) -> int:
    _check_array(weight, name="weight", min_ndim=2)
    _check_array(next_weight, name="next_weight", min_ndim=2)
    n = weight.shape[0]
    if bias is not None:
        _check_array(bias, name="bias", min_ndim=1)
        if bias.ndim != 1 or bias.shape[0] != n:
            raise ValueError(f"bias has shape {tuple(bias.shape)}, expected ({n},) for a weight "
                             f"with {n} rows")
    if next_weight.shape[1] != n * block:
        raise ValueError(
            f"next_weight has {next_weight.shape[1]} columns, but weight has {n} rows and "
            f"block={block}: expected {n * block} columns"
        )
    return n


def permute_layer_pair(
    weight: Array, bias: Array | None, next_weight: Array, perm: IndexLike, *, block: int = 1
) -> tuple[Array, Array | None, Array]:
    """Permute the neurons between two consecutive layers: ``(P W, P b, W' Pᵀ)``.

    Parameters
    ----------
    weight, bias
        The layer whose outputs are the neurons (``bias`` may be ``None``).
    next_weight
        The layer that reads them.
    perm
        A permutation of the ``weight.shape[0]`` neurons.
    block
        Columns of ``next_weight`` per neuron (``h·w`` after a flatten).

    Returns
    -------
    tuple
        The permuted ``(weight, bias, next_weight)``; with an element-wise activation in
        between, the two layers compute the same function as before.

    Examples
    --------
    >>> w, b, w2 = np.eye(2), np.array([0.0, 1.0]), np.array([[1.0, 2.0]])
    >>> permute_layer_pair(w, b, w2, [1, 0])[2]
    array([[2., 1.]])
    """
    block = _check_block(block)
    _check_pair(weight, bias, next_weight, block)
    p = _check_permutation(perm, weight.shape[0])
    return (
        _take(weight, p, 0),
        None if bias is None else _take(bias, p, 0),
        _take(next_weight, expand_permutation(p, block), 1),
    )


def rescale_layer_pair(
    weight: Array, bias: Array | None, next_weight: Array, scales: ScalesLike, *, block: int = 1
) -> tuple[Array, Array | None, Array]:
    """Apply the ReLU intertwiner ``(Λ W, Λ b, W' Λ⁻¹)`` with ``Λ = diag(scales)``, ``λ_i > 0``.

    Parameters
    ----------
    weight, bias
        The layer whose outputs are the neurons (``bias`` may be ``None``).
    next_weight
        The layer that reads them.
    scales
        One positive factor per neuron.
    block
        Columns of ``next_weight`` per neuron (``h·w`` after a flatten).

    Returns
    -------
    tuple
        The rescaled ``(weight, bias, next_weight)``; with a positively homogeneous
        activation in between (ReLU, LeakyReLU, pooling), the function is unchanged.

    Examples
    --------
    >>> w, b, w2 = np.eye(2), np.zeros(2), np.ones((1, 2))
    >>> rescale_layer_pair(w, b, w2, [2.0, 4.0])[2]
    array([[0.5 , 0.25]])
    """
    block = _check_block(block)
    _check_pair(weight, bias, next_weight, block)
    for name, x in (("weight", weight), ("bias", bias), ("next_weight", next_weight)):
        if x is not None:
            _check_real_float(x, name=name)
    s = _check_scales(scales, weight.shape[0])
    return (
        _multiply_axis(weight, s, 0),
        None if bias is None else _multiply_axis(bias, s, 0),
        _multiply_axis(next_weight, np.repeat(s, block), 1, divide=True),
    )


def random_permutation(n: int, *, seed: Seed = None) -> np.ndarray:
    """Return a uniformly random permutation of ``0..n-1``.

    Parameters
    ----------
    n
        Number of items.
    seed
        Seed or ``numpy.random.Generator``.

    Returns
    -------
    numpy.ndarray
        ``int64`` permutation.

    Examples
    --------
    >>> sorted(random_permutation(4, seed=0).tolist())
    [0, 1, 2, 3]
    """
    n = _check_length(n)
    return _rng(seed).permutation(n).astype(np.int64)


def random_scales(n: int, *, max_factor: float = 4.0, seed: Seed = None) -> np.ndarray:
    """Return ``n`` positive factors, log-uniform in ``[1 / max_factor, max_factor]``.

    Parameters
    ----------
    n
        Number of neurons.
    max_factor
        Largest factor (``> 1``); the smallest is its inverse.
    seed
        Seed or ``numpy.random.Generator``.

    Returns
    -------
    numpy.ndarray
        ``float64`` factors ``λ_i = exp(u_i)``, ``u_i`` uniform in ``±log(max_factor)``.

    Examples
    --------
    >>> s = random_scales(100, max_factor=2.0, seed=0)
    >>> bool(s.min() >= 0.5 and s.max() <= 2.0)
    True
    """
    n = _check_length(n)
    if not (math.isfinite(max_factor) and max_factor > 1):
        raise ValueError(f"max_factor must be a finite number > 1, got {max_factor!r}")
    bound = math.log(max_factor)
    return np.exp(_rng(seed).uniform(-bound, bound, size=n))


def box_constant_scales(
    n: int, r: int, *, max_factor: float = 4.0, seed: Seed = None
) -> np.ndarray:
    """Return ``n`` positive factors that are constant on every ``r``-box of ``0..n-1``.

    One log-uniform factor in ``[1 / max_factor, max_factor]`` (as :func:`random_scales`)
    per box ``[kr, kr + r) ∩ [0, n)``, repeated over the box. For such a ``Λ``,
    ``T_r(ΛW) = Λ_r T_r(W)`` exactly, with ``Λ_r`` the factor of each box
    (see :func:`rescaling_commutation_defect`).

    Parameters
    ----------
    n
        Number of neurons.
    r
        Box side (``r >= n``: one global factor).
    max_factor
        Largest factor (``> 1``).
    seed
        Seed or ``numpy.random.Generator``.

    Returns
    -------
    numpy.ndarray
        ``float64`` factors, ``n`` of them.

    Examples
    --------
    >>> s = box_constant_scales(6, 2, seed=0)
    >>> bool(s[0] == s[1] and s[2] == s[3] and s[4] == s[5])
    True
    """
    n = _check_length(n)
    r = _check_scale(r)
    boxes = -(-n // r)
    return np.repeat(random_scales(boxes, max_factor=max_factor, seed=seed), r)[:n]
