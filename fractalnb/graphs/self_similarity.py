"""The self-similarity rate SS_rate of a feature network.

Pseudo box counts and real box covering.

Two pseudo box counts are implemented (:data:`FORMULAS`). ``"code"``, the default, is the
one in the authors' code (``compute_mse_sim_loss`` in ``sfm/sfm_loss_d_v2.py`` of
qcw-china/Self-similarity-Analysis-in-Deep-Neural-Networks), which produced the SS_rate
values that :cite:t:`ding2025selfsimilarity` report and the scale on which their targets
γ = 0.2–0.3 are set; ``tests/test_ss_rate_reference.py`` checks it against an independent
re-implementation of that function. ``"paper"`` is the formula as printed in the paper (as
we read it); on the same features it gives a much larger SS_rate (about 0.5–0.9 where the
code gives 0.1–0.5), so its values are not comparable with the paper's numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from .. import _validate
from .boxcover import (
    METHODS,
    UNREACHABLE,
    _metric_cover,
    _processing_order,
    graph_box_counts,
    hop_distances,
)
from .features import (
    LAYOUTS,
    ArrayLike,
    _batch,
    _distance_range,
    _features,
    _layer_names,
    distance_matrix,
    layer_features,
    pair_distances,
)
from .generators import connectivity_threshold, threshold_graph

__all__ = [
    "FORMULAS",
    "theta_grid",
    "pair_fraction",
    "pseudo_box_count",
    "ss_rate_of_curve",
    "SelfSimilarityCurve",
    "self_similarity_curve",
    "ss_rate",
    "metric_self_similarity_curve",
    "ss_rate_metric",
    "feature_graph_box_counts",
    "layer_self_similarity",
]


FORMULAS = ("code", "paper")
"""The pseudo-box-count formulas, ``"code"`` (the authors' code's; the default) and
``"paper"`` (the paper's as printed)."""


N_THETAS = 256
"""Thresholds per SS_rate curve, as in the paper."""

_MAX_THETAS = 1 << 20
"""The most thresholds per curve (``n_thetas``) a function accepts."""


def _n_thetas(n_thetas: object) -> int:
    return _validate.integer(n_thetas, "n_thetas", minimum=2, maximum=_MAX_THETAS)


def _distances(distances: object, name: str = "distances") -> tuple[torch.Tensor, bool]:
    """Check pair distances (any shape, finite, >= 0): a floating tensor, and whether NumPy."""
    checked, was_numpy = _validate.as_tensor(distances, name, allow_bool=False)
    if was_numpy:
        checked = checked.to(torch.float64)
    elif not distances.is_floating_point():
        checked = checked.double()
    if bool((checked < 0).any()):
        raise ValueError(f"{name} must be non-negative, got the minimum {float(checked.min())}")
    return checked, was_numpy


def theta_grid(distances: ArrayLike, n_thetas: int = N_THETAS) -> np.ndarray:
    r"""Thresholds from TZ = min C to TV = max C, evenly spaced in :math:`\ln(1+\theta)`.

    Parameters
    ----------
    distances
        Pair distances (any rank from 1 to 4), finite and non-negative, not all equal.
    n_thetas
        Number of thresholds (256 in the paper), an integer from 2 to 2^20.

    Returns
    -------
    numpy.ndarray
        ``n_thetas`` increasing thresholds, the first TZ and the last TV.

    Examples
    --------
    >>> np.round(theta_grid(np.array([0.0, 3.0]), 3), 6)
    array([0., 1., 3.])
    """
    n_thetas = _n_thetas(n_thetas)
    tensor, _ = _distances(distances)
    tz, tv = _distance_range(tensor, "distances")
    fraction = np.linspace(0.0, 1.0, n_thetas)
    thetas = np.expm1(np.log1p(tz) + fraction * (np.log1p(tv) - np.log1p(tz)))
    thetas[0], thetas[-1] = tz, tv
    return thetas


def pair_fraction(distances: ArrayLike, thetas: ArrayLike) -> ArrayLike:
    r"""Fraction :math:`p(\theta)` of pairs with :math:`C_{ij} \le \theta`, for each threshold.

    Parameters
    ----------
    distances
        Pair distances (rank 1 to 4), finite and non-negative; torch tensors give a tensor.
    thetas
        Thresholds, a finite real array (in any order).

    Examples
    --------
    >>> pair_fraction(np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.5, 2.0, 4.0]))
    array([0. , 0.5, 1. ])
    """
    _distances(distances)
    theta_values = _validate.real_array(thetas, "thetas", min_ndim=1)
    if isinstance(distances, torch.Tensor):
        theta = torch.as_tensor(np.ascontiguousarray(theta_values), dtype=distances.dtype,
                                device=distances.device)
        sorted_d = torch.sort(distances.detach().reshape(-1)).values
        counts = torch.searchsorted(sorted_d, theta, right=True)
        return counts.to(distances.dtype) / sorted_d.numel()
    sorted_d = np.sort(_validate.real_array(distances, "distances").ravel())
    counts = np.searchsorted(sorted_d, theta_values, side="right")
    return counts / sorted_d.size


def pseudo_box_count(p: ArrayLike, n_channels: int, formula: str = "code") -> ArrayLike:
    r"""Return the pseudo box count :math:`N_\theta` of a feature network from pair fractions.

    Parameters
    ----------
    p
        Fractions of pairs closer than θ, in [0, 1] (an array or tensor, or a sequence).
    n_channels
        Number of channels ``D >= 3``, an integer.
    formula
        ``"code"`` (default; the authors' code, the scale of the paper's reported values):
        :math:`D - (D-1)\ln(1+(D-1)p)/\ln D`;
        ``"paper"`` (the paper's formula as printed): :math:`1 + (D-1)\log_D(D + (1-D)p)`.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        :math:`N_\theta`, from ``D`` at ``p = 0`` down to 1 at ``p = 1``.

    Examples
    --------
    >>> pseudo_box_count(np.array([0.0, 1.0]), 10).tolist()
    [10.0, 1.0]
    >>> pseudo_box_count(np.array([0.0, 1.0]), 10, formula="paper").tolist()
    [10.0, 1.0]
    """
    formula = _validate.choice(formula, "formula", FORMULAS)
    n_channels = _validate.integer(n_channels, "n_channels", minimum=3)
    lib = torch if isinstance(p, torch.Tensor) else np
    if isinstance(p, torch.Tensor):
        _validate.as_tensor(p, "p", allow_bool=False)  # only checks: p keeps its gradient
        values = p
    else:
        values = _validate.real_array(p, "p")
    if bool((values < 0).any()) or bool((values > 1).any()):
        raise ValueError("p must lie in [0, 1]")
    d = float(n_channels)
    if formula == "paper":
        return 1.0 + (d - 1.0) * lib.log(d + (1.0 - d) * values) / np.log(d)
    return d - (d - 1.0) * lib.log(1.0 + (d - 1.0) * values) / np.log(d)


def ss_rate_of_curve(lo_theta: ArrayLike, y: ArrayLike) -> ArrayLike:
    r"""SS_rate of a curve :math:`y = \ln N / \ln D` sampled at thresholds evenly spaced in lo.

    :math:`2\,\mathrm{mean}\lvert \mathrm{chord} - y \rvert`, where the chord runs from 1 at
    the first threshold to 0 at the last. It is 0 exactly when :math:`y` is that chord, i.e.
    when :math:`N` is a power law of :math:`1+\theta`.

    Parameters
    ----------
    lo_theta
        Strictly increasing abscissae :math:`\ln(1 + \theta)`, at least 2 (evenly spaced for
        the mean to be an average over the range).
    y
        Normalised log box counts at those thresholds (last axis), finite; a torch tensor
        gives a tensor (differentiable).

    Examples
    --------
    >>> x = np.linspace(0.0, 1.0, 5)
    >>> float(ss_rate_of_curve(x, 1 - x))
    0.0
    >>> round(float(ss_rate_of_curve(x, 1 - x**2)), 4)
    0.25
    """
    x = _validate.sizes(lo_theta, "lo_theta", integral=False, minimum=-np.inf, min_count=2)
    if isinstance(y, torch.Tensor):
        _validate.as_tensor(y, "y", allow_bool=False)  # only checks: y keeps its gradient
    else:
        y = _validate.real_array(y, "y", min_ndim=1)
    if y.shape[-1] != x.size:
        raise ValueError(f"y has {y.shape[-1]} values for {x.size} thresholds")
    chord = 1.0 - (x - x[0]) / (x[-1] - x[0])
    if isinstance(y, torch.Tensor):
        chord_t = torch.as_tensor(chord, dtype=y.dtype, device=y.device)
        return 2.0 * (chord_t - y).abs().mean(dim=-1)
    return 2.0 * np.mean(np.abs(chord - np.asarray(y, dtype=np.float64)), axis=-1)


@dataclass(frozen=True)
class SelfSimilarityCurve:
    r"""The pseudo (or real) box-count curve of one feature network, and its SS_rate.

    Attributes
    ----------
    theta : numpy.ndarray
        Thresholds, TZ to TV, evenly spaced in :math:`\ln(1+\theta)`.
    p : numpy.ndarray
        Fraction of channel pairs with :math:`C_{ij} \le \theta`.
    n_boxes : numpy.ndarray
        Box counts :math:`N_\theta` (pseudo: real-valued; real: integers).
    n_channels : int
        ``D``.
    ss_rate : float
        Degree of self-similarity (0: exact power law).
    formula : str
        ``"code"``, ``"paper"`` or ``"greedy"`` (a real covering).
    """

    theta: np.ndarray
    p: np.ndarray
    n_boxes: np.ndarray
    n_channels: int
    ss_rate: float
    formula: str

    @property
    def lo_theta(self) -> np.ndarray:
        r"""The abscissae :math:`\ln(1+\theta)`."""
        return np.log1p(self.theta)

    @property
    def log_n(self) -> np.ndarray:
        r"""The normalised log box count :math:`\ln N_\theta / \ln D`."""
        return np.log(self.n_boxes) / np.log(self.n_channels)

    @property
    def chord(self) -> np.ndarray:
        r"""The straight line from 1 at TZ to 0 at TV in :math:`\ln(1+\theta)`."""
        x = self.lo_theta
        return 1.0 - (x - x[0]) / (x[-1] - x[0])

    def to_frame(self) -> pd.DataFrame:
        """Return the curve as a DataFrame (theta, lo_theta, p, n_boxes, log_n, chord)."""
        return pd.DataFrame({
            "theta": self.theta, "lo_theta": self.lo_theta, "p": self.p,
            "n_boxes": self.n_boxes, "log_n": self.log_n, "chord": self.chord,
        })


def self_similarity_curve(
    features: ArrayLike, *, n_thetas: int = N_THETAS, formula: str = "code"
) -> SelfSimilarityCurve:
    r"""Compute :math:`p(\theta)`, the pseudo box count :math:`N_\theta` and SS_rate of a layer.

    Parameters
    ----------
    features
        ``(D, B)`` channel-by-sample matrix (see :func:`channel_features`).
    n_thetas
        Number of thresholds (256 in the paper).
    formula
        Pseudo-box-count formula (:func:`pseudo_box_count`): ``"code"`` (default), the
        authors' code, on whose scale the paper reports SS_rate and sets its targets; or
        ``"paper"``, the paper's formula as printed, a different (larger) scale.

    Returns
    -------
    SelfSimilarityCurve

    Raises
    ------
    TypeError
        For arguments of the wrong type.
    ValueError
        For ``D < 3``, ``B < 2``, NaN features, a constant layer (all distances zero), an
        unknown ``formula`` or ``n_thetas`` outside ``[2, 2^20]``.

    Examples
    --------
    >>> curve = self_similarity_curve(np.random.default_rng(1).normal(size=(16, 8)), n_thetas=8)
    >>> curve.n_boxes.shape
    (8,)
    """
    n_thetas = _n_thetas(n_thetas)
    formula = _validate.choice(formula, "formula", FORMULAS)
    tensor, _ = _features(features)
    tensor = tensor.detach()
    distances = pair_distances(tensor)
    thetas = theta_grid(distances, n_thetas)
    p = pair_fraction(distances.cpu().numpy(), thetas)
    n_channels = tensor.shape[0]
    n_boxes = pseudo_box_count(p, n_channels, formula)
    y = np.log(n_boxes) / np.log(n_channels)
    rate = float(ss_rate_of_curve(np.log1p(thetas), y))
    return SelfSimilarityCurve(theta=thetas, p=p, n_boxes=n_boxes, n_channels=n_channels,
                               ss_rate=rate, formula=formula)


def ss_rate(features: ArrayLike, *, n_thetas: int = N_THETAS, formula: str = "code") -> float:
    """Return the SS_rate of a layer's ``(D, B)`` feature matrix (:func:`self_similarity_curve`).

    ``formula="code"`` (default) is the authors' code's scale, the one of the paper's numbers;
    ``formula="paper"`` the paper's printed formula.

    Examples
    --------
    >>> rate = ss_rate(np.random.default_rng(0).normal(size=(32, 16)))
    >>> 0.0 <= rate <= 2.0
    True
    """
    return self_similarity_curve(features, n_thetas=n_thetas, formula=formula).ss_rate


def metric_self_similarity_curve(
    features: ArrayLike,
    *,
    n_thetas: int = 32,
    seed: int = 0,
    order: Sequence[int] | None = None,
) -> SelfSimilarityCurve:
    r"""Real box counts of the channels at the SS_rate thresholds, and their SS_rate.

    The channels, with their distances :math:`C_{ij}`, are covered by boxes of size θ (sets
    of channels with pairwise :math:`C_{ij} \le \theta`, i.e. cliques of
    :math:`G_M(\theta)`) with the greedy colouring of
    :func:`~fractalnb.graphs.metric_box_cover`, at thresholds spaced as in
    :func:`theta_grid`. This is the count that the pseudo box count approximates.

    Parameters
    ----------
    features
        ``(D, B)`` channel-by-sample matrix.
    n_thetas
        Number of thresholds, an integer from 2 to 2^20.
    seed, order
        Node order of the covering: random (an integer seed ``>= 0``) or a permutation of
        ``range(D)``.

    Examples
    --------
    >>> feats = np.random.default_rng(0).normal(size=(20, 10))
    >>> real = metric_self_similarity_curve(feats, n_thetas=6)
    >>> int(real.n_boxes[-1])
    1
    """
    n_thetas = _n_thetas(n_thetas)
    rng = _validate.rng(seed)
    tensor, _ = _features(features)
    tensor = tensor.detach()
    pairs = pair_distances(tensor)
    thetas = theta_grid(pairs, n_thetas)
    distances = pairs.cpu().numpy()
    matrix = distance_matrix(tensor)
    node_order = _processing_order(len(matrix), order, rng)
    counts = _metric_cover(matrix, thetas, node_order).n_boxes
    n_channels = tensor.shape[0]
    y = np.log(counts) / np.log(n_channels)
    rate = float(ss_rate_of_curve(np.log1p(thetas), y))
    return SelfSimilarityCurve(theta=thetas, p=pair_fraction(distances, thetas),
                               n_boxes=counts.astype(np.float64), n_channels=n_channels,
                               ss_rate=rate, formula="greedy")


def ss_rate_metric(
    inputs: torch.Tensor,
    layers: Sequence[str] | None = None,
    *,
    n_thetas: int = N_THETAS,
    formula: str = "code",
):
    """Return ``metric(model) -> {layer: SS_rate, ..., "mean": mean}`` on a fixed probe batch.

    Made for the ``metrics`` argument of :func:`fractalnb.training.train_model`, which then logs
    the columns ``ss_<layer>`` and ``ss_mean`` after every epoch.

    Parameters
    ----------
    inputs
        The probe batch, a finite torch tensor.
    layers
        Layer names (strings); :func:`~fractalnb.graphs.default_layers` by default.
    n_thetas, formula
        As in :func:`self_similarity_curve`.

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 8))
    >>> metric = ss_rate_metric(torch.randn(16, 4), ["0", "2"], n_thetas=16)
    >>> sorted(metric(net))
    ['0', '2', 'mean']
    """
    _batch(inputs)
    layers = None if layers is None else _layer_names(layers)
    n_thetas = _n_thetas(n_thetas)
    formula = _validate.choice(formula, "formula", FORMULAS)
    probe = inputs.detach()

    def metric(model: nn.Module) -> dict[str, float]:
        table = layer_self_similarity(model, probe, layers, n_thetas=n_thetas, formula=formula)
        values = dict(zip(table["layer"], table["ss_rate"].astype(float), strict=True))
        values["mean"] = float(table["ss_rate"].mean())
        return values

    return metric


def feature_graph_box_counts(
    features: ArrayLike,
    epsilon: float | None = None,
    *,
    method: str = "greedy",
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, float]:
    r"""Real box covering of the ε-threshold feature network :math:`G_M(\varepsilon)`.

    The channels are joined when :math:`C_{ij} \le \varepsilon` (by default the smallest ε
    that connects the graph, :func:`~fractalnb.graphs.connectivity_threshold`), and
    the graph is covered with boxes of hop diameter :math:`< \ell_B` for every
    :math:`\ell_B` from 1 to the diameter + 1 (odd sizes only for ``method="memb"``).

    Parameters
    ----------
    features
        ``(D, B)`` channel-by-sample matrix.
    epsilon
        The threshold, a real number ``>= 0``; the connectivity threshold when ``None``.
    method, seed
        As in :func:`~fractalnb.graphs.box_cover`.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, float)
        Box sizes :math:`\ell_B`, box counts :math:`N_B` and the ε used.

    Examples
    --------
    >>> sizes, counts, eps = feature_graph_box_counts(np.random.default_rng(0).normal(size=(30, 8)))
    >>> int(counts[0]), int(counts[-1])
    (30, 1)
    """
    method = _validate.choice(method, "method", METHODS)
    _validate.seed(seed)
    if epsilon is not None:
        _validate.real(epsilon, "epsilon", minimum=0)
    matrix = distance_matrix(features)
    if epsilon is None:
        epsilon = connectivity_threshold(matrix)
    adjacency = threshold_graph(matrix, epsilon)
    hops = hop_distances(adjacency)
    finite = hops[hops != UNREACHABLE]
    sizes = np.arange(1, int(finite.max()) + 2)
    if method == "memb":
        sizes = sizes[sizes % 2 == 1]
    counts = graph_box_counts(adjacency, sizes, method=method, seed=seed)
    return sizes, counts, float(epsilon)


def layer_self_similarity(
    model: nn.Module,
    inputs: torch.Tensor,
    layers: Sequence[str] | None = None,
    *,
    n_thetas: int = N_THETAS,
    formula: str = "code",
    layout: str = "auto",
) -> pd.DataFrame:
    """SS_rate of every hooked layer on one batch: a DataFrame with one row per layer.

    Columns: ``layer``, ``depth`` (0-based position in ``layers``), ``channels`` (D),
    ``tz``, ``tv`` (distance range) and ``ss_rate``.

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 8))
    >>> table = layer_self_similarity(net, torch.randn(16, 4), ["0", "2"], n_thetas=16)
    >>> table["layer"].tolist()
    ['0', '2']
    """
    n_thetas = _n_thetas(n_thetas)
    formula = _validate.choice(formula, "formula", FORMULAS)
    layout = _validate.choice(layout, "layout", LAYOUTS)
    features = layer_features(model, inputs, layers, layout=layout)
    rows = []
    for depth, (name, matrix) in enumerate(features.items()):
        curve = self_similarity_curve(matrix, n_thetas=n_thetas, formula=formula)
        rows.append({"layer": name, "depth": depth, "channels": matrix.shape[0],
                     "tz": curve.theta[0], "tv": curve.theta[-1], "ss_rate": curve.ss_rate})
    return pd.DataFrame(rows)
