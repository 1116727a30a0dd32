"""Training configurations and the recipes of the book's models."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from .. import _validate, profiles
from .models import _MODEL_NAMES, _STANDARD_WIDTHS

__all__ = [
    "TrainConfig",
    "recipe_table",
]


_OPTIMIZERS = ("sgd", "adamw")
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

    Every field is checked when the recipe is made: a wrong type raises ``TypeError``, a
    value out of range (``epochs < 1``, ``lr <= 0``, ``momentum`` outside ``[0, 1)``,
    ``warmup_epochs`` outside ``[0, epochs)`` …) raises ``ValueError`` naming the field.

    Examples
    --------
    >>> TrainConfig(epochs=3, lr=0.1).warmup_epochs
    0.0
    >>> TrainConfig(epochs=1.5)
    Traceback (most recent call last):
    ...
    TypeError: epochs must be an integer, got float 1.5
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

    def __post_init__(self) -> None:
        def store(field: str, value: object) -> None:
            object.__setattr__(self, field, value)

        # NumPy scalars become Python numbers (the recipe is stored as JSON); Python ints
        # and floats are kept as given, so a recipe's cache key does not change
        def number(field: str, minimum: float, **bounds: Any) -> None:
            value = getattr(self, field)
            _validate.real(value, field, minimum, **bounds)
            if isinstance(value, (np.floating, np.integer)):
                store(field, float(value))

        if self.width is not None:
            store("width", _validate.integer(self.width, "width", 1))
        store("epochs", _validate.integer(self.epochs, "epochs", 1))
        store("batch_size", _validate.integer(self.batch_size, "batch_size", 1))
        number("lr", 0, open_min=True)
        number("momentum", 0, maximum=1, open_max=True)
        number("weight_decay", 0)
        _validate.choice(self.optimizer, "optimizer", _OPTIMIZERS)
        number("warmup_epochs", 0, maximum=self.epochs, open_max=True)
        if self.steps_per_epoch is not None:
            store("steps_per_epoch",
                  _validate.integer(self.steps_per_epoch, "steps_per_epoch", 1))

    def to_dict(self) -> dict[str, Any]:
        """Return the recipe as a plain dict (JSON-serialisable)."""
        return dataclasses.asdict(self)


_RECIPES: dict[str, dict[str, TrainConfig]] = {
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


def _recipe(name: str, profile: str | None = None) -> TrainConfig:
    """Return the training recipe of a model in a profile (the active one by default).

    Parameters
    ----------
    name
        ``"resnet18"``, ``"vgg16"`` or ``"custom_cnn"``.
    profile
        ``"quick"`` or ``"full"``; :func:`fractalnb.profiles.current` when ``None``.

    Examples
    --------
    >>> _recipe("custom_cnn", "full").epochs
    100
    """
    name = _validate.choice(name, "name", _MODEL_NAMES)
    profile = profiles.pick(quick="quick", full="full", profile=profile)
    return _RECIPES[name][profile]


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
    for name in _RECIPES:
        config = _recipe(name, profile).to_dict()
        if config["width"] is None:
            config["width"] = _STANDARD_WIDTHS[name]
        rows.append({"model": name, **config})
    return pd.DataFrame(rows).set_index("model")
