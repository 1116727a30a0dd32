"""SS_rate of the stored Part V runs, recomputed live from their weights (chapter 11).

A Part V reference run logs the SS_rate of every hooked layer on its probe batch (the first
``probe_size`` test images of its CIFAR-10 variant) after every epoch, in ``history.csv``.
Its final weights are stored in float16 and its initialisation is rebuilt from the seed
(:func:`fractalnb.reference.load_weights`). This module recomputes SS_rate from those
weights on the same probe, with the run's own ``n_thetas`` and ``formula``, sets it beside
the logged value, and summarises the change from initialisation to the end of training
over seeds.

The initialisation is rebuilt exactly, so its live SS_rate should equal the logged one up
to the order of floating-point reductions (:data:`EXACT_TOLERANCE`). The final weights are
float16-rounded: :func:`float16_shift` measures how far that rounding alone moves SS_rate
(on the initialisation, where the exact weights are known), which sets the scale of the
expected difference for the final weights (:data:`FLOAT16_TOLERANCE`).

Examples
--------
>>> from fractalnb.reference.feature_evidence import stored_ss_rates, training_change
>>> rates = stored_ss_rates(["vit-baseline-seed0"])          # doctest: +SKIP
>>> training_change(rates).loc[("vit", "mean"), "change"]    # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import _validate
from .runs import RunSpec
from .store import load_history, load_manifest, load_weights

__all__ = [
    "EXACT_TOLERANCE",
    "FLOAT16_TOLERANCE",
    "float16_shift",
    "probe_batch",
    "stored_ss_rates",
    "training_change",
]

EXACT_TOLERANCE = 1e-4
"""Largest expected ``|live − logged|`` SS_rate of the rebuilt initialisation.

The weights are the trained ones bit for bit; only the order of floating-point reductions
(thread count, vector unit) differs, which can move a channel distance across one of the
thresholds and change the pair fraction by one pair in thousands."""

FLOAT16_TOLERANCE = 0.002
"""Largest expected ``|live − logged|`` SS_rate of the stored (float16) final weights.

Rounding to float16 changes every weight by up to 2⁻¹¹ of itself. On the reference ViT
and Mixer runs this moves SS_rate by about 10⁻⁴ (:func:`float16_shift` on the
initialisation, and the final weights' own live − logged differences), more than ten
times below this bound."""

_STATES = {0: "untrained"}


def probe_batch(size: int, variant: str = "sample"):
    """Return the probe batch of the Part V runs: the first ``size`` test images.

    Parameters
    ----------
    size
        Number of images, at least 2.
    variant
        ``"sample"`` (the reference runs') or ``"full"``.

    Returns
    -------
    torch.Tensor
        ``(size, 3, 32, 32)``, normalised as in training.

    Examples
    --------
    >>> probe_batch(4).shape                               # doctest: +SKIP
    torch.Size([4, 3, 32, 32])
    """
    import torch

    from ..training import cifar10_datasets

    size = _validate.integer(size, "size", 2)
    variant = _validate.choice(variant, "variant", ("sample", "full"))
    _, test = cifar10_datasets(variant)
    if size > len(test):
        raise ValueError(f"size must be at most {len(test)} (the test images of the "
                         f"{variant} variant), got {size}")
    return torch.stack([test[i][0] for i in range(size)])


def _run_ids(run_ids: object) -> list[str]:
    if isinstance(run_ids, str) or not isinstance(run_ids, Iterable):
        raise TypeError("run_ids must be an iterable of run ids (strings), got "
                        f"{_validate.describe(run_ids)}")
    names = list(run_ids)
    if not names:
        raise ValueError("run_ids is empty")
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"run_ids must hold strings, got {_validate.describe(name)}")
    return names


def _part_v(run_id: str, results: str | Path | None) -> tuple[dict[str, Any], RunSpec]:
    manifest = load_manifest(run_id, results)
    spec = RunSpec.from_config(manifest["config"])
    if spec.part != "V" or not spec.probe_size:
        raise ValueError(f"run_ids: {run_id} is a Part {spec.part} run; SS_rate is logged "
                         "for the Part V runs only")
    return manifest, spec


def _epochs(epochs: object, stored: Sequence[int], run_id: str) -> list[int]:
    if isinstance(epochs, (str, bytes)) or not isinstance(epochs, Iterable):
        raise TypeError("epochs must be a sequence of epochs (int, or None for the last), "
                        f"got {_validate.describe(epochs)}")
    chosen = []
    for epoch in epochs:
        if epoch is None:
            chosen.append(int(stored[-1]))
            continue
        epoch = _validate.integer(epoch, "epochs", 0)
        if epoch != 0 and epoch not in stored:
            raise ValueError(f"epochs: epoch {epoch} of {run_id} is not stored; stored are "
                             f"0 (rebuilt) and {list(stored)}")
        chosen.append(epoch)
    if not chosen:
        raise ValueError("epochs is empty")
    return list(dict.fromkeys(chosen))


def _layer_table(model, probe, spec: RunSpec) -> pd.DataFrame:
    from ..graphs import layer_self_similarity

    options = spec.constraint
    return layer_self_similarity(model, probe, n_thetas=int(options["n_thetas"]),
                                 formula=options["formula"])


def _probes(results: str | Path | None):
    cache: dict[tuple[str, int], Any] = {}

    def probe_for(manifest: dict[str, Any], spec: RunSpec):
        key = (manifest["config"].get("variant", "sample"), int(spec.probe_size))
        if key not in cache:
            cache[key] = probe_batch(key[1], key[0])
        return cache[key]

    return probe_for


def stored_ss_rates(run_ids: Iterable[str], epochs: Sequence[int | None] = (0, None), *,
                    results: str | Path | None = None) -> pd.DataFrame:
    """Recompute the SS_rate of every hooked layer of stored runs, beside the logged value.

    Each run's model is loaded with :func:`fractalnb.reference.load_weights` (checksums
    verified; epoch 0 rebuilt from the seed) and its SS_rate computed on the run's probe
    batch with the run's ``n_thetas`` and ``formula``.

    Parameters
    ----------
    run_ids
        Part V runs (strings), e.g. ``["vit-baseline-seed0", "mixer-baseline-seed0"]``.
    epochs
        Epochs to evaluate: ``0`` (the initialisation), stored epochs, or ``None`` for the
        last stored one.
    results
        The results folder (:func:`fractalnb.reference.results_dir` by default).

    Returns
    -------
    pandas.DataFrame
        One row per run, epoch and layer: ``run_id``, ``model``, ``seed``, ``condition``,
        ``epoch``, ``state`` (``"untrained"`` at epoch 0, ``"trained"`` at the last epoch of
        the run, ``"epoch k"`` otherwise), ``layer``, ``depth``, ``ss_rate`` (live),
        ``logged`` (from ``history.csv``) and ``difference`` (live − logged).

    Raises
    ------
    TypeError
        If ``run_ids`` or ``epochs`` is not a sequence of the right kind.
    ValueError
        If ``run_ids`` or ``epochs`` is empty, a run is not a Part V run, or an epoch is
        not stored.
    FileNotFoundError
        If a run is not stored.

    Examples
    --------
    >>> rates = stored_ss_rates(["mixer-baseline-seed0"])       # doctest: +SKIP
    >>> rates.groupby("state")["difference"].abs().max()        # doctest: +SKIP
    """
    names = _run_ids(run_ids)
    probe_for = _probes(results)
    rows = []
    for run_id in names:
        manifest, spec = _part_v(run_id, results)
        stored = list(manifest["config"]["checkpoints"])
        chosen = _epochs(epochs, stored, run_id)
        history = load_history(run_id, results).set_index("epoch")
        probe = probe_for(manifest, spec)
        for epoch in chosen:
            table = _layer_table(load_weights(run_id, epoch, results), probe, spec)
            state = _STATES.get(epoch, "trained" if epoch == spec.epochs else f"epoch {epoch}")
            for row in table.itertuples():
                column = f"ss_{row.layer}"
                if column not in history.columns:
                    raise ValueError(f"run_ids: {run_id} logged no SS_rate of {row.layer} "
                                     f"(its history has {sorted(history.columns)})")
                logged = float(history.loc[epoch, column])
                rows.append({"run_id": run_id, "model": spec.model, "seed": spec.seed,
                             "condition": spec.condition, "epoch": epoch, "state": state,
                             "layer": row.layer, "depth": int(row.depth),
                             "ss_rate": float(row.ss_rate), "logged": logged,
                             "difference": float(row.ss_rate) - logged})
    return pd.DataFrame(rows)


def float16_shift(run_ids: Iterable[str], *,
                  results: str | Path | None = None) -> pd.DataFrame:
    """Measure how far rounding a run's initial weights to float16 moves its SS_rate.

    The initialisation is the one set of weights known both exactly and, after rounding,
    in the precision of the stored final weights; the shift it shows is the scale of the
    expected difference between the logged SS_rate of a trained run and the SS_rate
    recomputed from its stored float16 weights.

    Parameters
    ----------
    run_ids
        Part V runs (strings).
    results
        The results folder.

    Returns
    -------
    pandas.DataFrame
        One row per run and layer: ``run_id``, ``model``, ``seed``, ``layer``, ``exact``,
        ``float16`` (SS_rate of the exact and of the rounded initialisation) and ``shift``
        (rounded − exact).

    Examples
    --------
    >>> float16_shift(["vit-baseline-seed0"])["shift"].abs().max()   # doctest: +SKIP
    """
    import torch

    names = _run_ids(run_ids)
    probe_for = _probes(results)
    rows = []
    for run_id in names:
        manifest, spec = _part_v(run_id, results)
        probe = probe_for(manifest, spec)
        model = load_weights(run_id, 0, results)
        exact = _layer_table(model, probe, spec)
        with torch.no_grad():
            for tensor in model.state_dict().values():
                if tensor.is_floating_point():
                    tensor.copy_(tensor.half().to(tensor.dtype))
        rounded = _layer_table(model, probe, spec)
        for before, after in zip(exact.itertuples(), rounded.itertuples(), strict=True):
            rows.append({"run_id": run_id, "model": spec.model, "seed": spec.seed,
                         "layer": before.layer, "exact": float(before.ss_rate),
                         "float16": float(after.ss_rate),
                         "shift": float(after.ss_rate - before.ss_rate)})
    return pd.DataFrame(rows)


def training_change(ss_rates: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Summarise SS_rate untrained → trained per model and layer over seeds (paired).

    Parameters
    ----------
    ss_rates
        Output of :func:`stored_ss_rates` holding, for every run, the ``"untrained"`` and
        the ``"trained"`` state.
    confidence
        Level of the Student-t interval of the paired change over seeds.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``model`` and ``layer`` (the hooked layers in depth order, then
        ``"mean"``, the mean over layers): ``untrained`` and ``untrained_sd``, ``trained``
        and ``trained_sd`` (mean and sd over seeds), ``change`` (mean paired change),
        ``ci_low``, ``ci_high`` and ``n_seeds``. With a single seed the sds and the interval
        are NaN.

    Raises
    ------
    TypeError
        If ``ss_rates`` is not a DataFrame.
    ValueError
        If it lacks a column, or a run lacks one of the two states.

    Examples
    --------
    >>> import pandas as pd
    >>> rates = pd.DataFrame({"run_id": ["a"] * 2 + ["b"] * 2, "model": "vit",
    ...                       "seed": [0, 0, 1, 1], "layer": "blocks.0", "depth": 0,
    ...                       "state": ["untrained", "trained"] * 2,
    ...                       "ss_rate": [0.1, 0.3, 0.2, 0.3]})
    >>> table = training_change(rates)
    >>> table.index.tolist()
    [('vit', 'blocks.0'), ('vit', 'mean')]
    >>> round(float(table.loc[("vit", "mean"), "change"]), 3)
    0.15
    """
    from ..random_networks import mean_ci

    columns = ("run_id", "model", "seed", "layer", "depth", "state", "ss_rate")
    _validate.dataframe(ss_rates, "ss_rates", columns)
    confidence = _validate.real(confidence, "confidence", 0, 1, open_min=True,
                                open_max=True)
    states = ss_rates[ss_rates["state"].isin(["untrained", "trained"])]
    wide = states.pivot_table(index=["model", "run_id", "seed", "depth", "layer"],
                              columns="state", values="ss_rate")
    for state in ("untrained", "trained"):
        if state not in wide.columns or wide[state].isna().any():
            raise ValueError(f"ss_rates must hold the {state!r} state of every run; "
                             "compute it with stored_ss_rates(run_ids, epochs=(0, None))")
    means = wide.groupby(["model", "run_id", "seed"])[["untrained", "trained"]].mean()
    means = means.assign(depth=np.inf, layer="mean").set_index(["depth", "layer"],
                                                               append=True)
    both = pd.concat([wide[["untrained", "trained"]], means]).sort_index()
    rows = []
    for (model, depth, layer), group in both.groupby(level=["model", "depth", "layer"]):
        change = (group["trained"] - group["untrained"]).to_numpy()
        if change.size >= 2:
            ci = mean_ci(change, confidence)
            low, high = ci["ci_low"], ci["ci_high"]
        else:
            low = high = float("nan")
        rows.append({"model": model, "depth": depth, "layer": layer,
                     "untrained": float(group["untrained"].mean()),
                     "untrained_sd": float(group["untrained"].std(ddof=1)),
                     "trained": float(group["trained"].mean()),
                     "trained_sd": float(group["trained"].std(ddof=1)),
                     "change": float(change.mean()), "ci_low": low, "ci_high": high,
                     "n_seeds": int(change.size)})
    table = pd.DataFrame(rows).sort_values(["model", "depth"], kind="stable")
    return table.drop(columns="depth").set_index(["model", "layer"])
