r"""Self-similar feature networks: G_M, the pseudo box count N_θ, SS_rate and its constraint.

Our reading of Ding et al. (arXiv:2507.17785) and of the authors' public code:

1. **Feature matrix.** Feed a batch of ``B`` inputs; average each of the ``D`` channels of a
   layer over its spatial (CNN) or token (transformer, MLP-Mixer) axes: a ``D x B`` matrix
   ``F`` whose rows are the channels (:func:`channel_features`).
2. **Feature network** :math:`G_M(\theta)`: the channels are the nodes; the distance of two
   channels is :math:`C_{ij} = \lVert F_i - F_j \rVert / \sqrt{B}` (:func:`pair_distances`);
   an edge joins every pair with :math:`C_{ij} \le \theta`.
3. **Pseudo box count.** From the fraction :math:`p(\theta)` of pairs with
   :math:`C_{ij} \le \theta`, the paper's formula
   :math:`N_\theta = 1 + (D-1)\log_D\bigl(D + (1-D)\,p(\theta)\bigr)` (``"paper"``), or the
   formula of the authors' code :math:`N_\theta = D - (D-1)\ln(1 + (D-1)p)/\ln D`
   (``"code"``). Both run from ``D`` at ``p = 0`` to 1 at ``p = 1`` (:func:`pseudo_box_count`).
4. **SS_rate.** With :math:`\mathrm{lo}(x) = \ln(1+x)`, 256 thresholds evenly spaced in
   ``lo`` from the smallest distance TZ to the largest TV (:func:`theta_grid`); the curve
   :math:`y = \ln N_\theta / \ln D` is compared with the chord from 1 at TZ to 0 at TV:
   :math:`\mathrm{SS\_rate} = 2\,\mathrm{mean}\lvert \mathrm{chord} - y\rvert`
   (:func:`ss_rate`). Zero means an exact power law :math:`N_\theta \propto (1+\theta)^{-d}`.
5. **Constraint.** :math:`L = L_\text{task} + \alpha(\mathrm{SS\_rate} - \gamma)^2` on one
   randomly chosen hooked layer per step, the gradient of the step function
   :math:`p(\theta)` replaced by that of a sigmoid (straight-through estimator,
   :func:`self_similarity_penalty`, :class:`SelfSimilarityConstraint`).

Examples
--------
>>> import numpy as np
>>> from fractalnb import feature_networks as fn
>>> features = np.random.default_rng(0).normal(size=(64, 32))   # D = 64 channels, B = 32
>>> curve = fn.self_similarity_curve(features)
>>> bool(curve.n_boxes[0] <= 64 and curve.n_boxes[-1] == 1)
True
>>> 0 <= fn.ss_rate(features) <= 2
True
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from . import graph_boxcover

__all__ = [
    "FORMULAS",
    "LAYOUTS",
    "LayerRecorder",
    "SelfSimilarityConstraint",
    "SelfSimilarityCurve",
    "channel_features",
    "classical_mds",
    "compare_constraint",
    "default_layers",
    "feature_graph_box_counts",
    "distance_matrix",
    "feature_graph",
    "layer_features",
    "layer_self_similarity",
    "metric_self_similarity_curve",
    "pair_distances",
    "pair_fraction",
    "pseudo_box_count",
    "self_similarity_curve",
    "self_similarity_penalty",
    "ss_rate",
    "ss_rate_metric",
    "ss_rate_of_curve",
    "theta_grid",
]

FORMULAS = ("paper", "code")
"""The pseudo-box-count formulas, the paper's (``"paper"``) and the authors' code's."""

LAYOUTS = ("auto", "bchw", "bhwc", "bnc", "bd")
"""Activation layouts understood by :func:`channel_features`."""

N_THETAS = 256
"""Thresholds per SS_rate curve, as in the paper."""

ArrayLike = np.ndarray | torch.Tensor


# --- features and distances ---------------------------------------------------------------


def channel_features(activations: ArrayLike, layout: str = "auto") -> ArrayLike:
    """Average a layer's output over its spatial or token axes: the ``D x B`` feature matrix.

    Parameters
    ----------
    activations
        Layer output for a batch of ``B`` inputs (NumPy array or torch tensor).
    layout
        ``"bchw"`` (CNN feature maps), ``"bhwc"`` (channels-last maps), ``"bnc"`` (tokens:
        ViT, MLP-Mixer, ResMLP; the class token, if any, is averaged with the others as in the
        authors' code), ``"bd"`` (already one vector per input). ``"auto"``: 4-D is
        ``"bchw"``, 3-D is ``"bnc"``, 2-D is ``"bd"``.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        ``(D, B)``: row ``i`` is channel ``i``'s response to the ``B`` inputs. Torch inputs
        stay torch (and differentiable) on their device.

    Examples
    --------
    >>> channel_features(np.ones((8, 16, 4, 4))).shape
    (16, 8)
    >>> channel_features(torch.ones(8, 65, 32)).shape
    torch.Size([32, 8])
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    ndim = activations.ndim
    if layout == "auto":
        layout = {4: "bchw", 3: "bnc", 2: "bd"}.get(ndim)
        if layout is None:
            raise ValueError(
                f"activations must be 2-D (B, D), 3-D (B, tokens, D) or 4-D (B, C, H, W), "
                f"got shape {tuple(activations.shape)}"
            )
    expected = {"bchw": 4, "bhwc": 4, "bnc": 3, "bd": 2}[layout]
    if ndim != expected:
        raise ValueError(
            f"layout {layout!r} needs {expected}-D activations, "
            f"got shape {tuple(activations.shape)}"
        )
    axes = {"bchw": (2, 3), "bhwc": (1, 2), "bnc": (1,), "bd": ()}[layout]
    if isinstance(activations, torch.Tensor):
        reduced = activations.mean(dim=axes) if axes else activations
        return reduced.transpose(0, 1)
    array = np.asarray(activations)
    reduced = array.mean(axis=axes) if axes else array
    return reduced.T


def _as_tensor(features: ArrayLike) -> tuple[torch.Tensor, bool]:
    """Return a floating tensor and whether the input was a NumPy array."""
    if isinstance(features, torch.Tensor):
        tensor = features if features.is_floating_point() else features.double()
        return tensor, False
    array = np.asarray(features)
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f"features must hold numbers, got dtype {array.dtype}")
    return torch.as_tensor(array, dtype=torch.float64), True


def _check_features(features: torch.Tensor) -> None:
    if features.ndim != 2:
        raise ValueError(
            f"features must be a (D, B) matrix, one row per channel, got shape "
            f"{tuple(features.shape)}; use channel_features() on a layer's output first"
        )
    n_channels, n_samples = features.shape
    if n_channels < 3:
        raise ValueError(
            f"a feature network needs at least 3 channels (D >= 3), got D = {n_channels}"
        )
    if n_samples < 2:
        raise ValueError(
            f"channel distances need at least 2 samples (B >= 2), got B = {n_samples}"
        )
    if not bool(torch.isfinite(features).all()):
        bad = int((~torch.isfinite(features)).sum())
        raise ValueError(f"features hold {bad} NaN or infinite values")


def pair_distances(features: ArrayLike) -> ArrayLike:
    r"""Return the distances :math:`C_{ij} = \lVert F_i - F_j \rVert / \sqrt{B}`, pairs ``i < j``.

    Parameters
    ----------
    features
        ``(D, B)`` matrix, ``D >= 3`` channels, ``B >= 2`` samples, finite.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        Condensed vector of the ``D (D - 1) / 2`` distances (row-major upper triangle).
        Differentiable for torch inputs.

    Raises
    ------
    ValueError
        For ``D < 3``, ``B < 2`` or non-finite features.

    Examples
    --------
    >>> pair_distances(np.array([[0.0, 0.0], [1.0, 1.0], [3.0, 3.0]]))
    array([1., 3., 2.])
    """
    tensor, was_numpy = _as_tensor(features)
    _check_features(tensor)
    n_channels, n_samples = tensor.shape
    rows, cols = torch.triu_indices(n_channels, n_channels, offset=1, device=tensor.device)
    diff = tensor[rows] - tensor[cols]
    # sqrt of a sum of squares (not torch.norm) so that equal channels give a finite gradient
    squared = (diff * diff).sum(dim=1)
    distances = torch.sqrt(squared.clamp_min(torch.finfo(tensor.dtype).tiny)) * (squared > 0)
    distances = distances / float(np.sqrt(n_samples))
    return distances.detach().cpu().numpy() if was_numpy else distances


def distance_matrix(features: ArrayLike) -> np.ndarray:
    """Return the symmetric ``(D, D)`` matrix of channel distances :math:`C_{ij}` (NumPy).

    Examples
    --------
    >>> distance_matrix(np.array([[0.0, 0.0], [1.0, 1.0], [3.0, 3.0]]))[0]
    array([0., 1., 3.])
    """
    tensor, _ = _as_tensor(features)
    condensed = pair_distances(tensor.detach()).cpu().numpy().astype(np.float64)
    n_channels = tensor.shape[0]
    matrix = np.zeros((n_channels, n_channels))
    rows, cols = np.triu_indices(n_channels, k=1)
    matrix[rows, cols] = condensed
    matrix[cols, rows] = condensed
    return matrix


def _distance_range(distances: torch.Tensor) -> tuple[float, float]:
    tz = float(distances.min())
    tv = float(distances.max())
    if tv == 0.0:
        raise ValueError(
            "all channel pair distances are zero: every channel gives the same response "
            "(a constant layer), so the feature network has no scale"
        )
    if tv <= tz:
        raise ValueError(
            f"all channel pair distances are equal ({tv:g}): TZ = TV, the threshold range "
            "is empty"
        )
    return tz, tv


# --- the pseudo box count and SS_rate ----------------------------------------------------


def theta_grid(distances: ArrayLike, n_thetas: int = N_THETAS) -> np.ndarray:
    r"""Thresholds from TZ = min C to TV = max C, evenly spaced in :math:`\ln(1+\theta)`.

    Parameters
    ----------
    distances
        Pair distances (any shape).
    n_thetas
        Number of thresholds (256 in the paper).

    Returns
    -------
    numpy.ndarray
        ``n_thetas`` increasing thresholds, the first TZ and the last TV.

    Examples
    --------
    >>> np.round(theta_grid(np.array([0.0, 3.0]), 3), 6)
    array([0., 1., 3.])
    """
    if not isinstance(n_thetas, (int, np.integer)) or n_thetas < 2:
        raise ValueError(f"n_thetas must be an integer >= 2, got {n_thetas!r}")
    tensor, _ = _as_tensor(distances)
    tensor = tensor.detach()
    if tensor.numel() == 0 or not bool(torch.isfinite(tensor).all()) or bool((tensor < 0).any()):
        raise ValueError("distances must be non-empty, finite and non-negative")
    tz, tv = _distance_range(tensor)
    fraction = np.linspace(0.0, 1.0, n_thetas)
    thetas = np.expm1(np.log1p(tz) + fraction * (np.log1p(tv) - np.log1p(tz)))
    thetas[0], thetas[-1] = tz, tv
    return thetas


def pair_fraction(distances: ArrayLike, thetas: ArrayLike) -> ArrayLike:
    r"""Fraction :math:`p(\theta)` of pairs with :math:`C_{ij} \le \theta`, for each threshold.

    Examples
    --------
    >>> pair_fraction(np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.5, 2.0, 4.0]))
    array([0. , 0.5, 1. ])
    """
    if isinstance(distances, torch.Tensor):
        theta = torch.as_tensor(thetas, dtype=distances.dtype, device=distances.device)
        sorted_d = torch.sort(distances.detach().reshape(-1)).values
        counts = torch.searchsorted(sorted_d, theta, right=True)
        return counts.to(distances.dtype) / sorted_d.numel()
    sorted_d = np.sort(np.asarray(distances, dtype=np.float64).ravel())
    counts = np.searchsorted(sorted_d, np.asarray(thetas, dtype=np.float64), side="right")
    return counts / sorted_d.size


def pseudo_box_count(p: ArrayLike, n_channels: int, formula: str = "paper") -> ArrayLike:
    r"""Return the pseudo box count :math:`N_\theta` of a feature network from pair fractions.

    Parameters
    ----------
    p
        Fractions of pairs closer than θ, in [0, 1].
    n_channels
        Number of channels ``D >= 3``.
    formula
        ``"paper"``: :math:`1 + (D-1)\log_D(D + (1-D)p)`;
        ``"code"`` (the authors' code): :math:`D - (D-1)\ln(1+(D-1)p)/\ln D`.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        :math:`N_\theta`, from ``D`` at ``p = 0`` down to 1 at ``p = 1``.

    Examples
    --------
    >>> pseudo_box_count(np.array([0.0, 1.0]), 10).tolist()
    [10.0, 1.0]
    >>> pseudo_box_count(np.array([0.0, 1.0]), 10, formula="code").tolist()
    [10.0, 1.0]
    """
    if formula not in FORMULAS:
        raise ValueError(f"formula must be one of {FORMULAS}, got {formula!r}")
    if not isinstance(n_channels, (int, np.integer)) or n_channels < 3:
        raise ValueError(f"n_channels must be an integer >= 3, got {n_channels!r}")
    lib = torch if isinstance(p, torch.Tensor) else np
    values = p if isinstance(p, torch.Tensor) else np.asarray(p, dtype=np.float64)
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
        Increasing abscissae :math:`\ln(1 + \theta)` (evenly spaced for the mean to be an
        average over the range).
    y
        Normalised log box counts at those thresholds.

    Examples
    --------
    >>> x = np.linspace(0.0, 1.0, 5)
    >>> float(ss_rate_of_curve(x, 1 - x))
    0.0
    >>> round(float(ss_rate_of_curve(x, 1 - x**2)), 4)
    0.25
    """
    x = np.asarray(lo_theta, dtype=np.float64)
    if x.ndim != 1 or x.size < 2 or not np.all(np.diff(x) > 0):
        raise ValueError("lo_theta must be a strictly increasing 1-D array of >= 2 values")
    if not isinstance(y, torch.Tensor):
        y = np.asarray(y, dtype=np.float64)
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
        ``"paper"``, ``"code"`` or ``"greedy"`` (a real covering).
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
    features: ArrayLike, *, n_thetas: int = N_THETAS, formula: str = "paper"
) -> SelfSimilarityCurve:
    r"""Compute :math:`p(\theta)`, the pseudo box count :math:`N_\theta` and SS_rate of a layer.

    Parameters
    ----------
    features
        ``(D, B)`` channel-by-sample matrix (see :func:`channel_features`).
    n_thetas
        Number of thresholds (256 in the paper).
    formula
        Pseudo-box-count formula, ``"paper"`` (default) or ``"code"``.

    Returns
    -------
    SelfSimilarityCurve

    Raises
    ------
    ValueError
        For ``D < 3``, ``B < 2``, NaN features, or a constant layer (all distances zero).

    Examples
    --------
    >>> curve = self_similarity_curve(np.random.default_rng(1).normal(size=(16, 8)), n_thetas=8)
    >>> curve.n_boxes.shape
    (8,)
    """
    tensor, _ = _as_tensor(features)
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


def ss_rate(features: ArrayLike, *, n_thetas: int = N_THETAS, formula: str = "paper") -> float:
    """Return the SS_rate of a layer's ``(D, B)`` feature matrix (:func:`self_similarity_curve`).

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
    seed: int | None = 0,
    order: Sequence[int] | None = None,
) -> SelfSimilarityCurve:
    r"""Real box counts of the channels at the SS_rate thresholds, and their SS_rate.

    The channels, with their distances :math:`C_{ij}`, are covered by boxes of size θ (sets
    of channels with pairwise :math:`C_{ij} \le \theta`, i.e. cliques of
    :math:`G_M(\theta)`) with the greedy colouring of
    :func:`fractalnb.graph_boxcover.metric_box_cover`, at thresholds spaced as in
    :func:`theta_grid`. This is the count that the pseudo box count approximates.

    Examples
    --------
    >>> feats = np.random.default_rng(0).normal(size=(20, 10))
    >>> real = metric_self_similarity_curve(feats, n_thetas=6)
    >>> int(real.n_boxes[-1])
    1
    """
    tensor, _ = _as_tensor(features)
    tensor = tensor.detach()
    distances = pair_distances(tensor).cpu().numpy()
    thetas = theta_grid(distances, n_thetas)
    matrix = distance_matrix(tensor)
    counts = graph_boxcover.metric_box_counts(matrix, thetas, seed=seed, order=order)
    n_channels = tensor.shape[0]
    y = np.log(counts) / np.log(n_channels)
    rate = float(ss_rate_of_curve(np.log1p(thetas), y))
    return SelfSimilarityCurve(theta=thetas, p=pair_fraction(distances, thetas),
                               n_boxes=counts.astype(np.float64), n_channels=n_channels,
                               ss_rate=rate, formula="greedy")


def feature_graph(features: ArrayLike, theta: float):
    r"""Return the feature network :math:`G_M(\theta)`: channels with :math:`C_{ij} \le \theta`.

    Returns
    -------
    scipy.sparse.csr_matrix
        Adjacency matrix of the ``D`` channels.

    Examples
    --------
    >>> feature_graph(np.array([[0.0, 0.0], [1.0, 1.0], [3.0, 3.0]]), 1.5).toarray()
    array([[0, 1, 0],
           [1, 0, 0],
           [0, 0, 0]], dtype=int8)
    """
    return graph_boxcover.threshold_graph(distance_matrix(features), theta)


# --- the differentiable constraint ---------------------------------------------------------


def self_similarity_penalty(
    features: torch.Tensor,
    target: float,
    *,
    n_thetas: int = N_THETAS,
    sharpness: float = 1.0,
    gradient_scale: float | None = None,
    formula: str = "paper",
) -> tuple[torch.Tensor, float]:
    r""":math:`(\mathrm{SS\_rate} - \gamma)^2` with a straight-through sigmoid gradient.

    The forward value uses the exact step function :math:`p(\theta) = \mathrm{mean}\,
    [C_{ij} \le \theta]`; the backward pass differentiates
    ``gradient_scale * mean(sigmoid(sharpness * (theta - C)))`` instead, as the authors'
    code does (``sharpness = 1``, ``gradient_scale = D``). The thresholds TZ..TV are held
    fixed within a step.

    Parameters
    ----------
    features
        ``(D, B)`` tensor (see :func:`channel_features`), part of the autograd graph.
    target
        The target γ.
    n_thetas, formula
        As in :func:`self_similarity_curve`.
    sharpness
        Slope of the sigmoid, in inverse distance units.
    gradient_scale
        Factor on the surrogate's gradient; ``D`` by default.

    Returns
    -------
    (torch.Tensor, float)
        The penalty (a scalar tensor with a gradient) and the exact SS_rate.

    Examples
    --------
    >>> x = torch.randn(16, 8, requires_grad=True)
    >>> penalty, rate = self_similarity_penalty(x, target=0.0)
    >>> penalty.backward()
    >>> bool(torch.isfinite(x.grad).all())
    True
    """
    if not isinstance(features, torch.Tensor):
        raise TypeError(f"features must be a torch.Tensor, got {type(features).__name__}")
    if not np.isfinite(target):
        raise ValueError(f"target must be finite, got {target}")
    if sharpness <= 0:
        raise ValueError(f"sharpness must be > 0, got {sharpness}")
    features = features if features.is_floating_point() else features.double()
    distances = pair_distances(features)
    thetas_np = theta_grid(distances.detach(), n_thetas)
    n_channels = features.shape[0]
    scale = float(n_channels if gradient_scale is None else gradient_scale)
    thetas = torch.as_tensor(thetas_np, dtype=distances.dtype, device=distances.device)
    hard = pair_fraction(distances.detach(), thetas_np)
    soft = torch.sigmoid(sharpness * (thetas[:, None] - distances[None, :])).mean(dim=1)
    p = hard + scale * (soft - soft.detach())
    n_boxes = pseudo_box_count(p, n_channels, formula)
    y = torch.log(n_boxes) / float(np.log(n_channels))
    rate = ss_rate_of_curve(np.log1p(thetas_np), y)
    penalty = (rate - float(target)) ** 2
    return penalty, float(rate.detach())


# --- layers and hooks ---------------------------------------------------------------------


def default_layers(model: nn.Module) -> list[str]:
    """Names of the layers whose outputs the paper analyses, for common architectures.

    ``blocks.i`` for timm transformers / MLP-Mixers / ResMLPs (every block, as in the
    authors' code); ``layerK.j`` for torchvision-style ResNets (every residual block);
    every ReLU of ``features`` for VGG-style networks.

    Raises
    ------
    ValueError
        If the architecture is not recognised (pass layer names explicitly then).

    Examples
    --------
    >>> default_layers(nn.Sequential())
    Traceback (most recent call last):
    ...
    ValueError: cannot guess the layers of Sequential: pass layer names explicitly
    """
    names = dict(model.named_modules())
    blocks = getattr(model, "blocks", None)
    if isinstance(blocks, (nn.Sequential, nn.ModuleList)) and len(blocks):
        return [f"blocks.{i}" for i in range(len(blocks))]
    stages = [f"layer{k}" for k in range(1, 5) if f"layer{k}" in names]
    if stages:
        return [f"{stage}.{i}" for stage in stages for i in range(len(names[stage]))]
    features = getattr(model, "features", None)
    if isinstance(features, nn.Sequential):
        relus = [f"features.{i}" for i, m in enumerate(features) if isinstance(m, nn.ReLU)]
        if relus:
            return relus
    raise ValueError(
        f"cannot guess the layers of {type(model).__name__}: pass layer names explicitly"
    )


class LayerRecorder:
    """Forward hooks that keep the latest output of named layers.

    Parameters
    ----------
    model
        The network.
    layers
        Names from ``model.named_modules()``.
    detach
        Store detached outputs (analysis) or keep them in the autograd graph (constraint).

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU())
    >>> with LayerRecorder(net, ["0"]) as recorder:
    ...     _ = net(torch.zeros(2, 4))
    >>> recorder.outputs["0"].shape
    torch.Size([2, 8])
    """

    def __init__(self, model: nn.Module, layers: Iterable[str], *, detach: bool = True) -> None:
        self.layers = list(layers)
        if not self.layers:
            raise ValueError("layers is empty: name at least one layer to record")
        modules = dict(model.named_modules())
        missing = [name for name in self.layers if name not in modules]
        if missing:
            raise ValueError(f"model has no layers named {missing}")
        self.detach = detach
        self.outputs: dict[str, torch.Tensor] = {}
        self._handles = [modules[name].register_forward_hook(self._hook(name))
                         for name in self.layers]

    def _hook(self, name: str):
        def hook(_module, _inputs, output):
            tensor = output[0] if isinstance(output, (tuple, list)) else output
            self.outputs[name] = tensor.detach() if self.detach else tensor
        return hook

    def remove(self) -> None:
        """Remove the hooks (recorded outputs are kept)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __enter__(self) -> LayerRecorder:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def layer_features(
    model: nn.Module,
    inputs: torch.Tensor,
    layers: Sequence[str] | None = None,
    *,
    layout: str = "auto",
) -> dict[str, np.ndarray]:
    """Run one batch through the model (eval mode, no gradient) and return each layer's ``(D, B)``.

    Parameters
    ----------
    model
        The network; its training mode is restored afterwards.
    inputs
        A batch of ``B`` inputs.
    layers
        Layer names; :func:`default_layers` by default.
    layout
        Passed to :func:`channel_features`.

    Returns
    -------
    dict of str to numpy.ndarray
        Feature matrices, in layer order.

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU())
    >>> layer_features(net, torch.randn(5, 4), ["0"])["0"].shape
    (8, 5)
    """
    layers = default_layers(model) if layers is None else list(layers)
    was_training = model.training
    model.eval()
    try:
        with LayerRecorder(model, layers) as recorder, torch.no_grad():
            model(inputs)
    finally:
        model.train(was_training)
    return {name: channel_features(recorder.outputs[name], layout).double().cpu().numpy()
            for name in layers}


def layer_self_similarity(
    model: nn.Module,
    inputs: torch.Tensor,
    layers: Sequence[str] | None = None,
    *,
    n_thetas: int = N_THETAS,
    formula: str = "paper",
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
    features = layer_features(model, inputs, layers, layout=layout)
    rows = []
    for depth, (name, matrix) in enumerate(features.items()):
        curve = self_similarity_curve(matrix, n_thetas=n_thetas, formula=formula)
        rows.append({"layer": name, "depth": depth, "channels": matrix.shape[0],
                     "tz": curve.theta[0], "tv": curve.theta[-1], "ss_rate": curve.ss_rate})
    return pd.DataFrame(rows)


class SelfSimilarityConstraint:
    r"""The training constraint :math:`\alpha(\mathrm{SS\_rate} - \gamma)^2`, as an extra loss.

    Registers forward hooks on ``layers``; at each training step (each call) one hooked
    layer is drawn at random and its penalty returned. Use it as the ``extra_loss`` of
    :func:`fractalnb.train.train_model` (signature ``(model, inputs, outputs) -> tensor``).

    Parameters
    ----------
    model
        The network being trained.
    layers
        Layer names; :func:`default_layers` by default.
    target
        γ.
    weight
        α.
    seed
        Seeds the choice of layer.
    **penalty_kwargs
        ``n_thetas``, ``sharpness``, ``gradient_scale``, ``formula``, ``layout`` for
        :func:`self_similarity_penalty` and :func:`channel_features`.

    Attributes
    ----------
    history : list of dict
        One entry per call: ``step``, ``layer``, ``ss_rate``, ``penalty``.

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    >>> constraint = SelfSimilarityConstraint(net, ["1"], target=0.2, weight=0.1)
    >>> out = net(torch.randn(8, 4))
    >>> loss = constraint(net, None, out)
    >>> loss.backward(); constraint.remove()
    >>> constraint.history[0]["layer"]
    '1'
    """

    def __init__(
        self,
        model: nn.Module,
        layers: Sequence[str] | None = None,
        *,
        target: float,
        weight: float,
        seed: int = 0,
        layout: str = "auto",
        **penalty_kwargs,
    ) -> None:
        if weight < 0 or not np.isfinite(weight):
            raise ValueError(f"weight must be finite and >= 0, got {weight}")
        unknown = set(penalty_kwargs) - {"n_thetas", "sharpness", "gradient_scale", "formula"}
        if unknown:
            raise TypeError(f"unknown arguments {sorted(unknown)}")
        self.layers = default_layers(model) if layers is None else list(layers)
        self.target = float(target)
        self.weight = float(weight)
        self.layout = layout
        self.penalty_kwargs = penalty_kwargs
        self.history: list[dict] = []
        self._random = random.Random(seed)
        self._recorder = LayerRecorder(model, self.layers, detach=False)

    def __call__(self, model: nn.Module, inputs, outputs) -> torch.Tensor:
        """Return α (SS_rate − γ)² for one randomly chosen hooked layer of the last forward pass."""
        layer = self._random.choice(self.layers)
        activation = self._recorder.outputs.get(layer)
        if activation is None:
            raise RuntimeError(f"layer {layer!r} produced no output: run a forward pass first")
        features = channel_features(activation, self.layout)
        penalty, rate = self_similarity_penalty(features, self.target, **self.penalty_kwargs)
        value = self.weight * penalty
        self.history.append({"step": len(self.history), "layer": layer, "ss_rate": rate,
                             "penalty": float(value.detach())})
        return value

    def history_frame(self) -> pd.DataFrame:
        """Return :attr:`history` as a DataFrame."""
        return pd.DataFrame(self.history, columns=["step", "layer", "ss_rate", "penalty"])

    def remove(self) -> None:
        """Remove the hooks from the model."""
        self._recorder.remove()


# --- drawing ----------------------------------------------------------------------------


def classical_mds(distances: np.ndarray, n_components: int = 2) -> np.ndarray:
    """Classical (Torgerson) multidimensional scaling of a distance matrix.

    Parameters
    ----------
    distances
        Symmetric ``(n, n)`` distances.
    n_components
        Embedding dimension.

    Returns
    -------
    numpy.ndarray
        ``(n, n_components)`` coordinates whose Euclidean distances best match ``distances``
        (exactly, for Euclidean input of that dimension), from the top eigenvectors of the
        double-centred squared distance matrix.

    Examples
    --------
    >>> pts = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0]])
    >>> d = np.linalg.norm(pts[:, None] - pts[None], axis=-1)
    >>> emb = classical_mds(d)
    >>> bool(np.allclose(np.linalg.norm(emb[:, None] - emb[None], axis=-1), d))
    True
    """
    distances = graph_boxcover._check_distance_matrix(distances)
    n = len(distances)
    if not isinstance(n_components, (int, np.integer)) or not 1 <= n_components <= n:
        raise ValueError(f"n_components must be an integer in [1, {n}], got {n_components!r}")
    centred = np.eye(n) - 1.0 / n
    gram = -0.5 * centred @ (distances.astype(np.float64) ** 2) @ centred
    values, vectors = np.linalg.eigh(gram)
    top = np.argsort(values)[::-1][:n_components]
    return vectors[:, top] * np.sqrt(np.clip(values[top], 0.0, None))


# --- experiments ----------------------------------------------------------------------------


def ss_rate_metric(
    inputs: torch.Tensor,
    layers: Sequence[str] | None = None,
    *,
    n_thetas: int = N_THETAS,
    formula: str = "paper",
):
    """Return ``metric(model) -> {layer: SS_rate, ..., "mean": mean}`` on a fixed probe batch.

    Made for the ``metrics`` argument of :func:`fractalnb.train.train_model`, which then logs
    the columns ``ss_<layer>`` and ``ss_mean`` after every epoch.

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 8))
    >>> metric = ss_rate_metric(torch.randn(16, 4), ["0", "2"], n_thetas=16)
    >>> sorted(metric(net))
    ['0', '2', 'mean']
    """
    probe = inputs.detach()

    def metric(model: nn.Module) -> dict[str, float]:
        table = layer_self_similarity(model, probe, layers, n_thetas=n_thetas, formula=formula)
        values = dict(zip(table["layer"], table["ss_rate"].astype(float), strict=True))
        values["mean"] = float(table["ss_rate"].mean())
        return values

    return metric


def compare_constraint(
    build: Callable[[], nn.Module],
    probe: torch.Tensor,
    *,
    seeds: Sequence[int],
    target: float,
    weight: float,
    layers: Sequence[str] | None = None,
    n_thetas: int = N_THETAS,
    **train_kwargs,
) -> pd.DataFrame:
    """Train a model with and without the self-similarity constraint, seed by seed.

    For every seed, ``build()`` is called after ``torch.manual_seed(seed)`` for both runs,
    so baseline and constrained runs start from the same weights and see the same batches
    (:func:`fractalnb.train.train_model` with ``seed``); only the extra loss
    :class:`SelfSimilarityConstraint` (``target`` γ, ``weight`` α) differs.

    Parameters
    ----------
    build
        Returns a fresh model.
    probe
        Fixed batch on which SS_rate is logged after every epoch (:func:`ss_rate_metric`).
    seeds
        Seeds, one baseline and one constrained run each.
    target, weight
        γ and α of the constraint.
    layers
        Hooked layers; :func:`default_layers` by default.
    n_thetas
        Thresholds per SS_rate curve (logging and constraint).
    **train_kwargs
        Passed to :func:`fractalnb.train.train_model` (``epochs``, ``lr`` ...).

    Returns
    -------
    pandas.DataFrame
        The learning curves of all runs, with columns ``seed`` and ``run``
        (``"baseline"`` or ``"constrained"``) added.

    Examples
    --------
    >>> table = compare_constraint(lambda: build_token_model("vit"), probe, seeds=[0, 1],
    ...                            target=0.25, weight=1.0, epochs=2)   # doctest: +SKIP
    """
    from .train import train_model

    if not seeds:
        raise ValueError("seeds is empty: give at least one seed")
    frames = []
    for seed in seeds:
        for run in ("baseline", "constrained"):
            torch.manual_seed(seed)
            model = build()
            extra = None
            if run == "constrained":
                extra = SelfSimilarityConstraint(model, layers, target=target, weight=weight,
                                                 seed=seed, n_thetas=n_thetas)
            metric = ss_rate_metric(probe, layers, n_thetas=n_thetas)
            try:
                history = train_model(model, seed=seed, extra_loss=extra,
                                      metrics={"ss": metric}, **train_kwargs)
            finally:
                if extra is not None:
                    extra.remove()
            frames.append(history.assign(seed=seed, run=run))
    return pd.concat(frames, ignore_index=True)


def feature_graph_box_counts(
    features: ArrayLike,
    epsilon: float | None = None,
    *,
    method: str = "greedy",
    seed: int | None = 0,
) -> tuple[np.ndarray, np.ndarray, float]:
    r"""Real box covering of the ε-threshold feature network :math:`G_M(\varepsilon)`.

    The channels are joined when :math:`C_{ij} \le \varepsilon` (by default the smallest ε
    that connects the graph, :func:`fractalnb.graph_boxcover.connectivity_threshold`), and
    the graph is covered with boxes of hop diameter :math:`< \ell_B` for every
    :math:`\ell_B` from 1 to the diameter + 1 (odd sizes only for ``method="memb"``).

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
    matrix = distance_matrix(features)
    if epsilon is None:
        epsilon = graph_boxcover.connectivity_threshold(matrix)
    adjacency = graph_boxcover.threshold_graph(matrix, epsilon)
    hops = graph_boxcover.hop_distances(adjacency)
    finite = hops[hops != graph_boxcover.UNREACHABLE]
    sizes = np.arange(1, int(finite.max()) + 2)
    if method == "memb":
        sizes = sizes[sizes % 2 == 1]
    counts = graph_boxcover.box_counts(adjacency, sizes, method=method, seed=seed)
    return sizes, counts, float(epsilon)
