"""Training configurations and the recipes of the book's models."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import torch
from torch import nn

from .. import profiles
from .models import STANDARD_WIDTHS

__all__ = [
    "OPTIMIZERS",
    "TrainConfig",
    "RECIPES",
    "recipe",
    "recipe_table",
]


OPTIMIZERS = ("sgd", "adamw")
"""Optimisers :func:`train_model` knows."""


ExtraLoss = Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]


Metric = Callable[[nn.Module], "float | Mapping[str, float]"]


@dataclass(frozen=True)
class TrainConfig:
    """A training recipe: everything but the model, the seed and the data variant.

    Attributes
    ----------
    width : int or None
        First-stage width passed to :func:`fractalnb.training.build_model` (``None``: standard).
    epochs : int
        Passes over the training set.
    batch_size : int
        Training batch size.
    lr : float
        Peak learning rate (cosine-annealed to 0 over all steps).
    momentum : float
        SGD momentum (ignored by AdamW).
    weight_decay : float
        L2 weight decay (SGD) or decoupled weight decay (AdamW).
    optimizer : str
        ``"sgd"`` or ``"adamw"``.
    warmup_epochs : float
        Linear warm-up of the learning rate over this many epochs before the cosine decay.
    steps_per_epoch : int or None
        Stop each epoch after this many batches (``None``: the whole training set).
    """

    width: int | None = None
    epochs: int = 1
    batch_size: int = 128
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 5e-4
    optimizer: str = "sgd"
    warmup_epochs: float = 0.0
    steps_per_epoch: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the recipe as a plain dict (JSON-serialisable)."""
        return dataclasses.asdict(self)


RECIPES: dict[str, dict[str, TrainConfig]] = {
    # quick: 2 CPU cores, the CIFAR-10 sample; narrow networks, few epochs.
    # full: the standard widths and a standard 200-epoch SGD + cosine recipe.
    "custom_cnn": {
        # about 40 s on one idle CPU core; > 50% test accuracy on the sample
        "quick": TrainConfig(width=16, epochs=8, batch_size=64, lr=0.05),
        "full": TrainConfig(width=None, epochs=100, batch_size=128, lr=0.05),
    },
    "resnet18": {
        "quick": TrainConfig(width=8, epochs=5, batch_size=64, lr=0.05),
        "full": TrainConfig(width=None, epochs=200, batch_size=128, lr=0.1),
    },
    "vgg16": {
        "quick": TrainConfig(width=8, epochs=6, batch_size=64, lr=0.05),
        "full": TrainConfig(width=None, epochs=200, batch_size=128, lr=0.05),
    },
}
"""Training recipe per model and profile, used by :func:`trained_model`."""


def recipe(name: str, profile: str | None = None) -> TrainConfig:
    """Return the training recipe of a model in a profile (the active one by default).

    Parameters
    ----------
    name
        A key of :data:`RECIPES`.
    profile
        ``"quick"`` or ``"full"``; :func:`fractalnb.profiles.current` when ``None``.

    Examples
    --------
    >>> recipe("custom_cnn", "full").epochs
    100
    """
    profile = profiles.pick(quick="quick", full="full", profile=profile)
    if name not in RECIPES:
        raise ValueError(
            f"no training recipe for model {name!r}; known: {sorted(RECIPES)} "
            "(pass every TrainConfig field to trained_model for another model)"
        )
    return RECIPES[name][profile]


def recipe_table(profile: str | None = None) -> pd.DataFrame:
    """Tabulate the training recipe of every model in a profile (the active one by default).

    Parameters
    ----------
    profile
        ``"quick"`` or ``"full"``; :func:`fractalnb.profiles.current` when ``None``.

    Returns
    -------
    pandas.DataFrame
        Indexed by model name, one column per :class:`TrainConfig` field; ``width`` holds
        the resolved first-stage width (the standard one where the recipe says ``None``).

    Examples
    --------
    >>> recipe_table("full").loc["resnet18", "width"]
    np.int64(64)
    """
    profile = profiles.pick(quick="quick", full="full", profile=profile)
    rows = []
    for name in RECIPES:
        config = recipe(name, profile).to_dict()
        if config["width"] is None:
            config["width"] = STANDARD_WIDTHS[name]
        rows.append({"model": name, **config})
    return pd.DataFrame(rows).set_index("model")


def _check_config(config: TrainConfig) -> None:
    if not isinstance(config.epochs, int) or config.epochs < 1:
        raise ValueError(f"epochs must be an integer >= 1, got {config.epochs!r}")
    if not isinstance(config.batch_size, int) or config.batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {config.batch_size!r}")
    if not (config.lr > 0 and math.isfinite(config.lr)):
        raise ValueError(f"lr must be a finite number > 0, got {config.lr!r}")
    if not 0 <= config.momentum < 1:
        raise ValueError(f"momentum must be in [0, 1), got {config.momentum!r}")
    if not (config.weight_decay >= 0 and math.isfinite(config.weight_decay)):
        raise ValueError(f"weight_decay must be >= 0, got {config.weight_decay!r}")
    if config.optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {config.optimizer!r}")
    if not 0 <= config.warmup_epochs < config.epochs:
        raise ValueError(
            f"warmup_epochs must be in [0, epochs={config.epochs}), got {config.warmup_epochs!r}"
        )
    if config.steps_per_epoch is not None and (
        not isinstance(config.steps_per_epoch, int) or config.steps_per_epoch < 1
    ):
        raise ValueError(f"steps_per_epoch must be None or an integer >= 1, "
                         f"got {config.steps_per_epoch!r}")
