"""The stored reference results as tables: learning curves, accuracies, paired constraint gains.

Every function reads the stored runs through :func:`fractalnb.reference.load_history`, which
verifies each file's checksum first; a run that is not stored raises ``FileNotFoundError``
naming it (train it with ``make reference``).

Examples
--------
>>> from fractalnb.reference import accuracy_table
>>> accuracy_table("III")                                 # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from .. import _validate
from .runs import GAMMA, OWN_LEVEL, RunSpec, reference_runs
from .store import load_history, load_manifest

__all__ = [
    "accuracy_table",
    "constraint_gains",
    "reference_curves",
]

_PARTS = ("III", "V")


def _condition(spec: RunSpec) -> str:
    if spec.condition != "constrained":
        return spec.condition
    return "γ = baseline level" if spec.target == OWN_LEVEL else f"γ = {spec.target:g}"


def _runs(part: str | None) -> list[RunSpec]:
    if part is not None:
        _validate.choice(part, "part", _PARTS)
    return [run for run in reference_runs() if part is None or run.part == part]


def reference_curves(part: str | None = None, results: str | Path | None = None,
                     runs: Iterable[RunSpec] | None = None) -> pd.DataFrame:
    """Return the stored learning curves of the reference runs, one row per run and epoch.

    Parameters
    ----------
    part
        ``"III"``, ``"V"`` or ``None`` (both).
    results
        The results folder (:func:`fractalnb.reference.results_dir` by default).
    runs
        The runs to read (those of ``part`` by default).

    Returns
    -------
    pandas.DataFrame
        The columns of each run's ``history.csv`` (``epoch``, ``train_loss``, ``test_acc``,
        ``ss_mean`` in Part V …) and ``run_id``, ``part``, ``model``, ``seed``,
        ``condition`` (``"trained"``, ``"baseline"``, ``"γ = 0.25"``, ``"γ = baseline level"``)
        and ``target`` (γ as trained; NaN without a constraint).

    Examples
    --------
    >>> curves = reference_curves("V")                     # doctest: +SKIP
    >>> curves.groupby("condition")["run_id"].nunique()     # doctest: +SKIP
    """
    if part is not None:
        _validate.choice(part, "part", _PARTS)
    if runs is None:
        runs = _runs(part)
    elif isinstance(runs, (str, bytes)) or not isinstance(runs, Iterable):
        raise TypeError(f"runs must be a list of RunSpec, got {_validate.describe(runs)}")
    frames = []
    for spec in runs:
        if not isinstance(spec, RunSpec):
            raise TypeError(f"runs must hold RunSpec objects, got {_validate.describe(spec)}")
        history = load_history(spec.run_id, results)
        target = load_manifest(spec.run_id, results)["config"].get("target")
        frames.append(history.assign(run_id=spec.run_id, part=spec.part, model=spec.model,
                                     seed=spec.seed, condition=_condition(spec),
                                     target=np.nan if target is None else float(target)))
    if not frames:
        raise ValueError("no runs to read")
    return pd.concat(frames, ignore_index=True)


def accuracy_table(part: str = "III", results: str | Path | None = None,
                   curves: pd.DataFrame | None = None) -> pd.DataFrame:
    """Tabulate the final test accuracy per model and seed, with mean and sd over seeds.

    Parameters
    ----------
    part
        ``"III"`` (the CIFAR-10 networks) or ``"V"`` (the token models, by condition).
    results
        The results folder.
    curves
        Output of :func:`reference_curves` to use instead of reading the results.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``model`` (and ``condition`` in Part V): one column per seed, then
        ``mean`` and ``sd`` (fractions of the test images).

    Examples
    --------
    >>> accuracy_table("III").loc["resnet18", "mean"] > 0.55      # doctest: +SKIP
    True
    """
    part = _validate.choice(part, "part", _PARTS)
    curves = reference_curves(part, results) if curves is None else curves
    last = curves[curves["epoch"] == curves.groupby("run_id")["epoch"].transform("max")]
    index = ["model"] if part == "III" else ["model", "condition"]
    table = last.pivot_table(index=index, columns="seed", values="test_acc")
    table.columns = [f"seed {seed}" for seed in table.columns]
    seeds = table.copy()
    table["mean"] = seeds.mean(axis=1)
    table["sd"] = seeds.std(axis=1, ddof=1)
    return table


def constraint_gains(results: str | Path | None = None, curves: pd.DataFrame | None = None,
                     confidence: float = 0.95) -> pd.DataFrame:
    """Return the paired effect of the constraint: constrained − baseline per seed and γ.

    Parameters
    ----------
    results
        The results folder.
    curves
        Output of :func:`reference_curves` for Part V to use instead of reading the results.
    confidence
        Level of the Student-t interval over the seeds' paired differences.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``model`` and ``condition``: ``gamma``, ``gain`` (accuracy change in
        percentage points, mean over seeds), ``ci_low``, ``ci_high``, ``n_seeds``,
        ``baseline_ss`` and ``final_ss`` (mean final SS_rate of the baselines and of the
        constrained runs), ``ss_change`` (paired).

    Examples
    --------
    >>> constraint_gains().loc[("vit", "γ = 0.25"), "gain"]        # doctest: +SKIP
    """
    from ..random_networks import mean_ci

    confidence = _validate.real(confidence, "confidence", 0, 1, open_min=True, open_max=True)
    curves = reference_curves("V", results) if curves is None else curves
    last = curves[curves["epoch"] == curves.groupby("run_id")["epoch"].transform("max")]
    base = last[last["condition"] == "baseline"].set_index(["model", "seed"])
    rows = []
    conditions = [f"γ = {GAMMA:g}", "γ = baseline level"]
    for (model, condition), group in last[last["condition"] != "baseline"].groupby(
            ["model", "condition"]):
        group = group.set_index(["model", "seed"])
        paired = base.loc[group.index]
        gain = 100 * (group["test_acc"] - paired["test_acc"]).to_numpy()
        ci = mean_ci(gain, confidence)
        rows.append({"model": model, "condition": condition,
                     "gamma": float(group["target"].mean()), "gain": ci["mean"],
                     "ci_low": ci["ci_low"], "ci_high": ci["ci_high"], "n_seeds": len(gain),
                     "baseline_ss": float(paired["ss_mean"].mean()),
                     "final_ss": float(group["ss_mean"].mean()),
                     "ss_change": float((group["ss_mean"] - paired["ss_mean"]).mean())})
    table = pd.DataFrame(rows).set_index(["model", "condition"])
    order = [(m, c) for m in table.index.unique("model") for c in conditions
             if (m, c) in table.index]
    return table.loc[order]
