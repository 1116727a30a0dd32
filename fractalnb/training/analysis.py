r"""The fractal analysis of a whole network: one row per parameter tensor.

:func:`analyze` is the one call a reader reaches for on a model of their own. It walks
``model.named_parameters()`` in order, one tensor at a time (so a large model never needs
more than one extra tensor of memory, on the device where the tensor lives or on the
``device`` asked for), turns each tensor into a set with an occupancy rule
(:func:`fractalnb.geometry.occupancy`), counts boxes at the scales
:math:`r_k = \lambda^k` and fits the box-counting dimension
(:func:`fractalnb.geometry.box_dimension`). The result is a :class:`pandas.DataFrame`
with the name, layer kind, shape and size of every tensor, the rule and threshold used,
:math:`D` with its confidence interval, :math:`R^2`, the degree of self-similarity and the
DSI residual, and beside them the spectral view: the tail exponent :math:`\alpha` of the
eigenvalue spectrum of each weight matrix (:func:`fractalnb.training.esd_alpha`, with
``spectral=True``), and the
threshold-free reading of each weight matrix as a surface: the dimension
:math:`3 - \hat H` of its graph by the transect madogram
(:func:`fractalnb.geometry.madogram_dimension`, column ``surface_dimension``).

A tensor the estimator cannot handle (too few scales, a threshold that leaves the set
empty or full — a freshly initialised BatchNorm ``γ = 1`` is constant —, rank 0 or above
4) keeps its row, with ``D = NaN`` and the reason in the ``note`` column: nothing is
dropped silently. Non-finite weights, parameters on the ``meta`` device and models
without parameters raise a :class:`ValueError` naming the tensor.

Helpers: :func:`compare` runs :func:`analyze` over several models (or checkpoints) into
one long table, :func:`weight_layers` selects the conv/linear weights, and
:func:`architecture_summary` sets models side by side; elsewhere,
:func:`fractalnb.geometry.shuffled_copy` gives the shuffled null model (every tensor's
entries permuted at random: same values, no arrangement) and
:func:`fractalnb.plotting.plot_dimension_by_depth` draws :math:`D` against depth.

Examples
--------
>>> import torch
>>> from torch import nn
>>> from fractalnb.training import analyze
>>> torch.manual_seed(0)  # doctest: +ELLIPSIS
<torch._C.Generator object at ...>
>>> table = analyze(nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)))
>>> table[["name", "kind", "shape", "numel"]].to_dict("records")[0]
{'name': '0.weight', 'kind': 'linear', 'shape': (32, 64), 'numel': 2048}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from .. import _validate
from .._progress import progress_bar
from .._validate import dataframe, mapping
from ..geometry.boxcount import DEFAULT_DILATION, box_dimension
from ..geometry.fit import DEFAULT_CONFIDENCE, BoxDimension
from ..geometry.occupancy_rules import DEFAULT_RULE, occupancy_rule
from ..geometry.roughness import RECOMMENDED, variation_dimension
from ..geometry.transform import unfold_conv
from .spectral import DEFAULT_MIN_EVALS, _tail_fit, empirical_spectral_density

__all__ = [
    "analyze",
    "compare",
    "weight_layers",
    "architecture_summary",
]


_CONV_VIEWS: tuple[str, ...] = ("unfold", "grid")
"""How a conv kernel ``(out, in, kh, kw)`` is seen: the matrix ``out × (in·kh·kw)``
(:func:`fractalnb.geometry.unfold_conv`, the default) or the 4-D grid itself."""


_MODES: tuple[str, ...] = ("occupied", "boundary")
"""The box counts :func:`analyze` can make (see :func:`fractalnb.geometry.box_counts`)."""


_COLUMNS: tuple[str, ...] = (
    "name", "module", "kind", "role", "depth", "layer_depth", "shape", "grid", "numel",
    "rule", "tau", "density", "dimension", "ci_low", "ci_high", "r2", "self_similarity",
    "dsi_residual", "n_fit", "r_min", "r_max", "esd_alpha", "esd_n_evals",
    "surface_dimension", "note",
)  # fmt: skip
"""The columns of :func:`analyze`'s table, in order."""


_NORMS = (
    nn.modules.batchnorm._NormBase,
    nn.GroupNorm,
    nn.LayerNorm,
    nn.LocalResponseNorm,
)


def _layer_kind(module: nn.Module) -> str:
    """Return the kind of a module: ``conv``, ``linear``, ``norm``, ``embedding`` or ``other``."""
    if isinstance(module, nn.modules.conv._ConvNd):
        return "conv"
    if isinstance(module, (nn.Linear, nn.Bilinear)):
        return "linear"
    if isinstance(module, _NORMS):
        return "norm"
    if isinstance(module, (nn.Embedding, nn.EmbeddingBag)):
        return "embedding"
    return "other"


def _fit_range(fit_range: object) -> object:
    """Check ``fit_range`` up front: ``None``, ``"all"`` or integers ``(r_min, r_max)``.

    :func:`analyze` turns a tensor's ``ValueError`` into a note, so a bad fit range must be
    refused before any tensor is counted (else every row would carry it as a note).
    """
    kinds = "fit_range must be None, 'all' or (r_min, r_max)"
    if fit_range is None or (isinstance(fit_range, str) and fit_range == "all"):
        return fit_range
    if isinstance(fit_range, str):
        raise ValueError(f"{kinds}, got {fit_range!r}")
    bounds = fit_range
    if isinstance(bounds, np.ndarray) and bounds.ndim == 1:
        bounds = tuple(bounds.tolist())
    if not isinstance(bounds, (tuple, list)):
        raise TypeError(f"{kinds}, got {_validate.describe(fit_range)}")
    if len(bounds) != 2:
        raise ValueError(f"{kinds}, got {fit_range!r}")
    low = _validate.integer(bounds[0], "fit_range[0]", 1)
    high = _validate.integer(bounds[1], "fit_range[1]", 1)
    if low > high:
        raise ValueError(f"fit_range must have r_min <= r_max, got {fit_range!r}")
    return fit_range


def _module_of(name: str, modules: Mapping[str, nn.Module]) -> tuple[str, nn.Module]:
    owner = name.rpartition(".")[0]
    return owner, modules[owner]


def _measured(fit: BoxDimension | None, note: str = "") -> dict:
    """Return a row's measurement columns: from ``fit``, or NaN and a ``note`` saying why."""
    if fit is None:
        return {
            "rule": "", "tau": math.nan, "density": math.nan, "dimension": math.nan,
            "ci_low": math.nan, "ci_high": math.nan, "r2": math.nan,
            "self_similarity": math.nan, "dsi_residual": math.nan, "n_fit": 0,
            "r_min": 0, "r_max": 0, "note": note,
        }  # fmt: skip
    return {
        "rule": fit.rule, "tau": fit.tau, "density": fit.density, "dimension": fit.dimension,
        "ci_low": fit.ci[0], "ci_high": fit.ci[1], "r2": fit.r2,
        "self_similarity": fit.self_similarity, "dsi_residual": float(fit.dsi_residual),
        "n_fit": fit.n_fit, "r_min": fit.fit_range[0], "r_max": fit.fit_range[1], "note": "",
    }  # fmt: skip


def _spectrum(w: torch.Tensor, kind: str) -> dict:
    """Return a row's ESD columns: the tail exponent of a weight matrix or conv kernel, or NaN.

    Rank-2 tensors and conv kernels (rank 3 to 5) get :func:`~fractalnb.training.esd_alpha`
    (WeightWatcher's conventions); an all-zero tensor, or one with fewer than
    :data:`~fractalnb.training.spectral.DEFAULT_MIN_EVALS` eigenvalues, gets NaN.
    """
    if not w.numel() or not (w.ndim == 2 or (kind == "conv" and 3 <= w.ndim <= 5)):
        return {"esd_alpha": math.nan, "esd_n_evals": 0}
    try:
        evals = empirical_spectral_density(w)
    except ValueError:  # all zero: no spectrum
        return {"esd_alpha": math.nan, "esd_n_evals": 0}
    try:
        alpha = _tail_fit(evals, DEFAULT_MIN_EVALS, "slices").alpha
    except ValueError:  # too few (distinct) eigenvalues for a tail
        alpha = math.nan
    return {"esd_alpha": alpha, "esd_n_evals": int(evals.size)}


def _surface(w: torch.Tensor, kind: str) -> dict:
    """Return a row's ``surface_dimension``: the recommended roughness estimator, or NaN.

    The surface is the 2-D matrix of the tensor: a rank-2 tensor as it is (``out × in``
    for a linear layer, ``num × dim`` for an embedding), a conv kernel ``(out, in, k…)``
    reshaped to ``out × (in·k…)`` (rows: output channels; columns: ``(in, k…)`` in
    PyTorch's order), whatever ``conv`` says; the heights are the weights themselves.
    Other ranks, sides shorter than 4 and matrices without a non-constant row or column
    get NaN.
    """
    if not w.numel() or not (w.ndim == 2 or (kind == "conv" and 3 <= w.ndim <= 5)):
        return {"surface_dimension": math.nan}
    matrix = w.reshape(w.shape[0], -1)
    if min(matrix.shape) < int(RECOMMENDED["max_lag"]) + 2:
        return {"surface_dimension": math.nan}
    try:
        fit = variation_dimension(matrix.detach().to("cpu", torch.float64), **RECOMMENDED)
    except ValueError:  # constant matrix: no roughness
        return {"surface_dimension": math.nan}
    return {"surface_dimension": fit.dimension}


def analyze(
    model: nn.Module,
    *,
    threshold: object = None,
    mode: str = "occupied",
    conv: str = "unfold",
    dilation: int = DEFAULT_DILATION,
    fit_range: object = None,
    confidence: float = DEFAULT_CONFIDENCE,
    device: torch.device | str | None = None,
    progress: bool = False,
    spectral: bool = False,
) -> pd.DataFrame:
    r"""Measure the box-counting dimension of every parameter tensor of a model.

    Parameters
    ----------
    model
        Any :class:`torch.nn.Module` with at least one parameter, on any device but
        ``meta``. It is not modified.
    threshold
        Occupancy rule for :math:`A = \{|W| > \tau\}` (see
        :func:`fractalnb.geometry.occupancy_rule`): a number, ``("quantile", q)``,
        ``("mean_std", k)`` or a rule object; default
        :data:`~fractalnb.geometry.occupancy_rules.DEFAULT_RULE` (:math:`\tau` = mean + 1 std of
        :math:`|W|`), applied to each tensor separately.
    mode
        ``"occupied"`` or ``"boundary"`` box counts (see
        :func:`fractalnb.geometry.box_counts`).
    conv
        ``"unfold"`` (default): a conv kernel ``(out, in, kh, kw)`` is counted as the
        matrix ``out × (in·kh·kw)`` (:func:`fractalnb.geometry.unfold_conv`); ``"grid"``:
        as the 4-D grid.
    dilation
        The factor :math:`\lambda` of the scales :math:`1, \lambda, \lambda^2, \dots`.
    fit_range
        ``None`` (the engine's default range per tensor), ``"all"`` or ``(r_min, r_max)``.
    confidence
        Level of the confidence interval on :math:`D`.
    device
        Where to count: each tensor is copied there, one at a time. Default: where the
        tensor lives (CPU or GPU).
    progress
        Show a ``tqdm`` bar over the tensors.
    spectral
        Also fit the tail exponent :math:`\alpha` of each weight matrix's eigenvalue
        spectrum (:func:`~fractalnb.training.esd_alpha`, WeightWatcher's conventions: a conv
        kernel is one matrix ``(out, in)`` per kernel position, whatever ``conv`` says).
        Off by default (``esd_alpha`` NaN, ``esd_n_evals`` 0): ``powerlaw``'s fit scans
        every eigenvalue as a candidate :math:`\lambda_{\min}` with a numerical
        optimisation each (about 4 s for a 1152-eigenvalue ESD), far more than the box
        counts, and :func:`compare`, :func:`fractalnb.geometry.null_spread` and the
        symmetry checks call :func:`analyze` many times.

    Returns
    -------
    pandas.DataFrame
        One row per parameter tensor, in ``named_parameters()`` order, with the columns
        ``name``, ``module`` (owner), ``kind`` (of the owner: ``conv``, ``linear``,
        ``norm``, ``embedding`` or ``other``), ``role`` (``weight``, ``bias`` …),
        ``depth`` (index of the tensor), ``layer_depth`` (index of the conv/linear layer
        among the model's conv/linear layers, ``-1`` for others), ``shape``, ``grid`` (the
        shape counted), ``numel``, ``rule``, ``tau``, ``density`` (:math:`|A|/|\Omega|`),
        ``dimension``, ``ci_low``/``ci_high``, ``r2``, ``self_similarity``,
        ``dsi_residual`` (the spread of the local slopes: 0 for a discretely
        scale-invariant set), ``n_fit``, ``r_min``/``r_max``, ``esd_alpha`` (the ESD tail
        exponent; NaN for tensors that are not matrices or conv kernels, all zero, or with
        fewer than :data:`~fractalnb.training.spectral.DEFAULT_MIN_EVALS` eigenvalues),
        ``esd_n_evals`` (the number of eigenvalues), ``surface_dimension`` (the weight
        matrix read as a surface :math:`z = W_{ij}`, no threshold: the transect madogram
        dimension :math:`3 - \hat H` of :func:`fractalnb.geometry.madogram_dimension`, the
        estimator :data:`~fractalnb.geometry.roughness.RECOMMENDED` by Gneiting, Ševčíková
        & Percival (2012); a conv kernel is the matrix ``out × (in·kh·kw)`` whatever
        ``conv`` says; 3 for white noise, lower for smoother matrices, NaN for other
        ranks, sides < 4 or constant matrices; it depends on the order of the neurons, as
        box counting does) and ``note`` (empty, or why the dimension is NaN).

    Raises
    ------
    TypeError
        If ``model`` is not a module, or an option has the wrong type.
    ValueError
        For a model without parameters, a parameter on the ``meta`` device or holding
        NaN/Inf (the message names it), or a bad ``mode``, ``conv``, ``threshold``,
        ``dilation``, ``fit_range``, ``confidence`` or ``device``.

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU(), nn.Flatten(), nn.Linear(16, 4))
    >>> table = analyze(net)
    >>> table["grid"].tolist()
    [(16, 27), (16,), (4, 16), (4,)]
    """
    _validate.module(model, "model")
    _validate.choice(mode, "mode", _MODES)
    _validate.choice(conv, "conv", _CONV_VIEWS)
    rule = DEFAULT_RULE if threshold is None else occupancy_rule(threshold)
    dilation = _validate.integer(dilation, "dilation", 2)
    _fit_range(fit_range)
    confidence = _validate.real(confidence, "confidence", 0, 1, open_min=True, open_max=True)
    target = _validate.device(device)
    progress = _validate.boolean(progress, "progress")
    spectral = _validate.boolean(spectral, "spectral")

    params = list(model.named_parameters())
    if not params:
        raise ValueError(
            f"model ({type(model).__name__}) has no parameters: there is nothing to analyse"
        )
    modules = dict(model.named_modules())
    weight_layers_seen: dict[str, int] = {}
    rows = []
    bar = progress_bar(params, desc="analysing tensors", unit="tensor", enabled=progress)
    for depth, (name, param) in enumerate(bar):
        owner, module = _module_of(name, modules)
        kind = _layer_kind(module)
        if kind in ("conv", "linear") and owner not in weight_layers_seen:
            weight_layers_seen[owner] = len(weight_layers_seen)
        layer_depth = weight_layers_seen.get(owner, -1)
        shape = tuple(int(s) for s in param.shape)
        numel = int(param.numel())
        row = {"name": name, "module": owner, "kind": kind, "role": name.rpartition(".")[2],
               "depth": depth, "layer_depth": layer_depth, "shape": shape, "numel": numel}
        if param.is_meta:
            raise ValueError(
                f"parameter {name!r} is on the 'meta' device (shape only, no values): "
                "materialise the model (e.g. model.to_empty(device='cpu') and load weights) "
                "before analysing it"
            )
        if param.is_complex() or not param.is_floating_point():
            raise ValueError(f"parameter {name!r} has dtype {param.dtype}; a real float "
                             "tensor is needed")
        with torch.no_grad():
            w = param.detach()
            if target is not None:
                w = w.to(target)
            # a NaN or Inf makes the sum non-finite (cheap); the sum can also overflow,
            # so only a non-finite sum triggers the full element-wise check
            if numel and not bool(torch.isfinite(w.sum())) and not bool(torch.isfinite(w).all()):
                bad = int((~torch.isfinite(w)).sum())
                raise ValueError(
                    f"parameter {name!r} ({kind} layer {owner or '<root>'!r}, shape {shape}) "
                    f"holds {bad} NaN/Inf value(s) of {numel}: the network diverged or was "
                    "not initialised"
                )
            view = unfold_conv(w) if (kind == "conv" and conv == "unfold" and w.ndim > 2) else w
            row["grid"] = tuple(int(s) for s in view.shape)
            row.update(_spectrum(w, kind) if spectral
                       else {"esd_alpha": math.nan, "esd_n_evals": 0})
            row.update(_surface(w, kind))
            if numel == 0 or view.ndim == 0 or view.ndim > 4:
                why = ("empty tensor" if numel == 0
                       else f"rank {view.ndim} (box counting needs 1 to 4)")
                rows.append({**row, **_measured(None, why)})
                continue
            try:
                fit = box_dimension(view, threshold=rule, mode=mode, dilation=dilation,
                                    fit_range=fit_range, confidence=confidence)
            except ValueError as error:
                rows.append({**row, **_measured(None, str(error))})
                continue
        rows.append({**row, **_measured(fit)})
        del w, view
    return pd.DataFrame(rows, columns=list(_COLUMNS))


def compare(models: Mapping[Any, nn.Module], *, key: str = "model", **kwargs: Any
            ) -> pd.DataFrame:
    """Run :func:`analyze` on several models and stack the tables, labelled by ``key``.

    Parameters
    ----------
    models
        Label → model (e.g. ``{"trained": m1, "init": m0}`` or epoch → checkpoint).
    key
        Name of the label column (first column of the result).
    **kwargs
        Passed to :func:`analyze`.

    Returns
    -------
    pandas.DataFrame
        The tables one under another, with the extra column ``key``.

    Examples
    --------
    >>> nets = {"a": nn.Linear(16, 16), "b": nn.Linear(16, 16)}
    >>> compare(nets)["model"].tolist()
    ['a', 'a', 'b', 'b']
    """
    mapping(models, "models")
    if not isinstance(key, str):
        raise TypeError(f"key must be a column name (str), got {_validate.describe(key)}")
    if not key or key in _COLUMNS:
        raise ValueError(f"key must be a column name not among analyze's columns, got {key!r}")
    for label, model in models.items():
        _validate.module(model, f"models[{label!r}]")
    frames = []
    for label, model in models.items():
        table = analyze(model, **kwargs)
        table.insert(0, key, label)
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def weight_layers(table: pd.DataFrame) -> pd.DataFrame:
    """Select the rows of conv and linear weights (the layers of "D by depth").

    Parameters
    ----------
    table
        A result of :func:`analyze` or :func:`compare`.

    Returns
    -------
    pandas.DataFrame
        The rows with ``kind`` in ``("conv", "linear")`` and ``role == "weight"``.

    Examples
    --------
    >>> weight_layers(analyze(nn.Linear(16, 16)))["name"].tolist()
    ['weight']
    """
    dataframe(table, "table", ("kind", "role"))
    chosen = table["kind"].isin(("conv", "linear")) & (table["role"] == "weight")
    return table[chosen].reset_index(drop=True)


_SUMMARY_COLUMNS = {
    "trained": ("name", "kind", "role", "dimension", "ci_low", "ci_high", "r2",
                "self_similarity"),
    "init": ("name", "kind", "role", "dimension"),
    "verdicts": ("null_mean", "outside_null", "separated"),
    "checks": ("transform", "function_change", "logit_scale", "density_before",
               "density_after"),
}
"""The columns :func:`architecture_summary` reads from each kind of table."""


def architecture_summary(
    trained: Mapping[str, pd.DataFrame],
    init: Mapping[str, pd.DataFrame],
    verdicts: Mapping[str, pd.DataFrame],
    checks: Mapping[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Summarise, model by model, what the fractal analysis found, and what differs between them.

    Parameters
    ----------
    trained, init
        Model name → :func:`analyze` of the trained network and of its initialisation.
    verdicts
        Model name → :func:`fractalnb.geometry.against_null` of the trained network.
    checks
        Optional model name → :func:`fractalnb.symmetry.symmetry_checks` of the trained
        network; the transformations' labels must start with ``"permute"`` or ``"rescale"``.

    Returns
    -------
    pandas.DataFrame
        One row per quantity (over the conv/linear weights), one column per model, and
        ``spread`` (largest minus smallest value across models) and ``across models``: for
        the dimension rows, ``"differs beyond CI"`` when the spread exceeds the mean CI
        half-width of the models, else ``"within CI"``; for the symmetry rows,
        ``"same for all"`` when every model agrees, else ``"differs"``; empty otherwise.

    Raises
    ------
    TypeError
        If an argument is not a mapping of :class:`pandas.DataFrame` tables.
    ValueError
        If ``trained``, ``init`` and ``verdicts`` do not name the same models, ``checks``
        names others, or a table lacks the columns the summary reads.

    Examples
    --------
    >>> from fractalnb.geometry import against_null, null_spread
    >>> nets = {"a": nn.Linear(64, 64), "b": nn.Linear(64, 32)}
    >>> t = {k: analyze(m) for k, m in nets.items()}
    >>> v = {k: against_null(t[k], null_spread(m, n=2)) for k, m in nets.items()}
    >>> architecture_summary(t, t, v).loc["mean D, trained", "across models"] in (
    ...     "within CI", "differs beyond CI")
    True
    """
    for label, tables in (("trained", trained), ("init", init), ("verdicts", verdicts)):
        mapping(tables, label)
    if checks is not None:
        mapping(checks, "checks", allow_empty=True)
    names = list(trained)
    if set(names) != set(init) or set(names) != set(verdicts):
        raise ValueError(f"trained, init and verdicts must name the same models, got "
                         f"{sorted(map(str, trained))}, {sorted(map(str, init))} and "
                         f"{sorted(map(str, verdicts))}")
    if checks is not None and set(checks) - set(names):
        raise ValueError(f"checks names unknown models {sorted(set(checks) - set(names))}")
    for name in names:
        dataframe(trained[name], f"trained[{name!r}]", _SUMMARY_COLUMNS["trained"])
        dataframe(init[name], f"init[{name!r}]", _SUMMARY_COLUMNS["init"])
        dataframe(verdicts[name], f"verdicts[{name!r}]", _SUMMARY_COLUMNS["verdicts"])
        if checks is not None and name in checks:
            dataframe(checks[name], f"checks[{name!r}]", _SUMMARY_COLUMNS["checks"])
    columns: dict[str, dict[str, float]] = {}
    half_widths = []
    for name in names:
        t = weight_layers(trained[name]).set_index("name")
        i = weight_layers(init[name]).set_index("name").reindex(t.index)
        v = verdicts[name]
        shift = (t["dimension"] - i["dimension"]).abs()
        half = (t["ci_high"] - t["ci_low"]) / 2
        half_widths.append(float(half.mean()))
        col = {
            "mean D, trained": float(t["dimension"].mean()),
            "mean D, initialisation": float(i["dimension"].mean()),
            "mean D, shuffled null": float(v["null_mean"].mean()),
            "mean |D trained - D init|": float(shift.mean()),
            "mean CI half-width of D": float(half.mean()),
            "layers with D outside the null range (%)": 100 * float(v["outside_null"].mean()),
            "layers separated from the null (%)": 100 * float(v["separated"].mean()),
            "layers moved by training beyond the CI (%)": 100 * float((shift > half).mean()),
            "mean R²": float(t["r2"].mean()),
            "mean degree of self-similarity": float(t["self_similarity"].mean()),
        }
        if checks is not None and name in checks:
            c = checks[name]
            relative = c["function_change"] / c["logit_scale"]
            perm = c[c["transform"].str.startswith("permute")]
            col["max relative function change under the symmetries"] = float(relative.max())
            col["density unchanged by permutations (1 = yes)"] = float(
                np.allclose(perm["density_before"], perm["density_after"]))
        columns[name] = col
    table = pd.DataFrame(columns)
    spread = table.max(axis=1) - table.min(axis=1)
    ci = float(np.mean(half_widths))
    verdict = []
    for row, value in spread.items():
        if row.startswith("mean D"):
            verdict.append("differs beyond CI" if value > ci else "within CI")
        elif row.startswith(("max relative", "density unchanged")):
            verdict.append("same for all" if value == 0 or row.startswith("max relative")
                           and table.loc[row].max() < 1e-4 else "differs")
        else:
            verdict.append("")
    table["spread"] = spread
    table["across models"] = verdict
    return table
