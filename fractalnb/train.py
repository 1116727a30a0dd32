"""One training loop for every CIFAR-10 model in the book, and a disk cache of trained models.

:func:`train_model` trains any classifier on CIFAR-10 the standard way: random crop
(4 pixels of padding) and horizontal flip, cross-entropy, SGD with momentum (or AdamW)
and a cosine learning-rate schedule :cite:p:`loshchilov2017sgdr` stepped every batch,
seeds fixed; it returns the learning curves as a DataFrame and can write a checkpoint
(a state dict) after every epoch.

:func:`trained_model` is what chapters call: it trains one of the book's models with
the recipe of the run profile (:data:`RECIPES`) once, stores the checkpoints, history
and configuration under ``fractalnb.paths.cache_dir() / "trained"``, and loads them on
every later call. A file lock (``fcntl``) makes a second process that asks for the same
model wait for the first rather than train it again, and runs are written to a
temporary folder renamed into place when complete, so a half-written run is never read.

Examples
--------
>>> from fractalnb.train import trained_model
>>> run = trained_model("custom_cnn", seed=0)          # doctest: +SKIP
>>> run.history[["epoch", "test_acc"]].tail(1)        # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader

from . import profiles
from ._progress import progress_bar
from .data import cifar10_loaders, variant_from_env
from .environment import default_device
from .models import STANDARD_WIDTHS, build_model
from .paths import cache_dir

__all__ = [
    "OPTIMIZERS",
    "RECIPES",
    "TrainConfig",
    "TrainedModel",
    "evaluate",
    "file_lock",
    "load_state_dict",
    "plot_history",
    "recipe",
    "recipe_table",
    "train_model",
    "trained_model",
]


OPTIMIZERS = ("sgd", "adamw")
"""Optimisers :func:`train_model` knows."""

CACHE_FORMAT = 1
"""Version of the on-disk layout of cached runs (part of every cache key)."""

ExtraLoss = Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]
Metric = Callable[[nn.Module], "float | Mapping[str, float]"]


@dataclass(frozen=True)
class TrainConfig:
    """A training recipe: everything but the model, the seed and the data variant.

    Attributes
    ----------
    width : int or None
        First-stage width passed to :func:`fractalnb.models.build_model` (``None``: standard).
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


def plot_history(histories: Mapping[str, pd.DataFrame], *, title: str | None = None
                 ) -> plt.Figure:
    """Plot learning curves: loss and accuracy against epoch, one colour per run.

    Parameters
    ----------
    histories
        Label → history returned by :func:`train_model` (or ``TrainedModel.history``).
    title
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels: cross-entropy (training solid, test dashed) and accuracy (same), with
        chance level (10%) marked.

    Examples
    --------
    >>> h = pd.DataFrame({"epoch": [0, 1], "train_loss": [float("nan"), 1.0],
    ...                   "test_loss": [2.3, 1.2], "train_acc": [float("nan"), 0.5],
    ...                   "test_acc": [0.1, 0.45]})
    >>> fig = plot_history({"net": h})
    """
    if not isinstance(histories, Mapping) or not histories:
        raise ValueError("histories must be a non-empty mapping label -> history DataFrame")
    needed = {"epoch", "train_loss", "test_loss", "train_acc", "test_acc"}
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10.0, 3.8))
    for k, (label, history) in enumerate(histories.items()):
        missing = needed - set(getattr(history, "columns", ()))
        if missing:
            raise ValueError(f"histories[{label!r}] lacks the columns {sorted(missing)}")
        colour = f"C{k}"
        ax_loss.plot(history["epoch"], history["train_loss"], color=colour, label=f"{label} train")
        ax_loss.plot(history["epoch"], history["test_loss"], color=colour, ls="--",
                     label=f"{label} test")
        ax_acc.plot(history["epoch"], 100 * history["train_acc"], color=colour)
        ax_acc.plot(history["epoch"], 100 * history["test_acc"], color=colour, ls="--")
    ax_acc.axhline(10.0, color="0.5", lw=0.8, ls=":", label="chance")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("cross-entropy (nats)")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy (%)")
    ax_loss.legend(fontsize="small", ncols=2)
    ax_acc.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


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


def _make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("the model has no trainable parameters")
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum,
                               weight_decay=config.weight_decay)
    return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)


def _lr_factor(step: int, total: int, warmup: int) -> float:
    """Linear warm-up to 1 over ``warmup`` steps, then a cosine from 1 to 0 at ``total``."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def evaluate(model: nn.Module, loader: DataLoader, device: torch.device | str | None = None
             ) -> tuple[float, float]:
    """Return the mean cross-entropy and the accuracy of a model on a data loader (eval mode).

    Parameters
    ----------
    model
        A classifier returning logits.
    loader
        Yields ``(images, labels)``.
    device
        Where to compute; the device of the model's first parameter by default.

    Returns
    -------
    (float, float)
        Mean loss and accuracy in [0, 1].

    Examples
    --------
    >>> data = [(torch.zeros(4, 3), torch.tensor([0, 1, 0, 1]))]
    >>> evaluate(nn.Linear(3, 2), data)[1]
    0.5
    """
    if device is None:
        first = next(model.parameters(), None)
        device = first.device if first is not None else torch.device("cpu")
    was_training = model.training
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            logits = model(images)
            total_loss += nn.functional.cross_entropy(logits, labels, reduction="sum").item()
            correct += (logits.argmax(1) == labels).sum().item()
            count += len(labels)
    model.train(was_training)
    if count == 0:
        raise ValueError("the evaluation loader yielded no images")
    return total_loss / count, correct / count


def _save_state(model: nn.Module, path: Path) -> None:
    """Write the model's state dict (on the CPU) atomically: a temporary file, then a rename."""
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Load a checkpoint written by :func:`train_model`: tensors only (``weights_only=True``).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     torch.save(nn.Linear(2, 1).state_dict(), f"{d}/w.pt")
    ...     sorted(load_state_dict(f"{d}/w.pt"))
    ['bias', 'weight']
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    return torch.load(path, map_location="cpu", weights_only=True)


def _metric_columns(metrics: Mapping[str, Metric] | None, model: nn.Module) -> dict[str, float]:
    if not metrics:
        return {}
    out: dict[str, float] = {}
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for name, metric in metrics.items():
            value = metric(model)
            if isinstance(value, Mapping):
                out.update({f"{name}_{k}": float(v) for k, v in value.items()})
            else:
                out[name] = float(value)
    model.train(was_training)
    return out


def train_model(
    model: nn.Module,
    *,
    epochs: int,
    batch_size: int = 128,
    lr: float = 0.05,
    momentum: float = 0.9,
    weight_decay: float = 5e-4,
    seed: int = 0,
    variant: str | None = None,
    device: torch.device | str | None = None,
    optimizer: str = "sgd",
    warmup_epochs: float = 0.0,
    steps_per_epoch: int | None = None,
    extra_loss: ExtraLoss | None = None,
    metrics: Mapping[str, Metric] | None = None,
    checkpoint_dir: str | Path | None = None,
    loaders: tuple[DataLoader, DataLoader] | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Train a classifier on CIFAR-10 and return its learning curves.

    The loop: shuffled batches, augmented by random crop (padding 4) and horizontal flip
    (:func:`fractalnb.data.cifar10_loaders`), cross-entropy loss plus ``extra_loss`` if
    given, SGD with momentum (or AdamW), learning rate annealed per step along a cosine
    from ``lr`` to 0 after an optional linear warm-up. Seeds are fixed by ``seed``
    (``torch.manual_seed`` and the loaders' generators). The model is trained in place.

    Parameters
    ----------
    model
        Any classifier mapping ``(n, 3, 32, 32)`` images to ``(n, 10)`` logits.
    epochs
        Passes over the training set.
    batch_size, lr, momentum, weight_decay, optimizer, warmup_epochs
        The optimisation recipe (see :class:`TrainConfig`).
    seed
        Seeds ``torch`` and the data order and augmentation.
    variant
        CIFAR-10 variant, ``"sample"`` or ``"full"``; ``fractalnb.data.variant_from_env()``
        when ``None``. Ignored (must be ``None``) when ``loaders`` is given.
    device
        Where to train; :func:`fractalnb.environment.default_device` by default.
    steps_per_epoch
        Stop each epoch after this many batches (``None``: the whole training set).
    extra_loss
        Optional ``extra_loss(model, inputs, outputs) -> scalar tensor`` added to the
        cross-entropy of every batch (e.g. a regulariser); its epoch mean is logged in the
        column ``extra_loss``.
    metrics
        Optional ``{name: metric(model)}`` evaluated (eval mode, no gradients) at
        initialisation and after every epoch; a metric returns a float (column ``name``)
        or a dict of floats (columns ``name_key``).
    checkpoint_dir
        If given, the state dict is saved there as ``epoch_000.pt`` (the initialisation)
        and ``epoch_{k:03d}.pt`` after epoch ``k``; load with :func:`load_state_dict`.
    loaders
        ``(train_loader, test_loader)`` to use instead of CIFAR-10 (e.g. in tests);
        they are used as given (no augmentation added).
    progress
        Show a ``tqdm`` progress bar over batches.

    Returns
    -------
    pandas.DataFrame
        One row per epoch, row 0 being the initialisation: ``epoch``, ``train_loss`` and
        ``train_acc`` (running means over the epoch's augmented batches, NaN at epoch 0),
        ``test_loss``, ``test_acc``, ``lr`` (at the end of the epoch), ``extra_loss``
        (if any), the metrics, ``epoch_wall_s``, ``epoch_cpu_s`` (process CPU time,
        all threads), ``wall_s`` (cumulative) and ``images`` (training images seen).

    Raises
    ------
    ValueError
        For a bad recipe value (named), or a model without trainable parameters.
    FloatingPointError
        If the loss becomes NaN or infinite (the message gives epoch and step).

    Examples
    --------
    >>> from fractalnb.models import build_model
    >>> history = train_model(build_model("custom_cnn", width=8), epochs=1,
    ...                       steps_per_epoch=5, variant="sample")   # doctest: +SKIP
    """
    config = TrainConfig(width=None, epochs=epochs, batch_size=batch_size, lr=lr,
                         momentum=momentum, weight_decay=weight_decay, optimizer=optimizer,
                         warmup_epochs=warmup_epochs, steps_per_epoch=steps_per_epoch)
    _check_config(config)
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if extra_loss is not None and not callable(extra_loss):
        raise TypeError("extra_loss must be callable: extra_loss(model, inputs, outputs)")
    device = torch.device(device) if device is not None else default_device()
    torch.manual_seed(seed)
    if loaders is None:
        variant = variant_from_env() if variant is None else variant
        train_loader, test_loader = cifar10_loaders(variant, batch_size=batch_size, seed=seed)
    else:
        if variant is not None:
            raise ValueError("pass either variant or loaders, not both")
        train_loader, test_loader = loaders
    model.to(device)
    opt = _make_optimizer(model, config)
    steps = len(train_loader) if steps_per_epoch is None else min(steps_per_epoch,
                                                                   len(train_loader))
    total_steps = steps * epochs
    warmup_steps = int(round(warmup_epochs * steps))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: _lr_factor(s, total_steps, warmup_steps))
    ckpt = Path(checkpoint_dir) if checkpoint_dir is not None else None
    if ckpt is not None:
        ckpt.mkdir(parents=True, exist_ok=True)
        _save_state(model, ckpt / "epoch_000.pt")

    test_loss, test_acc = evaluate(model, test_loader, device)
    rows = [{"epoch": 0, "train_loss": math.nan, "train_acc": math.nan, "test_loss": test_loss,
             "test_acc": test_acc, "lr": opt.param_groups[0]["lr"],
             **({"extra_loss": math.nan} if extra_loss is not None else {}),
             **_metric_columns(metrics, model), "epoch_wall_s": 0.0, "epoch_cpu_s": 0.0,
             "wall_s": 0.0, "images": 0}]
    wall_total, images_seen = 0.0, 0
    # progress=False silences the bar, and so does TQDM_DISABLE (set by the book build)
    bar = progress_bar(total=total_steps, desc=f"training {type(model).__name__}", unit="step",
                       leave=False, enabled=progress)
    try:
        for epoch in range(1, epochs + 1):
            wall0, cpu0 = time.perf_counter(), time.process_time()
            model.train()
            loss_sum, extra_sum, correct, count = 0.0, 0.0, 0, 0
            for step, (images, labels) in enumerate(train_loader):
                if step >= steps:
                    break
                images, labels = images.to(device), labels.to(device)
                outputs = model(images)
                loss = nn.functional.cross_entropy(outputs, labels)
                if extra_loss is not None:
                    extra = extra_loss(model, images, outputs)
                    if not (isinstance(extra, torch.Tensor) and extra.numel() == 1):
                        raise TypeError("extra_loss must return a scalar tensor, got "
                                        f"{type(extra).__name__}")
                    extra_sum += extra.item() * len(labels)
                    loss = loss + extra.reshape(())
                if not torch.isfinite(loss):
                    raise FloatingPointError(
                        f"the training loss is {loss.item()} at epoch {epoch}, step {step}: "
                        f"training diverged (lower lr={lr}?)"
                    )
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                scheduler.step()
                loss_sum += loss.item() * len(labels)
                correct += (outputs.argmax(1) == labels).sum().item()
                count += len(labels)
                bar.update(1)
            test_loss, test_acc = evaluate(model, test_loader, device)
            extra_cols = ({"extra_loss": extra_sum / count} if extra_loss is not None else {})
            metric_cols = _metric_columns(metrics, model)
            if ckpt is not None:
                _save_state(model, ckpt / f"epoch_{epoch:03d}.pt")
            wall = time.perf_counter() - wall0
            wall_total += wall
            images_seen += count
            rows.append({"epoch": epoch, "train_loss": loss_sum / count,
                         "train_acc": correct / count, "test_loss": test_loss,
                         "test_acc": test_acc, "lr": opt.param_groups[0]["lr"], **extra_cols,
                         **metric_cols, "epoch_wall_s": wall,
                         "epoch_cpu_s": time.process_time() - cpu0, "wall_s": wall_total,
                         "images": images_seen})
            bar.set_postfix(epoch=epoch, loss=f"{loss_sum / count:.3f}",
                            test_acc=f"{test_acc:.3f}")
    finally:
        bar.close()
    model.eval()
    return pd.DataFrame(rows)


# --- the cache of trained models --------------------------------------------------------


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
        Model name (see :mod:`fractalnb.models`).
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
        CIFAR-10 variant; ``fractalnb.data.variant_from_env()`` by default.
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
