"""The trained-model cache: one run per configuration, trained once, locked, reloaded."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from filelock import FileLock
from torch import nn

from .. import _validate, profiles
from ..environment import default_device
from ..paths import cache_dir
from ._checks import torch_seed
from .config import TrainConfig, _recipe
from .data import _VARIANTS, variant_from_env
from .models import _build_args, build_model
from .train import _load_state_dict, train_model

__all__ = [
    "TrainedModel",
    "trained_model",
]


CACHE_FORMAT = 1
"""Version of the on-disk layout of cached runs (part of every cache key)."""


@dataclass
class TrainedModel:
    """A trained network from the cache, with its learning curves and checkpoints.

    Attributes
    ----------
    name : str
        Model name (see :mod:`fractalnb.training.models`).
    model : torch.nn.Module
        The network after the last epoch, in eval mode.
    history : pandas.DataFrame
        The learning curves returned by :func:`train_model`.
    checkpoints : list of pathlib.Path
        State dict after each epoch; ``checkpoints[0]`` is the initialisation.
    config : dict
        Everything that defines the run (model, width, recipe, seed, profile, variant)
        plus where and when it was trained.
    path : pathlib.Path
        The run's folder in the cache.
    trained_now : bool
        Whether this call trained the model (``False``: loaded from the cache).
    """

    name: str
    model: nn.Module
    history: pd.DataFrame
    checkpoints: list[Path]
    config: dict[str, Any]
    path: Path
    trained_now: bool = field(default=False)

    @property
    def test_accuracy(self) -> float:
        """Test accuracy after the last epoch."""
        return float(self.history["test_acc"].iloc[-1])

    def load_epoch(self, epoch: int) -> nn.Module:
        """Return a fresh copy of the network as it was after ``epoch`` (0: initialisation).

        Examples
        --------
        >>> initial = run.load_epoch(0)    # doctest: +SKIP
        """
        epoch = _validate.integer(epoch, "epoch", 0, len(self.checkpoints) - 1)
        model = build_model(self.name, width=self.config["width"],
                            num_classes=self.config["num_classes"])
        model.load_state_dict(_load_state_dict(self.checkpoints[epoch]))
        return model.eval()


def _run_key(config: Mapping[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:10]
    return (f"{config['model']}-w{config['width']}-{config['profile']}-{config['variant']}"
            f"-seed{config['seed']}-{digest}")


def _load_run(folder: Path, trained_now: bool) -> TrainedModel:
    config = json.loads((folder / "config.json").read_text())
    history = pd.read_csv(folder / "history.csv")
    checkpoints = [folder / f"epoch_{e:03d}.pt" for e in range(config["epochs"] + 1)]
    missing = [p.name for p in checkpoints if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"the cached run {folder} lacks {missing}: delete the folder "
                                "to train it again")
    run = TrainedModel(name=config["model"], model=nn.Identity(), history=history,
                       checkpoints=checkpoints, config=config, path=folder,
                       trained_now=trained_now)
    run.model = run.load_epoch(config["epochs"])
    return run


def trained_model(
    name: str,
    *,
    seed: int = 0,
    profile: str | None = None,
    variant: str | None = None,
    width: int | None = None,
    device: torch.device | str | None = None,
    progress: bool = True,
    **overrides: Any,
) -> TrainedModel:
    """Return one of the book's models trained on CIFAR-10, from the cache or trained now.

    The run is defined by the model name, the recipe of the profile (see :func:`recipe_table`,
    with ``width`` and ``overrides`` applied), the seed and the data variant; a hash of
    all of them names its folder under ``fractalnb.paths.cache_dir() / "trained"``.
    A missing run is trained with :func:`train_model` (checkpoints after every epoch);
    concurrent calls for the same run are serialised by a file lock
    (``filelock.FileLock``), so it is trained once: the others wait, then read it.

    Parameters
    ----------
    name
        ``"resnet18"``, ``"vgg16"`` or ``"custom_cnn"``.
    seed
        Seeds the initialisation, data order and augmentation (an integer ``>= 0``).
    profile
        ``"quick"`` or ``"full"``; the active profile by default.
    variant
        CIFAR-10 variant; ``fractalnb.training.variant_from_env()`` by default.
    width
        First-stage width; the recipe's by default (``None`` there: standard width).
    device
        Where to train (if needed); the loaded model is returned on the CPU.
    progress
        Progress bar while training.
    **overrides
        Other :class:`TrainConfig` fields (``epochs``, ``lr``, ``steps_per_epoch`` …).

    Returns
    -------
    TrainedModel
        ``.model`` (eval mode), ``.history``, ``.checkpoints``, ``.config``.

    Raises
    ------
    TypeError, ValueError
        For a bad argument or training setting (named), checked before anything is
        trained or read.

    Examples
    --------
    >>> run = trained_model("custom_cnn")                # doctest: +SKIP
    >>> run.test_accuracy > 0.45                          # doctest: +SKIP
    True
    """
    profile = profiles.pick(quick="quick", full="full", profile=profile)
    variant = variant_from_env() if variant is None else _validate.choice(
        variant, "variant", _VARIANTS)
    seed = torch_seed(seed)
    device = _validate.device(device)
    progress = _validate.boolean(progress, "progress")
    base = _recipe(name, profile)
    fields = [f.name for f in dataclasses.fields(TrainConfig)]
    unknown = set(overrides) - set(fields) | ({"width"} & set(overrides))
    if unknown:
        raise ValueError(f"unknown training settings {sorted(unknown)}; TrainConfig has "
                         f"{fields}")
    config_obj = dataclasses.replace(base, **overrides)  # checks every setting
    if width is not None:
        config_obj = dataclasses.replace(config_obj, width=width)
    _, resolved_width, _ = _build_args(name, config_obj.width, 10)
    config = {**config_obj.to_dict(), "width": resolved_width, "model": name, "seed": seed,
              "profile": profile, "variant": variant, "num_classes": 10,
              "cache_format": CACHE_FORMAT}
    key = _run_key(config)
    root = cache_dir() / "trained"
    folder = root / key
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(root / f"{key}.lock"):
        if folder.is_dir():
            return _load_run(folder, trained_now=False)
        tmp = root / f".{key}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                model = build_model(name, width=resolved_width, num_classes=10)
            train_device = device if device is not None else default_device()
            history = train_model(
                model, epochs=config_obj.epochs, batch_size=config_obj.batch_size,
                lr=config_obj.lr, momentum=config_obj.momentum,
                weight_decay=config_obj.weight_decay, optimizer=config_obj.optimizer,
                warmup_epochs=config_obj.warmup_epochs,
                steps_per_epoch=config_obj.steps_per_epoch, seed=seed, variant=variant,
                device=train_device, checkpoint_dir=tmp, progress=progress)
            history.to_csv(tmp / "history.csv", index=False)
            provenance = {"device": str(train_device), "torch": torch.__version__,
                          "trained_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                          "train_wall_s": float(history["wall_s"].iloc[-1]),
                          "train_cpu_s": float(history["epoch_cpu_s"].sum())}
            (tmp / "config.json").write_text(json.dumps({**config, **provenance}, indent=1))
            os.replace(tmp, folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return _load_run(folder, trained_now=True)
