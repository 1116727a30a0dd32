"""Compare a model with transformed copies of it: the outputs and the fractal quantities.

A function-preserving transformation (:func:`permute_neurons`, :func:`rescale_neurons`,
:func:`rescale_before_batchnorm`) changes the outputs only by rounding;
:func:`symmetry_checks` also reports what it does to the density, the threshold and the
dimension of every tensor it changes (chapter 09).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import torch
from torch import nn

from .._validate import describe
from ..training.analysis import analyze
from ._arguments import _check_inputs, _check_model

__all__ = [
    "function_distance",
    "symmetry_checks",
]


def _forward(model: nn.Module, inputs: torch.Tensor, name: str = "model") -> torch.Tensor:
    """Return ``model(inputs)``; a batch the model cannot read is refused naming both."""
    try:
        return model(inputs)
    except torch.OutOfMemoryError:
        raise
    except (RuntimeError, ValueError, TypeError) as error:  # torch's shape and dtype errors
        raise ValueError(f"{name} cannot read inputs of shape {tuple(inputs.shape)} and dtype "
                         f"{inputs.dtype}: {type(error).__name__}: {error}") from error


def function_distance(model_a: nn.Module, model_b: nn.Module, inputs: torch.Tensor) -> float:
    """Return ``max |f_a(x) − f_b(x)|`` over a batch, both models in evaluation mode.

    The models' training flags are restored afterwards; no gradients are recorded.

    Parameters
    ----------
    model_a, model_b
        Two networks with the same input and output shapes.
    inputs
        A batch of inputs (on the models' device).

    Returns
    -------
    float
        The largest absolute difference of the outputs (0.0 for identical functions up to
        rounding).

    Examples
    --------
    >>> mlp = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    >>> function_distance(mlp, mlp, torch.randn(4, 2))
    0.0
    """
    _check_model(model_a, "model_a")
    _check_model(model_b, "model_b")
    _check_inputs(inputs)
    modes = [(m, m.training) for m in (*model_a.modules(), *model_b.modules())]
    try:
        model_a.eval()
        model_b.eval()
        with torch.no_grad():
            out_a = _forward(model_a, inputs, "model_a")
            out_b = _forward(model_b, inputs, "model_b")
    finally:
        for m, training in modes:
            m.train(training)
    if out_a.shape != out_b.shape:
        raise ValueError(f"model_a and model_b give outputs of different shapes "
                         f"{tuple(out_a.shape)} and {tuple(out_b.shape)}")
    return float((out_a - out_b).abs().max())


def symmetry_checks(
    model: nn.Module,
    transforms: Mapping[str, nn.Module],
    inputs: torch.Tensor,
    **kwargs: Any,
) -> pd.DataFrame:
    """Check function-preserving transformations of a model: outputs and fractal quantities.

    For each transformed copy (e.g. from :func:`permute_neurons` or
    :func:`rescale_neurons`) the largest change of the outputs on
    ``inputs`` is measured (:func:`function_distance`) and every tensor
    that changed is analysed before and after.

    Parameters
    ----------
    model
        The original network.
    transforms
        Label → transformed copy of ``model``.
    inputs
        A batch of inputs.
    **kwargs
        Passed to :func:`analyze`.

    Returns
    -------
    pandas.DataFrame
        One row per (transformation, changed tensor): ``transform``, ``function_change``
        (max absolute change of the logits), ``logit_scale`` (max absolute logit of the
        original), ``name``, ``density_before``/``_after``, ``tau_before``/``_after``,
        ``D_before``/``_after`` and ``ci_half_width`` (before).

    Examples
    --------
    >>> from fractalnb.symmetry import permute_neurons, random_permutation
    >>> mlp = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))
    >>> twin = permute_neurons(mlp, "0", random_permutation(32, seed=0))
    >>> table = symmetry_checks(mlp, {"permute": twin}, torch.randn(8, 16))
    >>> table["name"].tolist()
    ['0.weight', '0.bias', '2.weight']
    """
    _check_model(model)
    if not isinstance(transforms, Mapping):
        raise TypeError(f"transforms must be a mapping label -> nn.Module, got "
                        f"{describe(transforms)}")
    if not transforms:
        raise ValueError("transforms is empty: give at least one label -> nn.Module")
    shapes = {name: p.shape for name, p in model.named_parameters()}
    for label, twin in transforms.items():
        _check_model(twin, f"transforms[{label!r}]")
        if {name: p.shape for name, p in twin.named_parameters()} != shapes:
            raise ValueError(f"transforms[{label!r}] is not a copy of the model: its parameters "
                             "differ in names or shapes")
    _check_inputs(inputs)
    before = analyze(model, **kwargs).set_index("name")
    original = dict(model.named_parameters())
    with torch.no_grad():
        was_training = model.training
        model.eval()
        scale = float(_forward(model, inputs).abs().max())
        model.train(was_training)
    rows = []
    for label, twin in transforms.items():
        change = function_distance(model, twin, inputs)
        after = analyze(twin, **kwargs).set_index("name")
        for name, param in twin.named_parameters():
            if torch.equal(param.detach(), original[name].detach()):
                continue
            b, a = before.loc[name], after.loc[name]
            rows.append({
                "transform": label, "function_change": change, "logit_scale": scale,
                "name": name, "density_before": b["density"], "density_after": a["density"],
                "tau_before": b["tau"], "tau_after": a["tau"], "D_before": b["dimension"],
                "D_after": a["dimension"],
                "ci_half_width": (b["ci_high"] - b["ci_low"]) / 2,
            })  # fmt: skip
    return pd.DataFrame(rows)
