r"""Null models for the box-counting dimension of a layer: what is structure, what is density.

A box-counting dimension measured on a thresholded weight matrix mixes two things: *how
many* entries pass the threshold (the density :math:`p = |A|/|\Omega|`) and *where* they
are (their arrangement). Two null models keep the first and destroy the second:

**Shuffled weights** :func:`shuffle_entries`
    The entries of :math:`W` permuted uniformly at random over the grid,
    :math:`W \circ \pi`. The multiset of values is unchanged, so every occupancy rule
    (absolute, quantile, mean + k·std) gives the same threshold :math:`\tau` and the same
    :math:`|A|`; only the arrangement is random.
**Gaussian matrix** :func:`gaussian_like`
    I.i.d. normal entries of the same shape, mean and standard deviation. It also
    replaces the *distribution* of the values (heavy tails become Gaussian), so rules that
    depend on the tails (absolute, mean + k·std) may give another density.

For the shuffle, the expected count is known exactly (:func:`expected_counts_shuffled`):
with :math:`K` points placed uniformly among :math:`n` grid points, a box of :math:`m`
points is empty with probability :math:`\binom{n-m}{K}/\binom{n}{K}`, so

.. math:: \mathbb{E}\,N(r) = \sum_{j} \Big(1 - \binom{n-m_j}{K}\Big/\binom{n}{K}\Big),

a function of the density alone. :func:`null_dimensions` samples both null models and
:func:`compare_to_null` puts the observed dimension against their spread.

Examples
--------
>>> import numpy as np
>>> from fractalnb.geometry import expected_counts_shuffled, shuffle_entries
>>> w = np.arange(6.0).reshape(2, 3)
>>> np.sort(shuffle_entries(w, seed=0).ravel())
array([0., 1., 2., 3., 4., 5.])
>>> expected_counts_shuffled((4, 4), [1, 2, 4], occupied=16)
array([16.,  4.,  1.])
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from .._progress import progress_bar
from .._validate import (
    MAX_ELEMENTS,
    as_tensor,
    boolean,
    budget,
    choice,
    describe,
    integer,
    real,
    sizes,
)
from .._validate import (
    seed as check_seed,
)
from .._validate import shape as grid_shape
from ..training.analysis import compare, weight_layers
from .boxcount import box_dimension
from .fit import _MODES, BoxDimension
from .occupancy_rules import occupancy_rule
from .transform import MAX_RANK, _box_sizes, _scale_tuple

__all__ = [
    "shuffle_entries",
    "gaussian_like",
    "expected_counts_shuffled",
    "null_dimensions",
    "compare_to_null",
    "shuffled_copy",
    "null_spread",
    "against_null",
]


_NULL_MODELS: tuple[str, ...] = ("shuffled", "gaussian")
"""The null models :func:`null_dimensions` knows."""


_MAX_NULL_FITS = 100_000
"""The most box-dimension fits one :func:`null_dimensions` call runs (samples x models x rules)."""


_ANY_RANK = 32  # a null model reads a tensor of any rank (torch allows up to 64 axes)


def _real_tensor(x: object, *, allow_bool: bool) -> tuple[torch.Tensor, bool]:
    """``(tensor, was_numpy)`` of a finite real NumPy array or tensor of any rank >= 1."""
    if not isinstance(x, (np.ndarray, torch.Tensor)):
        raise TypeError(f"x must be a numpy array or a torch tensor, got {describe(x)}")
    return as_tensor(x, "x", allow_bool=allow_bool, max_rank=_ANY_RANK)


def shuffle_entries(x: np.ndarray | torch.Tensor, seed: int = 0) -> np.ndarray | torch.Tensor:
    r"""Return :math:`W \circ \pi`: the entries of ``x`` permuted uniformly over the whole grid.

    Parameters
    ----------
    x
        Real array or tensor of any rank >= 1 (booleans too: a mask keeps its size).
    seed
        Seed of the permutation (a ``torch.Generator`` on the CPU).

    Returns
    -------
    numpy.ndarray or torch.Tensor
        Same type, shape, dtype (and device) as ``x``, same multiset of values.

    Raises
    ------
    ValueError
        If ``x`` is empty, has rank 0, non-finite or complex entries, or ``seed`` is not
        an integer >= 0.

    Examples
    --------
    >>> import torch
    >>> sorted(shuffle_entries(torch.tensor([[1, 2], [3, 4]]), seed=1).flatten().tolist())
    [1, 2, 3, 4]
    """
    seed = check_seed(seed)
    t, was_numpy = _real_tensor(x, allow_bool=True)
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(t.numel(), generator=generator).to(t.device)
    shuffled = t.reshape(-1)[order].reshape(t.shape)
    return shuffled.numpy().astype(x.dtype, copy=False) if was_numpy else shuffled


def gaussian_like(x: np.ndarray | torch.Tensor, seed: int = 0) -> np.ndarray | torch.Tensor:
    r"""Return an i.i.d. Gaussian matrix with the shape, mean and standard deviation of ``x``.

    The sample is standardised before scaling, so its mean and (population) standard
    deviation equal those of ``x`` exactly (to rounding), not only in expectation.

    Parameters
    ----------
    x
        Real array or tensor of any rank >= 1 with at least 2 entries.
    seed
        Seed of the normal draws (a ``torch.Generator`` on the CPU).

    Returns
    -------
    numpy.ndarray or torch.Tensor
        Floating array of ``x``'s shape and type (``float64`` for integer input; torch:
        on ``x``'s device).

    Raises
    ------
    ValueError
        If ``x`` has fewer than 2 entries, non-finite or complex entries, or ``seed`` is
        not an integer >= 0.

    Examples
    --------
    >>> import numpy as np
    >>> g = gaussian_like(np.array([[1.0, 2.0], [3.0, 6.0]]), seed=0)
    >>> round(float(g.mean()), 6), round(float(g.std()), 6)
    (3.0, 1.870829)
    """
    seed = check_seed(seed)
    t, was_numpy = _real_tensor(x, allow_bool=False)
    if t.numel() < 2:
        raise ValueError("x needs at least 2 entries for a standard deviation")
    dtype = t.dtype if t.is_floating_point() else torch.float64
    values = t.to(torch.float64)
    std, mean = torch.std_mean(values, correction=0)
    generator = torch.Generator().manual_seed(seed)
    z = torch.randn(t.shape, generator=generator, dtype=torch.float64)
    z_std, z_mean = torch.std_mean(z, correction=0)
    sample = ((z - z_mean) / z_std * std + mean).to(dtype).to(t.device)
    return sample.numpy() if was_numpy else sample


def _log_binomial(n: np.ndarray, k: np.ndarray) -> np.ndarray:
    return (
        np.vectorize(math.lgamma)(n + 1.0)
        - np.vectorize(math.lgamma)(k + 1.0)
        - np.vectorize(math.lgamma)(n - k + 1.0)
    )


def expected_counts_shuffled(
    shape: Sequence[int], scales: Sequence[int], occupied: int, mode: str = "occupied"
) -> np.ndarray:
    r"""Return the exact expected :math:`N(r)` of ``occupied`` points placed uniformly at random.

    This is the mean box count over all arrangements of :math:`K` = ``occupied`` points on
    the grid (equivalently: over uniform shuffles of any mask with :math:`K` points),
    with the boxes of :func:`fractalnb.geometry.box_counts` (aligned at the origin,
    partial boxes kept). A box of :math:`m` grid points is empty with probability
    :math:`\binom{n-m}{K}/\binom{n}{K}` and full with probability
    :math:`\binom{n-m}{K-m}/\binom{n}{K}`.

    Parameters
    ----------
    shape
        Grid shape (rank >= 1).
    scales
        Box sides, strictly increasing integers >= 1, at most ``max(shape)``.
    occupied
        :math:`K = |A|`, ``0 <= K <= n``.
    mode
        ``"occupied"`` (boxes meeting :math:`A`) or ``"boundary"`` (boxes meeting both
        :math:`A` and its complement).

    Returns
    -------
    numpy.ndarray
        ``float64`` expected counts, one per scale.

    Raises
    ------
    ValueError
        For an invalid shape, scale, ``occupied`` or ``mode``.

    Examples
    --------
    >>> expected_counts_shuffled((2, 2), [1, 2], occupied=1)
    array([1., 1.])
    >>> expected_counts_shuffled((2, 2), [2], occupied=2, mode="boundary")
    array([1.])
    """
    mode = choice(mode, "mode", ("occupied", "boundary"))
    dims = grid_shape(shape, max_rank=MAX_RANK)
    n = math.prod(dims)
    budget(n, "shape", MAX_ELEMENTS, "grid points")
    k = integer(occupied, "occupied", 0, n)
    values = sizes(scales, "scales")
    sides = [_scale_tuple(r, dims, "scales") for r in values.tolist()]
    result = []
    for side in sides:
        sizes_, multiplicity = np.unique(_box_sizes(dims, side), return_counts=True)
        m = sizes_.astype(np.float64)
        log_total = _log_binomial(np.float64(n), np.float64(k))
        p_empty = np.where(
            n - m >= k, np.exp(_log_binomial(n - m, np.minimum(k, n - m)) - log_total), 0.0
        )
        expected = 1.0 - p_empty
        if mode == "boundary":
            p_full = np.where(
                k >= m, np.exp(_log_binomial(n - m, np.maximum(k - m, 0.0)) - log_total), 0.0
            )
            expected = expected - p_full
        result.append(float(np.sum(multiplicity * expected)))
    return np.asarray(result, dtype=np.float64)


def null_dimensions(
    x: np.ndarray | torch.Tensor,
    thresholds: Mapping[str, object],
    n_samples: int,
    *,
    models: Sequence[str] = _NULL_MODELS,
    seed: int = 0,
    mode: str = "occupied",
    scales: Sequence[int] | None = None,
    fit_range: object = None,
    progress: bool = True,
) -> pd.DataFrame:
    r"""Box-counting dimensions of samples of the null models, for several occupancy rules.

    Sample ``s`` of model ``"shuffled"`` is :func:`shuffle_entries` ``(x, seed + s)``, of
    ``"gaussian"`` :func:`gaussian_like` ``(x, seed + s)``; each is segmented by every rule
    and measured by :func:`fractalnb.geometry.box_dimension` with the same ``mode``,
    ``scales`` and ``fit_range`` as the observation should be.

    Parameters
    ----------
    x
        The observed real array (the weights).
    thresholds
        Label → occupancy rule (anything :func:`fractalnb.geometry.occupancy_rule` reads).
    n_samples
        Samples per null model, >= 2; at most 100,000 fits in all (samples x models x rules).
    models
        A subset of ``("shuffled", "gaussian")`` (the default: both), without repeats.
    seed
        First seed.
    mode, scales, fit_range
        Passed to :func:`fractalnb.geometry.box_dimension`.
    progress
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        One row per (model, sample, rule): ``model``, ``sample``, ``rule``, ``dimension``,
        ``r2``, ``self_similarity``, ``density``, ``tau``.

    Raises
    ------
    ValueError
        For an unknown model, ``n_samples < 2``, no rules, or any error of
        :func:`~fractalnb.geometry.box_dimension` (e.g. a rule leaving :math:`A` empty).

    Examples
    --------
    >>> import numpy as np
    >>> w = np.random.default_rng(0).standard_t(3, size=(64, 64))
    >>> table = null_dimensions(w, {"q0.9": ("quantile", 0.9)}, 2, progress=False)
    >>> table.shape, sorted(table["model"].unique())
    ((4, 8), ['gaussian', 'shuffled'])
    """
    _real_tensor(x, allow_bool=False)
    if not isinstance(thresholds, Mapping):
        raise TypeError(f"thresholds must be a mapping label -> rule, got {describe(thresholds)}")
    if not thresholds:
        raise ValueError("thresholds must hold at least one rule")
    for label, rule in thresholds.items():
        try:
            if rule is not None:  # None: the default rule, as in box_dimension
                occupancy_rule(rule)
        except (TypeError, ValueError) as error:
            raise type(error)(f"thresholds[{label!r}]: {error}") from None
    if isinstance(models, str) or not isinstance(models, (Sequence, np.ndarray)):
        raise TypeError(f"models must be a sequence of model names, got {describe(models)}")
    models = [choice(m, "models", _NULL_MODELS) for m in models]
    if not models or len(set(models)) != len(models):
        raise ValueError(f"models must be a non-empty subset of {_NULL_MODELS}, got {models}")
    n_samples = integer(n_samples, "n_samples", 2)
    budget(n_samples * len(models) * len(thresholds), "n_samples", _MAX_NULL_FITS,
           "box-dimension fits")  # fmt: skip
    seed = check_seed(seed)
    mode = choice(mode, "mode", _MODES[:2])
    progress = boolean(progress, "progress")
    makers = {"shuffled": shuffle_entries, "gaussian": gaussian_like}
    rows = []
    jobs = [(m, s) for m in models for s in range(int(n_samples))]
    jobs = progress_bar(jobs, desc="null samples", enabled=progress)
    for model, sample in jobs:
        surrogate = makers[model](x, seed + sample)
        for label, rule in thresholds.items():
            fit = box_dimension(surrogate, scales=scales, threshold=rule, mode=mode,
                                fit_range=fit_range)
            rows.append({"model": model, "sample": sample, "rule": label,
                         "dimension": fit.dimension, "r2": fit.r2,
                         "self_similarity": fit.self_similarity, "density": fit.density,
                         "tau": fit.tau})
    return pd.DataFrame(rows)


def compare_to_null(
    observed: Mapping[str, BoxDimension], null: pd.DataFrame, *, z_critical: float = 3.0
) -> pd.DataFrame:
    r"""Put observed dimensions against the spread of their null samples.

    For each rule and null model: the null mean and standard deviation of :math:`D`, its
    range, the observed :math:`D`, the difference, the standardised distance
    :math:`z = (D_{obs} - \bar D_{null}) / s_{null}` and whether :math:`|z|` exceeds
    ``z_critical`` (``distinct``). With few samples :math:`z` is a rough guide; the
    observed value lying outside the whole null range is the plainer statement
    (``outside_range``).

    Parameters
    ----------
    observed
        Rule label → the :class:`~fractalnb.geometry.BoxDimension` of the real weights
        (labels as in ``null``).
    null
        The output of :func:`null_dimensions`.
    z_critical
        Threshold on :math:`|z|`, > 0.

    Returns
    -------
    pandas.DataFrame
        One row per (rule, model): ``rule``, ``model``, ``observed``, ``null_mean``,
        ``null_std``, ``null_min``, ``null_max``, ``difference``, ``z``, ``distinct``,
        ``outside_range``, ``density_observed``, ``density_null``.

    Raises
    ------
    ValueError
        If a rule of ``observed`` has no null samples, or ``z_critical <= 0``.

    Examples
    --------
    >>> import numpy as np
    >>> from fractalnb.geometry import box_dimension
    >>> w = np.random.default_rng(0).standard_t(3, size=(64, 64))
    >>> rules = {"q0.9": ("quantile", 0.9)}
    >>> null = null_dimensions(w, rules, 3, progress=False)
    >>> table = compare_to_null({"q0.9": box_dimension(w, threshold=rules["q0.9"])}, null)
    >>> list(table["model"])
    ['shuffled', 'gaussian']
    """
    z_critical = real(z_critical, "z_critical", 0, open_min=True)
    if not isinstance(observed, Mapping):
        raise TypeError(
            f"observed must be a mapping rule -> BoxDimension, got {describe(observed)}"
        )
    for label, fit in observed.items():
        if not isinstance(fit, BoxDimension):
            raise TypeError(f"observed[{label!r}] must be a BoxDimension, got {describe(fit)}")
    if not isinstance(null, pd.DataFrame):
        raise TypeError(f"null must be a pandas DataFrame (null_dimensions), got {describe(null)}")
    required = {"model", "rule", "dimension", "density"}
    if not required <= set(null.columns):
        raise ValueError(f"null must be a null_dimensions table with columns {sorted(required)}")
    rows = []
    for label, fit in observed.items():
        subset = null[null["rule"] == label]
        if subset.empty:
            raise ValueError(f"observed[{label!r}]: no null samples for rule {label!r}; rules "
                             f"there: {sorted(null['rule'].unique())}")
        for model, group in subset.groupby("model", sort=False):
            values = group["dimension"].to_numpy(dtype=np.float64)
            mean = float(values.mean())
            std = float(values.std(ddof=1)) if values.size > 1 else math.nan
            diff = fit.dimension - mean
            z = diff / std if std > 0 else (math.inf * np.sign(diff) if diff else 0.0)
            rows.append({
                "rule": label, "model": model, "observed": fit.dimension,
                "null_mean": mean, "null_std": std, "null_min": float(values.min()),
                "null_max": float(values.max()), "difference": diff, "z": float(z),
                "distinct": bool(abs(z) > z_critical),
                "outside_range": bool(fit.dimension < values.min() or fit.dimension > values.max()),
                "density_observed": fit.density,
                "density_null": float(group["density"].mean()),
            })
    return pd.DataFrame(rows)


def _check_module(model: object) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {describe(model)}")
    return model


def shuffled_copy(model: nn.Module, *, seed: int = 0) -> nn.Module:
    """Return a copy of ``model`` with the entries of every parameter tensor shuffled.

    The shuffled null model: each tensor keeps its shape and its multiset of values (so
    its density, its threshold and its count at the coarsest scale are unchanged) but loses
    any spatial arrangement. Buffers (BatchNorm statistics) are copied unchanged.

    Parameters
    ----------
    model
        The network; not modified.
    seed
        Seeds the permutations.

    Returns
    -------
    torch.nn.Module
        A deep copy with shuffled parameters.

    Examples
    --------
    >>> layer = nn.Linear(3, 2)
    >>> twin = shuffled_copy(layer, seed=1)
    >>> bool(torch.equal(twin.weight.flatten().sort().values, layer.weight.flatten().sort().values))
    True
    """
    _check_module(model)
    seed = check_seed(seed)
    twin = copy.deepcopy(model)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in twin.parameters():
            order = torch.randperm(param.numel(), generator=generator).to(param.device)
            param.copy_(param.reshape(-1)[order].reshape(param.shape))
    return twin


def null_spread(model: nn.Module, *, n: int = 3, seed: int = 0, **kwargs: Any) -> pd.DataFrame:
    """Measure the shuffled null model ``n`` times: the spread of D per conv/linear weight.

    Parameters
    ----------
    model
        The network whose tensors are shuffled (:func:`shuffled_copy`, seeds
        ``seed, seed + 1, …``).
    n
        Number of shuffles, at least 1.
    seed
        First seed.
    **kwargs
        Passed to :func:`analyze`.

    Returns
    -------
    pandas.DataFrame
        One row per conv/linear weight: ``name``, ``layer_depth``, ``null_mean``,
        ``null_low`` and ``null_high`` (smallest and largest D over the shuffles),
        ``null_ci_low`` / ``null_ci_high`` (widest fit interval over the shuffles) and
        ``n_null``.

    Examples
    --------
    >>> spread = null_spread(nn.Linear(64, 64), n=2)
    >>> spread[["name", "n_null"]].to_dict("records")
    [{'name': 'weight', 'n_null': 2}]
    """
    n = integer(n, "n", 1)
    seed = check_seed(seed)
    entries = sum(p.numel() for p in _check_module(model).parameters())
    budget(n * entries, "n", MAX_ELEMENTS, "parameter entries in the shuffled copies")
    shuffles = {k: shuffled_copy(model, seed=seed + k) for k in range(n)}
    table = weight_layers(compare(shuffles, key="shuffle", **kwargs))
    grouped = table.groupby(["name", "layer_depth"], sort=False)
    out = grouped.agg(null_mean=("dimension", "mean"), null_low=("dimension", "min"),
                      null_high=("dimension", "max"), null_ci_low=("ci_low", "min"),
                      null_ci_high=("ci_high", "max"),
                      n_null=("dimension", "count")).reset_index()
    return out


def against_null(table: pd.DataFrame, spread: pd.DataFrame) -> pd.DataFrame:
    """Put each conv/linear weight's D beside its shuffled null and say if they differ.

    Parameters
    ----------
    table
        A result of :func:`analyze` for the model.
    spread
        :func:`null_spread` of the same model.

    Returns
    -------
    pandas.DataFrame
        The weight rows of ``table`` with the null columns added and two verdicts:
        ``outside_null`` (D outside the range of the shuffles) and ``separated`` (the fit
        interval of D does not overlap the widest fit interval of the shuffles: the
        stricter test).

    Examples
    --------
    >>> from fractalnb.training import analyze
    >>> layer = nn.Linear(64, 64)
    >>> verdict = against_null(analyze(layer), null_spread(layer, n=2))
    >>> bool(verdict["separated"].iloc[0])
    False
    """
    for frame, name in ((table, "table"), (spread, "spread")):
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"{name} must be a pandas DataFrame, got {describe(frame)}")
    for frame, name, needed, source in (
        (table, "table", {"name", "dimension", "ci_low", "ci_high"}, "analyze()"),
        (spread, "spread", {"name", "layer_depth", "null_low", "null_high", "null_ci_low",
                            "null_ci_high"}, "null_spread()"),
    ):
        missing = needed - set(frame.columns)
        if missing:
            raise ValueError(f"{name} lacks the columns {sorted(missing)}: pass {source}")
    rows = weight_layers(table).merge(spread.drop(columns=["layer_depth"]), on="name",
                                      how="left", validate="one_to_one")
    d = rows["dimension"]
    rows["outside_null"] = (d < rows["null_low"]) | (d > rows["null_high"])
    rows["separated"] = (rows["ci_high"] < rows["null_ci_low"]) | (
        rows["ci_low"] > rows["null_ci_high"])
    return rows
