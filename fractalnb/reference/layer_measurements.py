r"""Per-layer measurements of D on the stored reference runs: weights, matched density, null.

The measurements behind the per-layer evidence of Part III
(:mod:`fractalnb.reference.layer_evidence`), made on the stored reference runs
(:func:`fractalnb.reference.load_weights`). For every conv/linear weight of every run,
:func:`layer_dimensions` measures :math:`D` (:func:`fractalnb.training.analyze`, default
occupancy rule) on four kinds of tensor:

``weights``
    The stored weights at every stored epoch, the initialisation (epoch 0) included: the
    trained :math:`D` (last epoch) and the fractal dynamics.
``matched density``
    The initialisation segmented at the *trained* layer's density. Under the default rule
    (:math:`\tau = \operatorname{mean}|W| + \operatorname{std}|W|`) a uniform
    initialisation can keep a larger fraction of entries than a trained, heavier-tailed layer
    keeps (about twice in the quick profile's narrow networks), and a denser set has a
    larger :math:`D` whatever its arrangement. The initialisation is therefore also
    thresholded by the quantile rule that leaves exactly as many entries occupied as the
    trained layer has (:func:`matched_density_threshold`).
``shuffled``
    The null: the trained weights with their entries permuted at random
    (:func:`fractalnb.geometry.shuffled_copy`): same values, same threshold, same density,
    no arrangement. A permutation of the values permutes the occupied set, so the
    shuffles are drawn on the set (with ``shuffled_copy``'s permutations) and all shuffles
    of a layer are box-counted and fitted at once, vectorised: the same :math:`D` as
    :func:`~fractalnb.training.analyze` of each shuffled copy, at a fraction of the cost.

Examples
--------
>>> from fractalnb.reference import layer_dimensions
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
        # dyadic scales, as analyze() and the shuffled controls use (the same scales)
        fit = box_dimension(view, threshold=threshold, dilation=2)
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
