"""Training the reference runs: one run, or all of them on a pool of processes, resumable.

``make reference`` (``python -m fractalnb.reference run``) trains every reference run that is
not stored or is stale, two at a time by default (one torch thread each), with a progress bar
over the estimated work and an ETA. Each run trains in a work folder under
``fractalnb.paths.cache_dir() / "reference-work"``, writing the full training state after
every epoch (:func:`fractalnb.training.train_model`'s ``state_file``): an interrupted
``make reference`` continues where it stopped, at epoch granularity, with the weights an
uninterrupted run would have. A finished run is written to a temporary folder and renamed
into place, replacing a stale one.

Examples
--------
>>> from fractalnb.reference import run_reference
>>> table = run_reference(jobs=2)                 # doctest: +SKIP
"""

from __future__ import annotations

import concurrent.futures as futures
import hashlib
import io
import json
import multiprocessing
import os
import platform
import shutil
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__, _validate
from .._progress import progress_bar
from ..paths import cache_dir
from .runs import RunSpec, config_sha256, reference_runs, run_spec
from .setup import build_reference_model, state_sha256, training_kwargs
from .store import (
    HISTORY,
    MANIFEST,
    TRAINING_SOURCES,
    _folder,
    resolve_target,
    source_sha256,
    verify_results,
    weights_name,
)

__all__ = [
    "replay_first_epoch",
    "run_reference",
    "train_reference_run",
]


def _float16_npz(state: Mapping[str, Any]) -> bytes:
    arrays = {}
    for name, tensor in state.items():
        array = tensor.detach().cpu().numpy()
        arrays[name] = array.astype(np.float16) if array.dtype.kind == "f" else array
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def _environment() -> dict[str, Any]:
    import torch

    return {"torch": torch.__version__, "numpy": np.__version__,
            "python": platform.python_version(), "fractalnb": __version__,
            "device": "cpu", "threads": torch.get_num_threads(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "machine": f"{platform.machine()}, {torch.backends.cpu.get_cpu_capability()}, "
                       f"{os.cpu_count()} cores",
            "host": platform.node(),
            "deterministic_algorithms": torch.are_deterministic_algorithms_enabled()}


def _work_folder(spec: RunSpec, config: dict[str, Any]) -> Path:
    """Return the run's work folder, named by its id and its configuration's hash.

    Two configurations of one run id (a test's tiny stand-in, an older recipe) never share
    a folder, so neither can resume, or delete, the other's work.
    """
    return cache_dir() / "reference-work" / f"{spec.run_id}-{config_sha256(config)[:12]}"


def train_reference_run(spec: RunSpec, results: str | Path | None = None) -> dict[str, Any]:
    """Train one reference run (resuming its work folder if any) and store it.

    Trains on one torch thread on the CPU, as every stored run was; writes the stored files
    and, last, the manifest into a temporary folder that then replaces the run's folder.

    Returns
    -------
    dict
        The manifest written.

    Examples
    --------
    >>> train_reference_run(run_spec("custom_cnn-seed0"))     # doctest: +SKIP
    """
    import torch

    if not isinstance(spec, RunSpec):
        raise TypeError(f"spec must be a RunSpec, got {_validate.describe(spec)}")
    target = resolve_target(spec, results)
    config = spec.config(target)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train_and_store(spec, config, target, results)
    finally:
        torch.set_num_threads(threads)


def _train_and_store(spec: RunSpec, config: dict[str, Any], target: float | None,
                     results: str | Path | None) -> dict[str, Any]:
    import torch

    from ..training import SAMPLE_CONTENT_SHA256, train_model

    work = _work_folder(spec, config)
    work.mkdir(parents=True, exist_ok=True)
    stamp = work / "config.json"
    if stamp.is_file() and json.loads(stamp.read_text()) != config:
        shutil.rmtree(work)  # cannot happen unless the folder was tampered with
        work.mkdir(parents=True)
    stamp.write_text(json.dumps(config, sort_keys=True))
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    model = build_reference_model(spec)
    initial = state_sha256(model.state_dict())
    kwargs, constraint = training_kwargs(spec, target, model)
    try:
        history = train_model(model, checkpoint_dir=work / "checkpoints",
                              state_file=work / "state.pt", **kwargs)
    finally:
        if constraint is not None:
            constraint.remove()
    folder = _folder(spec.run_id, results)
    tmp = folder.with_name(f".{spec.run_id}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    files = {HISTORY: history.to_csv(index=False).encode()}
    for epoch in spec.checkpoints:
        state = torch.load(work / "checkpoints" / f"epoch_{epoch:03d}.pt", map_location="cpu",
                           weights_only=True)
        files[weights_name(epoch)] = _float16_npz(state)
    for name, data in files.items():
        (tmp / name).write_bytes(data)
    manifest = {
        "format": 1, "run_id": spec.run_id, "profile": "reference", "config": config,
        "config_sha256": config_sha256(config), "source_sha256": source_sha256(),
        "sources": list(TRAINING_SOURCES), "data_sha256": SAMPLE_CONTENT_SHA256,
        "environment": _environment(), "seed": spec.seed, "started": started,
        "wall_s": float(history["wall_s"].iloc[-1]),
        "cpu_s": float(history["epoch_cpu_s"].sum()),
        "final_test_acc": float(history["test_acc"].iloc[-1]),
        "initial_state_sha256": initial,
        "files": {name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
                  for name, data in files.items()},
    }
    manifest["manifest_sha256"] = config_sha256(manifest)
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    if folder.exists():
        aside = folder.with_name(f".{spec.run_id}.old{os.getpid()}")
        os.replace(folder, aside)
        shutil.rmtree(aside)
    os.replace(tmp, folder)
    shutil.rmtree(work, ignore_errors=True)
    return manifest


def _done_epochs(spec: RunSpec) -> int:
    matches = sorted((cache_dir() / "reference-work").glob(f"{spec.run_id}-*/checkpoints"))
    folder = matches[-1] if matches else Path("/nonexistent")
    return max(0, len(list(folder.glob("epoch_*.pt"))) - 1) if folder.is_dir() else 0


def _worker(run_id: str, results: str | None) -> tuple[str, float, float]:
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - the pool's bar owns the terminal
    manifest = train_reference_run(run_spec(run_id), results)
    return run_id, manifest["final_test_acc"], manifest["wall_s"]


def run_reference(*, jobs: int = 2, only: Iterable[str] | None = None,
                  results: str | Path | None = None, progress: bool = True) -> pd.DataFrame:
    """Train every reference run that is missing or stale, ``jobs`` at a time.

    Parameters
    ----------
    jobs
        Runs trained at once, one process and one torch thread each.
    only
        Run ids to consider (all by default); runs they require are not added.
    results
        The results folder (:func:`fractalnb.reference.results_dir` by default).
    progress
        A progress bar over the estimated single-thread seconds of work, with an ETA.

    Returns
    -------
    pandas.DataFrame
        :func:`fractalnb.reference.verify_results` after training.

    Examples
    --------
    >>> run_reference(only=["custom_cnn-seed0"])        # doctest: +SKIP
    """
    jobs = _validate.integer(jobs, "jobs", 1)
    progress = _validate.boolean(progress, "progress")
    runs = reference_runs()
    if only is not None:
        if isinstance(only, (str, bytes)) or not isinstance(only, Iterable):
            raise TypeError(f"only must be a list of run ids, got {_validate.describe(only)}")
        known = {run.run_id for run in runs}
        wanted = list(only)
        unknown = [name for name in wanted if name not in known]
        if unknown:
            raise ValueError(f"only names runs that are not reference runs: {unknown}; "
                             f"they are {sorted(known)}")
        runs = [run for run in runs if run.run_id in wanted]
    status = verify_results(results, runs).set_index("run_id")["status"]
    todo = [run for run in runs if status[run.run_id] != "ok"]
    done = {run.run_id for run in reference_runs() if run.run_id not in status.index
            or status[run.run_id] == "ok"}
    total = sum(run.estimated_cost() for run in todo)
    bar = progress_bar(total=round(total), desc="reference runs", unit="s",
                       enabled=progress and bool(todo))
    context = multiprocessing.get_context("spawn")
    finished_cost, running = 0.0, {}
    results_arg = None if results is None else str(results)
    try:
        with futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            pending = list(todo)
            while pending or running:
                while pending and len(running) < jobs:
                    ready = [run for run in pending if set(run.requires) <= done]
                    if not ready:
                        break
                    run = ready[0]
                    pending.remove(run)
                    running[pool.submit(_worker, run.run_id, results_arg)] = run
                if not running:
                    missing = sorted({name for run in pending for name in run.requires} - done)
                    raise RuntimeError(f"cannot start {[run.run_id for run in pending]}: "
                                       f"they need {missing}")
                finished, _ = futures.wait(running, timeout=5,
                                           return_when=futures.FIRST_COMPLETED)
                for future in finished:
                    run = running.pop(future)
                    run_id, accuracy, wall = future.result()
                    done.add(run_id)
                    finished_cost += run.estimated_cost()
                    bar.write(f"{run_id}: test accuracy {accuracy:.3f}, {wall / 60:.1f} min")
                partial = sum(run.estimated_cost() * _done_epochs(run) / run.epochs
                              for run in running.values())
                bar.n = min(round(finished_cost + partial), bar.total)
                bar.refresh()
    finally:
        bar.close()
    return verify_results(results)


def replay_first_epoch(run_id: str, results: str | Path | None = None) -> pd.DataFrame:
    """Train the first epoch of a stored run again and set it beside the stored one.

    The replay uses the run's configuration (the schedule spans all its epochs) on one torch
    thread; on the same kind of CPU it reproduces the stored epoch to floating-point
    rounding.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``stored`` and ``replayed``: ``train_loss``, ``train_acc``,
        ``test_loss``, ``test_acc`` of epoch 1.

    Examples
    --------
    >>> replay_first_epoch("custom_cnn-seed0")              # doctest: +SKIP
    """
    import torch

    from ..training import train_model
    from .store import load_history, load_manifest

    manifest = load_manifest(run_id, results)
    spec = RunSpec.from_config(manifest["config"], manifest.get("requires", ()))
    stored = load_history(run_id, results)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model = build_reference_model(spec)
        kwargs, constraint = training_kwargs(spec, manifest["config"].get("target"), model)
        try:
            replay = train_model(model, stop_after=1, **kwargs)
        finally:
            if constraint is not None:
                constraint.remove()
    finally:
        torch.set_num_threads(threads)
    columns = ["train_loss", "train_acc", "test_loss", "test_acc"]
    return pd.DataFrame([stored.loc[1, columns], replay.loc[1, columns]],
                        index=["stored", "replayed"])
