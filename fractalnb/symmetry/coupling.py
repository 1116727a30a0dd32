"""Which layers share neurons: the coupling of a model's layers, traced with torch.fx."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F  # noqa: N812
from torch import fx, nn

from .._validate import describe
from ._arguments import _check_model

__all__ = ["permutable_layers"]


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
class _Coupling:
    """How the neurons of one layer are read by the next: what a symmetry must touch.

    ``width`` neurons (rows, or output channels, of ``layer``) are read by ``successor``
    through ``steps``, among them the BatchNorms ``batchnorms`` (permuted along with the
    layer); each neuron owns ``block`` columns of the successor's weight (1, or ``h·w``
    after a ``flatten``).
    """

    layer: str
    successor: str
    width: int
    block: int
    batchnorms: tuple[str, ...]
    steps: tuple[_Step, ...]


def _trace(model: nn.Module) -> fx.GraphModule:
    _check_model(model)
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
) -> _Coupling:
    """Find the layer that reads the neurons of ``layer`` and what lies in between.

    The data flow is traced with ``torch.fx``. The neurons must flow, through BatchNorm,
    element-wise activations, pooling, dropout and ``flatten`` only, into exactly one
    ``nn.Linear`` or ``nn.Conv2d``; otherwise a ``ValueError`` says why.
    """
    _check_model(model)
    if not isinstance(layer, str):
        raise TypeError(f"layer must be a module name (str), got {describe(layer)}")
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
    return _Coupling(
        layer=layer,
        successor=successor_name,
        width=width,
        block=block,
        batchnorms=bn_names,
        steps=tuple(steps),
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


def permutable_layers(model: nn.Module) -> pd.DataFrame:
    """List every weight layer of a model and whether its neurons can be permuted, rescaled.

    The data flow is traced with ``torch.fx``. The neurons of a layer can be permuted when
    they flow, through BatchNorm, element-wise activations, pooling, dropout and
    ``flatten`` only, into exactly one ``nn.Linear`` or ``nn.Conv2d`` (the *successor*,
    which compensates); they can be rescaled when, in addition, everything after the last
    BatchNorm on the way (or after the layer) is positively homogeneous. An output layer,
    neurons that also feed a residual connection or a branch, and unsupported operations
    on the way make a layer not permutable, with the reason.

    Parameters
    ----------
    model
        The network (``nn.Sequential`` MLPs, VGG-like CNNs, torchvision ResNets), traceable
        by ``torch.fx`` (no data-dependent control flow).

    Returns
    -------
    pandas.DataFrame
        One row per ``nn.Linear``/``nn.Conv2d``: ``layer``, ``successor``, ``width``
        (neurons), ``block`` (columns of the successor per neuron: ``h·w`` after a
        ``flatten``), ``batchnorms`` (on the way), ``permutable``, ``rescalable`` and
        ``reason`` (why not, empty when both apply).

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
        why = _rescalable(c.steps, modules)
        rows.append({"layer": name, "successor": c.successor, "width": c.width,
                     "block": c.block, "batchnorms": c.batchnorms, "permutable": True,
                     "rescalable": why is None, "reason": "" if why is None else why})
    return pd.DataFrame(rows)
