r"""Per-layer evidence: does training move a layer's D by more than the seeds disagree.

The per-layer evidence of Part III, measured on the stored reference runs
(:func:`fractalnb.reference.load_weights`). For every conv/linear weight of every run,
:func:`layer_dimensions` measures :math:`D` (:func:`fractalnb.training.analyze`, default
occupancy rule) on four kinds of tensor:

``weights``
    The stored weights at every stored epoch, the initialisation (epoch 0) included: the
    trained :math:`D` (last epoch) and the fractal dynamics.
``matched density``
    The initialisation segmented at the *trained* layer's density. Under the default rule
    (:math:`\tau = \operatorname{mean}|W| + \operatorname{std}|W|`) a uniform
    initialisation keeps about twice the fraction of entries that a trained, heavier-tailed
    layer keeps, and a denser set has a larger :math:`D` whatever its arrangement. The
    initialisation is therefore also thresholded by the quantile rule that leaves exactly
    as many entries occupied as the trained layer has (:func:`matched_density_threshold`).
``shuffled``
    The null: the trained weights with their entries permuted at random
    (:func:`fractalnb.geometry.shuffled_copy`): same values, same threshold, same density,
    no arrangement. A permutation of the values permutes the occupied set, so the
    shuffles are drawn on the set (with ``shuffled_copy``'s permutations) and all shuffles
    of a layer are box-counted and fitted at once, vectorised: the same :math:`D` as
    :func:`~fractalnb.training.analyze` of each shuffled copy, at a fraction of the cost.

:func:`layer_contrasts` sets, layer by layer, the trained :math:`D` against each control
and against the seed-to-seed spread, and :func:`evidence_summary` counts, per network, the
layers where the difference exceeds it and writes the verdict as a sentence.

Criteria (each applied per layer, over the :math:`S` seeds)

- *beyond the seed spread*: :math:`|\overline{D_\text{trained} - D_\text{control}}| >
  k\,s`, with :math:`s` the standard deviation of the trained :math:`D` over the seeds
  and :math:`k = 2` by default;
- *paired interval*: the Student-t interval (95%, :math:`S - 1` degrees of freedom) of the
  paired differences :math:`D_\text{trained} - D_\text{control}` over the seeds excludes 0;
- *outside the null range*: per seed, the trained :math:`D` lies outside the range of its
  :math:`n` shuffles. If the trained value were exchangeable with the shuffles this would
  happen with probability :math:`2/(n + 1)` (:func:`null_range_chance`), about 10% for
  :math:`n = 20`.

Examples
--------
>>> from fractalnb.reference.layer_evidence import layer_dimensions
>>> table = layer_dimensions(["custom_cnn-seed0"], n_shuffles=20)   # doctest: +SKIP
>>> sorted(table["treatment"].unique())                             # doctest: +SKIP
['matched density', 'shuffled', 'weights']
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .. import _validate

__all__ = [
    "TREATMENTS",
    "dimension_dynamics",
    "evidence_summary",
    "layer_contrasts",
    "layer_dimensions",
    "matched_density_threshold",
    "null_range_chance",
]

TREATMENTS: tuple[str, ...] = ("weights", "matched density", "shuffled")
"""The values of the ``treatment`` column of :func:`layer_dimensions`."""

_COLUMNS: tuple[str, ...] = (
    "run_id", "model", "seed", "name", "layer_depth", "numel", "treatment", "epoch",
    "sample", "rule", "density", "dimension", "ci_low", "ci_high", "r2",
)  # fmt: skip

_MEASURED = ("rule", "density", "dimension", "ci_low", "ci_high", "r2")


def null_range_chance(n_shuffles: int) -> float:
    """Chance that an exchangeable value falls outside the range of ``n_shuffles`` draws.

    A value exchangeable with :math:`n` null draws is equally likely to hold any of the
    :math:`n + 1` ranks (ties aside); it lies outside the draws' range when it is the
    smallest or the largest: probability :math:`2 / (n + 1)`.

    Parameters
    ----------
    n_shuffles
        Number of null draws, at least 1.

    Returns
    -------
    float
        :math:`2 / (n + 1)`.

    Raises
    ------
    TypeError
        If ``n_shuffles`` is not an integer.
    ValueError
        If ``n_shuffles < 1``.

    Examples
    --------
    >>> round(null_range_chance(20), 4)
    0.0952
    """
    n = _validate.integer(n_shuffles, "n_shuffles", 1)
    return 2.0 / (n + 1)


def matched_density_threshold(weights: np.ndarray | torch.Tensor, density: float
                              ) -> tuple[str, float]:
    r"""Return the quantile rule that occupies a given fraction of a tensor's entries.

    With :math:`n` entries and :math:`K = \operatorname{round}(\text{density}\cdot n)`
    (at least 1, at most :math:`n - 1`), the rule ``("quantile", q)`` with
    :math:`q = (n - K - 1/2)/(n - 1)` puts :math:`\tau` between the :math:`(n - K)`-th and
    the :math:`(n - K + 1)`-th smallest :math:`|W|` (linear interpolation), so that exactly
    :math:`K` entries satisfy :math:`|W| > \tau` when the magnitudes have no ties there.

    Parameters
    ----------
    weights
        The tensor to segment (any shape, at least 2 entries); only its size is read.
    density
        The wanted fraction of occupied entries, in (0, 1).

    Returns
    -------
    tuple
        ``("quantile", q)``, a spec :func:`fractalnb.geometry.occupancy_rule` reads.

    Raises
    ------
    TypeError
        If ``weights`` is not an array or tensor, or ``density`` not a real number.
    ValueError
        If ``weights`` has fewer than 2 entries or ``density`` is outside (0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> from fractalnb.geometry import occupancy
    >>> w = np.random.default_rng(0).normal(size=(64, 64))
    >>> rule = matched_density_threshold(w, 0.1)
    >>> int(occupancy(w, rule).sum()), round(0.1 * w.size)
    (410, 410)
    """
    if not isinstance(weights, (np.ndarray, torch.Tensor)):
        raise TypeError(f"weights must be a numpy array or a torch tensor, got "
                        f"{_validate.describe(weights)}")
    density = _validate.real(density, "density", 0, 1, open_min=True, open_max=True)
    n = int(weights.numel() if isinstance(weights, torch.Tensor) else weights.size)
    if n < 2:
        raise ValueError(f"weights must have at least 2 entries, got {n}")
    k = min(max(round(density * n), 1), n - 1)
    return ("quantile", (n - k - 0.5) / (n - 1))


def _weight_layers(model: torch.nn.Module) -> list[tuple[str, int, torch.Tensor]]:
    """``(name, layer_depth, 2-D view)`` of each conv/linear weight, as ``analyze`` sees it."""
    from torch import nn

    from ..geometry import unfold_conv

    modules = dict(model.named_modules())
    seen: dict[str, int] = {}
    layers = []
    for name, param in model.named_parameters():
        owner, _, role = name.rpartition(".")
        module = modules[owner]
        if not isinstance(module, (nn.modules.conv._ConvNd, nn.Linear, nn.Bilinear)):
            continue
        depth = seen.setdefault(owner, len(seen))
        if role != "weight":
            continue
        w = param.detach()
        layers.append((name, depth, unfold_conv(w) if w.ndim > 2 else w))
    return layers


def _nan_row(name: str, depth: int, numel: int) -> dict:
    return {"name": name, "layer_depth": depth, "numel": numel, "rule": "",
            "density": math.nan, "dimension": math.nan, "ci_low": math.nan,
            "ci_high": math.nan, "r2": math.nan}


def _fit_row(name: str, depth: int, view: torch.Tensor, threshold: object = None) -> dict:
    from ..geometry import box_dimension

    row = _nan_row(name, depth, int(view.numel()))
    try:
        fit = box_dimension(view, threshold=threshold)
    except ValueError:
        return row  # too few scales or an empty set: NaN, as analyze's rows
    row.update(rule=fit.rule, density=fit.density, dimension=fit.dimension,
               ci_low=fit.ci[0], ci_high=fit.ci[1], r2=fit.r2)
    return row


def _or_pool(t: torch.Tensor) -> torch.Tensor:
    """Halve the last two axes of a boolean ``(B, H, W)`` stack by OR (last box partial)."""
    b, h, w = t.shape
    if h % 2:
        t = torch.cat([t, t.new_zeros(b, 1, w)], dim=1)
        h += 1
    if w % 2:
        t = torch.cat([t, t.new_zeros(b, h, 1)], dim=2)
        w += 1
    return t.view(b, h // 2, 2, w // 2, 2).any(4).any(2)


def _stack_dimensions(masks: torch.Tensor) -> np.ndarray:
    """D of each 2-D mask of a boolean ``(B, H, W)`` stack, as box_dimension's default fit.

    The scales ``1, 2, 4, …`` (:func:`fractalnb.geometry.dilation_scales`), the boxes
    aligned at the origin with partial boxes kept, the default fit range
    (:func:`fractalnb.geometry.default_fit_range`) and the least-squares slope of
    log N against log(1/r), for the whole stack at once. NaN where the
    fit range holds fewer than 3 scales or a count there is 0.
    """
    from ..geometry import default_fit_range, dilation_scales

    shape = tuple(int(n) for n in masks.shape[1:])
    scales = dilation_scales(shape)
    lo, hi = default_fit_range(scales, shape)
    chosen = scales[(scales >= lo) & (scales <= hi)]
    if chosen.size < 3:
        return np.full(masks.shape[0], math.nan)
    counts, level, side = [], masks, 1
    for r in chosen.tolist():
        while side < r:
            level, side = _or_pool(level), side * 2
        counts.append(level.flatten(1).sum(1).numpy())
    n = np.stack(counts, axis=1).astype(np.float64)
    x = -np.log(chosen.astype(np.float64))
    with np.errstate(divide="ignore"):
        y = np.where(n > 0, np.log(n), np.nan)
    xc = x - x.mean()
    slope = ((y - y.mean(axis=1, keepdims=True)) * xc).sum(axis=1) / np.sum(xc**2)
    return np.asarray(slope, dtype=np.float64)


def _shuffled_rows(model: torch.nn.Module, trained: pd.DataFrame, n_shuffles: int,
                   seed: int) -> pd.DataFrame:
    """D of the conv/linear weights of ``n_shuffles`` shuffles of ``model``.

    Shuffle ``k`` is :func:`fractalnb.geometry.shuffled_copy` ``(model, seed=seed + k)``: the
    same permutations (one generator, drawn over every parameter in order), applied to each
    weight's occupied set (a permutation of the values permutes the set and keeps the
    threshold), and all shuffles of a layer are counted at once (:func:`_stack_dimensions`).
    """
    from ..geometry import occupancy

    sizes = [p.numel() for p in model.parameters()]
    index = {name: i for i, (name, _) in enumerate(model.named_parameters())}
    orders: dict[int, list[torch.Tensor]] = {}
    wanted = {index[name] for name in trained["name"]}
    for k in range(n_shuffles):
        generator = torch.Generator().manual_seed(seed + k)
        for i, numel in enumerate(sizes):
            order = torch.randperm(numel, generator=generator)
            if i in wanted:
                orders.setdefault(i, []).append(order)
    views = {name: view for name, _, view in _weight_layers(model)}
    frames = []
    for layer in trained.itertuples(index=False):
        view = views[layer.name]
        d = np.full(n_shuffles, math.nan)
        if np.isfinite(layer.density):
            flat = occupancy(view).reshape(-1)
            stack = torch.stack([flat[o] for o in orders[index[layer.name]]])
            if view.ndim == 2:
                d = _stack_dimensions(stack.reshape(n_shuffles, *view.shape))
            else:  # a rank other than 2: one fit each
                d = np.array([_fit_row(layer.name, 0, m.reshape(view.shape))["dimension"]
                              for m in stack])
        frames.append(pd.DataFrame({
            "name": layer.name, "layer_depth": layer.layer_depth, "numel": layer.numel,
            "rule": layer.rule, "density": layer.density, "dimension": d,
            "ci_low": math.nan, "ci_high": math.nan, "r2": math.nan,
            "sample": np.arange(n_shuffles)}))
    return pd.concat(frames, ignore_index=True)


def _rows(table: pd.DataFrame, **labels: object) -> pd.DataFrame:
    out = table[["name", "layer_depth", "numel", *_MEASURED]].copy()
    for key, value in labels.items():
        out[key] = value
    return out


def _matched_rows(init: torch.nn.Module, trained: pd.DataFrame) -> pd.DataFrame:
    """D of the initialisation's weight layers at the trained layers' densities."""
    views = {name: view for name, _, view in _weight_layers(init)}
    rows = []
    for layer in trained.itertuples(index=False):
        view = views[layer.name]
        if np.isfinite(layer.density):
            rule = matched_density_threshold(view, layer.density)
            rows.append(_fit_row(layer.name, layer.layer_depth, view, rule))
        else:
            rows.append(_nan_row(layer.name, layer.layer_depth, layer.numel))
    return pd.DataFrame(rows)


def layer_dimensions(run_ids: Iterable[str], *, n_shuffles: int = 20, seed: int = 0,
                     results: str | Path | None = None, progress: bool = False
                     ) -> pd.DataFrame:
    """Measure D of every conv/linear weight of stored runs, with both controls.

    For each run, the conv/linear weights' rows of :func:`fractalnb.training.analyze`
    (default occupancy rule, conv kernels unfolded, default fit range) of the weights at
    epoch 0 (the initialisation, rebuilt from the seed) and at every stored epoch (the
    manifest's ``checkpoints``); the initialisation thresholded at each trained layer's
    density (last epoch; :func:`matched_density_threshold`); and ``n_shuffles`` shuffles of
    the last epoch's weights (:func:`fractalnb.geometry.shuffled_copy` with seeds
    ``seed, seed + 1, …``; only their dimension, counted for all shuffles of a layer at
    once). It runs on one torch thread (restored after); the nine Part III reference runs
    with 20 shuffles take about 11 s of one CPU core.

    Parameters
    ----------
    run_ids
        Stored Part III runs (e.g. ``"vgg16-seed1"``), at least one.
    n_shuffles
        Shuffles of the trained weights per run, at least 2.
    seed
        First seed of the shuffles.
    results
        The results folder (:func:`fractalnb.reference.results_dir` by default).
    progress
        Show a progress bar over the runs.

    Returns
    -------
    pandas.DataFrame
        One row per run, layer and measurement: ``run_id``, ``model``, ``seed`` (of the
        run), ``name``, ``layer_depth``, ``numel``, ``treatment`` (one of
        :data:`TREATMENTS`), ``epoch`` (of the weights measured: 0 for ``matched
        density``, the last epoch for ``shuffled``), ``sample`` (the shuffle, ``<NA>``
        otherwise), ``rule``, ``density``, ``dimension``, ``ci_low``, ``ci_high``, ``r2``.
        A layer the estimator cannot fit has NaN, as in :func:`~fractalnb.training.analyze`.

    Raises
    ------
    TypeError
        If ``run_ids`` is a string or not iterable, or an option has the wrong type.
    ValueError
        If ``run_ids`` is empty or names a run that is not of Part III, or
        ``n_shuffles < 2``.
    FileNotFoundError
        If a run is not stored.

    Examples
    --------
    >>> table = layer_dimensions(["resnet18-seed0"], n_shuffles=20)   # doctest: +SKIP
    >>> table.groupby("treatment")["epoch"].unique()                 # doctest: +SKIP
    """
    if isinstance(run_ids, str) or not isinstance(run_ids, Iterable):
        raise TypeError(f"run_ids must be an iterable of run ids, got "
                        f"{_validate.describe(run_ids)}")
    run_ids = list(run_ids)
    if not run_ids:
        raise ValueError("run_ids is empty")
    for run_id in run_ids:
        if not isinstance(run_id, str):
            raise TypeError(f"run_ids must hold strings, got {_validate.describe(run_id)}")
    n_shuffles = _validate.integer(n_shuffles, "n_shuffles", 2)
    seed = _validate.seed(seed)
    progress = _validate.boolean(progress, "progress")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small ops: one thread is as fast, and never oversubscribes
    try:
        return _layer_dimensions(run_ids, n_shuffles, seed, results, progress)
    finally:
        torch.set_num_threads(threads)


def _layer_dimensions(run_ids: list[str], n_shuffles: int, seed: int,
                      results: str | Path | None, progress: bool) -> pd.DataFrame:
    from .._progress import progress_bar
    from .store import load_manifest, load_weights

    frames = []
    for run_id in progress_bar(run_ids, desc="reference runs", enabled=progress):
        config = load_manifest(run_id, results)["config"]
        if config.get("part") != "III":
            raise ValueError(f"run_ids: {run_id!r} is not a Part III run (part "
                             f"{config.get('part')!r})")
        labels = {"run_id": run_id, "model": config["model"], "seed": int(config["seed"])}
        epochs = [0, *(int(e) for e in config["checkpoints"])]
        last = epochs[-1]
        models = {}
        for epoch in epochs:
            models[epoch] = load_weights(run_id, epoch, results)
            fits = pd.DataFrame([_fit_row(*layer) for layer in _weight_layers(models[epoch])])
            frames.append(_rows(fits, **labels, treatment="weights", epoch=epoch,
                                sample=pd.NA))
        trained = frames[-1]
        frames.append(_rows(_matched_rows(models[0], trained), **labels,
                            treatment="matched density", epoch=0, sample=pd.NA))
        shuffled = _shuffled_rows(models[last], trained, n_shuffles, seed)
        frames.append(_rows(shuffled, **labels, treatment="shuffled", epoch=last)
                      .assign(sample=shuffled["sample"]))
    table = pd.concat(frames, ignore_index=True)[list(_COLUMNS)]
    table["sample"] = table["sample"].astype("Int64")
    for column in ("seed", "layer_depth", "numel", "epoch"):
        table[column] = table[column].astype(int)
    return table


_CONTROLS = {"init": ("weights", 0), "matched": ("matched density", 0)}


def _paired_interval(diffs: np.ndarray, confidence: float) -> tuple[float, float]:
    from scipy import stats

    diffs = diffs[np.isfinite(diffs)]
    if diffs.size < 2:
        return math.nan, math.nan
    half = float(stats.t.ppf(0.5 + confidence / 2, diffs.size - 1)
                 * diffs.std(ddof=1) / math.sqrt(diffs.size))
    return float(diffs.mean()) - half, float(diffs.mean()) + half


def layer_contrasts(dimensions: pd.DataFrame, *, factor: float = 2.0,
                    confidence: float = 0.95) -> pd.DataFrame:
    r"""Set each layer's trained D against its controls and against the seed spread.

    Per run and layer: :math:`T` (``weights`` at the run's last epoch), :math:`I`
    (``weights`` at epoch 0), :math:`M` (``matched density``) and the ``shuffled`` values
    (their mean :math:`N`, smallest and largest). Then, per model and layer, over the seeds:
    the means, the seed standard deviation :math:`s` of :math:`T`, the mean paired
    differences :math:`T - I`, :math:`T - M`, :math:`T - N`, their paired Student-t
    intervals, and the verdicts (see the module's docstring).

    Parameters
    ----------
    dimensions
        A table of :func:`layer_dimensions`.
    factor
        :math:`k` of the criterion :math:`|\text{mean difference}| > k\,s`, > 0.
    confidence
        Level of the paired intervals, in (0, 1).

    Returns
    -------
    pandas.DataFrame
        One row per model and layer (in depth order): ``model``, ``name``,
        ``layer_depth``, ``numel``, ``n_seeds``, ``n_shuffles``, ``density_trained``,
        ``density_init``, ``density_matched``, ``D_trained``, ``seed_sd``, ``D_init``,
        ``D_matched``, ``D_null``; for each control ``c`` in ``init``, ``matched``,
        ``null``: ``diff_c`` (mean of the paired differences), ``diff_c_low`` and
        ``diff_c_high`` (their interval), ``beyond_c`` (``|diff_c| > factor · seed_sd``)
        and ``paired_c`` (the interval excludes 0); and ``outside_null`` (seeds whose
        trained D lies outside the range of its shuffles). A verdict is ``False`` where a
        value it needs is NaN.

    Raises
    ------
    TypeError
        If ``dimensions`` is not a DataFrame or an option is not a real number.
    ValueError
        If ``dimensions`` lacks columns of :func:`layer_dimensions`, has no shuffles, or
        an option is out of range.

    Examples
    --------
    >>> contrasts = layer_contrasts(layer_dimensions(["vgg16-seed0", "vgg16-seed1"]))
    ...                                                              # doctest: +SKIP
    """
    _validate.dataframe(dimensions, "dimensions", _COLUMNS)
    factor = _validate.real(factor, "factor", 0, open_min=True)
    confidence = _validate.real(confidence, "confidence", 0, 1, open_min=True,
                                open_max=True)
    unknown = set(dimensions["treatment"]) - set(TREATMENTS)
    if unknown:
        raise ValueError(f"dimensions has unknown treatments {sorted(unknown)}")
    weights = dimensions[dimensions["treatment"] == "weights"]
    last = weights.groupby("run_id")["epoch"].transform("max")
    keys = ["model", "seed", "run_id", "name"]
    per_run = weights[weights["epoch"] == last].set_index(keys)[
        ["layer_depth", "numel", "density", "dimension"]].rename(
        columns={"density": "density_trained", "dimension": "T"})
    init = weights[weights["epoch"] == 0].set_index(keys)
    per_run["I"] = init["dimension"]
    per_run["density_init"] = init["density"]
    matched = dimensions[dimensions["treatment"] == "matched density"].set_index(keys)
    per_run["M"] = matched["dimension"]
    per_run["density_matched"] = matched["density"]
    shuffled = dimensions[dimensions["treatment"] == "shuffled"]
    if shuffled.empty:
        raise ValueError("dimensions has no shuffled rows: pass a layer_dimensions table")
    null = shuffled.groupby(keys)["dimension"].agg(["mean", "min", "max", "count"])
    per_run["N"] = null["mean"]
    per_run["n_shuffles"] = null["count"]
    low = null["min"].reindex(per_run.index)
    high = null["max"].reindex(per_run.index)
    per_run["outside"] = (per_run["T"] < low) | (per_run["T"] > high)
    per_run = per_run.reset_index()
    rows = []
    for (model, name), group in per_run.groupby(["model", "name"], sort=False):
        t = group["T"].to_numpy(dtype=float)
        sd = float(np.std(t, ddof=1)) if t.size > 1 else math.nan
        row = {"model": model, "name": name, "layer_depth": int(group["layer_depth"].iloc[0]),
               "numel": int(group["numel"].iloc[0]), "n_seeds": len(group),
               "n_shuffles": int(group["n_shuffles"].min()),
               "density_trained": group["density_trained"].mean(),
               "density_init": group["density_init"].mean(),
               "density_matched": group["density_matched"].mean(),
               "D_trained": float(np.mean(t)), "seed_sd": sd,
               "D_init": group["I"].mean(), "D_matched": group["M"].mean(),
               "D_null": group["N"].mean()}
        for label, column in (("init", "I"), ("matched", "M"), ("null", "N")):
            diffs = t - group[column].to_numpy(dtype=float)
            mean = float(np.mean(diffs))
            low, high = _paired_interval(diffs, confidence)
            row[f"diff_{label}"] = mean
            row[f"diff_{label}_low"] = low
            row[f"diff_{label}_high"] = high
            row[f"beyond_{label}"] = bool(np.isfinite(mean) and np.isfinite(sd)
                                          and abs(mean) > factor * sd)
            row[f"paired_{label}"] = bool(np.isfinite(low) and (low > 0 or high < 0))
        row["outside_null"] = int((group["outside"] & group["T"].notna()).sum())
        rows.append(row)
    table = pd.DataFrame(rows)
    table.attrs["factor"] = factor
    table.attrs["confidence"] = confidence
    return table.sort_values(["model", "layer_depth"], kind="stable").reset_index(drop=True)


def evidence_summary(contrasts: pd.DataFrame, *, factor: float | None = None
                     ) -> pd.DataFrame:
    """Count, per network, the layers where training moved D beyond each control.

    Parameters
    ----------
    contrasts
        A table of :func:`layer_contrasts`.
    factor
        The seed-spread factor used there, for the sentences (read from the table's
        ``attrs`` by default, else 2).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``model``: ``layers`` (with a trained D on every seed), ``beyond_init``,
        ``beyond_matched``, ``beyond_null``, ``paired_init``, ``paired_matched``,
        ``paired_null`` (layer counts), ``layer_seeds`` (layers × seeds),
        ``outside_null`` (layer-seeds outside their shuffles' range), ``expected_outside``
        (``layer_seeds`` × :func:`null_range_chance`), ``mean_abs_diff_init``,
        ``mean_abs_diff_matched``, ``mean_abs_diff_null``, ``median_seed_sd`` and
        ``verdict`` (one sentence with the counts).

    Raises
    ------
    TypeError
        If ``contrasts`` is not a DataFrame.
    ValueError
        If it lacks the columns of :func:`layer_contrasts`.

    Examples
    --------
    >>> summary = evidence_summary(contrasts)          # doctest: +SKIP
    >>> summary.loc["vgg16", "verdict"]                 # doctest: +SKIP
    """
    needed = ("model", "n_seeds", "n_shuffles", "D_trained", "seed_sd", "outside_null",
              *(f"{kind}_{c}" for kind in ("beyond", "paired", "diff")
                for c in ("init", "matched", "null")))
    _validate.dataframe(contrasts, "contrasts", needed)
    if factor is None:
        factor = contrasts.attrs.get("factor", 2.0)
    factor = _validate.real(factor, "factor", 0, open_min=True)
    rows = {}
    for model, group in contrasts.groupby("model", sort=False):
        measured = group[group["D_trained"].notna() & group["seed_sd"].notna()]
        n = len(measured)
        seeds = int(measured["n_seeds"].sum())
        shuffles = int(measured["n_shuffles"].min()) if n else 0
        row = {"layers": n}
        for c in ("init", "matched", "null"):
            row[f"beyond_{c}"] = int(measured[f"beyond_{c}"].sum())
        for c in ("init", "matched", "null"):
            row[f"paired_{c}"] = int(measured[f"paired_{c}"].sum())
        row["layer_seeds"] = seeds
        row["outside_null"] = int(measured["outside_null"].sum())
        row["expected_outside"] = seeds * null_range_chance(shuffles) if shuffles else math.nan
        for c in ("init", "matched", "null"):
            row[f"mean_abs_diff_{c}"] = float(measured[f"diff_{c}"].abs().mean())
        row["median_seed_sd"] = float(measured["seed_sd"].median())
        row["verdict"] = (
            f"the trained D differs from the initialisation by more than {factor:g} seed "
            f"sd in {row['beyond_init']} of {n} layers ({row['beyond_matched']} of {n} at "
            f"matched density) and from the mean of its shuffles in {row['beyond_null']} "
            f"of {n}; it lies outside the range of its {shuffles} shuffles in "
            f"{row['outside_null']} of {seeds} layer-seeds, against "
            f"{row['expected_outside']:.1f} expected if it were exchangeable with them")
        rows[model] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "model"
    return table


def dimension_dynamics(dimensions: pd.DataFrame) -> pd.DataFrame:
    """Follow each layer's D over the stored epochs: mean and spread over the seeds.

    Parameters
    ----------
    dimensions
        A table of :func:`layer_dimensions`.

    Returns
    -------
    pandas.DataFrame
        One row per model, layer and stored epoch (0 included): ``model``, ``name``,
        ``layer_depth``, ``epoch``, ``fraction`` (epoch / last epoch), ``D_mean``, ``D_sd``
        (over the seeds), ``change`` (mean over the seeds of D(epoch) − D(0)) and
        ``n_seeds``.

    Raises
    ------
    TypeError
        If ``dimensions`` is not a DataFrame.
    ValueError
        If it lacks the columns of :func:`layer_dimensions`.

    Examples
    --------
    >>> dynamics = dimension_dynamics(layer_dimensions(["custom_cnn-seed0"]))
    ...                                                              # doctest: +SKIP
    """
    _validate.dataframe(dimensions, "dimensions", _COLUMNS)
    weights = dimensions[dimensions["treatment"] == "weights"].copy()
    weights["fraction"] = weights["epoch"] / weights.groupby("run_id")["epoch"].transform(
        "max")
    start = weights[weights["epoch"] == 0].set_index(["run_id", "name"])["dimension"]
    weights["change"] = (weights["dimension"].to_numpy()
                         - start.reindex(pd.MultiIndex.from_frame(
                             weights[["run_id", "name"]])).to_numpy())
    grouped = weights.groupby(["model", "name", "layer_depth", "epoch"], sort=False)
    table = grouped.agg(fraction=("fraction", "mean"), D_mean=("dimension", "mean"),
                        D_sd=("dimension", "std"), change=("change", "mean"),
                        n_seeds=("dimension", "count")).reset_index()
    return table.sort_values(["model", "layer_depth", "epoch"], kind="stable").reset_index(
        drop=True)
