"""The self-similarity constraint in training: the SS_rate penalty on recorded layer features."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from .features import LayerRecorder, channel_features, default_layers, pair_distances
from .self_similarity import (
    N_THETAS,
    pair_fraction,
    pseudo_box_count,
    ss_rate_metric,
    ss_rate_of_curve,
    theta_grid,
)

__all__ = [
    "self_similarity_penalty",
    "SelfSimilarityConstraint",
    "compare_constraint",
]


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










class SelfSimilarityConstraint:
    r"""The training constraint :math:`\alpha(\mathrm{SS\_rate} - \gamma)^2`, as an extra loss.

    Registers forward hooks on ``layers``; at each training step (each call) one hooked
    layer is drawn at random and its penalty returned. Use it as the ``extra_loss`` of
    :func:`fractalnb.training.train_model` (signature ``(model, inputs, outputs) -> tensor``).

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
    (:func:`fractalnb.training.train_model` with ``seed``); only the extra loss
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
        Passed to :func:`fractalnb.training.train_model` (``epochs``, ``lr`` ...).

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
    from ..training.train import train_model

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
