"""Function-preserving symmetries of a whole model.

Neuron permutations and intertwiner rescalings, applied to a copy of the model with their
compensation; :func:`function_preservation` draws one per layer and measures the change.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from .._validate import choice, describe, real
from .._validate import rng as generator
from ._arguments import (
    IndexLike,
    ScalesLike,
    Seed,
    _check_factors,
    _check_inputs,
    _check_model,
    _check_permutation,
)
from .coupling import _find_coupling, _rescalable, permutable_layers
from .model_checks import _forward, function_distance
from .tensors import _expand_permutation, _multiply_axis, random_permutation, random_scales

__all__ = [
    "permute_neurons",
    "rescale_neurons",
    "rescale_before_batchnorm",
    "function_preservation",
]


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
        :func:`permutable_layers` for what is supported). It is not modified.
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
        columns = torch.as_tensor(_expand_permutation(p, coupling.block))
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
        For a layer that :func:`permutable_layers` marks not permutable; also for
        non-positive or non-finite scales, and when an operation that is not positively
        homogeneous (``tanh``, ``GELU`` …) lies between the scaled tensor and the successor.

    Examples
    --------
    >>> mlp = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    >>> twin = rescale_neurons(mlp, "0", [1.0, 2.0, 4.0])
    >>> bool(torch.allclose(twin[2].weight * torch.tensor([1.0, 2.0, 4.0]), mlp[2].weight))
    True
    """
    coupling = _find_coupling(model, layer)
    s = _check_factors(scales, coupling.width)
    twin, modules = _copy_with(model)
    why = _rescalable(coupling.steps, modules)
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
    s = _check_factors(scales, coupling.width)
    if not coupling.batchnorms:
        raise ValueError(f"no BatchNorm between '{layer}' and '{coupling.successor}' to absorb "
                         "the scales (use rescale_neurons)")
    steps = coupling.steps
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


_SYMMETRIES = ("permutation", "rescaling", "batchnorm")


def _check_layer_names(layers: object, model: nn.Module) -> None:
    if isinstance(layers, str) or not isinstance(layers, Sequence):
        raise TypeError(f"layers must be a sequence of layer names, got "
                        f"{describe(layers)}")
    if not layers:
        raise ValueError("layers is empty: name at least one layer")
    modules = dict(model.named_modules())
    for name in layers:
        if not isinstance(name, str):
            raise TypeError(f"layers must hold layer names (str), got {describe(name)}")
        if name not in modules:
            raise ValueError(f"layers holds {name!r}, which is not a module of the model")


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
        Seed (an integer ``>= 0``) or ``numpy.random.Generator``.

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
    _check_model(model)
    _check_inputs(inputs)
    choice(symmetry, "symmetry", _SYMMETRIES)
    real(max_factor, "max_factor", 1, open_min=True)
    rng = generator(seed)
    if layers is not None:
        _check_layer_names(layers, model)
    else:
        table = permutable_layers(model)
        if symmetry == "rescaling":
            table = table[table["rescalable"]]
        elif symmetry == "batchnorm":
            table = table[table["batchnorms"].map(len) > 0]
        layers = table.loc[table["permutable"], "layer"].tolist()
        if not layers:
            raise ValueError(f"model has no layer the {symmetry} symmetry applies to")
    originals = dict(model.named_modules())
    was_training = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        with torch.no_grad():
            scale = float(_forward(model, inputs).abs().max())
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
