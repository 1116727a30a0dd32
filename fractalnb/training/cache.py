"""The trained-model cache: one run per configuration, trained once, locked, verified, reloaded.

A run lives in ``cache_dir() / "trained" / <key>``: its checkpoints ``epoch_{k:03d}.pt``, its
learning curves ``history.csv``, its configuration ``config.json`` and, written last, its
manifest ``manifest.json``, which records the SHA-256 and size of every other file, the run's
configuration and the numerical environment it was trained in. Nothing is read from a run
before its checksum is verified: a damaged run is trained again (with a warning naming the
file) or, where training is not allowed, refused with a ``ValueError`` naming the file.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import io
import json
import os
import platform
import shutil
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from filelock import FileLock, Timeout
from torch import nn

from .. import _validate, profiles
from .._progress import progress_disabled
from ..environment import default_device
from ..paths import cache_dir
from ._checks import torch_seed
from .config import TrainConfig, _recipe
from .data import _VARIANTS, variant_from_env
from .models import _build_args, build_model
from .train import train_model

__all__ = [
    "TrainedModel",
    "trained_model",
]


CACHE_FORMAT = 2
"""Version of the on-disk layout of cached runs (part of every cache key).

1: no checksums. 2: ``manifest.json`` with the SHA-256 of every file, and the numerical
environment (torch version, threads, device type, deterministic flags) in the key.
"""

MANIFEST = "manifest.json"
"""The run's manifest: written last, atomically; lists every other file with its checksum."""

_TMP = ".tmp-"
"""Marks a run's temporary folder, ``.<key>.tmp-<pid>…`` (trained into, then renamed)."""


class _Damaged(Exception):
    """A cached run that fails verification: ``file`` is the file at fault."""

    def __init__(self, file: Path, reason: str) -> None:
        super().__init__(f"{file}: {reason}")
        self.file, self.reason = file, reason


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_verified(path: Path, expected: Mapping[str, Any]) -> bytes:
    """Return the bytes of ``path`` if their size and SHA-256 are ``expected``'s, else raise."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise _Damaged(path, "the file is missing") from None
    if len(data) != expected["bytes"]:
        raise _Damaged(path, f"{len(data)} bytes instead of {expected['bytes']} (truncated "
                             "or overwritten)")
    digest = _sha256(data)
    if digest != expected["sha256"]:
        raise _Damaged(path, f"SHA-256 {digest} instead of {expected['sha256']} (corrupted)")
    return data


def _refusal(damage: _Damaged, folder: Path, hint: str = "") -> ValueError:
    return ValueError(f"the cached run {folder} is damaged, nothing of it was read: "
                      f"{damage.file.name}: {damage.reason}; delete the folder{hint} to train "
                      "it again")


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
        Everything that defines the run (model, width, recipe, seed, profile, variant, the
        numerical environment under ``"environment"``) plus where and when it was trained.
    path : pathlib.Path
        The run's folder in the cache.
    trained_now : bool
        Whether this call trained the model (``False``: loaded from the cache).
    files : dict
        The run's manifest entries, ``{file name: {"sha256": ..., "bytes": ...}}``:
        :meth:`load_epoch` verifies a checkpoint against them before reading it.
    """

    name: str
    model: nn.Module
    history: pd.DataFrame
    checkpoints: list[Path]
    config: dict[str, Any]
    path: Path
    trained_now: bool = field(default=False)
    files: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    @property
    def test_accuracy(self) -> float:
        """Test accuracy after the last epoch."""
        return float(self.history["test_acc"].iloc[-1])

    def load_epoch(self, epoch: int) -> nn.Module:
        """Return a fresh copy of the network as it was after ``epoch`` (0: initialisation).

        The checkpoint's size and SHA-256 are checked against the run's manifest first.

        Raises
        ------
        FileNotFoundError
            If the checkpoint file is gone.
        ValueError
            If ``epoch`` is out of range, or the checkpoint is damaged (its checksum
            differs from the manifest's; the message names the file): it is not read.

        Examples
        --------
        >>> initial = run.load_epoch(0)    # doctest: +SKIP
        """
        epoch = _validate.integer(epoch, "epoch", 0, len(self.checkpoints) - 1)
        path = self.checkpoints[epoch]
        if not path.is_file():
            raise FileNotFoundError(f"checkpoint {path} does not exist: delete {self.path} to "
                                    "train the run again")
        try:
            state = _load_checkpoint(path, self.files)
        except _Damaged as damage:
            raise _refusal(damage, self.path) from None
        model = build_model(self.name, width=self.config["width"],
                            num_classes=self.config["num_classes"])
        model.load_state_dict(state)
        return model.eval()


def _load_checkpoint(path: Path, files: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """Verify a checkpoint against the manifest entries, then load it (tensors only)."""
    if path.name not in files:
        raise _Damaged(path, "the manifest has no checksum for this file")
    data = _read_verified(path, files[path.name])
    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


def _environment(device: torch.device) -> dict[str, Any]:
    """Everything besides the recipe that changes the trained weights (part of the key).

    Examples
    --------
    >>> _environment(torch.device("cpu"))["device_type"]
    'cpu'
    """
    env: dict[str, Any] = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "device_type": device.type,
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
    }
    if device.type == "cpu":
        env["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    if device.type == "cuda":
        env.update({
            "gpu": torch.cuda.get_device_name(device),
            "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version(),
            "cudnn_deterministic": torch.backends.cudnn.deterministic,
            "cudnn_benchmark": torch.backends.cudnn.benchmark,
            "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32,
            "cuda_matmul_allow_tf32": torch.backends.cuda.matmul.allow_tf32,
        })
    return env


def _run_key(config: Mapping[str, Any]) -> str:
    """Return the run's folder name: its main settings, readable, and a hash of its config.

    Examples
    --------
    >>> _run_key({"model": "m", "width": 2, "profile": "quick", "variant": "sample",
    ...           "seed": 0, "environment": {"threads": 2, "device_type": "cpu"}})
    'm-w2-quick-sample-seed0-t2-cpu-b167f0de63'
    """
    digest = _sha256(json.dumps(config, sort_keys=True).encode())[:10]
    env = config["environment"]
    return (f"{config['model']}-w{config['width']}-{config['profile']}-{config['variant']}"
            f"-seed{config['seed']}-t{env['threads']}-{env['device_type']}-{digest}")


def _manifest_digest(manifest: Mapping[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return _sha256(json.dumps(body, sort_keys=True).encode())


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory descriptors
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` durably: a temporary file, fsync, then a rename."""
    tmp = path.with_name(f"{path.name}{_TMP}{os.getpid()}")
    with open(tmp, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def _entry(path: Path) -> dict[str, Any]:
    """Manifest entry of a file already written (fsynced here, before the manifest)."""
    with open(path, "rb") as f:
        data = f.read()
        os.fsync(f.fileno())
    return {"sha256": _sha256(data), "bytes": len(data)}


def _write_run(tmp: Path, key: str, config: dict[str, Any], history: pd.DataFrame,
               provenance: dict[str, Any]) -> None:
    """Write history, config and, last, the manifest of a run trained into ``tmp``."""
    _write_atomic(tmp / "history.csv", history.to_csv(index=False).encode())
    _write_atomic(tmp / "config.json", json.dumps({**config, **provenance}, indent=1).encode())
    names = [f"epoch_{e:03d}.pt" for e in range(config["epochs"] + 1)]
    files = {name: _entry(tmp / name) for name in [*names, "history.csv", "config.json"]}
    manifest = {"cache_format": CACHE_FORMAT, "key": key, "config": config,
                "provenance": provenance, "files": files}
    manifest["manifest_sha256"] = _manifest_digest(manifest)
    _fsync_dir(tmp)
    _write_atomic(tmp / MANIFEST, json.dumps(manifest, indent=1).encode())
    _fsync_dir(tmp)


def _load_run(folder: Path, key: str, config: Mapping[str, Any],
              trained_now: bool) -> TrainedModel:
    """Verify and read a cached run; raise :class:`_Damaged` (nothing read) if it fails."""
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise _Damaged(path, "the manifest is missing (a run of an older cache or a copy "
                             "cut short)") from None
    except (ValueError, UnicodeDecodeError):
        raise _Damaged(path, "the manifest is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("manifest_sha256") != _manifest_digest(
            manifest):
        raise _Damaged(path, "the manifest's own checksum does not match its content")
    if manifest.get("key") != key or manifest.get("config") != config:
        raise _Damaged(path, "the manifest describes another run")
    files = manifest["files"]
    names = [f"epoch_{e:03d}.pt" for e in range(config["epochs"] + 1)]
    for name in [*names, "history.csv", "config.json"]:  # cheap checks of every file first
        if name not in files:
            raise _Damaged(folder / name, "the manifest has no checksum for this file")
        if not (folder / name).is_file():
            raise _Damaged(folder / name, "the file is missing")
        size = (folder / name).stat().st_size
        if size != files[name]["bytes"]:
            raise _Damaged(folder / name, f"{size} bytes instead of {files[name]['bytes']} "
                                          "(truncated or overwritten)")
    stored = json.loads(_read_verified(folder / "config.json", files["config.json"]))
    if {k: stored.get(k) for k in config} != dict(config):
        raise _Damaged(folder / "config.json", "it describes another run")
    history = pd.read_csv(io.BytesIO(_read_verified(folder / "history.csv",
                                                    files["history.csv"])))
    if len(history) != config["epochs"] + 1:
        raise _Damaged(folder / "history.csv", f"{len(history)} rows instead of "
                                               f"{config['epochs'] + 1}")
    checkpoints = [folder / name for name in names]
    final = _load_checkpoint(checkpoints[-1], files)
    model = build_model(config["model"], width=config["width"],
                        num_classes=config["num_classes"])
    model.load_state_dict(final)
    return TrainedModel(name=config["model"], model=model.eval(), history=history,
                        checkpoints=checkpoints, config=stored, path=folder,
                        trained_now=trained_now, files=files)


_IMAGES = {"sample": (5_000, 1_000), "full": (50_000, 10_000)}
"""Training and test images of each CIFAR-10 variant (see :mod:`fractalnb.training.data`)."""


def _step_seconds(model: nn.Module, batch_size: int, device: torch.device) -> float:
    """Time one SGD step of a copy of ``model`` on a zero batch (the RNG state is kept)."""
    probe = copy.deepcopy(model).to(device).train()
    optimizer = torch.optim.SGD(probe.parameters(), lr=0.0)
    images = torch.zeros(batch_size, 3, 32, 32, device=device)
    labels = torch.zeros(batch_size, dtype=torch.long, device=device)
    with torch.random.fork_rng(devices=[]):
        times = []
        for _ in range(3):  # the first step warms up (allocations), the others are timed
            start = time.perf_counter()
            optimizer.zero_grad()
            nn.functional.cross_entropy(probe(images), labels).backward()
            optimizer.step()
            times.append(time.perf_counter() - start)
    return min(times[1:])


def _announcement(name: str, config: TrainConfig, profile: str, variant: str,
                  model: nn.Module, device: torch.device) -> str:
    """Say before training that a run is not cached, what it trains, and about how long.

    The time is estimated from one timed training step on this machine: the steps of every
    epoch, plus an evaluation of the test images after each (a forward pass, about a third
    of a step).

    Examples
    --------
    >>> from fractalnb.training.config import _recipe
    >>> from fractalnb.training.models import build_model
    >>> text = _announcement("custom_cnn", _recipe("custom_cnn", "quick"), "quick",
    ...                      "sample", build_model("custom_cnn", width=4, num_classes=10),
    ...                      torch.device("cpu"))
    >>> text.startswith("custom_cnn (quick profile") and "expected" in text
    True
    """
    n_train, n_test = _IMAGES[variant]
    steps = config.steps_per_epoch or -(-n_train // config.batch_size)
    step = _step_seconds(model, config.batch_size, device)
    seconds = step * (config.epochs * steps
                      + (config.epochs + 1) * -(-n_test // config.batch_size) / 3)
    expected = f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"
    return (f"{name} ({profile} profile, CIFAR-10 {variant}) is not in the cache yet: "
            f"training it now, {config.epochs} epochs x {steps} steps on {device.type} "
            f"with {torch.get_num_threads()} threads; expected about {expected} "
            f"(from one timed step). It is cached in {cache_dir() / 'trained'} for "
            "every later run.")


def _tmp_owner(name: str) -> str | None:
    """Return the key of a temporary folder named ``.<key>.tmp-<...>``, or ``None``."""
    if not name.startswith(".") or _TMP not in name:
        return None
    return name[1:name.rindex(_TMP)] or None


def _remove_stale(root: Path, key: str) -> None:
    """Remove temporary folders left by killed runs; called holding ``key``'s lock.

    A temporary folder of ``key`` present now is stale (its writer held the lock we hold).
    One of another key is removed only if that key's lock is free right now (nobody is
    training it); a busy lock is skipped, never waited for.
    """
    stale: dict[str, list[Path]] = {}
    for path in root.iterdir():
        owner = _tmp_owner(path.name)
        if owner is not None and path.is_dir():
            stale.setdefault(owner, []).append(path)
    for owner, paths in stale.items():
        if owner == key:
            for path in paths:
                shutil.rmtree(path, ignore_errors=True)
            continue
        try:
            with FileLock(root / f"{owner}.lock", timeout=0):
                for path in paths:
                    shutil.rmtree(path, ignore_errors=True)
        except Timeout:
            continue


def trained_model(
    name: str,
    *,
    seed: int = 0,
    profile: str | None = None,
    variant: str | None = None,
    width: int | None = None,
    device: torch.device | str | None = None,
    progress: bool = True,
    allow_training: bool = True,
    **overrides: Any,
) -> TrainedModel:
    """Return one of the book's models trained on CIFAR-10, from the cache or trained now.

    The run is defined by the model name, the recipe of the profile (see :func:`recipe_table`,
    with ``width`` and ``overrides`` applied), the seed, the data variant, and the numerical
    environment that changes the trained weights (torch version, ``torch.get_num_threads()``,
    device type, deterministic-algorithm and matmul-precision flags, and on CUDA the GPU and
    cuDNN settings); a hash of all of them names its folder under
    ``fractalnb.paths.cache_dir() / "trained"``, e.g.
    ``custom_cnn-w16-quick-sample-seed0-t2-cpu-<hash>``.

    A missing run is trained with :func:`train_model` (checkpoints after every epoch) in a
    temporary folder, then renamed into place; its ``manifest.json``, written last, holds the
    SHA-256 of every file. A cached run is verified before anything of it is read (the size
    of every file; the checksum of the manifest, ``config.json``, ``history.csv`` and the last
    checkpoint here, of any other checkpoint by :meth:`TrainedModel.load_epoch`): a damaged
    run is trained again, with a ``RuntimeWarning`` naming the damaged file. Concurrent calls
    for the same run are serialised by a file lock (``filelock.FileLock``), so it is trained
    once: the others wait, then read it. Temporary folders left by killed runs are removed.

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
        Where to train (if needed; its type is part of the key); the loaded model is
        returned on the CPU.
    progress
        Progress bar while training.
    allow_training
        ``False``: only read the cache; a missing run raises ``FileNotFoundError`` and a
        damaged one ``ValueError`` (naming the file) instead of being trained.
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
        trained or read; ``ValueError`` also for a damaged run when ``allow_training`` is
        ``False``.
    FileNotFoundError
        For a run not in the cache when ``allow_training`` is ``False``.

    Warns
    -----
    RuntimeWarning
        When a damaged cached run is trained again (the message names the file).

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
    allow_training = _validate.boolean(allow_training, "allow_training")
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
    train_device = device if device is not None else default_device()
    config = {**config_obj.to_dict(), "width": resolved_width, "model": name, "seed": seed,
              "profile": profile, "variant": variant, "num_classes": 10,
              "cache_format": CACHE_FORMAT, "environment": _environment(train_device)}
    key = _run_key(config)
    root = cache_dir() / "trained"
    folder = root / key
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(root / f"{key}.lock"):
        _remove_stale(root, key)
        if folder.is_dir():
            try:
                return _load_run(folder, key, config, trained_now=False)
            except _Damaged as damage:
                if not allow_training:
                    raise _refusal(damage, folder, " (or pass allow_training=True)") from None
                warnings.warn(f"the cached run {folder} is damaged ({damage.file.name}: "
                              f"{damage.reason}); training it again", RuntimeWarning,
                              stacklevel=2)
                # moved aside first: a removal cut short leaves a stale temporary folder
                aside = root / f".{key}{_TMP}{os.getpid()}-damaged"
                os.replace(folder, aside)
                shutil.rmtree(aside, ignore_errors=True)
        elif not allow_training:
            raise FileNotFoundError(f"the run {key} is not in the cache {root} "
                                    "(allow_training=False)")
        tmp = root / f".{key}{_TMP}{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                model = build_model(name, width=resolved_width, num_classes=10)
            if not progress_disabled():  # a reader's first run (a book build sets TQDM_DISABLE)
                print(_announcement(name, config_obj, profile, variant, model, train_device),
                      flush=True)
            history = train_model(
                model, epochs=config_obj.epochs, batch_size=config_obj.batch_size,
                lr=config_obj.lr, momentum=config_obj.momentum,
                weight_decay=config_obj.weight_decay, optimizer=config_obj.optimizer,
                warmup_epochs=config_obj.warmup_epochs,
                steps_per_epoch=config_obj.steps_per_epoch, seed=seed, variant=variant,
                device=train_device, checkpoint_dir=tmp, progress=progress)
            provenance = {"device": str(train_device), "host": platform.node(),
                          "trained_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                          "train_wall_s": float(history["wall_s"].iloc[-1]),
                          "train_cpu_s": float(history["epoch_cpu_s"].sum())}
            _write_run(tmp, key, config, history, provenance)
            os.replace(tmp, folder)
            _fsync_dir(root)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        try:
            return _load_run(folder, key, config, trained_now=True)
        except _Damaged as damage:  # pragma: no cover - the disk lost what was just written
            raise _refusal(damage, folder) from None
