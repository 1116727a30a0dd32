"""The self-similarity constraint in training: the SS_rate penalty on recorded layer features."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from .. import _validate
from .features import (
    LAYOUTS,
    LayerRecorder,
    _batch,
    _features,
    _layer_names,
    channel_features,
    default_layers,
    pair_distances,
)
from .self_similarity import (
    FORMULAS,
    N_THETAS,
    _n_thetas,
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


def _penalty_options(n_thetas: object = N_THETAS, sharpness: object = 1.0,
                     gradient_scale: object = None, formula: object = "code") -> dict:
    """Check the options of :func:`self_similarity_penalty`; return them (values as given)."""
    _n_thetas(n_thetas)
    _validate.real(sharpness, "sharpness", minimum=0, open_min=True)
    if gradient_scale is not None:
        _validate.real(gradient_scale, "gradient_scale", minimum=0, open_min=True)
    _validate.choice(formula, "formula", FORMULAS)
    return {"n_thetas": n_thetas, "sharpness": sharpness, "gradient_scale": gradient_scale,
            "formula": formula}


def self_similarity_penalty(
    features: torch.Tensor,
    target: float,
    *,
    n_thetas: int = N_THETAS,
    sharpness: float = 1.0,
    gradient_scale: float | None = None,
    formula: str = "code",
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
        The target γ, a finite real number.
    n_thetas, formula
        As in :func:`~fractalnb.graphs.self_similarity_curve`: ``formula="code"`` (default)
        is the authors' code, the scale on which the paper sets γ = 0.2–0.3.
    sharpness
        Slope of the sigmoid, in inverse distance units, a real number ``> 0``.
    gradient_scale
        Factor on the surrogate's gradient, a real number ``> 0``; ``D`` by default.

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
        raise TypeError(f"features must be a torch.Tensor, got {_validate.describe(features)}")
    _validate.real(target, "target")
    _penalty_options(n_thetas, sharpness, gradient_scale, formula)
    features, _ = _features(features)
    n_channels = features.shape[0]
    _validate.budget(n_thetas * (n_channels * (n_channels - 1) // 2), "n_thetas",
                     _validate.MAX_ELEMENTS, "sigmoids (thresholds x pairs)")
    distances = pair_distances(features)
    thetas_np = theta_grid(distances.detach(), n_thetas)
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
        γ, a finite real number, on the scale of ``formula`` (the authors' code by default,
        where the paper uses γ = 0.2–0.3).
    weight
        α, a finite real number ``>= 0``.
    seed
        Seeds the choice of layer, an integer ``>= 0``.
    layout
        Passed to :func:`channel_features`.
    **penalty_kwargs
        ``n_thetas``, ``sharpness``, ``gradient_scale``, ``formula`` for
        :func:`self_similarity_penalty` (checked here, before training).

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
        _validate.module(model)
        _validate.real(target, "target")
        _validate.real(weight, "weight", minimum=0)
        seed = _validate.seed(seed)
        layout = _validate.choice(layout, "layout", LAYOUTS)
        unknown = set(penalty_kwargs) - {"n_thetas", "sharpness", "gradient_scale", "formula"}
        if unknown:
            raise TypeError(f"unknown arguments {sorted(unknown)}")
        _penalty_options(**penalty_kwargs)
        self.layers = default_layers(model) if layers is None else _layer_names(layers)
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

    def state_dict(self) -> dict:
        """Return the state that decides the rest of a run: the layer chooser and the history.

        :func:`fractalnb.training.train_model` stores it in its ``state_file``, so a resumed
        constrained run draws the same layers as an uninterrupted one.
        """
        version, internal, gauss = self._random.getstate()
        return {"random": [version, list(internal), gauss],
                "history": [dict(row) for row in self.history]}

    def load_state_dict(self, state: dict) -> None:
        """Restore a state returned by :meth:`state_dict`."""
        if not (isinstance(state, dict) and {"random", "history"} <= set(state)):
            raise ValueError("state must be a dict from SelfSimilarityConstraint.state_dict()")
        version, internal, gauss = state["random"]
        self._random.setstate((version, tuple(internal), gauss))
        self.history = [dict(row) for row in state["history"]]

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
    formula: str = "code",
    baseline: bool = True,
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
        Distinct integer seeds ``>= 0``, one baseline and one constrained run each.
    target, weight
        γ (finite) and α (``>= 0``) of the constraint.
    layers
        Hooked layers (strings); :func:`default_layers` by default.
    n_thetas
        Thresholds per SS_rate curve (logging and constraint).
    formula
        Pseudo-box-count formula of both the constraint and the logged SS_rate: ``"code"``
        (default, the authors' code, the scale of the paper's γ) or ``"paper"``.
    baseline
        Whether to train the baseline runs too; ``False`` trains only the constrained ones
        (for a further γ when the baselines of the same seeds and settings are at hand:
        they do not depend on γ, α or ``formula``).
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

    if not callable(build):
        raise TypeError(f"build must be a callable returning a model, got "
                        f"{_validate.describe(build)}")
    _batch(probe, "probe")
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence):
        raise TypeError(
            f"seeds must be a sequence of integer seeds, got {_validate.describe(seeds)}"
        )
    if not seeds:
        raise ValueError("seeds is empty: give at least one seed")
    seeds = [_validate.seed(seed, "seeds") for seed in seeds]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds}")
    _validate.real(target, "target")
    _validate.real(weight, "weight", minimum=0)
    layers = None if layers is None else _layer_names(layers)
    _n_thetas(n_thetas)
    formula = _validate.choice(formula, "formula", FORMULAS)
    if not isinstance(baseline, bool):
        raise TypeError(f"baseline must be True or False, got {_validate.describe(baseline)}")
    frames = []
    for seed in seeds:
        for run in ("baseline", "constrained") if baseline else ("constrained",):
            torch.manual_seed(seed)
            model = build()
            extra = None
            if run == "constrained":
                extra = SelfSimilarityConstraint(model, layers, target=target, weight=weight,
                                                 seed=seed, n_thetas=n_thetas,
                                                 formula=formula)
            metric = ss_rate_metric(probe, layers, n_thetas=n_thetas, formula=formula)
            try:
                history = train_model(model, seed=seed, extra_loss=extra,
                                      metrics={"ss": metric}, **train_kwargs)
            finally:
                if extra is not None:
                    extra.remove()
            frames.append(history.assign(seed=seed, run=run))
    return pd.concat(frames, ignore_index=True)
