"""Activations of random networks and their closed-form kernels."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from .. import _validate

__all__ = [
    "Activation",
    "ACTIVATION_NAMES",
    "activation",
]


@dataclass(frozen=True)
class Activation:
    """An activation function σ with what the theory needs to know about it.

    Attributes
    ----------
    name
        A short name (``"relu"``, ``"tanh"``, ... or ``"custom"``).
    fn
        σ, mapping a torch tensor to a tensor of the same shape (torch operations, so it
        runs on any device).
    derivative
        σ' as a torch function, or ``None``: then κ'(1) by moments uses autograd on ``fn``.
    kappa_closed_form
        κ(u) in closed form (numpy, vectorised), or ``None``.
    kappa_prime_one_closed_form
        κ'(1) in closed form (``math.inf`` for the Heaviside step), or ``None``.
    regularity_index_closed_form
        The covariance regularity index β of κ, or ``None``.
    """

    name: str
    fn: Callable[[torch.Tensor], torch.Tensor]
    derivative: Callable[[torch.Tensor], torch.Tensor] | None = None
    kappa_closed_form: Callable[[np.ndarray], np.ndarray] | None = field(default=None, repr=False)
    kappa_prime_one_closed_form: float | None = None
    regularity_index_closed_form: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a string, got {_validate.describe(self.name)}")
        for attribute in ("fn", "derivative", "kappa_closed_form"):
            value = getattr(self, attribute)
            if not callable(value) and not (value is None and attribute != "fn"):
                kind = "callable" if attribute == "fn" else "callable or None"
                raise TypeError(f"{attribute} must be {kind}, got {_validate.describe(value)}")
        if self.kappa_prime_one_closed_form is not None:
            _validate.real(self.kappa_prime_one_closed_form, "kappa_prime_one_closed_form",
                           minimum=0, finite=False)
        if self.regularity_index_closed_form is not None:
            _validate.real(self.regularity_index_closed_form, "regularity_index_closed_form",
                           minimum=0, open_min=True)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Apply σ."""
        return self.fn(x)


def _heaviside(x: torch.Tensor) -> torch.Tensor:
    return (x > 0).to(x.dtype)


def _relu(x: torch.Tensor) -> torch.Tensor:
    return torch.clamp(x, min=0)


def _kappa_heaviside(u: np.ndarray) -> np.ndarray:
    return 1.0 - np.arccos(u) / np.pi


def _kappa_relu(u: np.ndarray) -> np.ndarray:
    # The order-1 arc-cosine kernel of Cho & Saul, normalised by Γ_W = 2:
    # κ(u) = (sin θ + (π − θ) cos θ) / π, θ = arccos u.
    theta = np.arccos(u)
    return (np.sqrt(np.clip(1.0 - u * u, 0.0, None)) + (np.pi - theta) * u) / np.pi


_NAMED: dict[str, Activation] = {
    "heaviside": Activation("heaviside", _heaviside, None, _kappa_heaviside, math.inf, 0.5),
    "relu": Activation("relu", _relu, lambda x: (x > 0).to(x.dtype), _kappa_relu, 1.0, 1.5),
    "tanh": Activation("tanh", torch.tanh, lambda x: 1.0 - torch.tanh(x) ** 2, None, None, 2.0),
    "logistic": Activation(
        "logistic", torch.sigmoid, lambda x: torch.sigmoid(x) * (1.0 - torch.sigmoid(x)),
        None, None, 2.0,
    ),
    "linear": Activation("linear", lambda x: x, torch.ones_like, lambda u: np.asarray(u, float),
                         1.0, 2.0),
}


_ALIASES = {"sigmoid": "logistic", "step": "heaviside", "identity": "linear"}


ACTIVATION_NAMES: tuple[str, ...] = tuple(sorted([*_NAMED, *_ALIASES]))
"""Names accepted wherever an activation is expected (besides any callable)."""


def activation(spec: str | Activation | Callable[[torch.Tensor], torch.Tensor]) -> Activation:
    """Resolve an activation given by name, as an :class:`Activation`, or as any callable.

    Parameters
    ----------
    spec
        One of :data:`ACTIVATION_NAMES` (``"heaviside"``, ``"relu"``, ``"tanh"``,
        ``"logistic"``/``"sigmoid"``, ``"linear"``), an :class:`Activation`, or a callable
        σ acting elementwise on torch tensors (e.g. ``torch.sin`` or ``lambda x: x**3``).

    Returns
    -------
    Activation

    Raises
    ------
    ValueError
        For an unknown name.
    TypeError
        For anything that is neither a string nor callable.

    Examples
    --------
    >>> activation("sigmoid").name
    'logistic'
    >>> activation(torch.sin).name
    'sin'
    """
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, str):
        key = _ALIASES.get(spec.strip().lower(), spec.strip().lower())
        if key not in _NAMED:
            raise ValueError(f"unknown activation spec {spec!r}; "
                             f"known names: {', '.join(ACTIVATION_NAMES)}")
        return _NAMED[key]
    if callable(spec):
        name = getattr(spec, "__name__", "custom")
        return Activation("custom" if name == "<lambda>" else str(name), spec)
    raise TypeError("spec must be an activation (a name, an Activation or a callable), "
                    f"got {_validate.describe(spec)}")


def _apply(act: Activation, x: torch.Tensor) -> torch.Tensor:
    y = act.fn(x)
    if not isinstance(y, torch.Tensor):
        y = torch.as_tensor(np.asarray(y), dtype=x.dtype)
    if y.shape != x.shape:
        raise ValueError(f"activation {act.name!r} changed the shape {tuple(x.shape)} "
                         f"to {tuple(y.shape)}; it must act elementwise")
    return y
