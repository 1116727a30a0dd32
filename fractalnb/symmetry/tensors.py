"""Permutations and positive rescalings of weight tensors: the group actions on one layer.

Random elements of the two groups (uniform permutations, log-uniform positive factors) and
their action on the rows (output neurons) or columns (input neurons) of a parameter tensor.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .._validate import integer, real
from .._validate import rng as generator
from ._arguments import (
    Array,
    IndexLike,
    Seed,
    _check_count,
    _check_permutation,
    _check_tensor,
)

__all__ = [
    "permute_rows",
    "permute_columns",
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


def _expand_permutation(p: np.ndarray, block: int) -> np.ndarray:
    """Blow a permutation of ``n`` items up to one of ``n·block`` items moving blocks rigidly.

    This is how a permutation of the channels of a convolution acts on the columns of a
    linear layer that reads them through ``flatten``: channel ``c`` owns columns
    ``c·block, …, c·block + block − 1``. ``p`` is a checked permutation.

    Examples
    --------
    >>> _expand_permutation(np.array([1, 0]), 3)
    array([3, 4, 5, 0, 1, 2])
    """
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
    _check_tensor(x, "x", min_ndim=1)
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
    _check_tensor(x, "x", min_ndim=2)
    block = integer(block, "block", minimum=1)
    if x.shape[1] % block:
        raise ValueError(f"x has {x.shape[1]} columns, not a multiple of block={block}")
    index = _expand_permutation(_check_permutation(perm, x.shape[1] // block), block)
    return _take(x, index, 1)


def random_permutation(n: int, *, seed: Seed = 0) -> np.ndarray:
    """Return a uniformly random permutation of ``0..n-1``.

    Parameters
    ----------
    n
        Number of items.
    seed
        Seed (an integer ``>= 0``) or ``numpy.random.Generator``.

    Returns
    -------
    numpy.ndarray
        ``int64`` permutation.

    Examples
    --------
    >>> sorted(random_permutation(4, seed=0).tolist())
    [0, 1, 2, 3]
    """
    n = _check_count(n)
    return generator(seed).permutation(n).astype(np.int64)


def random_scales(n: int, *, max_factor: float = 4.0, seed: Seed = 0) -> np.ndarray:
    """Return ``n`` positive factors, log-uniform in ``[1 / max_factor, max_factor]``.

    Parameters
    ----------
    n
        Number of neurons.
    max_factor
        Largest factor (``> 1``); the smallest is its inverse.
    seed
        Seed (an integer ``>= 0``) or ``numpy.random.Generator``.

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
    n = _check_count(n)
    max_factor = real(max_factor, "max_factor", 1, open_min=True)
    rng = generator(seed)
    bound = math.log(max_factor)
    return np.exp(rng.uniform(-bound, bound, size=n))


def box_constant_scales(
    n: int, r: int, *, max_factor: float = 4.0, seed: Seed = 0
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
        Seed (an integer ``>= 0``) or ``numpy.random.Generator``.

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
    n = _check_count(n)
    r = integer(r, "r", minimum=1)
    boxes = -(-n // r)
    return np.repeat(random_scales(boxes, max_factor=max_factor, seed=seed), r)[:n]
