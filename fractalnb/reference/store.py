"""The stored reference results: layout, manifests, verification and reading.

Each reference run (:func:`fractalnb.reference.reference_runs`) is one folder of the results
folder (``results/reference`` in the repository, or ``$FRACTALNB_RESULTS_DIR``):

``history.csv``
    The learning curves, one row per epoch (row 0: the initialisation): losses, accuracies,
    wall and CPU time, and for Part V the SS_rate of every hooked layer on the probe batch.
``weights-epoch_XXX.npz``
    The weights (state dict) after the stored epochs, float16, compressed.
``manifest.json``
    Written last: the full configuration and its SHA-256, the SHA-256 of the training
    sources (:func:`source_sha256`) and of the data, the package, torch and Python versions,
    device and thread count, start time and wall time, the SHA-256 of the initial weights
    (rebuilt from the seed when read) and the SHA-256 and size of every stored file.

Nothing is read before its checksum is verified; :func:`verify_results` names every run that
is missing, damaged or stale (its configuration or the training code changed since).

Examples
--------
>>> from fractalnb.reference import verify_results
>>> table = verify_results()                       # doctest: +SKIP
>>> table["status"].eq("ok").all()                  # doctest: +SKIP
True
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import _validate
from ..paths import repo_root
from .runs import OWN_LEVEL, RunSpec, config_sha256, reference_runs

__all__ = [
    "RESULTS_ENV",
    "TRAINING_SOURCES",
    "load_history",
    "load_manifest",
    "load_weights",
    "provenance",
    "resolve_target",
    "results_dir",
    "source_sha256",
    "verify_results",
]

RESULTS_ENV = "FRACTALNB_RESULTS_DIR"
"""Environment variable that moves the results folder (default ``results/reference``)."""

MANIFEST = "manifest.json"
HISTORY = "history.csv"
FORMAT = 1

TRAINING_SOURCES = (
    "training/data.py", "training/loaders.py", "training/models.py", "training/config.py",
    "training/train.py", "training/_checks.py", "training/distributed.py",
    "graphs/token_models.py", "graphs/features.py", "graphs/self_similarity.py",
    "graphs/constraint.py", "reference/setup.py",
)
"""The modules whose code decides what a reference run trains (paths in ``fractalnb/``)."""


def results_dir() -> Path:
    """Return the results folder: ``$FRACTALNB_RESULTS_DIR`` or ``results/reference``.

    Examples
    --------
    >>> results_dir().name
    'reference'
    """
    value = os.environ.get(RESULTS_ENV)
    return Path(value).expanduser() if value else repo_root() / "results" / "reference"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return tree


def source_sha256(files: Iterable[str] = TRAINING_SOURCES,
                  package: str | Path | None = None) -> str:
    """SHA-256 of the code that training depends on, docstrings, comments and layout aside.

    Each module is parsed, its docstrings removed and the rest written back in canonical
    form (``ast.unparse``), so editing documentation or formatting leaves the hash alone
    while any change to what the code does changes it.

    Parameters
    ----------
    files
        Paths inside the package (:data:`TRAINING_SOURCES` by default).
    package
        The package folder (this ``fractalnb`` by default).

    Examples
    --------
    >>> len(source_sha256())
    64
    """
    package = repo_root() / "fractalnb" if package is None else _validate.path(package,
                                                                              "package")
    if isinstance(files, (str, bytes)) or not isinstance(files, Iterable):
        raise TypeError(f"files must be a list of paths inside the package, got "
                        f"{_validate.describe(files)}")
    files = list(files)
    for name in files:
        if not isinstance(name, str):
            raise TypeError(f"files must hold paths (strings), got {_validate.describe(name)}")
        if not (package / name).is_file():
            raise ValueError(f"files names {name!r}, which is not a file of {package}")
    digest = hashlib.sha256()
    for name in files:
        tree = _strip_docstrings(ast.parse((package / name).read_text(encoding="utf-8")))
        digest.update(name.encode() + b"\0" + ast.unparse(tree).encode() + b"\0")
    return digest.hexdigest()


def _folder(run_id: str, results: str | Path | None) -> Path:
    if not isinstance(run_id, str):
        raise TypeError(f"run_id must be the name of a run (a string), got "
                        f"{_validate.describe(run_id)}")
    if not run_id or "/" in run_id or run_id.startswith("."):
        raise ValueError(f"run_id must be the name of a run folder, got {run_id!r}")
    root = results_dir() if results is None else _validate.path(results, "results")
    return root / run_id


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read {path}: {error}") from None


def load_manifest(run_id: str, results: str | Path | None = None) -> dict[str, Any]:
    """Return a stored run's manifest, after checking its own checksum.

    Raises
    ------
    FileNotFoundError
        If the run is not stored.
    ValueError
        If the manifest is unreadable or was edited (its ``manifest_sha256`` disagrees).

    Examples
    --------
    >>> load_manifest("custom_cnn-seed0")["config"]["model"]     # doctest: +SKIP
    'custom_cnn'
    """
    path = _folder(run_id, results) / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"the reference run {run_id} is not stored ({path} is missing);"
                                " train it with `make reference`")
    manifest = _read_json(path)
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    if manifest.get("manifest_sha256") != config_sha256(body):
        raise ValueError(f"{path} was edited: its checksum does not match its content")
    return manifest


def _verified_bytes(run_id: str, name: str, results: str | Path | None) -> bytes:
    manifest = load_manifest(run_id, results)
    entry = manifest["files"].get(name)
    if entry is None:
        raise FileNotFoundError(f"{name} is not a stored file of the run {run_id}; it has "
                                f"{sorted(manifest['files'])}")
    path = _folder(run_id, results) / name
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error}") from None
    if len(data) != entry["bytes"] or _sha256(data) != entry["sha256"]:
        raise ValueError(f"{path} is damaged or was edited: its SHA-256 does not match the "
                         "manifest; retrain the run with `make reference`")
    return data


def load_history(run_id: str, results: str | Path | None = None) -> pd.DataFrame:
    """Return a stored run's learning curves (checksum verified), one row per epoch.

    Examples
    --------
    >>> load_history("vit-baseline-seed0")["test_acc"].iloc[-1] > 0.4   # doctest: +SKIP
    True
    """
    return pd.read_csv(io.BytesIO(_verified_bytes(run_id, HISTORY, results)))


def weights_name(epoch: int) -> str:
    """File name of the stored weights after ``epoch``."""
    return f"weights-epoch_{epoch:03d}.npz"


def load_weights(run_id: str, epoch: int | None = None, results: str | Path | None = None):
    """Return a stored run's model with the weights of an epoch (in eval mode, on the CPU).

    Parameters
    ----------
    run_id
        A reference run.
    epoch
        A stored epoch (the manifest's ``checkpoints``), ``0`` for the initialisation
        (rebuilt from the seed and checked against the manifest's SHA-256), or ``None`` for
        the last epoch.
    results
        The results folder (:func:`results_dir` by default).

    Raises
    ------
    ValueError
        For an epoch that is not stored, a damaged file, or an initialisation that does not
        rebuild to the stored checksum (another torch version, say).

    Examples
    --------
    >>> model = load_weights("resnet18-seed0")              # doctest: +SKIP
    """
    import torch

    from .setup import build_reference_model, state_sha256

    manifest = load_manifest(run_id, results)
    spec = RunSpec.from_config(manifest["config"])
    stored = manifest["config"]["checkpoints"]
    epoch = stored[-1] if epoch is None else _validate.integer(epoch, "epoch", 0)
    model = build_reference_model(spec)
    if epoch == 0:
        if state_sha256(model.state_dict()) != manifest["initial_state_sha256"]:
            raise ValueError(f"the initialisation of {run_id} rebuilt from seed {spec.seed} "
                             "differs from the one trained (torch "
                             f"{manifest['environment']['torch']} then, {torch.__version__} "
                             "now)")
    elif epoch not in stored:
        raise ValueError(f"epoch {epoch} of {run_id} is not stored; stored are 0 "
                         f"(rebuilt) and {stored}")
    else:
        arrays = np.load(io.BytesIO(_verified_bytes(run_id, weights_name(epoch), results)))
        reference = model.state_dict()
        state = {k: torch.from_numpy(arrays[k].astype(reference[k].numpy().dtype))
                 for k in reference}
        model.load_state_dict(state)
    return model.eval()


def resolve_target(spec: RunSpec, results: str | Path | None = None) -> float | None:
    """Return the number behind a run's γ: itself, or the baselines' mean final SS_rate.

    Examples
    --------
    >>> from fractalnb.reference import run_spec
    >>> resolve_target(run_spec("vit-gamma0.25-seed0"))
    0.25
    """
    if not isinstance(spec, RunSpec):
        raise TypeError(f"spec must be a RunSpec, got {_validate.describe(spec)}")
    if spec.target != OWN_LEVEL:
        return None if spec.target is None else float(spec.target)
    finals = [float(load_history(name, results)["ss_mean"].iloc[-1]) for name in spec.requires]
    return float(np.mean(finals))


def _run_status(spec: RunSpec, results: str | Path | None, sources: str) -> tuple[str, str]:
    folder = _folder(spec.run_id, results)
    if not (folder / MANIFEST).is_file():
        return "missing", f"{folder / MANIFEST} does not exist"
    try:
        manifest = load_manifest(spec.run_id, results)
        for name in manifest["files"]:
            _verified_bytes(spec.run_id, name, results)
    except (ValueError, FileNotFoundError) as error:
        return "damaged", str(error)
    try:
        config = spec.config(resolve_target(spec, results))
    except (ValueError, FileNotFoundError) as error:
        return "stale config", f"its γ cannot be resolved: {error}"
    if manifest["config_sha256"] != config_sha256(config):
        changed = sorted(k for k in set(config) | set(manifest["config"])
                         if config.get(k) != manifest["config"].get(k))
        return "stale config", f"the configuration changed in {changed}"
    if manifest["source_sha256"] != sources:
        return "stale sources", ("the training code changed since it was trained (source "
                                 f"hash {manifest['source_sha256'][:12]} then, "
                                 f"{sources[:12]} now)")
    return "ok", ""


def verify_results(results: str | Path | None = None,
                   runs: Iterable[RunSpec] | None = None) -> pd.DataFrame:
    """Check every stored reference run against the current code and configuration.

    Parameters
    ----------
    results
        The results folder (:func:`results_dir` by default).
    runs
        The runs to check (:func:`reference_runs` by default).

    Returns
    -------
    pandas.DataFrame
        One row per run: ``run_id``, ``status`` (``"ok"``, ``"missing"``, ``"damaged"``,
        ``"stale config"``, ``"stale sources"``) and ``problem`` (what is wrong, naming the
        file or the changed setting).

    Examples
    --------
    >>> verify_results().columns.tolist()
    ['run_id', 'status', 'problem']
    """
    sources = source_sha256()
    if runs is None:
        runs = reference_runs()
    elif isinstance(runs, (str, bytes)) or not isinstance(runs, Iterable):
        raise TypeError(f"runs must be a list of RunSpec, got {_validate.describe(runs)}")
    runs = list(runs)
    for spec in runs:
        if not isinstance(spec, RunSpec):
            raise TypeError(f"runs must hold RunSpec objects, got {_validate.describe(spec)}")
    rows = []
    for spec in runs:
        status, problem = _run_status(spec, results, sources)
        rows.append({"run_id": spec.run_id, "status": status, "problem": problem})
    return pd.DataFrame(rows, columns=["run_id", "status", "problem"])


def provenance(run_ids: Iterable[str], results: str | Path | None = None) -> dict[str, Any]:
    """Summarise where and when a set of stored runs was trained, for a figure's caption.

    Returns
    -------
    dict
        ``runs``, ``profile``, ``device`` (e.g. ``"cpu (1 thread per run)"``), ``machine``
        (the CPU capability and core count), ``dates`` (first and last day), ``wall_s``
        (total training wall time) and ``caption`` (one sentence with all of it).

    Examples
    --------
    >>> provenance(["custom_cnn-seed0"])["caption"]          # doctest: +SKIP
    'reference profile, 1 run, trained on cpu ...'
    """
    if isinstance(run_ids, (str, bytes)) or not isinstance(run_ids, Iterable):
        raise TypeError(f"run_ids must be a list of run names, got "
                        f"{_validate.describe(run_ids)}")
    manifests = [load_manifest(run_id, results) for run_id in run_ids]
    if not manifests:
        raise ValueError("run_ids is empty")
    devices = sorted({m["environment"]["device"] for m in manifests})
    threads = sorted({m["environment"]["threads"] for m in manifests})
    machines = sorted({m["environment"]["machine"] for m in manifests})
    days = sorted(m["started"][:10] for m in manifests)
    wall = sum(m["wall_s"] for m in manifests)
    dates = days[0] if days[0] == days[-1] else f"{days[0]} to {days[-1]}"
    thread_text = "/".join(map(str, threads))
    caption = (f"reference profile, {len(manifests)} run{'s' * (len(manifests) > 1)}, "
               f"trained on {', '.join(devices)} ({thread_text} thread per run; "
               f"{'; '.join(machines)}) on {dates}, {wall / 60:.0f} min of training in all")
    return {"runs": len(manifests), "profile": "reference", "device": ", ".join(devices),
            "machine": "; ".join(machines), "dates": dates, "wall_s": wall,
            "caption": caption}

