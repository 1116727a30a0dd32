"""The trained-model cache: one run per configuration, trained once, locked, reloaded."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn

from .. import profiles
from ..environment import default_device
from ..paths import cache_dir
from .config import TrainConfig, _check_config, recipe
from .data import variant_from_env
from .models import STANDARD_WIDTHS, build_model
from .train import load_state_dict, train_model

__all__ = [
    "file_lock",
    "TrainedModel",
    "trained_model",
]


CACHE_FORMAT = 1
"""Version of the on-disk layout of cached runs (part of every cache key)."""


@contextlib.contextmanager
def file_lock(path: str | Path) -> Iterator[None]:
    """Hold an exclusive ``fcntl`` lock on ``path`` (created if missing) for a ``with`` block.

    A second process entering the block on the same path waits until the first leaves it
    (or dies: the operating system releases the lock then).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d, file_lock(f"{d}/x.lock"):
    ...     pass
    """
    import fcntl

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


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
        if not 0 <= epoch < len(self.checkpoints):
            raise ValueError(f"epoch must be in [0, {len(self.checkpoints) - 1}], got {epoch}")
        model = build_model(self.name, width=self.config["width"],
                            num_classes=self.config["num_classes"])
        model.load_state_dict(load_state_dict(self.checkpoints[epoch]))
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

    The run is defined by the model name, the recipe of the profile (:data:`RECIPES`,
    with ``width`` and ``overrides`` applied), the seed and the data variant; a hash of
    all of them names its folder under ``fractalnb.paths.cache_dir() / "trained"``.
    A missing run is trained with :func:`train_model` (checkpoints after every epoch);
    concurrent calls for the same run are serialised by a file lock, so it is trained once.

    Parameters
    ----------
    name
        ``"resnet18"``, ``"vgg16"`` or ``"custom_cnn"``.
    seed
        Seeds the initialisation, data order and augmentation.
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

    Examples
    --------
    >>> run = trained_model("custom_cnn")                # doctest: +SKIP
    >>> run.test_accuracy > 0.45                          # doctest: +SKIP
    True
    """
    profile = profiles.pick(quick="quick", full="full", profile=profile)
    variant = variant_from_env() if variant is None else variant
    unknown = set(overrides) - {f.name for f in dataclasses.fields(TrainConfig)} | (
        {"width"} & set(overrides))
    if unknown:
        raise ValueError(f"unknown training settings {sorted(unknown)}; TrainConfig has "
                         f"{[f.name for f in dataclasses.fields(TrainConfig)]}")
    base = recipe(name, profile)
    config_obj = dataclasses.replace(base, **overrides)
    if width is not None:
        config_obj = dataclasses.replace(config_obj, width=width)
    _check_config(config_obj)
    resolved_width = config_obj.width if config_obj.width is not None else STANDARD_WIDTHS[name]
    config = {**config_obj.to_dict(), "width": resolved_width, "model": name, "seed": int(seed),
              "profile": profile, "variant": variant, "num_classes": 10,
              "cache_format": CACHE_FORMAT}
    key = _run_key(config)
    root = cache_dir() / "trained"
    folder = root / key
    with file_lock(root / f"{key}.lock"):
        if folder.is_dir():
            return _load_run(folder, trained_now=False)
        tmp = root / f".{key}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                model = build_model(name, width=resolved_width, num_classes=10)
            train_device = torch.device(device) if device is not None else default_device()
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
