r"""Data-parallel training on ``torch.distributed``: the ``full`` profile beyond one device.

One run is ``N`` processes (*ranks*), one per device, each holding a replica of the model
(:class:`torch.nn.parallel.DistributedDataParallel`) and its own slice of every global batch:

- **batch size**: the recipe's ``batch_size`` is the **global** batch; each rank trains on
  ``batch_size // world_size`` images per step (``batch_size`` must be a multiple of the
  world size), so the learning-rate recipe of :func:`fractalnb.training.recipe_table` holds
  unchanged at any number of devices;
- **data**: a :class:`torch.utils.data.distributed.DistributedSampler` deals each rank its
  share of one permutation per epoch (``set_epoch`` reshuffles it every epoch); the union
  of the ranks' ``k``-th batches is the ``k``-th global batch of that permutation. Each
  rank augments its images with its own generator (seed ``seed + 1 + rank``); the test set
  is split into disjoint shards;
- **gradients** are averaged over the ranks by ``DistributedDataParallel`` after every
  backward pass; the loss and accuracy sums (training and test) are added with
  ``all_reduce``, so every rank logs the global numbers;
- **BatchNorm**: on CUDA the model's BatchNorm layers become
  :class:`torch.nn.SyncBatchNorm` (statistics of the global batch, as on one device) unless
  ``sync_bn=False``; on the CPU (gloo) each rank normalises with its own slice's statistics
  (PyTorch's SyncBatchNorm needs a GPU), and the running statistics of rank 0 are used for
  evaluation and checkpoints;
- **files**: rank 0 alone writes checkpoints, ``history.csv`` and ``config.json``;
- **backends**: ``nccl`` on CUDA, ``gloo`` on the CPU.

Launch with ``torchrun`` (it sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
``MASTER_ADDR`` and ``MASTER_PORT``); the same command without ``torchrun`` trains in one
process exactly as :func:`fractalnb.training.trained_model` does::

    python -m fractalnb.training train --model resnet18 --seed 0 --profile full
    torchrun --nproc_per_node=8 -m fractalnb.training train --model resnet18 --seed 0 \
        --profile full --out runs/resnet18-seed0

Examples
--------
>>> from fractalnb.training import train_distributed
>>> history = train_distributed("custom_cnn", seed=0, profile="quick")   # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset
from torch.utils.data.distributed import DistributedSampler

from .. import _validate, profiles
from ..environment import default_device
from ..paths import cache_dir
from ._checks import torch_seed
from .config import TrainConfig, _recipe
from .data import _VARIANTS, variant_from_env
from .loaders import _AugmentCollate, cifar10_datasets
from .models import _build_args, build_model

__all__ = [
    "DistributedContext",
    "train_distributed",
]


_BACKENDS = ("gloo", "nccl")
"""Process-group backends: ``gloo`` (CPU) and ``nccl`` (CUDA)."""

_LAUNCH_ENV = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
"""What ``torchrun`` sets for every rank (``LOCAL_RANK`` too)."""


def _launched() -> bool:
    """Return True when this process is one rank of a ``torchrun`` launch (``WORLD_SIZE`` set)."""
    return "WORLD_SIZE" in os.environ


@dataclass(frozen=True)
class DistributedContext:
    """One rank of a data-parallel run: where it is, and the hooks :func:`train_model` calls.

    Build it with :meth:`from_environment` (which joins the process group); the
    constructor only records the numbers.

    Attributes
    ----------
    rank : int
        This process's rank, ``0 .. world_size - 1``; rank 0 is the main rank.
    world_size : int
        The number of ranks.
    local_rank : int
        The rank on this machine (selects the CUDA device).
    device : torch.device
        Where this rank trains.
    backend : str
        ``"gloo"`` or ``"nccl"``.

    Examples
    --------
    >>> context = DistributedContext(rank=1, world_size=2, local_rank=1, device="cpu",
    ...                              backend="gloo")
    >>> context.is_main, context.per_rank_batch(128)
    (False, 64)
    """

    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    backend: str

    def __post_init__(self) -> None:
        world = _validate.integer(self.world_size, "world_size", 1)
        object.__setattr__(self, "world_size", world)
        object.__setattr__(self, "rank", _validate.integer(self.rank, "rank", 0, world - 1))
        object.__setattr__(self, "local_rank",
                           _validate.integer(self.local_rank, "local_rank", 0))
        device = _validate.device(self.device)
        if device is None:
            raise TypeError("device must be a torch.device or a device name, got None")
        backend = _validate.choice(self.backend, "backend", _BACKENDS)
        if backend == "nccl" and device.type != "cuda":
            raise ValueError(f"the nccl backend needs a CUDA device, got device {device}; "
                             "use gloo on the CPU")
        object.__setattr__(self, "device", device)

    @property
    def is_main(self) -> bool:
        """Whether this is rank 0, the one that writes files and reports."""
        return self.rank == 0

    @classmethod
    def from_environment(
        cls, *, backend: str | None = None, device: torch.device | str | None = None,
    ) -> DistributedContext:
        """Join the process group that ``torchrun`` describes in the environment.

        Parameters
        ----------
        backend
            ``"gloo"`` or ``"nccl"``; ``nccl`` on CUDA, ``gloo`` otherwise, by default.
        device
            This rank's device; ``cuda:LOCAL_RANK`` where CUDA is available, else the CPU.

        Returns
        -------
        DistributedContext
            With the process group initialised (reused if it already is).

        Raises
        ------
        ValueError
            If ``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` or ``MASTER_PORT`` is not set
            (launch with ``torchrun``), or for a bad backend or device.

        Examples
        --------
        >>> context = DistributedContext.from_environment(backend="gloo")   # doctest: +SKIP
        """
        missing = [name for name in _LAUNCH_ENV if not os.environ.get(name)]
        if missing:
            raise ValueError(f"the environment lacks {missing}: launch with torchrun "
                             "(torchrun --nproc_per_node=N -m fractalnb.training train ...)")
        numbers = {}
        for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
            raw = os.environ.get(name, os.environ["RANK"])
            try:
                numbers[name] = int(raw)
            except ValueError:
                raise ValueError(f"the environment variable {name} must be an integer, "
                                 f"got {raw!r}") from None
        if backend is not None:
            _validate.choice(backend, "backend", _BACKENDS)
        device = _validate.device(device)
        if device is None:
            device = (torch.device("cuda", numbers["LOCAL_RANK"])
                      if torch.cuda.is_available() and backend != "gloo"
                      else torch.device("cpu"))
        if backend is None:
            backend = "nccl" if device.type == "cuda" else "gloo"
        context = cls(rank=numbers["RANK"], world_size=numbers["WORLD_SIZE"],
                      local_rank=numbers["LOCAL_RANK"], device=device, backend=backend)
        if context.device.type == "cuda":
            torch.cuda.set_device(context.device)
        if not dist.is_initialized():
            dist.init_process_group(backend, rank=context.rank, world_size=context.world_size)
        elif (dist.get_rank(), dist.get_world_size()) != (context.rank, context.world_size):
            raise ValueError("a process group with another rank or world size is already "
                             "initialised")
        return context

    def close(self) -> None:
        """Leave the process group (after a barrier, so no rank leaves while others work)."""
        if dist.is_initialized():
            dist.barrier()
            dist.destroy_process_group()

    def per_rank_batch(self, batch_size: int) -> int:
        """Return each rank's batch for a global batch of ``batch_size`` images.

        Raises
        ------
        ValueError
            If ``batch_size`` is not a multiple of the world size.
        """
        batch_size = _validate.integer(batch_size, "batch_size", 1)
        if batch_size % self.world_size:
            raise ValueError(f"batch_size (the global batch) must be a multiple of the world "
                             f"size {self.world_size}, got {batch_size}")
        return batch_size // self.world_size

    def loaders(
        self, train_set: Dataset, test_set: Dataset, *, batch_size: int, seed: int = 0,
        augment: bool = True, test_batch_size: int | None = None,
    ) -> tuple[DataLoader, DataLoader]:
        """Return this rank's training and test loaders.

        Parameters
        ----------
        train_set, test_set
            The whole data sets (every rank passes the same ones).
        batch_size
            The **global** batch; each rank's loader yields ``batch_size // world_size``.
        seed
            Seeds the sampler's permutations (``seed + epoch``) and the rank's augmentation
            (``seed + 1 + rank``).
        augment
            Random crop (padding 4) and horizontal flip of the training batches.
        test_batch_size
            The rank's test batch (twice its training batch by default).

        Returns
        -------
        (DataLoader, DataLoader)
            Training batches from a ``DistributedSampler`` (every rank gets the same number;
            the permutation is padded by repeating a few images if the world size does not
            divide the training set) and the rank's shard ``rank::world_size`` of the test
            set.

        Examples
        --------
        >>> from torch.utils.data import TensorDataset
        >>> data = TensorDataset(torch.zeros(8, 3, 32, 32), torch.zeros(8, dtype=torch.long))
        >>> context = DistributedContext(rank=1, world_size=2, local_rank=1, device="cpu",
        ...                              backend="gloo")
        >>> train, test = context.loaders(data, data, batch_size=4, augment=False)
        >>> len(train), len(test.dataset)
        (2, 4)
        """
        for value, name in ((train_set, "train_set"), (test_set, "test_set")):
            if not isinstance(value, Dataset) or not hasattr(value, "__len__"):
                raise TypeError(f"{name} must be a torch Dataset with a length, got "
                                f"{_validate.describe(value)}")
            if len(value) == 0:
                raise ValueError(f"{name} is empty")
        per_rank = self.per_rank_batch(batch_size)
        seed = torch_seed(seed)
        augment = _validate.boolean(augment, "augment")
        if test_batch_size is not None:
            test_batch_size = _validate.integer(test_batch_size, "test_batch_size", 1)
        sampler = DistributedSampler(train_set, num_replicas=self.world_size, rank=self.rank,
                                     shuffle=True, seed=seed, drop_last=False)
        collate = (_AugmentCollate(torch.Generator().manual_seed(seed + 1 + self.rank))
                   if augment else None)
        train = DataLoader(train_set, batch_size=per_rank, sampler=sampler, collate_fn=collate)
        shard = Subset(test_set, range(self.rank, len(test_set), self.world_size))
        test = DataLoader(shard, batch_size=test_batch_size or 2 * per_rank, shuffle=False)
        return train, test

    # -- the hooks train_model calls -----------------------------------------------------

    def wrap(self, model: nn.Module) -> nn.Module:
        """Return ``model`` wrapped in ``DistributedDataParallel`` (its training forward)."""
        ids = [self.device.index] if self.device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(model, device_ids=ids)

    def start_epoch(self, loader: object, epoch: int) -> None:
        """Reshuffle the loader's ``DistributedSampler`` for ``epoch`` (``set_epoch``)."""
        sampler = getattr(loader, "sampler", None)
        if isinstance(sampler, DistributedSampler):
            sampler.set_epoch(epoch)

    def all_sum(self, *values: float) -> tuple[Any, ...]:
        """Return each value summed over the ranks (``all_reduce``; integers stay integers).

        Sums travel as float64, exact for integers below ``2**53``.
        """
        if self.world_size == 1 or not dist.is_initialized():
            return values
        device = self.device if self.backend == "nccl" else torch.device("cpu")
        tensor = torch.tensor([float(v) for v in values], dtype=torch.float64, device=device)
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        sums = tensor.tolist()
        return tuple(int(round(s)) if isinstance(v, int) else s for v, s in zip(values, sums))

    def sync_buffers(self, model: nn.Module) -> None:
        """Copy rank 0's buffers (BatchNorm running statistics) to every rank."""
        if self.world_size == 1 or not dist.is_initialized():
            return
        for buffer in model.buffers():
            dist.broadcast(buffer.data, src=0)


def _launch_numbers() -> tuple[int, int]:
    """Return ``(world_size, rank)`` from torchrun's environment, ``(1, 0)`` without it."""
    if not _launched():
        return 1, 0
    numbers = []
    for name in ("WORLD_SIZE", "RANK"):
        raw = os.environ.get(name, "0")
        try:
            numbers.append(int(raw))
        except ValueError:
            raise ValueError(f"the environment variable {name} must be an integer, "
                             f"got {raw!r}") from None
    return numbers[0], numbers[1]


def _default_out(config: dict[str, Any], world_size: int) -> Path:
    return (cache_dir() / "runs" / f"{config['model']}-w{config['width']}-{config['profile']}"
            f"-{config['variant']}-seed{config['seed']}-x{world_size}")


def _check_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"out={str(out)!r} already exists and is not an empty folder: "
                              "choose another --out or delete it")


def train_distributed(
    name: str,
    *,
    seed: int = 0,
    profile: str | None = None,
    variant: str | None = None,
    width: int | None = None,
    out: str | Path | None = None,
    device: torch.device | str | None = None,
    backend: str | None = None,
    sync_bn: bool | None = None,
    progress: bool = True,
    **overrides: Any,
) -> pd.DataFrame:
    """Train one of the book's models by its profile's recipe, on one device or on many.

    Under ``torchrun`` (``WORLD_SIZE`` set) this is one rank of a data-parallel run (see
    the module's description); otherwise it trains in this process exactly as
    :func:`fractalnb.training.trained_model` does (same initialisation, data order and
    numbers). Rank 0 writes the run into ``out``: ``epoch_000.pt`` … (state dicts, loadable
    into :func:`fractalnb.training.build_model`), ``history.csv`` and ``config.json`` (the
    recipe, ``world_size``, ``global_batch_size``, ``per_rank_batch_size``, ``backend``,
    ``sync_batchnorm``, device, torch version, time); the folder appears only once the run
    is complete.

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
        First-stage width; the recipe's by default.
    out
        The run's folder (must not exist or be empty); by default
        ``fractalnb.paths.cache_dir() / "runs" / "<model>-w<width>-<profile>-<variant>-
        seed<seed>-x<world size>"``.
    device
        This rank's device (see :meth:`DistributedContext.from_environment`); in one process,
        :func:`fractalnb.environment.default_device` by default.
    backend
        ``"gloo"`` or ``"nccl"`` (ranks only); by the device by default.
    sync_bn
        Use :class:`torch.nn.SyncBatchNorm` across ranks; by default on CUDA with more than
        one rank. Needs CUDA.
    progress
        Progress bar (rank 0 only).
    **overrides
        Other :class:`TrainConfig` fields (``epochs``, ``batch_size`` — the **global**
        batch —, ``lr``, ``steps_per_epoch`` …).

    Returns
    -------
    pandas.DataFrame
        The learning curves of :func:`train_model`, global numbers (on every rank);
        ``history.attrs["out"]`` is the run's folder.

    Raises
    ------
    TypeError, ValueError
        For a bad argument or training setting (named), checked before anything is trained,
        or a global batch that the world size does not divide.
    FileExistsError
        If ``out`` already holds something.

    Examples
    --------
    >>> history = train_distributed("custom_cnn", profile="quick", epochs=1,
    ...                             steps_per_epoch=2, out="runs/try")   # doctest: +SKIP
    """
    from .train import train_model  # here: train.py imports this module's context type

    profile = profiles.pick(quick="quick", full="full", profile=profile)
    variant = variant_from_env() if variant is None else _validate.choice(
        variant, "variant", _VARIANTS)
    seed = torch_seed(seed)
    device = _validate.device(device)
    progress = _validate.boolean(progress, "progress")
    if backend is not None:
        _validate.choice(backend, "backend", _BACKENDS)
    if sync_bn is not None:
        sync_bn = _validate.boolean(sync_bn, "sync_bn")
        if sync_bn and not torch.cuda.is_available():  # refused before any folder is touched
            raise ValueError("sync_bn needs CUDA (torch.nn.SyncBatchNorm), and this machine "
                             "has no CUDA device")
    fields = [f.name for f in dataclasses.fields(TrainConfig)]
    unknown = set(overrides) - set(fields) | ({"width"} & set(overrides))
    if unknown:
        raise ValueError(f"unknown training settings {sorted(unknown)}; TrainConfig has "
                         f"{fields}")
    recipe = dataclasses.replace(_recipe(name, profile), **overrides)  # checks every setting
    if width is not None:
        recipe = dataclasses.replace(recipe, width=width)
    _, resolved_width, _ = _build_args(name, recipe.width, 10)
    out = _validate.path(out, "out") if out is not None else None
    world, rank = _launch_numbers()
    if recipe.batch_size % world:
        raise ValueError(f"batch_size (the global batch) must be a multiple of the world size "
                         f"{world}, got {recipe.batch_size}")
    config = {**recipe.to_dict(), "width": resolved_width, "model": name, "seed": seed,
              "profile": profile, "variant": variant, "num_classes": 10}
    out = Path(os.path.abspath(_default_out(config, world) if out is None else out))
    main = rank == 0
    if main:
        _check_out(out)  # before joining: the other ranks stop when rank 0 does
    context = (DistributedContext.from_environment(backend=backend, device=device)
               if _launched() else None)
    try:
        train_device = (context.device if context is not None
                        else device if device is not None else default_device())
        if sync_bn is None:
            sync_bn = world > 1 and train_device.type == "cuda"
        if sync_bn and train_device.type != "cuda":
            raise ValueError(f"sync_bn needs CUDA (torch.nn.SyncBatchNorm), got device "
                             f"{train_device}")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = build_model(name, width=resolved_width, num_classes=10)
        tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
        if main:
            shutil.rmtree(tmp, ignore_errors=True)
        kwargs = {k: getattr(recipe, k) for k in ("epochs", "lr", "momentum", "weight_decay",
                                                  "optimizer", "warmup_epochs",
                                                  "steps_per_epoch")}
        try:
            if context is None:
                history = train_model(model, batch_size=recipe.batch_size, seed=seed,
                                      variant=variant, device=train_device,
                                      checkpoint_dir=tmp, progress=progress, **kwargs)
            else:
                if sync_bn:
                    model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
                train_set, test_set = cifar10_datasets(variant)
                loaders = context.loaders(train_set, test_set, batch_size=recipe.batch_size,
                                          seed=seed)
                history = train_model(model, batch_size=context.per_rank_batch(
                                          recipe.batch_size), seed=seed, loaders=loaders,
                                      distributed=context, checkpoint_dir=tmp,
                                      progress=progress, **kwargs)
            if main:
                _write_run(tmp, out, history, config, world=world, device=train_device,
                           backend=context.backend if context is not None else None,
                           sync_bn=sync_bn)
        finally:
            if main:
                shutil.rmtree(tmp, ignore_errors=True)
    finally:
        if context is not None:
            context.close()
    history.attrs["out"] = str(out)
    return history


def _write_run(tmp: Path, out: Path, history: pd.DataFrame, config: dict[str, Any], *,
               world: int, device: torch.device, backend: str | None, sync_bn: bool) -> None:
    """Write ``history.csv`` and ``config.json`` into ``tmp``, then move it to ``out``."""
    history.to_csv(tmp / "history.csv", index=False)
    batch = config["batch_size"]
    provenance = {"world_size": world, "global_batch_size": batch,
                  "per_rank_batch_size": batch // world, "backend": backend,
                  "sync_batchnorm": sync_bn, "device": str(device), "torch": torch.__version__,
                  "trained_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                  "train_wall_s": float(history["wall_s"].iloc[-1]),
                  "train_cpu_s": float(history["epoch_cpu_s"].sum())}  # rank 0's
    (tmp / "config.json").write_text(json.dumps({**config, **provenance}, indent=1))
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.is_dir():
        out.rmdir()  # empty (checked before training)
    os.replace(tmp, out)
