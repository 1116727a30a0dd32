r"""Per-layer evidence: does training move a layer's D by more than the seeds disagree.

On the measurements of :func:`fractalnb.reference.layer_dimensions`,
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
>>> from fractalnb.reference import layer_contrasts, layer_dimensions
>>> dims = layer_dimensions(["custom_cnn-seed0", "custom_cnn-seed1"])   # doctest: +SKIP
>>> layer_contrasts(dims)["beyond_init"].sum()                          # doctest: +SKIP
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import _validate
from .layer_measurements import _COLUMNS, TREATMENTS, null_range_chance

__all__ = [
    "dimension_dynamics",
    "evidence_summary",
    "layer_contrasts",
]


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
