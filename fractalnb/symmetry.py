"""Symmetries of a network's parameters, and how the fractal quantities see them.

Two groups act on the parameters of a ReLU network without changing the function it
computes :cite:p:`hecht1990algebraic,godfrey2022symmetries`:

**Neuron permutations.** For a layer ``l`` followed (through element-wise or channel-wise
operations only) by a layer ``l + 1``, a permutation ``P`` of the ``n`` neurons maps
``W_l ↦ P W_l``, ``b_l ↦ P b_l``, the BatchNorm parameters and running statistics in
between likewise, and ``W_{l+1} ↦ W_{l+1} Pᵀ``. Neurons are rows of a linear layer's
weight, output channels of a convolution; in the successor they are columns, input
channels, or — after a ``flatten`` — blocks of ``h·w`` consecutive columns, one block per
channel. Convention: ``permute_rows(W, perm)`` is ``W[perm]``, row ``i`` of the result is
row ``perm[i]`` of ``W``.

**Positive rescaling (the intertwiner group of ReLU).** ReLU, LeakyReLU, max- and
average-pooling are positively homogeneous and act channel by channel, so for
``Λ = diag(λ)`` with ``λ_i > 0``: ``W_l ↦ Λ W_l``, ``b_l ↦ Λ b_l``,
``W_{l+1} ↦ W_{l+1} Λ⁻¹`` keeps the function
:cite:p:`neyshabur2015pathsgd,dinh2017sharp`. When a BatchNorm lies on the way, it
normalises whatever scale the layer before it has; the intertwiner then acts on the
BatchNorm's affine parameters (``γ ↦ Λγ``, ``β ↦ Λβ``) and on ``W_{l+1} Λ⁻¹``: exact in
training and evaluation mode. BatchNorm's own invariance to scaling the layer before it
is a second, separate symmetry (:func:`rescale_before_batchnorm`), exact in evaluation
mode once the running statistics follow (``μ ↦ Λμ``, ``σ² ↦ Λ²σ²``) and ``γ`` absorbs the
``ε`` in ``√(σ² + ε)``.

**Residual networks.** Inside a torchvision ``BasicBlock`` the hidden channels
(``conv1 → bn1 → relu → conv2``) can be permuted and rescaled freely. The residual
stream cannot be permuted (or rescaled) block-locally: every block reads it and adds to
it, so a permutation of the stream must act on every layer that writes to it (stem,
each block's ``conv2``/``bn2``, the downsampling shortcuts) and every layer that reads it
at once. The model-level functions here refuse such layers and say why;
:func:`permutable_layers` lists what can be done.

**What the fractal quantities see** (``T_r`` is :func:`fractalnb.transform.fractal_transform`
with ``reduce="sum"``, ``N(r)`` the box counts of :mod:`fractalnb.boxcount`):

1. *Strong invariance.* The active density ``|A|/|Ω|``, a quantile threshold's value and
   the count at the coarsest scale (one box covering ``Ω``) are functions of the multiset
   of entries: no permutation of rows and columns changes them.
2. *Exact equivariance.* A permutation of an axis *respects* scale ``r`` when it maps every
   ``r``-box of that axis (``[kr, kr + r) ∩ [0, n)``, the last one possibly partial) onto
   an ``r``-box. Then ``T_r(P W) = P_r T_r(W)`` with the induced box permutation ``P_r``
   (:func:`induced_block_permutation`), and ``N(r)`` is unchanged. Which scales a
   permutation respects is computed exactly by :func:`respected_scales`; for the
   generators here:

   - :func:`hierarchical_permutation` (children permuted inside each node of the
     ``λ``-ary tree of blocks) respects every ``λ^k``;
   - :func:`block_permutation` (whole ``r``-blocks moved rigidly) respects every divisor
     of ``r``, and a multiple ``m·r`` exactly when its induced block permutation respects
     ``m``;
   - :func:`within_block_permutation` (entries shuffled inside each ``r``-block) respects
     ``r`` and every multiple of ``r`` — with ``P_r`` the identity, so ``T_r`` does not see
     it at all.

   For a permutation of the neurons of a layer read through a ``flatten``, the
   successor's columns move by :func:`expand_permutation` (``perm`` blown up by the block
   size), which respects different scales than ``perm`` itself.
3. *Weak equivariance.* A general permutation moves ``N(r)`` at intermediate scales and
   so the dimension ``D``; :func:`permutation_spread` measures by how much.
4. *Rescaling.* ``T_r`` is linear, so ``T_r(cW) = c T_r(W)`` and, when ``λ`` is constant
   on every ``r``-box, ``T_r(ΛW) = Λ_r T_r(W)``. For a general ``λ`` what holds is the
   bound ``|T_r(ΛW) − M_r T_r(W)| ≤ ½ osc_r(λ) · T_r(|W|)`` entrywise, with ``M_r`` and
   ``osc_r`` the mid-range and the range of ``λ`` over each box
   (:func:`rescaling_commutation_defect`). Counts: the support ``|W| > 0`` is invariant under
   every positive rescaling; an absolute threshold is not; a per-tensor quantile or a
   ``mean + k·std`` threshold of ``|W|`` is invariant under a global scale ``c > 0`` but not
   under a per-neuron ``Λ`` (:func:`rescaling_count_report`).

Examples
--------
>>> import torch
>>> from torch import nn
>>> from fractalnb import symmetry
>>> torch.manual_seed(0)  # doctest: +ELLIPSIS
<torch._C.Generator object at ...>
>>> mlp = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
>>> permuted = symmetry.permute_neurons(mlp, "0", symmetry.random_permutation(8, seed=1))
>>> rescaled = symmetry.rescale_neurons(mlp, "0", symmetry.random_scales(8, seed=2))
>>> x = torch.randn(5, 4)
>>> symmetry.function_distance(mlp, permuted, x) < 1e-6
True
>>> symmetry.function_distance(mlp, rescaled, x) < 1e-5
True
"""

from __future__ import annotations

import copy
import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F  # noqa: N812
from torch import fx, nn

__all__ = [
    "NeuronCoupling",
    "RescalingDefect",
    "block_permutation",
    "box_constant_scales",
    "equivariance_table",
    "expand_permutation",
    "function_distance",
    "function_preservation",
    "global_quantities",
    "hierarchical_permutation",
    "induced_block_permutation",
    "invert_permutation",
    "neuron_coupling",
    "permutable_layers",
    "permutation_spread",
    "permute_columns",
    "permute_layer_pair",
    "permute_neurons",
    "permute_rows",
    "random_permutation",
    "random_scales",
    "rescale_before_batchnorm",
    "rescale_layer_pair",
    "rescale_neurons",
    "rescaling_commutation_defect",
    "rescaling_count_report",
    "rescaling_defect_table",
    "respected_scales",
    "respects_scale",
    "scale_columns",
    "scale_rows",
    "within_block_permutation",
]

Array = TypeVar("Array", np.ndarray, torch.Tensor)
IndexLike = Sequence[int] | np.ndarray | torch.Tensor
ScalesLike = Sequence[float] | np.ndarray | torch.Tensor
Seed = int | np.random.Generator | None


# ---------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------


def _to_numpy(values: Any) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def _check_permutation(perm: IndexLike, n: int | None = None, *, name: str = "perm") -> np.ndarray:
    """Return ``perm`` as an int64 array after checking it is a permutation of ``0..n-1``."""
    p = _to_numpy(perm)
    if p.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {p.shape}")
    if p.size and not np.issubdtype(p.dtype, np.integer):
        integral = np.issubdtype(p.dtype, np.floating) and np.all(np.isfinite(p))
        if integral and np.all(p == np.round(p)):
            p = p.astype(np.int64)
        else:
            raise ValueError(f"{name} must hold integers, got dtype {p.dtype}")
    p = p.astype(np.int64, copy=False)
    if n is not None and p.size != n:
        raise ValueError(f"{name} has length {p.size}, but there are {n} indices to permute")
    size = p.size
    if size == 0:
        raise ValueError(f"{name} is empty: there is nothing to permute")
    if p.min() < 0 or p.max() >= size:
        bad = p[(p < 0) | (p >= size)][0]
        raise ValueError(f"{name} is not a permutation of 0..{size - 1}: it contains {bad}")
    counts = np.bincount(p, minlength=size)
    if np.any(counts != 1):
        repeated = int(np.flatnonzero(counts > 1)[0])
        missing = int(np.flatnonzero(counts == 0)[0])
        raise ValueError(
            f"{name} is not a permutation of 0..{size - 1}: {repeated} appears "
            f"{counts[repeated]} times and {missing} is missing"
        )
    return p


def _check_scales(scales: ScalesLike, n: int | None = None, *, name: str = "scales") -> np.ndarray:
    """Return ``scales`` as a float64 array after checking they are finite and positive."""
    s = _to_numpy(scales)
    if s.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {s.shape}")
    if np.iscomplexobj(s) or not (np.issubdtype(s.dtype, np.floating)
                                  or np.issubdtype(s.dtype, np.integer)):
        raise ValueError(f"{name} must be real numbers, got dtype {s.dtype}")
    s = s.astype(np.float64)
    if n is not None and s.size != n:
        raise ValueError(f"{name} has length {s.size}, but there are {n} neurons to rescale")
    if s.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(s)):
        i = int(np.flatnonzero(~np.isfinite(s))[0])
        raise ValueError(f"{name} must be finite; {name}[{i}] = {s[i]}")
    if np.any(s <= 0):
        i = int(np.flatnonzero(s <= 0)[0])
        raise ValueError(
            f"{name} must be strictly positive (a positive rescaling); {name}[{i}] = {s[i]}"
        )
    return s


def _check_array(x: Any, *, name: str, min_ndim: int) -> None:
    if not isinstance(x, (np.ndarray, torch.Tensor)):
        raise TypeError(f"{name} must be a numpy array or a torch tensor, got {type(x).__name__}")
    if x.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s), got shape "
                         f"{tuple(x.shape)}")


def _check_real_float(x: Array, *, name: str) -> None:
    if isinstance(x, torch.Tensor):
        ok = x.is_floating_point()
    else:
        ok = np.issubdtype(x.dtype, np.floating)
    if not ok:
        raise ValueError(f"{name} must have a real floating dtype to be rescaled, got {x.dtype}")


def _check_block(block: int) -> int:
    if isinstance(block, bool) or not isinstance(block, (int, np.integer)) or block < 1:
        raise ValueError(f"block must be a positive integer, got {block!r}")
    return int(block)


def _rng(seed: Seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


# ---------------------------------------------------------------------------------------
# tensor level
# ---------------------------------------------------------------------------------------


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


def _check_length(n: int, name: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    return int(n)


# ---------------------------------------------------------------------------------------
# model level: which layer feeds which
# ---------------------------------------------------------------------------------------

_WEIGHT_LAYERS = (nn.Linear, nn.Conv2d)
_BATCHNORMS = (nn.BatchNorm1d, nn.BatchNorm2d)
# positively homogeneous and channel-wise: f(λ x) = λ f(x) per channel for λ > 0
_HOMOGENEOUS_MODULES = (
    nn.ReLU, nn.LeakyReLU, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d,
    nn.AdaptiveMaxPool2d, nn.Dropout, nn.Identity,
)  # fmt: skip
# element-wise, so they commute with permutations, but not positively homogeneous
_ELEMENTWISE_MODULES = (
    nn.Tanh, nn.Sigmoid, nn.GELU, nn.SiLU, nn.ELU, nn.SELU, nn.CELU, nn.Softplus,
    nn.Hardtanh, nn.ReLU6, nn.Mish, nn.Hardswish, nn.Hardsigmoid, nn.Softsign,
)  # fmt: skip
_HOMOGENEOUS_FUNCTIONS = {
    F.relu, torch.relu, F.leaky_relu, F.max_pool2d, F.avg_pool2d, F.adaptive_avg_pool2d,
    F.adaptive_max_pool2d, F.dropout,
}  # fmt: skip
_ELEMENTWISE_FUNCTIONS = {
    torch.tanh, torch.sigmoid, F.gelu, F.silu, F.elu, F.softplus, F.hardtanh, F.relu6,
    F.mish, F.hardswish,
}  # fmt: skip
_HOMOGENEOUS_METHODS = {"relu", "relu_"}
_ELEMENTWISE_METHODS = {"tanh", "sigmoid"}


@dataclass(frozen=True)
class _Step:
    name: str  # module name, or the function's name
    kind: str  # "batchnorm", "homogeneous", "elementwise", "flatten"


@dataclass(frozen=True)
class NeuronCoupling:
    """How the neurons of one layer are read by the next: what a symmetry must touch.

    Attributes
    ----------
    layer
        Name of the module (``nn.Linear`` or ``nn.Conv2d``) whose outputs are the neurons.
    successor
        Name of the module that reads them (``nn.Linear`` or ``nn.Conv2d``).
    width
        Number of neurons (rows, or output channels, of ``layer``).
    block
        Columns of the successor's weight per neuron: 1, or ``h·w`` after a ``flatten``.
    between
        The operations on the way, as ``"name (Type)"``.
    batchnorms
        Names of the BatchNorm modules on the way (permuted along with the layer).
    permutable
        Always ``True`` for a coupling that was found (kept for table display).
    rescalable
        Whether :func:`rescale_neurons` applies: every operation after the last BatchNorm
        (or after the layer, without BatchNorm) is positively homogeneous, and that
        BatchNorm (if any) has affine parameters.
    """

    layer: str
    successor: str
    width: int
    block: int
    between: tuple[str, ...]
    batchnorms: tuple[str, ...]
    permutable: bool
    rescalable: bool
    _steps: tuple[_Step, ...] = field(repr=False, compare=False, default=())


def _trace(model: nn.Module) -> fx.GraphModule:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    try:
        return fx.symbolic_trace(model)
    except Exception as error:  # fx raises many types; report them all the same way
        raise ValueError(
            f"cannot follow the data flow of {type(model).__name__} with torch.fx "
            f"({type(error).__name__}: {error}); the symmetry functions need a model "
            "without data-dependent control flow"
        ) from error


def _module_nodes(graph: fx.Graph, target: str) -> list[fx.Node]:
    return [n for n in graph.nodes if n.op == "call_module" and n.target == target]


def _function_name(target: Any) -> str:
    return getattr(target, "__name__", repr(target))


def _flatten_start_dim(node: fx.Node) -> Any:
    if "start_dim" in node.kwargs:
        start = node.kwargs["start_dim"]
    elif len(node.args) > 1:
        start = node.args[1]
    else:
        start = 0
    end = node.kwargs.get("end_dim", node.args[2] if len(node.args) > 2 else -1)
    return start, end


def _classify(node: fx.Node, modules: dict[str, nn.Module], layer: str) -> _Step | nn.Module:
    """Return the step a node is, or the module if it is a weight layer; raise otherwise."""
    where = f"between '{layer}' and the layer that reads it"
    if node.op == "call_module":
        module = modules[node.target]
        type_name = type(module).__name__
        if isinstance(module, _WEIGHT_LAYERS):
            return module
        if isinstance(module, _BATCHNORMS):
            return _Step(f"{node.target} ({type_name})", "batchnorm")
        if isinstance(module, _HOMOGENEOUS_MODULES):
            return _Step(f"{node.target} ({type_name})", "homogeneous")
        if isinstance(module, _ELEMENTWISE_MODULES):
            return _Step(f"{node.target} ({type_name})", "elementwise")
        if isinstance(module, nn.Flatten):
            if (module.start_dim, module.end_dim) != (1, -1):
                raise ValueError(f"unsupported flatten '{node.target}' {where}: only "
                                 "Flatten(start_dim=1, end_dim=-1) keeps channels in blocks")
            return _Step(f"{node.target} (Flatten)", "flatten")
        raise ValueError(
            f"unsupported module type {type_name} ('{node.target}') {where}; supported: "
            "BatchNorm1d/2d, ReLU, LeakyReLU, pooling, Dropout, Identity, Flatten and "
            "element-wise activations"
        )
    if node.op == "call_function":
        target = node.target
        name = _function_name(target)
        if target in _HOMOGENEOUS_FUNCTIONS:
            return _Step(name, "homogeneous")
        if target in _ELEMENTWISE_FUNCTIONS:
            return _Step(name, "elementwise")
        if target is torch.flatten:
            if _flatten_start_dim(node) != (1, -1):
                raise ValueError(f"unsupported torch.flatten {where}: only torch.flatten(x, 1) "
                                 "keeps channels in blocks")
            return _Step("torch.flatten", "flatten")
        hint = ""
        if target in (operator.add, torch.add, operator.iadd, torch.cat, operator.mul):
            hint = (" — the neurons are combined with another tensor here (a residual "
                    "connection?), so they cannot be permuted or rescaled locally")
        raise ValueError(f"unsupported function {name} {where}{hint}")
    if node.op == "call_method":
        if node.target in _HOMOGENEOUS_METHODS:
            return _Step(f".{node.target}()", "homogeneous")
        if node.target in _ELEMENTWISE_METHODS:
            return _Step(f".{node.target}()", "elementwise")
        if node.target == "flatten":
            if _flatten_start_dim(node) != (1, -1):
                raise ValueError(f"unsupported .flatten() {where}: only x.flatten(1) keeps "
                                 "channels in blocks")
            return _Step(".flatten()", "flatten")
        hint = " (use nn.Flatten() or torch.flatten(x, 1))" if node.target in (
            "view", "reshape") else ""
        raise ValueError(f"unsupported tensor method .{node.target}() {where}{hint}")
    raise ValueError(f"unsupported graph node {node.op} {node.target!r} {where}")


def _weight_layer_names(model: nn.Module) -> list[str]:
    return [name for name, m in model.named_modules() if isinstance(m, _WEIGHT_LAYERS)]


def _find_coupling(
    model: nn.Module, layer: str, graph: fx.Graph | None = None
) -> NeuronCoupling:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(layer, str):
        raise TypeError(f"layer must be a module name (str), got {type(layer).__name__}")
    modules = dict(model.named_modules())
    if layer not in modules:
        raise ValueError(
            f"model has no module named '{layer}'; its weight layers are "
            f"{_weight_layer_names(model)}"
        )
    source = modules[layer]
    if not isinstance(source, _WEIGHT_LAYERS):
        raise ValueError(
            f"unsupported module type {type(source).__name__} for layer '{layer}': the neurons "
            "must be the outputs of an nn.Linear or nn.Conv2d"
        )
    if isinstance(source, nn.Conv2d) and source.groups != 1:
        raise ValueError(f"layer '{layer}' is a grouped convolution (groups={source.groups}); "
                         "only groups=1 is supported")
    if graph is None:
        graph = _trace(model).graph
    calls = _module_nodes(graph, layer)
    if len(calls) != 1:
        raise ValueError(f"layer '{layer}' is called {len(calls)} times in forward(); a neuron "
                         "symmetry needs a layer used exactly once")
    width = source.out_features if isinstance(source, nn.Linear) else source.out_channels
    node = calls[0]
    steps: list[_Step] = []
    while True:
        users = list(node.users)
        if not users:
            raise ValueError(f"the output of '{layer}' is not used")
        if len(users) > 1:
            readers = ", ".join(str(u.target) if u.op != "output" else "the output"
                                for u in users)
            raise ValueError(
                f"the neurons of '{layer}' are read by {len(users)} operations ({readers}) — a "
                "residual connection or a branch — so they cannot be permuted or rescaled "
                "locally; in a ResNet only the hidden channels inside a block (conv1 → bn1 → "
                "relu → conv2) can be, the residual stream only jointly across all its blocks"
            )
        nxt = users[0]
        if nxt.op == "output":
            raise ValueError(
                f"layer '{layer}' has no successor to compensate: its output is the network's "
                "output (a symmetry of its neurons would change the function)"
            )
        tensor_args = [a for a in (*nxt.args, *nxt.kwargs.values()) if isinstance(a, fx.Node)]
        if len(tensor_args) != 1 or (nxt.args and nxt.args[0] is not node):
            kind = nxt.target if nxt.op != "call_function" else _function_name(nxt.target)
            raise ValueError(
                f"the neurons of '{layer}' are combined with another tensor in {kind} — a "
                "residual connection? — so they cannot be permuted or rescaled locally"
            )
        step = _classify(nxt, modules, layer)
        if isinstance(step, nn.Module):
            successor_name = nxt.target
            successor = step
            break
        if step.kind == "batchnorm":
            bn = modules[nxt.target]
            if bn.num_features != width:
                raise ValueError(f"BatchNorm '{nxt.target}' has {bn.num_features} features but "
                                 f"'{layer}' has {width} neurons")
        steps.append(step)
        node = nxt
    if len(_module_nodes(graph, successor_name)) != 1:
        raise ValueError(f"the successor '{successor_name}' of '{layer}' is called more than "
                         "once in forward(); shared weights are not supported")
    flattened = any(s.kind == "flatten" for s in steps)
    if isinstance(successor, nn.Conv2d):
        if successor.groups != 1:
            raise ValueError(f"the successor '{successor_name}' is a grouped convolution "
                             f"(groups={successor.groups}); only groups=1 is supported")
        if flattened or isinstance(source, nn.Linear):
            raise ValueError(f"unsupported transition from '{layer}' to the convolution "
                             f"'{successor_name}'")
        if successor.in_channels != width:
            raise ValueError(f"'{successor_name}' reads {successor.in_channels} channels but "
                             f"'{layer}' has {width}")
        block = 1
    else:
        if isinstance(source, nn.Conv2d) and not flattened:
            raise ValueError(
                f"the linear layer '{successor_name}' reads the convolution '{layer}' without a "
                "flatten; it would act on the last spatial axis, not on the channels"
            )
        if successor.in_features % width:
            raise ValueError(f"'{successor_name}' has {successor.in_features} input features, "
                             f"not a multiple of the {width} neurons of '{layer}'")
        block = successor.in_features // width
        if isinstance(source, nn.Linear) and block != 1:
            raise ValueError(f"'{successor_name}' has {successor.in_features} input features "
                             f"but '{layer}' has {width} outputs")
    bn_names = tuple(s.name.split(" (")[0] for s in steps if s.kind == "batchnorm")
    return NeuronCoupling(
        layer=layer,
        successor=successor_name,
        width=width,
        block=block,
        between=tuple(s.name for s in steps),
        batchnorms=bn_names,
        permutable=True,
        rescalable=_rescalable(steps, modules) is None,
        _steps=tuple(steps),
    )


def _rescalable(steps: Sequence[_Step], modules: dict[str, nn.Module]) -> str | None:
    """Return why the intertwiner cannot act on this coupling, or ``None`` when it can."""
    last_bn = max((i for i, s in enumerate(steps) if s.kind == "batchnorm"), default=-1)
    for step in steps[last_bn + 1:]:
        if step.kind == "elementwise":
            return f"{step.name} is not positively homogeneous"
    if last_bn >= 0:
        bn = modules[steps[last_bn].name.split(" (")[0]]
        if not bn.affine:
            return f"{steps[last_bn].name} has no affine parameters to absorb the scales"
    return None


def neuron_coupling(model: nn.Module, layer: str) -> NeuronCoupling:
    """Find the layer that reads the neurons of ``layer`` and what lies in between.

    The data flow is traced with ``torch.fx``. The neurons must flow, through
    BatchNorm, element-wise activations, pooling, dropout and ``flatten`` only, into
    exactly one ``nn.Linear`` or ``nn.Conv2d``.

    Parameters
    ----------
    model
        The network.
    layer
        Name of an ``nn.Linear`` or ``nn.Conv2d`` in ``model.named_modules()``.

    Returns
    -------
    NeuronCoupling
        The successor, the width, the block size and the operations in between.

    Raises
    ------
    ValueError
        If ``layer`` does not exist or is of an unsupported type, if it has no successor
        to compensate (it is the output layer), if its neurons also feed a residual
        connection or a branch, or if an unsupported operation lies on the way.

    Examples
    --------
    >>> cnn = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
    ...                     nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(16, 2))
    >>> c = neuron_coupling(cnn, "0")
    >>> c.successor, c.width, c.block, c.batchnorms
    ('5', 4, 4, ('1',))
    """
    return _find_coupling(model, layer)


def permutable_layers(model: nn.Module) -> pd.DataFrame:
    """List every weight layer of a model and whether its neurons can be permuted, rescaled.

    Parameters
    ----------
    model
        The network.

    Returns
    -------
    pandas.DataFrame
        One row per ``nn.Linear``/``nn.Conv2d``: ``layer``, ``successor``, ``width``,
        ``block``, ``batchnorms``, ``permutable``, ``rescalable``, ``reason`` (why not,
        empty when both apply).

    Examples
    --------
    >>> mlp = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    >>> permutable_layers(mlp)[["layer", "successor", "permutable"]].to_dict("records")
    [{'layer': '0', 'successor': '2', 'permutable': True}, {'layer': '2', 'successor': '', \
'permutable': False}]
    """
    graph = _trace(model).graph
    modules = dict(model.named_modules())
    rows = []
    for name in _weight_layer_names(model):
        try:
            c = _find_coupling(model, name, graph)
        except ValueError as error:
            rows.append({"layer": name, "successor": "", "width": np.nan, "block": np.nan,
                         "batchnorms": (), "permutable": False, "rescalable": False,
                         "reason": str(error)})
            continue
        why = _rescalable(c._steps, modules)
        rows.append({"layer": name, "successor": c.successor, "width": c.width,
                     "block": c.block, "batchnorms": c.batchnorms, "permutable": True,
                     "rescalable": why is None, "reason": "" if why is None else why})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------
# model level: the symmetries
# ---------------------------------------------------------------------------------------


def _copy_with(model: nn.Module) -> tuple[nn.Module, dict[str, nn.Module]]:
    twin = copy.deepcopy(model)
    return twin, dict(twin.named_modules())


def _set(tensor: torch.Tensor | None, value: torch.Tensor) -> None:
    if tensor is not None:
        tensor.copy_(value)


def permute_neurons(model: nn.Module, layer: str, perm: IndexLike) -> nn.Module:
    """Return a copy of ``model`` with the neurons of ``layer`` permuted, function unchanged.

    Rows (output channels) of ``layer``'s weight and bias, the parameters and running
    statistics of every BatchNorm on the way, and the columns (input channels, or blocks
    of columns after a ``flatten``) of the successor are permuted together.

    Parameters
    ----------
    model
        The network (``nn.Sequential`` MLPs, VGG-like CNNs, torchvision ResNets: see
        :func:`neuron_coupling` for what is supported). It is not modified.
    layer
        Name of the ``nn.Linear``/``nn.Conv2d`` whose neurons are permuted.
    perm
        A permutation of its ``width`` neurons; neuron ``i`` of the result is neuron
        ``perm[i]`` of ``model``.

    Returns
    -------
    torch.nn.Module
        A deep copy with permuted parameters.

    Examples
    --------
    >>> mlp = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    >>> twin = permute_neurons(mlp, "0", [2, 0, 1])
    >>> bool(torch.equal(twin[0].weight, mlp[0].weight[[2, 0, 1]]))
    True
    """
    coupling = _find_coupling(model, layer)
    p = _check_permutation(perm, coupling.width)
    twin, modules = _copy_with(model)
    index = torch.as_tensor(p)
    with torch.no_grad():
        source = modules[layer]
        _set(source.weight, source.weight[index.to(source.weight.device)])
        if source.bias is not None:
            _set(source.bias, source.bias[index.to(source.bias.device)])
        for bn_name in coupling.batchnorms:
            bn = modules[bn_name]
            for tensor in (bn.weight, bn.bias, bn.running_mean, bn.running_var):
                if tensor is not None:
                    tensor.copy_(tensor[index.to(tensor.device)])
        successor = modules[coupling.successor]
        columns = torch.as_tensor(expand_permutation(p, coupling.block))
        _set(successor.weight, successor.weight[:, columns.to(successor.weight.device)])
    return twin


def rescale_neurons(model: nn.Module, layer: str, scales: ScalesLike) -> nn.Module:
    """Return a copy of ``model`` with the ReLU intertwiner ``Λ`` applied to ``layer``.

    Without BatchNorm on the way: ``W_l ↦ Λ W_l``, ``b_l ↦ Λ b_l``,
    ``W_{l+1} ↦ W_{l+1} Λ⁻¹``. With BatchNorm: the last BatchNorm before the successor
    absorbs ``Λ`` (``γ ↦ Λγ``, ``β ↦ Λβ``; ``W_l`` is left alone, since the BatchNorm
    normalises it anyway) and ``W_{l+1} ↦ W_{l+1} Λ⁻¹``. Both are exact in training and
    evaluation mode (up to rounding), because everything after that point up to the
    successor is positively homogeneous and channel-wise :cite:p:`dinh2017sharp`.

    Parameters
    ----------
    model
        The network; not modified.
    layer
        Name of the ``nn.Linear``/``nn.Conv2d`` whose neurons are rescaled.
    scales
        One factor ``λ_i > 0`` per neuron.

    Returns
    -------
    torch.nn.Module
        A deep copy with rescaled parameters.

    Raises
    ------
    ValueError
        As :func:`neuron_coupling`; also for non-positive or non-finite scales, and when an
        operation that is not positively homogeneous (``tanh``, ``GELU`` …) lies between the
        scaled tensor and the successor.

    Examples
    --------
    >>> mlp = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    >>> twin = rescale_neurons(mlp, "0", [1.0, 2.0, 4.0])
    >>> bool(torch.allclose(twin[2].weight * torch.tensor([1.0, 2.0, 4.0]), mlp[2].weight))
    True
    """
    coupling = _find_coupling(model, layer)
    s = _check_scales(scales, coupling.width)
    twin, modules = _copy_with(model)
    why = _rescalable(coupling._steps, modules)
    if why is not None:
        raise ValueError(f"cannot rescale the neurons of '{layer}': {why}")
    with torch.no_grad():
        if coupling.batchnorms:
            bn = modules[coupling.batchnorms[-1]]
            bn.weight.copy_(_multiply_axis(bn.weight, s, 0))
            bn.bias.copy_(_multiply_axis(bn.bias, s, 0))
        else:
            source = modules[layer]
            source.weight.copy_(_multiply_axis(source.weight, s, 0))
            if source.bias is not None:
                source.bias.copy_(_multiply_axis(source.bias, s, 0))
        successor = modules[coupling.successor]
        successor.weight.copy_(
            _multiply_axis(successor.weight, np.repeat(s, coupling.block), 1, divide=True)
        )
    return twin


def rescale_before_batchnorm(model: nn.Module, layer: str, scales: ScalesLike) -> nn.Module:
    """Return a copy of ``model`` with ``layer`` scaled by ``Λ`` and its BatchNorm compensating.

    BatchNorm's own invariance :cite:p:`ioffe2015batchnorm`: ``W_l ↦ Λ W_l``,
    ``b_l ↦ Λ b_l``, running mean ``μ ↦ Λ μ``, running variance ``σ² ↦ Λ² σ²``, and
    ``γ_i ↦ γ_i √(λ_i² σ_i² + ε) / (λ_i √(σ_i² + ε))`` so that the ``ε`` inside the square
    root does not spoil the equality. The successor is untouched. Exact (up to rounding)
    in evaluation mode; in training mode, where BatchNorm uses the batch statistics, the
    output changes by the ``γ`` correction, a relative ``O(ε / σ²)``.

    Parameters
    ----------
    model
        The network; not modified.
    layer
        Name of the ``nn.Linear``/``nn.Conv2d`` followed (through positively homogeneous
        operations only) by a BatchNorm with affine parameters and running statistics.
    scales
        One factor ``λ_i > 0`` per neuron.

    Returns
    -------
    torch.nn.Module
        A deep copy with rescaled parameters and statistics.

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 1))
    >>> twin = rescale_before_batchnorm(net, "0", [1.0, 2.0, 4.0])
    >>> twin[1].running_var.tolist()
    [1.0, 4.0, 16.0]
    """
    coupling = _find_coupling(model, layer)
    s = _check_scales(scales, coupling.width)
    if not coupling.batchnorms:
        raise ValueError(f"no BatchNorm between '{layer}' and '{coupling.successor}' to absorb "
                         "the scales (use rescale_neurons)")
    steps = coupling._steps
    first_bn = next(i for i, step in enumerate(steps) if step.kind == "batchnorm")
    for step in steps[:first_bn]:
        if step.kind == "elementwise":
            raise ValueError(f"cannot rescale '{layer}' before its BatchNorm: {step.name} is "
                             "not positively homogeneous")
    twin, modules = _copy_with(model)
    bn = modules[coupling.batchnorms[0]]
    if not bn.track_running_stats or bn.running_var is None:
        raise ValueError(f"BatchNorm '{coupling.batchnorms[0]}' keeps no running statistics, "
                         "so it always normalises with batch statistics; use rescale_neurons")
    if not bn.affine:
        raise ValueError(f"BatchNorm '{coupling.batchnorms[0]}' has no affine weight to absorb "
                         "the epsilon correction")
    with torch.no_grad():
        source = modules[layer]
        source.weight.copy_(_multiply_axis(source.weight, s, 0))
        if source.bias is not None:
            source.bias.copy_(_multiply_axis(source.bias, s, 0))
        lam = torch.as_tensor(s, dtype=torch.float64, device=bn.running_var.device)
        var = bn.running_var.to(torch.float64)
        correction = torch.sqrt(lam**2 * var + bn.eps) / (lam * torch.sqrt(var + bn.eps))
        bn.running_mean.copy_(bn.running_mean.to(torch.float64) * lam)
        bn.running_var.copy_(var * lam**2)
        bn.weight.copy_(bn.weight.to(torch.float64) * correction.to(bn.weight.device))
    return twin


def function_distance(model_a: nn.Module, model_b: nn.Module, inputs: torch.Tensor) -> float:
    """Return ``max |f_a(x) − f_b(x)|`` over a batch, both models in evaluation mode.

    The models' training flags are restored afterwards; no gradients are recorded.

    Parameters
    ----------
    model_a, model_b
        Two networks with the same input and output shapes.
    inputs
        A batch of inputs (on the models' device).

    Returns
    -------
    float
        The largest absolute difference of the outputs (0.0 for identical functions up to
        rounding).

    Examples
    --------
    >>> mlp = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    >>> function_distance(mlp, mlp, torch.randn(4, 2))
    0.0
    """
    for name, m in (("model_a", model_a), ("model_b", model_b)):
        if not isinstance(m, nn.Module):
            raise TypeError(f"{name} must be a torch.nn.Module, got {type(m).__name__}")
    if not isinstance(inputs, torch.Tensor):
        raise TypeError(f"inputs must be a torch tensor, got {type(inputs).__name__}")
    if inputs.numel() == 0:
        raise ValueError("inputs is empty")
    modes = [(m, m.training) for m in (*model_a.modules(), *model_b.modules())]
    try:
        model_a.eval()
        model_b.eval()
        with torch.no_grad():
            out_a = model_a(inputs)
            out_b = model_b(inputs)
    finally:
        for m, training in modes:
            m.train(training)
    if out_a.shape != out_b.shape:
        raise ValueError(f"the models' outputs have different shapes {tuple(out_a.shape)} and "
                         f"{tuple(out_b.shape)}")
    return float((out_a - out_b).abs().max())


_SYMMETRIES = ("permutation", "rescaling", "batchnorm")


def function_preservation(
    model: nn.Module,
    inputs: torch.Tensor,
    *,
    symmetry: str = "permutation",
    layers: Sequence[str] | None = None,
    max_factor: float = 4.0,
    seed: Seed = 0,
) -> pd.DataFrame:
    """Apply a random symmetry to each layer and measure how much the function changes.

    For each layer, a random element of the group is drawn (:func:`random_permutation`,
    or :func:`random_scales` in ``[1/max_factor, max_factor]``) and applied with its
    compensation (:func:`permute_neurons`, :func:`rescale_neurons` or
    :func:`rescale_before_batchnorm`), then *without* it: the successor's weight (for
    ``"batchnorm"``, the BatchNorm's parameters and statistics) left as it was. The first
    distance is rounding; the second shows the compensation is what keeps the function.

    Parameters
    ----------
    model
        The network; not modified.
    inputs
        A batch of inputs.
    symmetry
        ``"permutation"``, ``"rescaling"`` (the ReLU intertwiner) or ``"batchnorm"`` (a
        layer rescaled before its BatchNorm, evaluation mode).
    layers
        Layer names; default every layer the symmetry applies to (see
        :func:`permutable_layers`).
    max_factor
        Range of the random scales.
    seed
        Seed or ``numpy.random.Generator``.

    Returns
    -------
    pandas.DataFrame
        One row per layer: ``layer``, ``successor``, ``symmetry``, ``width``,
        ``distance`` (:func:`function_distance` to the original), ``uncompensated_distance``
        and ``output_scale`` (the largest ``|f(x)|`` of the original, for reference).

    Examples
    --------
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> mlp = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    >>> table = function_preservation(mlp, torch.randn(16, 4))
    >>> bool(table["distance"].max() < 1e-6 < table["uncompensated_distance"].min())
    True
    """
    if symmetry not in _SYMMETRIES:
        raise ValueError(f"symmetry must be one of {_SYMMETRIES}, got {symmetry!r}")
    if not isinstance(inputs, torch.Tensor):
        raise TypeError(f"inputs must be a torch tensor, got {type(inputs).__name__}")
    if layers is None:
        table = permutable_layers(model)
        if symmetry == "rescaling":
            table = table[table["rescalable"]]
        elif symmetry == "batchnorm":
            table = table[table["batchnorms"].map(len) > 0]
        layers = table.loc[table["permutable"], "layer"].tolist()
        if not layers:
            raise ValueError(f"model has no layer the {symmetry} symmetry applies to")
    rng = _rng(seed)
    originals = dict(model.named_modules())
    was_training = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        with torch.no_grad():
            scale = float(model(inputs).abs().max())
    finally:
        for m, training in was_training:
            m.train(training)
    rows = []
    for layer in layers:
        coupling = _find_coupling(model, layer)
        if symmetry == "permutation":
            twin = permute_neurons(model, layer, random_permutation(coupling.width, seed=rng))
        elif symmetry == "rescaling":
            scales = random_scales(coupling.width, max_factor=max_factor, seed=rng)
            twin = rescale_neurons(model, layer, scales)
        else:
            scales = random_scales(coupling.width, max_factor=max_factor, seed=rng)
            twin = rescale_before_batchnorm(model, layer, scales)
        broken = copy.deepcopy(twin)
        restore = (coupling.batchnorms[:1] if symmetry == "batchnorm"
                   else (coupling.successor,))
        broken_modules = dict(broken.named_modules())
        for name in restore:
            broken_modules[name].load_state_dict(originals[name].state_dict())
        rows.append({
            "layer": layer, "successor": coupling.successor, "symmetry": symmetry,
            "width": coupling.width, "distance": function_distance(model, twin, inputs),
            "uncompensated_distance": function_distance(model, broken, inputs),
            "output_scale": scale,
        })  # fmt: skip
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------
# permutations that respect boxes
# ---------------------------------------------------------------------------------------


def _check_scale(r: int, name: str = "r") -> int:
    if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or r < 1:
        raise ValueError(f"{name} must be a positive integer box side, got {r!r}")
    return int(r)


def _respects(p: np.ndarray, r: int) -> bool:
    boxes = p // r
    starts = (np.arange(p.size) // r) * r
    return bool(np.all(boxes == boxes[starts]))


def respects_scale(perm: IndexLike, r: int) -> bool:
    """Whether a permutation maps every ``r``-box of its axis onto an ``r``-box.

    The ``r``-boxes of ``0..n-1`` are ``[kr, kr + r) ∩ [0, n)``, the last possibly
    partial (the tiling of :func:`fractalnb.transform.fractal_transform`). A permutation
    respects ``r`` when the entries of each box are sent into one box; by counting, each
    box is then sent *onto* a box of the same size (a partial box onto itself). Then
    ``T_r(x[perm]) = T_r(x)[induced_block_permutation(perm, r)]`` along that axis.

    Parameters
    ----------
    perm
        A permutation of ``0..n-1``.
    r
        Box side, a positive integer (``r ≥ n``: one box, always respected).

    Returns
    -------
    bool

    Examples
    --------
    >>> respects_scale([2, 3, 0, 1], 2), respects_scale([1, 2, 3, 0], 2)
    (True, False)
    """
    return _respects(_check_permutation(perm), _check_scale(r))


def respected_scales(perm: IndexLike, scales: Sequence[int] | None = None) -> np.ndarray:
    """Return the box sides (among ``scales``) that a permutation respects.

    Parameters
    ----------
    perm
        A permutation of ``0..n-1``.
    scales
        Candidate box sides (positive integers); default every ``r`` in ``1..n``.

    Returns
    -------
    numpy.ndarray
        The respected sides, in the order given. ``1`` and every ``r ≥ n`` are always
        respected.

    Examples
    --------
    >>> respected_scales([4, 5, 6, 7, 0, 1, 2, 3]).tolist()
    [1, 2, 4, 8]
    """
    p = _check_permutation(perm)
    candidates = range(1, p.size + 1) if scales is None else [_check_scale(r, "scales")
                                                                for r in scales]
    return np.array([r for r in candidates if _respects(p, r)], dtype=np.int64)


def induced_block_permutation(perm: IndexLike, r: int) -> np.ndarray:
    """Return the permutation ``P_r`` of the ``r``-boxes induced by a box-respecting ``perm``.

    Parameters
    ----------
    perm
        A permutation of ``0..n-1`` that respects ``r`` (see :func:`respects_scale`).
    r
        Box side.

    Returns
    -------
    numpy.ndarray
        ``P_r`` of length ``⌈n / r⌉``, with ``T_r(x[perm]) = T_r(x)[P_r]`` along the axis.

    Examples
    --------
    >>> induced_block_permutation([2, 3, 0, 1, 4], 2)
    array([1, 0, 2])
    """
    p = _check_permutation(perm)
    r = _check_scale(r)
    if not _respects(p, r):
        raise ValueError(f"perm does not map {r}-boxes onto {r}-boxes (see respected_scales)")
    return p[::r] // r


def block_permutation(n: int, r: int, *, seed: Seed = None) -> np.ndarray:
    """Return a random permutation that moves whole ``r``-blocks rigidly.

    The ``⌊n / r⌋`` full blocks are permuted uniformly; a partial last block stays in
    place; the order inside each block is kept. Such a permutation respects every divisor
    of ``r``, and a multiple ``m·r`` exactly when the induced block permutation respects
    ``m``.

    Parameters
    ----------
    n
        Number of items.
    r
        Block side.
    seed
        Seed or ``numpy.random.Generator``.

    Returns
    -------
    numpy.ndarray
        ``int64`` permutation of ``0..n-1``.

    Examples
    --------
    >>> p = block_permutation(8, 2, seed=0)
    >>> bool(respects_scale(p, 2))
    True
    """
    n = _check_length(n)
    r = _check_scale(r)
    full = n // r
    order = _rng(seed).permutation(full)
    head = (order[:, None] * r + np.arange(r)[None, :]).reshape(-1)
    return np.concatenate([head, np.arange(full * r, n)]).astype(np.int64)


def within_block_permutation(n: int, r: int, *, seed: Seed = None) -> np.ndarray:
    """Return a random permutation that shuffles the items inside each ``r``-block.

    Each block (the last possibly partial) is shuffled uniformly and independently. The
    result respects ``r`` and every multiple of ``r`` with the identity as induced
    permutation: ``T_r`` and every coarser transform do not see it.

    Parameters
    ----------
    n
        Number of items.
    r
        Block side.
    seed
        Seed or ``numpy.random.Generator``.

    Returns
    -------
    numpy.ndarray
        ``int64`` permutation of ``0..n-1``.

    Examples
    --------
    >>> p = within_block_permutation(6, 3, seed=0)
    >>> induced_block_permutation(p, 3)
    array([0, 1])
    """
    n = _check_length(n)
    r = _check_scale(r)
    keys = _rng(seed).random(n)
    blocks = np.arange(n) // r
    return np.lexsort((keys, blocks)).astype(np.int64)


def hierarchical_permutation(n: int, base: int = 2, *, seed: Seed = None) -> np.ndarray:
    """Return a random permutation of the ``base``-ary tree of blocks: it respects every ``base^k``.

    At every level ``k ≥ 1``, the full children (blocks of side ``base^(k-1)``) of each
    node (a block of side ``base^k``) are permuted uniformly and independently; a partial
    child (at the end of the axis) stays in place. The result respects every scale
    ``base^k``, ``k = 0, 1, …``, at once. For ``n = base^K`` it is uniformly distributed over
    the group of all such permutations (the iterated wreath product of symmetric groups).

    Parameters
    ----------
    n
        Number of items (any positive integer; not necessarily a power of ``base``).
    base
        The dilation factor ``λ ≥ 2``.
    seed
        Seed or ``numpy.random.Generator``.

    Returns
    -------
    numpy.ndarray
        ``int64`` permutation of ``0..n-1``.

    Examples
    --------
    >>> p = hierarchical_permutation(16, 2, seed=0)
    >>> [bool(respects_scale(p, r)) for r in (1, 2, 4, 8, 16)]
    [True, True, True, True, True]
    """
    n = _check_length(n)
    if isinstance(base, bool) or not isinstance(base, (int, np.integer)) or base < 2:
        raise ValueError(f"base must be an integer >= 2, got {base!r}")
    rng = _rng(seed)
    perm = np.arange(n, dtype=np.int64)
    child = 1
    while child < n:
        full = n // child  # full children at this level
        parents = np.arange(full) // base
        order = np.lexsort((rng.random(full), parents))  # shuffle children within parents
        level = np.arange(n, dtype=np.int64)
        level[: full * child] = (order[:, None] * child + np.arange(child)[None, :]).reshape(-1)
        perm = perm[level]
        child *= base
    return perm


def equivariance_table(
    x: np.ndarray | torch.Tensor,
    perms: dict[str, IndexLike],
    scales: Sequence[int] | None = None,
    *,
    axis: int = 0,
    threshold: object = None,
    mode: str = "occupied",
    dilation: int = 2,
) -> pd.DataFrame:
    """Check, scale by scale, whether ``T_r`` and ``N(r)`` commute with permutations of an axis.

    For each permutation ``P`` (acting on ``axis`` of ``x``) and each box side ``r``:
    whether ``P`` respects ``r`` (:func:`respects_scale`, on the box side along ``axis``);
    if it does, the largest entry of ``|T_r(P x) − P_r T_r(x)|`` (0 up to the rounding of
    sums taken in another order: exact equivariance); and the box counts ``N(r)`` of the
    occupied sets of ``x`` and ``P x``, each segmented on its own.

    Parameters
    ----------
    x
        Real array or tensor of rank 1 to 4.
    perms
        Named permutations of ``0..x.shape[axis]-1``.
    scales
        Box sides; default :func:`fractalnb.boxcount.dilation_scales` ``(x.shape, dilation)``.
    axis
        The axis the permutations act on.
    threshold, mode
        Occupancy rule and counting mode, as in :func:`fractalnb.boxcount.box_dimension`.
    dilation
        ``λ`` of the default scales.

    Returns
    -------
    pandas.DataFrame
        One row per permutation and scale: ``permutation``, ``scale``, ``respects_scale``,
        ``transform_error`` (NaN where ``P`` does not respect ``r``: no ``P_r`` exists),
        ``count_before``, ``count_after`` and ``same_count``.

    Examples
    --------
    >>> w = np.random.default_rng(0).normal(size=(8, 8))
    >>> table = equivariance_table(w, {"swap halves": [4, 5, 6, 7, 0, 1, 2, 3]})
    >>> table[["scale", "respects_scale", "same_count"]].values.tolist()[:2]
    [[1, True, True], [2, True, True]]
    """
    from .boxcount import DEFAULT_RULE, box_counts, dilation_scales, occupancy
    from .transform import fractal_transform

    _check_array(x, name="x", min_ndim=1)
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not (
            0 <= axis < x.ndim):
        raise ValueError(f"axis must be an integer in [0, {x.ndim}), got {axis!r}")
    if not isinstance(perms, dict) or not perms:
        raise ValueError("perms must be a non-empty dict {name: permutation}")
    t = torch.as_tensor(_to_numpy(x))
    n = t.shape[axis]
    sides = (dilation_scales(t.shape, dilation) if scales is None
             else [_check_scale(r, "scales") for r in scales])
    rule = DEFAULT_RULE if threshold is None else threshold
    mask = occupancy(t, rule)
    counts_before = box_counts(mask, sides, mode=mode)
    rows = []
    for name, perm in perms.items():
        p = _check_permutation(perm, n, name=f"perms[{name!r}]")
        moved = _take(t, p, axis)
        counts_after = box_counts(occupancy(moved, rule), sides, mode=mode)
        for r, c0, c1 in zip(list(sides), counts_before.tolist(), counts_after.tolist()):
            side = min(int(r), n)
            respects = _respects(p, side)
            error = math.nan
            if respects:
                coarse = fractal_transform(t, int(r))
                induced = p[::side] // side
                error = float((fractal_transform(moved, int(r))
                               - _take(coarse, induced, axis)).abs().max())
            rows.append({"permutation": name, "scale": int(r), "respects_scale": respects,
                         "transform_error": error, "count_before": int(c0),
                         "count_after": int(c1), "same_count": c0 == c1})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------
# what the fractal quantities see
# ---------------------------------------------------------------------------------------


def _magnitudes(x: Any) -> torch.Tensor:
    t = torch.as_tensor(x.detach() if isinstance(x, torch.Tensor) else np.asarray(x))
    if t.dtype == torch.bool or t.is_complex():
        raise ValueError(f"x must be real-valued, got dtype {t.dtype}")
    t = t if t.is_floating_point() else t.to(torch.float64)
    return t.abs().reshape(-1)


def global_quantities(x: np.ndarray | torch.Tensor, threshold: object = None) -> dict[str, float]:
    """Return the quantities that no permutation of the entries can change.

    For ``A = {|W| > τ}``: the threshold ``τ`` (a quantile or ``mean + k·std`` of ``|W|``:
    functions of the multiset of entries), the active density ``|A| / |Ω|``, and the
    counts at the coarsest scale ``r = max(shape)``, where one box covers ``Ω``
    (occupied: 1, since ``A`` is not empty; boundary: 1, since it is not full). ``N(1) = |A|``
    is the density times ``|Ω|``. The norms ``‖W‖₁``, ``‖W‖₂`` (Frobenius) and ``‖W‖_∞``
    are functions of the multiset too. Permuting rows, columns, or any entries leaves all
    of them unchanged (``mean + k·std`` and the sums of the norms up to the rounding of a
    sum taken in another order).

    Parameters
    ----------
    x
        Real array or tensor of rank 1 to 4.
    threshold
        Occupancy rule, as in :func:`fractalnb.boxcount.occupancy` (default
        :data:`fractalnb.boxcount.DEFAULT_RULE`).

    Returns
    -------
    dict
        ``tau``, ``density``, ``count_at_scale_1``, ``coarsest_scale``,
        ``coarsest_count``, ``coarsest_boundary_count``, ``l1_norm``, ``l2_norm`` and
        ``max_abs``.

    Examples
    --------
    >>> w = np.arange(1.0, 13.0).reshape(3, 4)
    >>> q = global_quantities(w, ("quantile", 0.5))
    >>> q["tau"], q["density"], q["coarsest_count"]
    (6.5, 0.5, 1)
    """
    from .boxcount import DEFAULT_RULE, box_counts, occupancy, occupancy_rule

    rule = occupancy_rule(DEFAULT_RULE if threshold is None else threshold)
    mask = occupancy(x, rule)
    coarsest = int(max(mask.shape))
    magnitudes = _magnitudes(x)
    tau = float(rule.threshold(magnitudes))
    m64 = magnitudes.to(torch.float64)
    return {
        "tau": tau,
        "density": float(mask.sum()) / mask.size if isinstance(mask, np.ndarray)
        else float(mask.sum()) / mask.numel(),
        "count_at_scale_1": int(mask.sum()),
        "coarsest_scale": coarsest,
        "coarsest_count": int(box_counts(mask, [coarsest])[0]),
        "coarsest_boundary_count": int(box_counts(mask, [coarsest], mode="boundary")[0]),
        "l1_norm": float(m64.sum()),
        "l2_norm": float(torch.linalg.vector_norm(m64)),
        "max_abs": float(m64.max()),
    }


_PERMUTATION_KINDS = ("uniform", "hierarchical", "block", "within_block")


def _draw_permutation(kind: str, n: int, base: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "uniform":
        return random_permutation(n, seed=rng)
    if kind == "hierarchical":
        return hierarchical_permutation(n, base, seed=rng)
    if kind == "block":
        return block_permutation(n, base, seed=rng)
    return within_block_permutation(n, base, seed=rng)


def _tensor_view(weight: torch.Tensor, unfold: bool) -> torch.Tensor:
    from .transform import unfold_conv

    return unfold_conv(weight) if unfold else weight


def permutation_spread(
    model: nn.Module,
    layer: str,
    *,
    n_permutations: int = 100,
    kind: str = "uniform",
    base: int = 2,
    threshold: object = None,
    mode: str = "occupied",
    scales: Sequence[int] | None = None,
    fit_range: object = None,
    unfold: bool = False,
    seed: Seed = 0,
    progress: bool = False,
) -> pd.DataFrame:
    """Measure how ``N(r)`` and ``D`` move under function-preserving permutations of a layer.

    Draws ``n_permutations`` permutations of the neurons of ``layer``; each permutes the
    rows of ``layer``'s weight and the columns (blocks of columns after a ``flatten``) of
    its successor's weight, as :func:`permute_neurons` does. For each permutation and each
    of the two tensors, the box counts and :func:`fractalnb.boxcount.box_dimension` are
    recomputed. Permutation 0 is the identity (the model as it is).

    Parameters
    ----------
    model
        The network; not modified.
    layer
        Name of the ``nn.Linear``/``nn.Conv2d`` whose neurons are permuted (see
        :func:`neuron_coupling`).
    n_permutations
        Number of random permutations (besides the identity).
    kind
        ``"uniform"`` (any permutation, the weak-equivariance case), ``"hierarchical"``
        (:func:`hierarchical_permutation` with ``base``), ``"block"``
        (:func:`block_permutation` of ``base``-blocks) or ``"within_block"``
        (:func:`within_block_permutation` inside ``base``-blocks).
    base
        The dilation factor ``λ`` (``"hierarchical"``) or the block side.
    threshold, mode, scales, fit_range
        Passed to :func:`fractalnb.boxcount.box_dimension` (the default scales are the
        powers of ``base``).
    unfold
        Count a conv kernel on its 2-D unfolding ``out × in·kh·kw``
        (:func:`fractalnb.transform.unfold_conv`) instead of its 4-D grid.
    seed
        Seed or ``numpy.random.Generator`` for the permutations.
    progress
        Show a ``tqdm`` progress bar.

    Returns
    -------
    pandas.DataFrame
        One row per permutation, tensor and scale: ``permutation`` (0 = identity),
        ``kind``, ``tensor`` (parameter name), ``role`` (``"rows"`` of the layer or
        ``"columns"`` of the successor), ``scale``, ``count``, ``respects_scale`` (the
        permutation, as it acts on this tensor's axis, maps boxes of this side onto boxes:
        then ``count`` equals the identity's exactly), ``dimension``, ``r2`` and ``density``.

    Examples
    --------
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> mlp = nn.Sequential(nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 8))
    >>> spread = permutation_spread(mlp, "0", n_permutations=5, threshold=("quantile", 0.8))
    >>> sorted(spread["tensor"].unique())
    ['0.weight', '2.weight']
    >>> spread.groupby(["tensor", "scale"])["count"].nunique().loc["0.weight"].tolist()[0]
    1
    """
    from ._progress import progress_bar
    from .boxcount import box_dimension

    if kind not in _PERMUTATION_KINDS:
        raise ValueError(f"kind must be one of {_PERMUTATION_KINDS}, got {kind!r}")
    n_permutations = _check_length(n_permutations, "n_permutations")
    if isinstance(base, bool) or not isinstance(base, (int, np.integer)) or base < 2:
        raise ValueError(f"base must be an integer >= 2, got {base!r}")
    coupling = _find_coupling(model, layer)
    modules = dict(model.named_modules())
    weights = {
        "rows": (f"{layer}.weight", modules[layer].weight.detach()),
        "columns": (f"{coupling.successor}.weight", modules[coupling.successor].weight.detach()),
    }
    rng = _rng(seed)
    perms = [np.arange(coupling.width, dtype=np.int64)] + [
        _draw_permutation(kind, coupling.width, int(base), rng) for _ in range(n_permutations)
    ]
    rows = []
    bar = progress_bar(perms, desc=f"permutations of {layer}", enabled=progress)
    for pid, perm in enumerate(bar):
        for role, (name, weight) in weights.items():
            if role == "rows":
                permuted, axis_perm = permute_rows(weight, perm), perm
            else:
                permuted = permute_columns(weight, perm, block=coupling.block)
                axis_perm = expand_permutation(perm, coupling.block)
                if unfold and permuted.ndim == 4:  # unfolded columns: c·kh·kw + (i, j)
                    axis_perm = expand_permutation(axis_perm, permuted.shape[2] * permuted.shape[3])
            x = _tensor_view(permuted, unfold)
            fit = box_dimension(x, scales=scales, threshold=threshold, mode=mode,
                                dilation=int(base), fit_range=fit_range)
            axis_len = axis_perm.size
            for r, count in zip(fit.scales.tolist(), fit.counts.tolist()):
                rows.append({
                    "permutation": pid, "kind": "identity" if pid == 0 else kind,
                    "tensor": name, "role": role, "scale": int(r), "count": int(count),
                    "respects_scale": bool(r >= axis_len or _respects(axis_perm, int(r))),
                    "dimension": fit.dimension, "r2": fit.r2, "density": fit.density,
                })  # fmt: skip
    return pd.DataFrame(rows)


_REPORT_RULES = ("support", "absolute", "quantile", "mean_std")


def rescaling_count_report(
    model: nn.Module,
    layer: str,
    scales: ScalesLike,
    *,
    method: str = "intertwiner",
    absolute: float | None = None,
    quantile: float = 0.9,
    k: float = 1.0,
    count_scales: Sequence[int] | None = None,
    mode: str = "occupied",
    dilation: int = 2,
    unfold: bool = False,
) -> pd.DataFrame:
    """Report which occupancy rules see a function-preserving positive rescaling.

    The model is rescaled by :func:`rescale_neurons` (``method="intertwiner"``) or
    :func:`rescale_before_batchnorm` (``method="batchnorm"``); for the weight of ``layer``
    and of its successor, the occupied set and the box counts are compared before and
    after under four rules:

    ``support``
        ``|W| > 0``: invariant under every positive rescaling.
    ``absolute``
        ``|W| > τ`` with one fixed ``τ`` (``absolute``; by default the ``quantile`` of the
        original tensor's ``|W|``, so that before rescaling it agrees with the next rule):
        not invariant.
    ``quantile``
        ``|W| > q-quantile of |W|``, recomputed on each tensor: invariant under a global
        scale, not under a per-neuron ``Λ``.
    ``mean_std``
        ``|W| > mean|W| + k·std|W|``: likewise.

    An empty or full occupied set is reported (count 0, or every box), not refused.

    Parameters
    ----------
    model
        The network; not modified.
    layer
        Name of the ``nn.Linear``/``nn.Conv2d`` whose neurons are rescaled.
    scales
        One factor ``λ_i > 0`` per neuron.
    method
        ``"intertwiner"`` or ``"batchnorm"``.
    absolute
        The fixed threshold of the ``absolute`` rule (``None``: see above).
    quantile, k
        Parameters of the ``quantile`` and ``mean_std`` rules.
    count_scales
        Box sides (default: powers of ``dilation`` up to the tensor's largest side).
    mode
        ``"occupied"`` or ``"boundary"``.
    dilation
        ``λ`` of the default box sides.
    unfold
        Count a conv kernel on its 2-D unfolding (:func:`fractalnb.transform.unfold_conv`).

    Returns
    -------
    pandas.DataFrame
        One row per tensor, rule and scale: ``tensor``, ``role`` (``"layer"`` or
        ``"successor"``), ``rule``, ``scale``, ``count_before``, ``count_after``,
        ``tau_before``, ``tau_after``, ``density_before``, ``density_after``,
        ``same_set`` (the occupied sets are identical) and ``same_count``.

    Examples
    --------
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> mlp = nn.Sequential(nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 4))
    >>> report = rescaling_count_report(mlp, "0", random_scales(8, seed=0))
    >>> report.groupby("rule")["same_set"].all().to_dict()["support"]
    True
    """
    from .boxcount import Absolute, MeanStd, Quantile, box_counts, dilation_scales

    if method == "intertwiner":
        rescaled = rescale_neurons(model, layer, scales)
    elif method == "batchnorm":
        rescaled = rescale_before_batchnorm(model, layer, scales)
    else:
        raise ValueError(f"method must be 'intertwiner' or 'batchnorm', got {method!r}")
    if absolute is not None and not (math.isfinite(absolute) and absolute >= 0):
        raise ValueError(f"absolute must be a finite number >= 0, got {absolute!r}")
    coupling = _find_coupling(model, layer)
    before, after = dict(model.named_modules()), dict(rescaled.named_modules())
    rows = []
    for role, name in (("layer", layer), ("successor", coupling.successor)):
        w0 = _tensor_view(before[name].weight.detach(), unfold)
        w1 = _tensor_view(after[name].weight.detach(), unfold)
        m0, m1 = _magnitudes(w0).reshape(w0.shape), _magnitudes(w1).reshape(w1.shape)
        tau_abs = absolute if absolute is not None else Quantile(quantile).threshold(m0.reshape(-1))
        rules = {
            "support": (Absolute(0.0), Absolute(0.0)),
            "absolute": (Absolute(tau_abs), Absolute(tau_abs)),
            "quantile": (Quantile(quantile), Quantile(quantile)),
            "mean_std": (MeanStd(k), MeanStd(k)),
        }
        sides = (dilation_scales(w0.shape, dilation) if count_scales is None
                 else np.asarray(count_scales, dtype=np.int64))
        for rule_name, (rule0, rule1) in rules.items():
            tau0 = float(rule0.threshold(m0.reshape(-1)))
            tau1 = float(rule1.threshold(m1.reshape(-1)))
            a0, a1 = m0 > tau0, m1 > tau1
            n0 = box_counts(a0, sides, mode=mode)
            n1 = box_counts(a1, sides, mode=mode)
            same_set = bool(torch.equal(a0, a1))
            for r, c0, c1 in zip(sides.tolist(), n0.tolist(), n1.tolist()):
                rows.append({
                    "tensor": f"{name}.weight", "role": role, "rule": rule_name,
                    "scale": int(r), "count_before": int(c0), "count_after": int(c1),
                    "tau_before": tau0, "tau_after": tau1,
                    "density_before": float(a0.float().mean()),
                    "density_after": float(a1.float().mean()),
                    "same_set": same_set, "same_count": c0 == c1,
                })  # fmt: skip
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class RescalingDefect:
    """How far ``T_r`` is from commuting with a diagonal rescaling along one axis.

    Attributes
    ----------
    defect
        ``|T_r(Λx) − M_r T_r(x)|`` on the coarse grid, ``M_r`` the mid-range of ``λ`` over
        each box of the axis.
    bound
        ``½ osc_r(λ) · T_r(|x|)``: ``defect ≤ bound`` entrywise (up to rounding).
    box_constant
        Whether ``λ`` is constant on every box of the axis (then ``M_r = Λ_r``, the bound is
        0 and ``T_r(Λx) = Λ_r T_r(x)``).
    """

    defect: np.ndarray
    bound: np.ndarray
    box_constant: bool


def rescaling_commutation_defect(
    x: np.ndarray | torch.Tensor, scales: ScalesLike, r: int | Sequence[int], *, axis: int = 0
) -> RescalingDefect:
    """Measure ``T_r(Λx) − M_r T_r(x)`` for ``Λ = diag(scales)`` acting along ``axis``.

    By linearity, ``T_r(Λx)_B = Σ_{i ∈ B} λ_i x_i``. With ``m_B`` the mid-range of ``λ``
    over the box's extent along ``axis``,
    ``|Σ (λ_i − m_B) x_i| ≤ ½ (max_B λ − min_B λ) Σ |x_i|``; so ``T_r`` commutes with ``Λ``
    exactly when ``λ`` is constant on boxes (a global scale in particular), and otherwise
    up to the oscillation of ``λ`` inside a box times the box's mass ``T_r(|x|)``.

    Parameters
    ----------
    x
        Real array or tensor of rank 1 to 4.
    scales
        Positive factors, one per index along ``axis`` (after a ``flatten``, repeat each
        neuron's factor over its block).
    r
        Box side, as for :func:`fractalnb.transform.fractal_transform`.
    axis
        The axis ``Λ`` acts on (0: rows, 1: columns).

    Returns
    -------
    RescalingDefect

    Examples
    --------
    >>> w = np.ones((4, 3))
    >>> d = rescaling_commutation_defect(w, [1.0, 1.0, 2.0, 2.0], 2)
    >>> d.box_constant, float(d.defect.max())
    (True, 0.0)
    >>> d = rescaling_commutation_defect(w, [1.0, 2.0, 2.0, 2.0], 2)
    >>> d.box_constant, float(d.defect.max()) <= float(d.bound.max())
    (False, True)
    """
    from .transform import fractal_transform

    t = torch.as_tensor(_to_numpy(x))
    if not isinstance(axis, (int, np.integer)) or not (0 <= axis < t.ndim):
        raise ValueError(f"axis must be an integer in [0, {t.ndim}), got {axis!r}")
    if not t.is_floating_point():
        raise ValueError(f"x must have a real floating dtype, got {t.dtype}")
    lam = _check_scales(scales, t.shape[axis])
    side = r if isinstance(r, (int, np.integer)) else list(r)[axis]
    side = min(int(side), lam.size)  # a box at least as long as the axis: one box
    t64 = t.to(torch.float64)
    scaled = _multiply_axis(t64, lam, axis)
    lam_max = fractal_transform(lam, side, reduce="max")
    lam_min = fractal_transform(lam, side, reduce="min")
    mid = (lam_max + lam_min) / 2
    coarse = fractal_transform(t64, r)
    defect = (fractal_transform(scaled, r) - _multiply_axis(coarse, mid, axis)).abs()
    bound = _multiply_axis(fractal_transform(t64.abs(), r), (lam_max - lam_min) / 2, axis)
    return RescalingDefect(
        defect=defect.numpy(), bound=bound.numpy(), box_constant=bool(np.all(lam_max == lam_min))
    )


def rescaling_defect_table(
    x: np.ndarray | torch.Tensor,
    factors: dict[str, ScalesLike],
    scales: Sequence[int] | None = None,
    *,
    axis: int = 0,
    dilation: int = 2,
) -> pd.DataFrame:
    """Tabulate, scale by scale, how far ``T_r`` is from commuting with several rescalings.

    Runs :func:`rescaling_commutation_defect` for every named factor vector and every box
    side, and summarises each coarse grid by its largest defect, the defect relative to
    the mass ``Σ T_r(|x|)`` and the largest ratio ``defect / bound`` (at most 1).

    Parameters
    ----------
    x
        Real array or tensor of rank 1 to 4.
    factors
        Named positive factor vectors, one factor per index along ``axis``.
    scales
        Box sides; default :func:`fractalnb.boxcount.dilation_scales` ``(x.shape, dilation)``.
    axis
        The axis the factors act on.
    dilation
        ``λ`` of the default scales.

    Returns
    -------
    pandas.DataFrame
        One row per factor vector and scale: ``factors``, ``scale``, ``box_constant``,
        ``max_defect``, ``relative_defect`` and ``max_ratio`` (``defect / bound`` where the
        bound is positive; 0 where it is 0).

    Examples
    --------
    >>> w = np.random.default_rng(0).normal(size=(8, 4))
    >>> table = rescaling_defect_table(w, {"global": np.full(8, 3.0),
    ...                                    "per row": random_scales(8, seed=0)})
    >>> table.groupby("factors")["box_constant"].all().to_dict()
    {'global': True, 'per row': False}
    """
    from .boxcount import dilation_scales
    from .transform import fractal_transform

    _check_array(x, name="x", min_ndim=1)
    if not isinstance(factors, dict) or not factors:
        raise ValueError("factors must be a non-empty dict {name: factor vector}")
    t = torch.as_tensor(_to_numpy(x)).to(torch.float64)
    sides = (dilation_scales(t.shape, dilation).tolist() if scales is None
             else [_check_scale(r, "scales") for r in scales])
    rows = []
    for name, lam in factors.items():
        for r in sides:
            d = rescaling_commutation_defect(t, lam, int(r), axis=axis)
            mass = float(fractal_transform(t.abs(), int(r)).sum())
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(d.bound > 0, d.defect / np.where(d.bound > 0, d.bound, 1), 0.0)
            rows.append({"factors": name, "scale": int(r), "box_constant": d.box_constant,
                         "max_defect": float(d.defect.max()),
                         "relative_defect": float(d.defect.sum()) / mass if mass else 0.0,
                         "max_ratio": float(ratio.max())})
    return pd.DataFrame(rows)
