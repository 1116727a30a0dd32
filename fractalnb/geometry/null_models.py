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
from ..training.analysis import compare, weight_layers
from .boxcount import box_dimension
from .fit import BoxDimension
from .transform import box_sizes

__all__ = [
    "NULL_MODELS",
    "shuffle_entries",
    "gaussian_like",
    "expected_counts_shuffled",
    "null_dimensions",
    "compare_to_null",
    "shuffled_copy",
    "null_spread",
    "against_null",
]


NULL_MODELS: tuple[str, ...] = ("shuffled", "gaussian")
"""The null models :func:`null_dimensions` knows."""


def _check_real(x: object, name: str = "x") -> tuple[torch.Tensor, bool]:
    """Return ``(tensor, was_numpy)`` for a finite real array of rank >= 1, or raise."""
    if isinstance(x, torch.Tensor):
        t, was_numpy = x.detach(), False
    elif isinstance(x, np.ndarray):
        if x.dtype.kind not in "iuf":
            raise ValueError(f"{name} must hold real numbers, got dtype {x.dtype}")
        t, was_numpy = torch.from_numpy(x.copy()), True
    else:
        raise TypeError(f"{name} must be a numpy array or a torch tensor, got {type(x).__name__}")
    if t.is_complex() or t.dtype == torch.bool:
        raise ValueError(f"{name} must hold real numbers, got dtype {t.dtype}")
    if t.ndim == 0 or t.numel() == 0:
        raise ValueError(
            f"{name} must be a non-empty array of rank >= 1, got shape {tuple(t.shape)}"
        )
    if t.is_floating_point() and not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} has NaN or infinite entries")
    return t, was_numpy


def _check_seed(seed: object) -> int:
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    return int(seed)


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
    seed = _check_seed(seed)
    if isinstance(x, (np.ndarray, torch.Tensor)) and x.dtype in (np.bool_, torch.bool):
        t = torch.from_numpy(x.copy()) if isinstance(x, np.ndarray) else x.detach()
        was_numpy = isinstance(x, np.ndarray)
        if t.ndim == 0 or t.numel() == 0:
            raise ValueError(
                f"x must be a non-empty array of rank >= 1, got shape {tuple(t.shape)}"
            )
    else:
        t, was_numpy = _check_real(x)
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(t.numel(), generator=generator).to(t.device)
    shuffled = t.reshape(-1)[order].reshape(t.shape)
    return shuffled.numpy() if was_numpy else shuffled


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
    seed = _check_seed(seed)
    t, was_numpy = _check_real(x)
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
        Box sides, integers >= 1.
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
    if mode not in ("occupied", "boundary"):
        raise ValueError(f"mode must be 'occupied' or 'boundary', got {mode!r}")
    dims = [int(s) for s in shape]
    if not dims or any(s < 1 for s in dims):
        raise ValueError(f"shape must be a non-empty sequence of positive sizes, got {shape!r}")
    n = math.prod(dims)
    if isinstance(occupied, (bool, np.bool_)) or not isinstance(occupied, (int, np.integer)):
        raise ValueError(f"occupied must be an integer in [0, {n}], got {occupied!r}")
    k = int(occupied)
    if not 0 <= k <= n:
        raise ValueError(f"occupied must be an integer in [0, {n}], got {k}")
    result = []
    for r in scales:
        if isinstance(r, (bool, np.bool_)) or int(r) != r or int(r) < 1:
            raise ValueError(f"scales must be integers >= 1, got {r!r}")
        sizes, multiplicity = np.unique(box_sizes(dims, int(r)), return_counts=True)
        m = sizes.astype(np.float64)
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
    models: Sequence[str] = NULL_MODELS,
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
        Samples per null model, >= 2.
    models
        A subset of :data:`NULL_MODELS`.
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
    unknown = [m for m in models if m not in NULL_MODELS]
    if unknown or not models:
        raise ValueError(f"models must be a non-empty subset of {NULL_MODELS}, got {list(models)}")
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 2:
        raise ValueError(f"n_samples must be an integer >= 2, got {n_samples!r}")
    if not thresholds:
        raise ValueError("thresholds must hold at least one rule")
    seed = _check_seed(seed)
    _check_real(x)
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
    if not (float(z_critical) > 0):
        raise ValueError(f"z_critical must be > 0, got {z_critical!r}")
    required = {"model", "rule", "dimension", "density"}
    if not required <= set(null.columns):
        raise ValueError(f"null must be a null_dimensions table with columns {sorted(required)}")
    rows = []
    for label, fit in observed.items():
        subset = null[null["rule"] == label]
        if subset.empty:
            raise ValueError(f"no null samples for rule {label!r}; rules there: "
                             f"{sorted(null['rule'].unique())}")
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
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, got {seed!r}")
    twin = copy.deepcopy(model)
    generator = torch.Generator().manual_seed(int(seed))
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
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    shuffles = {k: shuffled_copy(model, seed=int(seed) + k) for k in range(int(n))}
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
    >>> layer = nn.Linear(64, 64)
    >>> verdict = against_null(analyze(layer), null_spread(layer, n=2))
    >>> bool(verdict["separated"].iloc[0])
    False
    """
    needed = {"name", "null_low", "null_high", "null_ci_low", "null_ci_high"}
    missing = needed - set(getattr(spread, "columns", ()))
    if missing:
        raise ValueError(f"spread lacks the columns {sorted(missing)}: pass null_spread()")
    rows = weight_layers(table).merge(spread.drop(columns=["layer_depth"]), on="name",
                                      how="left", validate="one_to_one")
    d = rows["dimension"]
    rows["outside_null"] = (d < rows["null_low"]) | (d > rows["null_high"])
    rows["separated"] = (rows["ci_high"] < rows["null_ci_low"]) | (
        rows["ci_low"] > rows["null_ci_high"])
    return rows
