"""The three CIFAR-10 networks of the book: ResNet-18, VGG-16 (with BatchNorm) and a custom CNN.

All three take ``(n, 3, 32, 32)`` images and return ``(n, num_classes)`` logits.

``"resnet18"``
    torchvision's ``ResNet`` built from ``BasicBlock`` layers ``[2, 2, 2, 2]``
    :cite:p:`he2016deep`, adapted to 32×32 inputs the standard way:
    a 3×3 stride-1 stem convolution and no max-pool. Stage widths ``w·(1, 2, 4, 8)``,
    ``w = 64`` by default: 11,173,962 parameters for 10 classes.
``"vgg16"``
    The VGG-16 convolutional stack (configuration D of :cite:t:`simonyan2015very`) with
    BatchNorm after every convolution, built by torchvision's ``make_layers``, followed
    by a CIFAR-sized classifier: at 32×32 the five max-pools leave a ``1×1`` map of
    ``8w`` channels, read by ``Linear(8w, 8w)`` → ReLU → ``Linear(8w, num_classes)``
    (no dropout; PyTorch's default ``Linear`` initialisation, since torchvision's
    ``N(0, 0.01)`` is sized for 4096-wide layers and stalls the training of narrow ones).
    Stage widths ``w·(1, 2, 4, 8, 8)``, ``w = 64`` by default: 14,990,922 parameters for
    10 classes.
``"custom_cnn"``
    Our own small network, a flat :class:`torch.nn.Sequential`: three stages
    ``conv 3×3 → BatchNorm → ReLU → max-pool 2×2`` with ``w, 2w, 4w`` channels, then
    ``flatten`` (``4w`` channels × 4 × 4 positions) → ``fc1: Linear(64w, 8w)`` → ReLU →
    ``fc2: Linear(8w, num_classes)``. ``w = 32`` by default: 620,586 parameters, most of
    them in ``fc1``, a ``256 × 2048`` matrix.

``width`` sets ``w`` (the channel count of the first stage); smaller widths give the
quick profile's cheaper networks. Initialisations follow torchvision (He normal,
``fan_out``, for convolutions; BatchNorm ``γ = 1, β = 0``).

Examples
--------
>>> import torch
>>> from fractalnb.training import build_model, parameter_count
>>> model = build_model("custom_cnn", width=8)
>>> model(torch.zeros(2, 3, 32, 32)).shape
torch.Size([2, 10])
>>> parameter_count(build_model("resnet18"))
11173962
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping

import pandas as pd
import torch
from torch import nn
from torchvision.models import vgg as tv_vgg
from torchvision.models.resnet import BasicBlock, ResNet

from .. import _validate
from .._validate import mapping

__all__ = [
    "build_model",
    "parameter_count",
    "parameter_table",
]


_STANDARD_WIDTHS: dict[str, int] = {"resnet18": 64, "vgg16": 64, "custom_cnn": 32}
"""First-stage channel count ``w`` of each model at its standard (paper) width."""


_WIDTH_SQUARED = {"resnet18": 2724, "vgg16": 3655, "custom_cnn": 602}
"""The coefficient of ``w²`` in each model's parameter count (their conv and linear
matrices): ``build_model`` refuses up front a width whose network would not fit."""


def _init_conv_bn(model: nn.Module) -> None:
    """Initialise as torchvision does: He normal (fan_out) convolutions, BatchNorm 1 / 0."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, (nn.BatchNorm2d, nn.BatchNorm1d)):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)


def _resnet18(width: int, num_classes: int) -> nn.Module:
    model = ResNet(BasicBlock, [2, 2, 2, 2], num_classes=num_classes)
    # The CIFAR stem: 3x3 stride-1 convolution, no max-pool; then the four stages rebuilt
    # at the requested width with torchvision's own block factory.
    model.inplanes = width
    model.conv1 = nn.Conv2d(3, width, kernel_size=3, stride=1, padding=1, bias=False)
    model.bn1 = nn.BatchNorm2d(width)
    model.maxpool = nn.Identity()
    model.layer1 = model._make_layer(BasicBlock, width, 2)
    model.layer2 = model._make_layer(BasicBlock, 2 * width, 2, stride=2)
    model.layer3 = model._make_layer(BasicBlock, 4 * width, 2, stride=2)
    model.layer4 = model._make_layer(BasicBlock, 8 * width, 2, stride=2)
    model.fc = nn.Linear(8 * width, num_classes)
    _init_conv_bn(model)
    return model


class CifarVGG(nn.Module):
    """VGG for 32×32 inputs: a BatchNorm'd convolutional stack and a small classifier.

    Parameters
    ----------
    features
        The convolutional stack (``torchvision.models.vgg.make_layers``).
    channels
        Channel count at the end of ``features``.
    num_classes
        Number of outputs.
    """

    def __init__(self, features: nn.Sequential, channels: int, num_classes: int) -> None:
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(
            nn.Linear(channels, channels),
            nn.ReLU(inplace=True),
            nn.Linear(channels, num_classes),
        )
        # convolutions and BatchNorm as torchvision; the classifier keeps PyTorch's default
        # Linear initialisation (uniform, scale 1/sqrt(fan_in)): torchvision's N(0, 0.01)
        # is sized for 4096-wide layers and starves a narrow classifier of gradient
        _init_conv_bn(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the logits of a batch ``(n, 3, 32, 32)``."""
        return self.classifier(self.flatten(self.avgpool(self.features(x))))


def _vgg16(width: int, num_classes: int) -> nn.Module:
    scale = width / 64
    cfg = [v if v == "M" else int(round(v * scale)) for v in tv_vgg.cfgs["D"]]
    features = tv_vgg.make_layers(cfg, batch_norm=True)
    return CifarVGG(features, cfg[-2], num_classes)


def _custom_cnn(width: int, num_classes: int) -> nn.Module:
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    channels = [3, width, 2 * width, 4 * width]
    for stage in range(1, 4):
        layers[f"conv{stage}"] = nn.Conv2d(channels[stage - 1], channels[stage], 3, padding=1,
                                           bias=False)
        layers[f"bn{stage}"] = nn.BatchNorm2d(channels[stage])
        layers[f"relu{stage}"] = nn.ReLU(inplace=True)
        layers[f"pool{stage}"] = nn.MaxPool2d(2)
    layers["flatten"] = nn.Flatten()
    layers["fc1"] = nn.Linear(channels[3] * 4 * 4, 8 * width)
    layers["relu4"] = nn.ReLU(inplace=True)
    layers["fc2"] = nn.Linear(8 * width, num_classes)
    model = nn.Sequential(layers)
    _init_conv_bn(model)
    return model


_BUILDERS: dict[str, Callable[[int, int], nn.Module]] = {
    "resnet18": _resnet18,
    "vgg16": _vgg16,
    "custom_cnn": _custom_cnn,
}


_MODEL_NAMES: tuple[str, ...] = ("resnet18", "vgg16", "custom_cnn")
"""The book's three CIFAR-10 models."""


def build_model(name: str, *, width: int | None = None, num_classes: int = 10) -> nn.Module:
    """Build one of the book's CIFAR-10 networks, freshly initialised from torch's global RNG.

    Parameters
    ----------
    name
        ``"resnet18"``, ``"vgg16"`` or ``"custom_cnn"``.
    width
        Channel count ``w`` of the first stage (the others are multiples of it, see the
        module docstring); ``None`` gives the standard width (64, 64 and 32).
    num_classes
        Number of output logits.

    Returns
    -------
    torch.nn.Module
        The network, in training mode, on the CPU. Seed it with ``torch.manual_seed``
        before calling for a reproducible initialisation.

    Raises
    ------
    TypeError
        For a ``name`` that is not a string, or a ``width`` / ``num_classes`` that is not
        an integer.
    ValueError
        For an unknown ``name``, ``width`` / ``num_classes`` below 1, or a network of more
        than the package budget ``MAX_ELEMENTS`` (about 10^9) parameters.

    Examples
    --------
    >>> model = build_model("vgg16", width=8)
    >>> model(torch.zeros(1, 3, 32, 32)).shape
    torch.Size([1, 10])
    """
    name, width, num_classes = _build_args(name, width, num_classes)
    return _BUILDERS[name](width, num_classes)


def _build_args(name: object, width: object, num_classes: object) -> tuple[str, int, int]:
    """Check the arguments of :func:`build_model`; return them with the width resolved."""
    name = _validate.choice(name, "name", _MODEL_NAMES)
    width = _STANDARD_WIDTHS[name] if width is None else _validate.integer(width, "width", 1)
    num_classes = _validate.integer(num_classes, "num_classes", 1)
    size = _WIDTH_SQUARED[name] * width**2 + 8 * width * num_classes
    _validate.budget(size, "width and num_classes", _validate.MAX_ELEMENTS, "parameters (about)")
    return name, width, num_classes


def parameter_count(model: nn.Module, *, trainable_only: bool = False) -> int:
    """Return the number of parameters (scalar entries) of a model.

    Parameters
    ----------
    model
        Any module.
    trainable_only
        Count only parameters with ``requires_grad``.

    Examples
    --------
    >>> parameter_count(nn.Linear(3, 2))
    8
    """
    _validate.module(model, "model")
    trainable_only = _validate.boolean(trainable_only, "trainable_only")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def parameter_table(models: Mapping[str, nn.Module]) -> pd.DataFrame:
    """Tabulate parameter counts by layer kind, one row per model.

    Parameters
    ----------
    models
        Display name → model.

    Returns
    -------
    pandas.DataFrame
        Indexed by model name; columns ``parameters`` (total), ``conv``, ``linear``,
        ``batchnorm`` (parameters in each kind of layer), ``other``, ``tensors`` (number of
        parameter tensors) and ``conv layers`` / ``linear layers`` (module counts).

    Examples
    --------
    >>> parameter_table({"fc": nn.Linear(3, 2)})["parameters"].item()
    8
    """
    mapping(models, "models")
    rows = []
    for label, model in models.items():
        _validate.module(model, f"models[{label!r}]")
        kinds = {"conv": 0, "linear": 0, "batchnorm": 0, "other": 0}
        counts = {"conv layers": 0, "linear layers": 0}
        for module in model.modules():
            own = sum(p.numel() for p in module.parameters(recurse=False))
            if isinstance(module, nn.modules.conv._ConvNd):
                kinds["conv"] += own
                counts["conv layers"] += 1
            elif isinstance(module, nn.Linear):
                kinds["linear"] += own
                counts["linear layers"] += 1
            elif isinstance(module, nn.modules.batchnorm._NormBase):
                kinds["batchnorm"] += own
            else:
                kinds["other"] += own
        rows.append({"model": label, "parameters": parameter_count(model), **kinds,
                     "tensors": len(list(model.parameters())), **counts})
    return pd.DataFrame(rows).set_index("model")
