"""One training loop for every CIFAR-10 model in the book.

:func:`train_model` trains any classifier on CIFAR-10 the standard way: random crop
(4 pixels of padding) and horizontal flip, cross-entropy, SGD with momentum (or AdamW)
and a cosine learning-rate schedule :cite:p:`loshchilov2017sgdr` stepped every batch,
seeds fixed; it returns the learning curves as a DataFrame and can write a checkpoint
(a state dict) after every epoch. The cache of trained models built on it is
:func:`fractalnb.training.trained_model`.

Examples
--------
>>> from fractalnb.training import build_model, train_model
>>> history = train_model(build_model("custom_cnn", width=8), epochs=1,
...                       steps_per_epoch=5, variant="sample")   # doctest: +SKIP
>>> history[["epoch", "test_acc"]].tail(1)                        # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader

from .. import _validate
from .._progress import progress_bar
from .._validate import path as _path
from ..environment import default_device
from ._checks import torch_seed
from .config import ExtraLoss, Metric, TrainConfig
from .data import _VARIANTS, variant_from_env
from .distributed import DistributedContext
from .loaders import cifar10_loaders

__all__ = [
    "train_model",
]


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


def _batch(item: object, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Check one batch of a loader: a pair ``(images, labels)`` of tensors."""
    if not (isinstance(item, (tuple, list)) and len(item) == 2
            and all(isinstance(t, torch.Tensor) for t in item)):
        raise TypeError(f"{name} must yield (images, labels) pairs of tensors, got "
                        f"{_validate.describe(item)}")
    return item[0], item[1]


def _loaders(value: object) -> tuple[Any, Any]:
    """Check ``train_model``'s ``loaders``: two iterables of batches, the first with a length."""
    if not (isinstance(value, (tuple, list)) and len(value) == 2):
        raise TypeError(f"loaders must be a pair (train_loader, test_loader), got "
                        f"{_validate.describe(value)}")
    for index, loader in enumerate(value):
        if isinstance(loader, (str, bytes, torch.Tensor)) or not isinstance(loader, Iterable):
            raise TypeError(f"loaders[{index}] must be an iterable of (images, labels) batches "
                            f"(a DataLoader), got {_validate.describe(loader)}")
    if not hasattr(value[0], "__len__"):
        raise TypeError(f"loaders[0] must have a length (batches per epoch), got "
                        f"{_validate.describe(value[0])}")
    if len(value[0]) == 0:
        raise ValueError("loaders[0] holds no batches")
    return value[0], value[1]


def _evaluate(model: nn.Module, loader: Iterable, device: torch.device,
              distributed: DistributedContext | None = None) -> tuple[float, float]:
    """Return the mean cross-entropy and the accuracy of a model on a loader (eval mode).

    With ``distributed``, each rank evaluates its shard of the test set with rank 0's
    buffers (BatchNorm statistics), and the sums are added over the ranks.
    """
    was_training = model.training
    model.eval()
    if distributed is not None:
        distributed.sync_buffers(model)
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for item in loader:
            images, labels = _batch(item, "the test loader")
            images, labels = images.to(device), labels.to(device)
            logits = model(images)
            total_loss += nn.functional.cross_entropy(logits, labels, reduction="sum").item()
            correct += (logits.argmax(1) == labels).sum().item()
            count += len(labels)
    model.train(was_training)
    if distributed is not None:
        total_loss, correct, count = distributed.all_sum(total_loss, correct, count)
    if count == 0:
        raise ValueError("the evaluation loader yielded no images")
    return total_loss / count, correct / count


def _save_state(model: nn.Module, path: Path) -> None:
    """Write the model's state dict (on the CPU) atomically: a temporary file, then a rename."""
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    torch.save(state, tmp)
    os.replace(tmp, path)


def _load_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Load a checkpoint written by :func:`train_model`: tensors only (``weights_only=True``).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     torch.save(nn.Linear(2, 1).state_dict(), f"{d}/w.pt")
    ...     sorted(_load_state_dict(f"{d}/w.pt"))
    ['bias', 'weight']
    """
    path = _path(path, "path")
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    return torch.load(path, map_location="cpu", weights_only=True)


def _check_metrics(metrics: object) -> None:
    if metrics is None:
        return
    if not isinstance(metrics, Mapping):
        raise TypeError(f"metrics must be a dict name -> metric(model), got "
                        f"{_validate.describe(metrics)}")
    for name, metric in metrics.items():
        if not isinstance(name, str):
            raise TypeError(f"metrics must be keyed by column names (str), got "
                            f"{_validate.describe(name)}")
        if not callable(metric):
            raise TypeError(f"metrics[{name!r}] must be callable: metric(model), got "
                            f"{_validate.describe(metric)}")


def _metric_columns(metrics: Mapping[str, Metric] | None, model: nn.Module) -> dict[str, float]:
    if not metrics:
        return {}
    out: dict[str, float] = {}
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for name, metric in metrics.items():
            value = metric(model)
            items = value.items() if isinstance(value, Mapping) else [(None, value)]
            for key, number in items:
                column = name if key is None else f"{name}_{key}"
                try:
                    out[column] = float(number)
                except (TypeError, ValueError):
                    raise TypeError(f"metrics[{name!r}] must return a number or a dict of "
                                    f"numbers, got {_validate.describe(value)}") from None
    model.train(was_training)
    return out


def _initial_row(model, test_loader, device, distributed, opt, extra_loss, metrics
                 ) -> list[dict[str, Any]]:
    """Return the row of epoch 0: the untrained model evaluated."""
    test_loss, test_acc = _evaluate(model, test_loader, device, distributed)
    return [{"epoch": 0, "train_loss": math.nan, "train_acc": math.nan, "test_loss": test_loss,
             "test_acc": test_acc, "lr": opt.param_groups[0]["lr"],
             **({"extra_loss": math.nan} if extra_loss is not None else {}),
             **_metric_columns(metrics, model), "epoch_wall_s": 0.0, "epoch_cpu_s": 0.0,
             "wall_s": 0.0, "images": 0}]


def _generators(loader: Any, extra_loss: object) -> dict[str, Any]:
    """Return the random states that decide the rest of a run, beside weights and optimiser."""
    out: dict[str, Any] = {"torch": torch.get_rng_state()}
    shuffle = getattr(loader, "generator", None)
    if isinstance(shuffle, torch.Generator):
        out["shuffle"] = shuffle.get_state()
    augment = getattr(getattr(loader, "collate_fn", None), "generator", None)
    if isinstance(augment, torch.Generator):
        out["augment"] = augment.get_state()
    if hasattr(extra_loss, "state_dict"):
        out["extra_loss"] = extra_loss.state_dict()
    return out


def _set_generators(loader: Any, extra_loss: object, states: Mapping[str, Any]) -> None:
    torch.set_rng_state(states["torch"])
    if "shuffle" in states:
        loader.generator.set_state(states["shuffle"])
    if "augment" in states:
        loader.collate_fn.generator.set_state(states["augment"])
    if "extra_loss" in states:
        if not hasattr(extra_loss, "load_state_dict"):
            raise ValueError("the state file holds the state of an extra_loss, but this "
                             "extra_loss has no load_state_dict")
        extra_loss.load_state_dict(states["extra_loss"])


def _write_state(path: Path, recipe: Mapping[str, Any], model: nn.Module,
                 opt: torch.optim.Optimizer, scheduler: Any, loader: Any, extra_loss: object,
                 rows: list[dict[str, Any]]) -> None:
    """Write the training state after an epoch, atomically (a temporary file, then a rename)."""
    state = {"format": 1, "recipe": dict(recipe),
             "model": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
             "optimizer": opt.state_dict(), "scheduler": scheduler.state_dict(),
             "generators": _generators(loader, extra_loss), "rows": rows}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    torch.save(state, tmp)
    os.replace(tmp, path)


def _read_state(path: Path, recipe: Mapping[str, Any]) -> dict[str, Any]:
    """Read a state file of :func:`train_model`; refuse one of another recipe or a damaged one."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - any unreadable file is named, not read
        raise ValueError(f"the training state {path} cannot be read ({error}); delete it to "
                         "train from the start") from None
    if not isinstance(state, dict) or state.get("format") != 1:
        raise ValueError(f"{path} is not a training state written by train_model")
    if state["recipe"] != dict(recipe):
        changed = sorted(k for k in set(recipe) | set(state["recipe"])
                         if state["recipe"].get(k) != recipe.get(k))
        raise ValueError(f"the training state {path} is of another recipe (differs in "
                         f"{changed}); delete it to train from the start")
    return state


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
    distributed: DistributedContext | None = None,
    state_file: str | Path | None = None,
    stop_after: int | None = None,
) -> pd.DataFrame:
    """Train a classifier on CIFAR-10 and return its learning curves.

    The loop: shuffled batches, augmented by random crop (padding 4) and horizontal flip
    (:func:`fractalnb.training.cifar10_loaders`), cross-entropy loss plus ``extra_loss`` if
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
        Seeds ``torch`` and the data order and augmentation (an integer ``>= 0``).
    variant
        CIFAR-10 variant, ``"sample"`` or ``"full"``; ``fractalnb.training.variant_from_env()``
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
        and ``epoch_{k:03d}.pt`` after epoch ``k`` (read them with
        ``torch.load(path, weights_only=True)``).
    loaders
        ``(train_loader, test_loader)`` to use instead of CIFAR-10 (e.g. in tests);
        they are used as given (no augmentation added).
    progress
        Show a ``tqdm`` progress bar over batches.
    distributed
        One rank of a data-parallel run (``torch.distributed``; see
        :mod:`fractalnb.training.distributed`): the training forward pass goes through
        ``DistributedDataParallel``, each epoch reshuffles the rank's ``DistributedSampler``,
        the logged sums are added over the ranks (global numbers on every rank), and the
        main rank alone writes checkpoints and shows the bar. ``loaders`` must then be the
        rank's own (:meth:`~fractalnb.training.distributed.DistributedContext.loaders`), and
        ``batch_size`` is the per-rank batch (the global batch is ``batch_size * world_size``).
        ``None`` (the default): one process, exactly as without the argument.
    state_file
        If given, the whole training state (weights, optimiser and schedule, the random
        generators of ``torch``, of the loaders and of ``extra_loss`` if it has
        ``state_dict``/``load_state_dict``, the curves so far) is written there atomically
        after every epoch, and a call that finds the file continues after the epoch it
        holds: an interrupted run resumes at epoch granularity and ends with the same weights
        and curves as an uninterrupted one. The file must come from the same recipe
        (``ValueError`` otherwise); not supported with ``distributed``.
    stop_after
        Return after this epoch (``1 <= stop_after <= epochs``) although the schedule spans
        ``epochs``: e.g. to replay the first epoch of a long run, or to train in chunks
        with ``state_file``. ``None``: train all ``epochs``.

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
    TypeError, ValueError
        For a bad argument or recipe value (named), checked before training, or a model
        without trainable parameters.
    FloatingPointError
        If the loss becomes NaN or infinite (the message gives epoch and step).

    Examples
    --------
    >>> from fractalnb.training import build_model
    >>> history = train_model(build_model("custom_cnn", width=8), epochs=1,
    ...                       steps_per_epoch=5, variant="sample")   # doctest: +SKIP
    """
    config = TrainConfig(width=None, epochs=epochs, batch_size=batch_size, lr=lr,
                         momentum=momentum, weight_decay=weight_decay, optimizer=optimizer,
                         warmup_epochs=warmup_epochs, steps_per_epoch=steps_per_epoch)
    epochs, steps_per_epoch = config.epochs, config.steps_per_epoch
    _validate.module(model, "model")
    seed = torch_seed(seed)
    device = _validate.device(device)
    if extra_loss is not None and not callable(extra_loss):
        raise TypeError(f"extra_loss must be callable: extra_loss(model, inputs, outputs), "
                        f"got {_validate.describe(extra_loss)}")
    _check_metrics(metrics)
    ckpt = _path(checkpoint_dir, "checkpoint_dir") if checkpoint_dir is not None else None
    progress = _validate.boolean(progress, "progress")
    state = _path(state_file, "state_file") if state_file is not None else None
    last_epoch = epochs if stop_after is None else _validate.integer(
        stop_after, "stop_after", 1, maximum=epochs)
    if state is not None and distributed is not None:
        raise ValueError("state_file is not supported with distributed training: resume a "
                         "distributed run from its checkpoints")
    main = True
    if distributed is not None:
        from .distributed import DistributedContext

        if not isinstance(distributed, DistributedContext):
            raise TypeError(f"distributed must be a DistributedContext or None, got "
                            f"{_validate.describe(distributed)}")
        if loaders is None:
            raise ValueError("distributed training needs the rank's loaders: pass "
                             "loaders=distributed.loaders(train_set, test_set, ...)")
        device = distributed.device if device is None else device
        main = distributed.is_main
    if loaders is None:
        variant = variant_from_env() if variant is None else _validate.choice(
            variant, "variant", _VARIANTS)
    elif variant is not None:
        raise ValueError(f"pass either variant or loaders, not both (got variant={variant!r})")
    else:
        train_loader, test_loader = _loaders(loaders)
    device = device if device is not None else default_device()
    torch.manual_seed(seed)
    if loaders is None:
        train_loader, test_loader = cifar10_loaders(variant, batch_size=config.batch_size,
                                                    seed=seed)
    model.to(device)
    opt = _make_optimizer(model, config)
    net = model if distributed is None else distributed.wrap(model)  # the training forward
    steps = len(train_loader) if steps_per_epoch is None else min(steps_per_epoch,
                                                                   len(train_loader))
    total_steps = steps * epochs
    warmup_steps = int(round(config.warmup_epochs * steps))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: _lr_factor(s, total_steps, warmup_steps))
    ckpt = ckpt if main else None
    if ckpt is not None:
        ckpt.mkdir(parents=True, exist_ok=True)
        _save_state(model, ckpt / "epoch_000.pt")

    recipe = {**config.to_dict(), "seed": seed}
    resumed = _read_state(state, recipe) if state is not None and state.is_file() else None
    if resumed is not None:
        model.load_state_dict(resumed["model"])
        opt.load_state_dict(resumed["optimizer"])
        scheduler.load_state_dict(resumed["scheduler"])
        _set_generators(train_loader, extra_loss, resumed["generators"])
        rows = list(resumed["rows"])
        first_epoch = len(rows)
        wall_total, images_seen = float(rows[-1]["wall_s"]), int(rows[-1]["images"])
    else:
        first_epoch, rows = 1, _initial_row(model, test_loader, device, distributed, opt,
                                            extra_loss, metrics)
        wall_total, images_seen = 0.0, 0
    # progress=False silences the bar, and so does TQDM_DISABLE (set by the book build)
    bar = progress_bar(total=steps * max(0, last_epoch - first_epoch + 1),
                       desc=f"training {type(model).__name__}", unit="step", leave=False,
                       enabled=progress and main)
    try:
        for epoch in range(first_epoch, last_epoch + 1):
            wall0, cpu0 = time.perf_counter(), time.process_time()
            net.train()
            if distributed is not None:
                distributed.start_epoch(train_loader, epoch)
            loss_sum, extra_sum, correct, count = 0.0, 0.0, 0, 0
            for step, item in enumerate(train_loader):
                if step >= steps:
                    break
                images, labels = _batch(item, "the training loader")
                images, labels = images.to(device), labels.to(device)
                outputs = net(images)
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
                        f"training diverged (lower lr={config.lr}?)"
                    )
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                scheduler.step()
                loss_sum += loss.item() * len(labels)
                correct += (outputs.argmax(1) == labels).sum().item()
                count += len(labels)
                bar.update(1)
            if distributed is not None:
                loss_sum, extra_sum, correct, count = distributed.all_sum(
                    loss_sum, extra_sum, correct, count)
            test_loss, test_acc = _evaluate(model, test_loader, device, distributed)
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
            if state is not None:
                _write_state(state, recipe, model, opt, scheduler, train_loader, extra_loss,
                             rows)
            bar.set_postfix(epoch=epoch, loss=f"{loss_sum / count:.3f}",
                            test_acc=f"{test_acc:.3f}")
    finally:
        bar.close()
    model.eval()
    return pd.DataFrame(rows)
