r"""Random fully connected networks on the sphere: the covariance recursion κ and sampling.

A random network of depth ``L`` and width ``n`` on the sphere :math:`S^d \subset \mathbb{R}^{d+1}`
(our reading of :cite:t:`dilillo2025fractal`) is

.. math::

    z^{(1)}(x) = W^{(0)} x, \qquad z^{(l+1)}(x) = W^{(l)} \sigma(z^{(l)}(x)), \qquad
    f_L(x) = v^{\top} \sigma(z^{(L)}(x)),

with no biases, first-layer weights :math:`W^{(0)}_{ij} \sim N(0, 1)` (so every
pre-activation of the first layer is :math:`N(0, 1)` on the unit sphere), hidden and output
weights :math:`N(0, \Gamma_W / n)` and :math:`\Gamma_W = 1 / E[\sigma(Z)^2]`. As
:math:`n \to \infty` the output is an isotropic Gaussian field of unit variance with
covariance :math:`\kappa_L(\langle x, y\rangle) = \kappa \circ \dots \circ \kappa` (``L``
times), where

.. math::

    \kappa(u) = \Gamma_W \, E[\sigma(Z_1) \, \sigma(u Z_1 + \sqrt{1 - u^2} Z_2)].

This module computes κ for any activation (by quadrature, and in closed form for the
Heaviside step and ReLU), its slope at 1 (the spectral parameter κ'(1)), the covariance
regularity index β, the theory curves for the excursion sets, and samples finite networks
in torch, batched and seeded, on CPU or GPU.

Examples
--------
>>> from fractalnb import random_networks as rn
>>> round(float(rn.kappa(0.0, "relu")), 6)
0.31831
>>> rn.kappa_prime_one("relu")
1.0
>>> nets = rn.sample_networks("tanh", depth=2, width=64, n_networks=3, seed=0)
>>> import torch
>>> nets(torch.eye(3)).shape          # (networks, depths, points)
torch.Size([3, 2, 3])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ._progress import progress_bar

__all__ = [
    "ACTIVATION_NAMES",
    "Activation",
    "RandomNetworks",
    "RegularityIndex",
    "activation",
    "boundary_lengths",
    "compare_with_theory",
    "empirical_covariance",
    "excursion_box_counts",
    "excursion_dimensions",
    "expected_boundary_length",
    "expected_boundary_volume",
    "field_dimensions",
    "limiting_fields",
    "fractal_dimension",
    "gamma_w",
    "great_circle_points",
    "kappa",
    "kappa_depth",
    "kappa_fixed_point",
    "kappa_prime_one",
    "kappa_sequence",
    "limiting_spectrum",
    "mean_ci",
    "network_fields",
    "network_seed",
    "regularity_index",
    "sample_networks",
    "sample_outputs",
    "second_moment",
]

# ----------------------------------------------------------------------------------------
# Activations
# ----------------------------------------------------------------------------------------


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
        For anything that is neither a name nor callable.

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
            raise ValueError(f"unknown activation {spec!r}; "
                             f"known names: {', '.join(ACTIVATION_NAMES)}")
        return _NAMED[key]
    if callable(spec):
        name = getattr(spec, "__name__", "custom")
        return Activation("custom" if name == "<lambda>" else name, spec)
    raise TypeError(f"activation must be a name or a callable, got {type(spec).__name__}")


def _apply(act: Activation, x: torch.Tensor) -> torch.Tensor:
    y = act.fn(x)
    if not isinstance(y, torch.Tensor):
        y = torch.as_tensor(np.asarray(y), dtype=x.dtype)
    if y.shape != x.shape:
        raise ValueError(f"activation {act.name!r} changed the shape {tuple(x.shape)} "
                         f"to {tuple(y.shape)}; it must act elementwise")
    return y


# ----------------------------------------------------------------------------------------
# Gaussian quadrature
# ----------------------------------------------------------------------------------------

_RADIUS = 12.0  # P(|Z| > 12) < 1e-32: the Gaussian tails beyond are below double precision


def _gauss_legendre_panels(breaks: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss–Legendre nodes/weights on consecutive panels ``breaks[i]..breaks[i+1]``."""
    x, w = np.polynomial.legendre.leggauss(order)
    a, b = breaks[:-1, None], breaks[1:, None]
    nodes = (a + b) / 2 + (b - a) / 2 * x[None, :]
    weights = (b - a) / 2 * w[None, :]
    return nodes.ravel(), weights.ravel()


def _panels(lo: float, hi: float, count: int) -> np.ndarray:
    return np.linspace(lo, hi, count + 1)


def _check_order(order: int) -> int:
    if int(order) != order or order < 4:
        raise ValueError(f"order must be an integer >= 4, got {order!r}")
    return int(order)


def second_moment(spec, *, order: int = 24) -> float:
    """E[σ(Z)²] for Z ~ N(0, 1), by composite Gauss–Legendre quadrature on [−12, 12].

    The panels break at 0 (where the named non-smooth activations have their kink or
    jump), so the rule is exact to double precision for them and converges
    exponentially for smooth σ.

    Parameters
    ----------
    spec
        The activation (see :func:`activation`).
    order
        Nodes per panel (24 panels on each side of 0).

    Returns
    -------
    float

    Examples
    --------
    >>> round(second_moment("relu"), 12)
    0.5
    """
    act = activation(spec)
    order = _check_order(order)
    breaks = np.concatenate([_panels(-_RADIUS, 0.0, 24), _panels(0.0, _RADIUS, 24)[1:]])
    z, w = _gauss_legendre_panels(breaks, order)
    density = np.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    values = _apply(act, torch.as_tensor(z, dtype=torch.float64)).double().numpy()
    moment = float(np.sum(w * density * values**2))
    if not math.isfinite(moment) or moment <= 0:
        raise ValueError(f"E[σ(Z)²] of activation {act.name!r} is {moment}: "
                         "it must be finite and > 0")
    return moment


def gamma_w(spec, *, order: int = 24) -> float:
    """Return the weight-variance normalisation Γ_W = 1 / E[σ(Z)²] (unit-variance limiting field).

    Examples
    --------
    >>> gamma_w("heaviside"), gamma_w("relu")
    (2.0, 2.0)
    """
    act = activation(spec)
    if act.name in ("heaviside", "relu"):
        return 2.0
    if act.name == "linear":
        return 1.0
    return 1.0 / second_moment(act, order=order)


def _as_u(u) -> tuple[np.ndarray, bool]:
    scalar = np.ndim(u) == 0
    arr = np.asarray(u.detach().cpu().numpy() if isinstance(u, torch.Tensor) else u, dtype=float)
    if not np.all(np.isfinite(arr)):
        raise ValueError("u must be finite (cosines of angles in [-1, 1])")
    if np.any(np.abs(arr) > 1 + 1e-12):
        raise ValueError(f"u must lie in [-1, 1] (cosines of angles), got values up to "
                         f"{float(np.max(np.abs(arr))):.6g}")
    return np.clip(arr, -1.0, 1.0), scalar


def _pair_expectation(act: Activation, u: np.ndarray, order: int) -> np.ndarray:
    """E[σ(X) σ(Y)] for standard Gaussians with correlation u, by polar quadrature.

    Write (Z₁, Z₂) = r (cos α, sin α): X = r cos α, Y = r cos(α − θ), θ = arccos u. The
    angular integral is split where X or Y changes sign (α = ±π/2, θ ± π/2), the radial
    one is a composite Gauss–Legendre rule on [0, 12] with weight r e^{−r²/2}. For
    activations that are smooth away from 0 (Heaviside, ReLU, tanh, ...) the integrand is
    smooth on every piece, so the rule converges fast.
    """
    flat = u.ravel()
    r, wr = _gauss_legendre_panels(_panels(0.0, _RADIUS, 12), order)
    radial_weight = wr * r * np.exp(-r * r / 2)
    xg, wg = np.polynomial.legendre.leggauss(order)
    out = np.empty(flat.shape, dtype=float)
    # batch over u to keep memory modest
    for start in range(0, flat.size, 256):
        uu = flat[start:start + 256]
        theta = np.arccos(uu)
        # breakpoints in [0, 2π): π/2, 3π/2, θ + π/2, θ + 3π/2 (mod 2π), sorted, with 0 and 2π
        pts = np.stack([np.full_like(theta, np.pi / 2), np.full_like(theta, 3 * np.pi / 2),
                        (theta + np.pi / 2) % (2 * np.pi), (theta + 3 * np.pi / 2) % (2 * np.pi)],
                       axis=1)
        pts = np.sort(np.concatenate([np.zeros((len(uu), 1)), pts,
                                      np.full((len(uu), 1), 2 * np.pi)], axis=1), axis=1)
        a, b = pts[:, :-1, None], pts[:, 1:, None]                     # (m, 5, 1)
        alpha = (a + b) / 2 + (b - a) / 2 * xg                          # (m, 5, order)
        walpha = ((b - a) / 2 * wg).reshape(len(uu), -1)               # (m, 5·order)
        alpha = alpha.reshape(len(uu), -1)
        x = r[None, None, :] * np.cos(alpha)[:, :, None]               # (m, A, R)
        y = r[None, None, :] * np.cos(alpha - theta[:, None])[:, :, None]
        sx = _apply(act, torch.as_tensor(x, dtype=torch.float64)).double().numpy()
        sy = _apply(act, torch.as_tensor(y, dtype=torch.float64)).double().numpy()
        inner = np.einsum("mar,r->ma", sx * sy, radial_weight)
        out[start:start + 256] = np.einsum("ma,ma->m", inner, walpha) / (2 * np.pi)
    return out.reshape(u.shape)


_METHODS = ("auto", "closed_form", "quadrature")


def kappa(u, spec, *, method: str = "auto", order: int = 24) -> np.ndarray | float:
    """Compute the one-layer covariance map κ(u) = Γ_W E[σ(Z₁) σ(u Z₁ + √(1−u²) Z₂)].

    Parameters
    ----------
    u
        Cosine(s) of the angle between two inputs, in [−1, 1] (scalar or array).
    spec
        The activation (see :func:`activation`).
    method
        ``"closed_form"`` (Heaviside: 1 − arccos(u)/π; ReLU: the order-1 arc-cosine kernel
        of :cite:t:`cho2009kernel` times Γ_W = 2; linear: u), ``"quadrature"`` (any σ:
        a polar Gauss–Legendre rule, see the module source), or ``"auto"`` (closed form
        where one exists).
    order
        Quadrature nodes per panel.

    Returns
    -------
    float or numpy.ndarray
        κ(u), of the shape of ``u``; κ(1) = 1 by the normalisation.

    Raises
    ------
    ValueError
        For ``u`` outside [−1, 1] or not finite, an unknown ``method``, or
        ``method="closed_form"`` for an activation without one.

    Examples
    --------
    >>> float(kappa(0.0, "heaviside"))
    0.5
    >>> abs(float(kappa(0.3, "relu", method="quadrature")) - float(kappa(0.3, "relu"))) < 1e-12
    True
    """
    act = activation(spec)
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    uu, scalar = _as_u(u)
    if method == "closed_form" and act.kappa_closed_form is None:
        raise ValueError(f"activation {act.name!r} has no closed-form kappa; "
                         "use method='quadrature'")
    if method != "quadrature" and act.kappa_closed_form is not None:
        value = np.asarray(act.kappa_closed_form(uu), dtype=float)
    else:
        value = gamma_w(act, order=order) * _pair_expectation(act, uu, _check_order(order))
    return float(value) if scalar else value


def _check_depth(depth: int) -> int:
    if isinstance(depth, bool) or int(depth) != depth or depth < 1:
        raise ValueError(f"depth must be an integer >= 1, got {depth!r}")
    return int(depth)


def kappa_depth(u, spec, depth: int, *, method: str = "auto", order: int = 24):
    """κ_L = κ∘…∘κ (``depth`` times): the covariance of the depth-``L`` limiting field.

    Examples
    --------
    >>> round(float(kappa_depth(0.0, "heaviside", 2)), 6)   # κ(1/2) = 1 − 1/3
    0.666667
    """
    depth = _check_depth(depth)
    act = activation(spec)
    value, scalar = _as_u(u)
    for _ in range(depth):
        value = np.clip(np.asarray(kappa(value, act, method=method, order=order)), -1.0, 1.0)
    return float(value) if scalar else value


def kappa_sequence(u, spec, depth: int, *, method: str = "auto", order: int = 24) -> np.ndarray:
    """Compute κ_1(u), …, κ_L(u) in one pass (L evaluations of κ instead of L(L+1)/2).

    Returns
    -------
    numpy.ndarray
        ``(depth, *u.shape)``; row ``l − 1`` is κ_l(u).

    Examples
    --------
    >>> kappa_sequence([0.0], "heaviside", 2).round(6).tolist()
    [[0.5], [0.666667]]
    """
    depth = _check_depth(depth)
    act = activation(spec)
    value, _ = _as_u(u)
    out = np.empty((depth, *value.shape))
    for layer in range(depth):
        value = np.clip(np.asarray(kappa(value, act, method=method, order=order)), -1.0, 1.0)
        out[layer] = value
    return out


def kappa_fixed_point(spec, *, method: str = "auto", order: int = 24) -> float:
    """Find the fixed point u* of κ in [−1, 1) that κ_L(u) tends to for −1 < u < 1.

    Returns the largest root of κ(u) = u below 1 (found by bisection on a grid of u), or
    1.0 when κ(u) > u on the whole of [−1, 1) (then κ_L → 1, as for ReLU and logistic).

    Examples
    --------
    >>> round(kappa_fixed_point("heaviside"), 4)      # 1 − arccos(u)/π = u
    0.7898
    >>> kappa_fixed_point("relu")
    1.0
    """
    from scipy.optimize import brentq

    act = activation(spec)
    grid = np.linspace(-1.0, 1.0 - 1e-9, 2001)
    gap = np.asarray(kappa(grid, act, method=method, order=order)) - grid
    change = np.flatnonzero(np.sign(gap[:-1]) * np.sign(gap[1:]) < 0)
    if change.size == 0:
        return 1.0
    k = int(change[-1])
    return float(brentq(lambda v: float(kappa(v, act, method=method, order=order)) - v,
                        grid[k], grid[k + 1], xtol=1e-14))


def _derivative_values(act: Activation, z: torch.Tensor) -> torch.Tensor:
    if act.derivative is not None:
        return act.derivative(z)
    zz = z.clone().requires_grad_(True)
    y = _apply(act, zz)
    if not y.requires_grad:
        raise ValueError(f"activation {act.name!r} is not differentiable by torch autograd; "
                         "pass an Activation with a derivative or use method='difference'")
    (grad,) = torch.autograd.grad(y.sum(), zz)
    return grad.detach()


_PRIME_METHODS = ("auto", "closed_form", "moments", "difference")


def kappa_prime_one(spec, *, method: str = "auto", order: int = 24, step: float = 1e-5) -> float:
    """Compute the spectral parameter κ'(1), the slope of κ at u = 1.

    Parameters
    ----------
    spec
        The activation.
    method
        ``"moments"``: E[σ'(Z)²] / E[σ(Z)²] by quadrature (σ' given or by autograd);
        ``"difference"``: a Richardson-extrapolated one-sided difference of the quadrature
        κ at 1, ``(4 D(h/2) − D(h)) / 3`` with ``D(h) = (1 − κ(1 − h)) / h``;
        ``"closed_form"``: 1 for ReLU and linear, ∞ for Heaviside;
        ``"auto"``: closed form where known, else moments.
    order
        Quadrature nodes per panel.
    step
        ``h`` of the difference method.

    Returns
    -------
    float
        κ'(1); ``math.inf`` for the Heaviside step (κ(1 − t) ≈ 1 − √(2t)/π).

    Examples
    --------
    >>> kappa_prime_one("relu")
    1.0
    >>> abs(kappa_prime_one("tanh", method="moments")
    ...     - kappa_prime_one("tanh", method="difference")) < 1e-5
    True
    """
    act = activation(spec)
    if method not in _PRIME_METHODS:
        raise ValueError(f"method must be one of {_PRIME_METHODS}, got {method!r}")
    if method in ("auto", "closed_form") and act.kappa_prime_one_closed_form is not None:
        return float(act.kappa_prime_one_closed_form)
    if method == "closed_form":
        raise ValueError(f"activation {act.name!r} has no closed-form kappa'(1); "
                         "use method='moments' or 'difference'")
    if method == "difference":
        if not (0 < step < 0.5):
            raise ValueError(f"step must lie in (0, 0.5), got {step!r}")
        k1, k2 = kappa([1 - step, 1 - step / 2], act, method="quadrature", order=order)
        d1, d2 = (1 - k1) / step, (1 - k2) / (step / 2)
        return float((4 * d2 - d1) / 3)
    if act.name == "heaviside":
        return math.inf
    order = _check_order(order)
    breaks = np.concatenate([_panels(-_RADIUS, 0.0, 24), _panels(0.0, _RADIUS, 24)[1:]])
    z, w = _gauss_legendre_panels(breaks, order)
    density = np.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    dz = _derivative_values(act, torch.as_tensor(z, dtype=torch.float64)).double().numpy()
    return float(np.sum(w * density * dz**2) / second_moment(act, order=order))


@dataclass(frozen=True)
class RegularityIndex:
    """Estimate of the covariance regularity index β of κ_L near u = 1.

    ``κ_L(1 − t) = 1 − c₁ t + c t^β + …`` with either c₁ = 0 and β < 1 (the fractal class) or
    β ∈ (1, 2] (the Kac–Rice class; 2 for smooth activations).

    Attributes
    ----------
    beta
        The estimate: the local log–log slope at the smallest ``t``.
    t
        The values of t used.
    local_slopes
        d log g / d log t between consecutive t, where g(t) = 1 − κ_L(1 − t) in the fractal
        class and g(t) = abs(κ_L(1 − t) − 1 + κ_L'(1) t) otherwise.
    fractal
        Whether β < 1.
    """

    beta: float
    t: np.ndarray = field(repr=False)
    local_slopes: np.ndarray = field(repr=False)
    fractal: bool


def regularity_index(spec, depth: int = 1, *, t: Sequence[float] | np.ndarray | None = None,
                     method: str = "auto") -> RegularityIndex:
    """Estimate the covariance regularity index β of κ_L numerically from κ_L(1 − t), t → 0.

    First the slope of log(1 − κ_L(1 − t)) against log t: below 1 it is β (fractal class).
    Otherwise the linear term κ_L'(1) t = κ'(1)^L t is removed and the slope of what remains
    is β ∈ (1, 2]. Theory: β = 1/2 per Heaviside layer (β_L = 2^{−L}), 3/2 for ReLU, 2 for
    smooth activations.

    Parameters
    ----------
    spec
        The activation.
    depth
        L ≥ 1.
    t
        Increasing small positive values (default: 10^{-7} … 10^{-3}).
    method
        How κ is computed (see :func:`kappa`).

    Returns
    -------
    RegularityIndex

    Examples
    --------
    >>> round(regularity_index("heaviside").beta, 2)
    0.5
    >>> round(regularity_index("relu").beta, 1)
    1.5
    """
    act = activation(spec)
    depth = _check_depth(depth)
    tt = np.logspace(-7, -3, 9) if t is None else _check_t(t)
    gap = 1.0 - np.asarray(kappa_depth(1.0 - tt, act, depth, method=method), dtype=float)
    slopes = np.diff(np.log(np.abs(gap))) / np.diff(np.log(tt))
    if slopes[0] < 0.95:
        return RegularityIndex(float(slopes[0]), tt, slopes, True)
    # Kac–Rice class: remove the linear term; the remainder (~t^β) is small, so look at
    # somewhat larger t, and use the smallest t where it stands clear of rounding (~1e-13)
    tt = np.logspace(-5, -2, 7) if t is None else tt
    gap = 1.0 - np.asarray(kappa_depth(1.0 - tt, act, depth, method=method), dtype=float)
    remainder = np.abs(gap - kappa_prime_one(act) ** depth * tt)
    ok = remainder[:-1] > 1e-10
    if not np.any(ok):          # no non-linear term at all (a linear activation): smooth
        return RegularityIndex(2.0, tt, np.full(tt.size - 1, np.nan), False)
    with np.errstate(divide="ignore", invalid="ignore"):
        slopes = np.diff(np.log(remainder)) / np.diff(np.log(tt))
    return RegularityIndex(min(float(slopes[ok][0]), 2.0), tt, slopes, False)


def _check_t(t) -> np.ndarray:
    tt = np.asarray(t, dtype=float)
    if tt.ndim != 1 or tt.size < 2 or np.any(~np.isfinite(tt)) or np.any(tt <= 0) \
            or np.any(tt >= 1) or np.any(np.diff(tt) <= 0):
        raise ValueError("t must be an increasing 1-D sequence of at least 2 values in (0, 1)")
    return tt


# ----------------------------------------------------------------------------------------
# Theory for the excursion sets
# ----------------------------------------------------------------------------------------


def _check_level(level: float) -> float:
    if isinstance(level, bool) or not isinstance(level, (int, float, np.floating, np.integer)):
        raise ValueError(f"level must be a finite real number, got {level!r}")
    if not math.isfinite(float(level)):
        raise ValueError(f"level must be finite, got {level!r}")
    return float(level)


def _check_sphere_dim(sphere_dim: int) -> int:
    if isinstance(sphere_dim, bool) or int(sphere_dim) != sphere_dim or sphere_dim < 1:
        raise ValueError(f"sphere_dim must be an integer >= 1, got {sphere_dim!r}")
    return int(sphere_dim)


def expected_boundary_volume(spec, depth: int, level: float = 0.0, *, sphere_dim: int = 2) -> float:
    r"""Kac–Rice: return E[H^{d−1}({f_L = u})] on S^d for the limiting (infinite-width) field.

    For an isotropic unit-variance Gaussian field with covariance K(⟨x, y⟩) the gradient
    at a point is N(0, K'(1) I_d), independent of the value, so

    .. math::

        E[\mathrm{vol}_{d-1}\{f = u\}] = |S^d| \, \varphi(u) \, E|N(0, λ I_d)|,
        \quad λ = κ_L'(1) = κ'(1)^L,

    with E‖N(0, λ I_d)‖ = √(2λ) Γ((d+1)/2) / Γ(d/2). On S² this is 2π e^{−u²/2} κ'(1)^{L/2}.

    Returns
    -------
    float
        ``math.inf`` when κ'(1) = ∞ (Heaviside).

    Examples
    --------
    >>> round(expected_boundary_volume("relu", 3), 6) == round(2 * math.pi, 6)
    True
    """
    depth = _check_depth(depth)
    level = _check_level(level)
    d = _check_sphere_dim(sphere_dim)
    lam = kappa_prime_one(spec) ** depth
    if math.isinf(lam):
        return math.inf
    area = 2 * math.pi ** ((d + 1) / 2) / math.gamma((d + 1) / 2)
    density = math.exp(-level * level / 2) / math.sqrt(2 * math.pi)
    mean_norm = math.sqrt(2 * lam) * math.gamma((d + 1) / 2) / math.gamma(d / 2)
    return area * density * mean_norm


def expected_boundary_length(spec, depth: int, level: float = 0.0) -> float:
    """Return E[length of {f_L = u}] on S²: 2π e^{−u²/2} κ'(1)^{L/2}.

    See :func:`expected_boundary_volume`.

    Examples
    --------
    >>> expected_boundary_length("heaviside", 1)
    inf
    """
    return expected_boundary_volume(spec, depth, level, sphere_dim=2)


def fractal_dimension(spec, depth: int, *, sphere_dim: int = 2) -> float:
    """Hausdorff dimension of the excursion-set boundary of the limiting field (our reading).

    In the fractal class (β < 1) the covariance of depth L has regularity index β^L, the
    field is Hölder of every order below β^L and the boundary has dimension d − β^L
    (2 − 2^{−L} for Heaviside on S²). In the Kac–Rice class the boundary is a C¹ curve
    (surface): dimension d − 1.

    Examples
    --------
    >>> [fractal_dimension("heaviside", L) for L in (1, 2, 3)]
    [1.5, 1.75, 1.875]
    >>> fractal_dimension("tanh", 4)
    1.0
    """
    act = activation(spec)
    depth = _check_depth(depth)
    d = _check_sphere_dim(sphere_dim)
    beta = act.regularity_index_closed_form
    if beta is None:
        beta = regularity_index(act).beta
    return d - beta**depth if beta < 1 else float(d - 1)


# ----------------------------------------------------------------------------------------
# Finite random networks
# ----------------------------------------------------------------------------------------


def _check_count(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def network_seed(seed: int, index: int) -> int:
    """Return the seed of network ``index`` in a family seeded by ``seed`` (independent streams).

    Network ``k`` of a family is the same whatever the batch it is drawn in.

    Examples
    --------
    >>> network_seed(0, 1) == network_seed(0, 1) != network_seed(0, 2)
    True
    """
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1, np.uint64)[0]
               & 0x7FFF_FFFF_FFFF_FFFF)


@dataclass(frozen=True)
class RandomNetworks:
    """A batch of independent random networks with one readout per depth.

    ``first`` is ``(B, n, d+1)`` with N(0, 1) entries; ``hidden[l]`` is ``(B, n, n)`` with
    N(0, Γ_W/n) entries (``depth − 1`` of them); ``readout`` is ``(B, depth, n)`` with
    N(0, Γ_W/n) entries, row ``l`` reading the output f_{l+1} off layer ``l + 1``. Each
    depth's output is distributed exactly as a network of that depth (the readouts are
    independent), so one batch gives the Monte Carlo of every depth 1 … L at the cost of
    the deepest (outputs of different depths of one network are dependent).

    Call it on points ``(..., d+1)`` to get outputs ``(B, len(depths), ...)``.
    """

    activation: Activation
    first: torch.Tensor = field(repr=False)
    hidden: tuple[torch.Tensor, ...] = field(repr=False)
    readout: torch.Tensor = field(repr=False)
    gamma_w: float
    seeds: tuple[int, ...] = field(repr=False)

    @property
    def depth(self) -> int:
        """The number of hidden layers L."""
        return len(self.hidden) + 1

    @property
    def width(self) -> int:
        """The width n of every hidden layer."""
        return int(self.first.shape[1])

    @property
    def n_networks(self) -> int:
        """The batch size B."""
        return int(self.first.shape[0])

    def __call__(self, points: torch.Tensor | np.ndarray, depths: Sequence[int] | None = None,
                 *, chunk: int = 4096) -> torch.Tensor:
        """Evaluate every network at ``points``.

        Parameters
        ----------
        points
            ``(..., d+1)`` inputs (unit vectors for the theory to apply).
        depths
            Which outputs to return (default 1 … L).
        chunk
            Points per forward pass (memory ≈ B · chunk · n floats).

        Returns
        -------
        torch.Tensor
            ``(B, len(depths), ...)`` on the networks' device.
        """
        depths = list(range(1, self.depth + 1)) if depths is None else [int(d) for d in depths]
        if not depths or any(d < 1 or d > self.depth for d in depths):
            raise ValueError(f"depths must lie in 1..{self.depth}, got {depths}")
        x = torch.as_tensor(points, dtype=self.first.dtype, device=self.first.device)
        if x.ndim < 1 or x.shape[-1] != self.first.shape[-1]:
            raise ValueError(f"points must have shape (..., {self.first.shape[-1]}), "
                             f"got {tuple(x.shape)}")
        if not torch.isfinite(x).all():
            raise ValueError("points contain NaN or infinite entries")
        lead = x.shape[:-1]
        flat = x.reshape(-1, x.shape[-1])
        chunk = _check_count("chunk", chunk)
        out = torch.empty((self.n_networks, len(depths), flat.shape[0]), dtype=x.dtype,
                          device=x.device)
        index = {d: k for k, d in enumerate(depths)}
        deepest = max(depths)
        with torch.no_grad():
            for start in range(0, flat.shape[0], chunk):
                xs = flat[start:start + chunk]
                z = torch.matmul(xs, self.first.transpose(1, 2))             # (B, c, n)
                for layer in range(1, deepest + 1):
                    h = _apply(self.activation, z)
                    if layer in index:
                        out[:, index[layer], start:start + chunk] = torch.matmul(
                            h, self.readout[:, layer - 1, :, None])[..., 0]
                    if layer < deepest:
                        z = torch.matmul(h, self.hidden[layer - 1].transpose(1, 2))
        return out.reshape(self.n_networks, len(depths), *lead)


def sample_networks(spec, depth: int, width: int, n_networks: int = 1, *, seed: int = 0,
                    first: int = 0, input_dim: int = 3, device: torch.device | str | None = None,
                    dtype: torch.dtype = torch.float32) -> RandomNetworks:
    """Draw ``n_networks`` independent random networks of a seeded family.

    They are networks ``first … first+B−1`` of the family seeded by ``seed``.

    Parameters
    ----------
    spec
        The activation (see :func:`activation`).
    depth
        L ≥ 1, the number of activation layers.
    width
        n ≥ 1, the width of every hidden layer.
    n_networks
        B ≥ 1.
    seed, first
        Network ``k`` is drawn from :func:`network_seed` ``(seed, k)``, so a family is the
        same whatever the batching.
    input_dim
        d + 1 (3 for S²).
    device, dtype
        Where and how the weights live (the generator runs on ``device``: CPU and CUDA
        streams differ, each deterministic).

    Returns
    -------
    RandomNetworks

    Examples
    --------
    >>> nets = sample_networks("relu", depth=3, width=16, n_networks=2, seed=1)
    >>> nets.depth, nets.width, nets.n_networks
    (3, 16, 2)
    """
    act = activation(spec)
    depth = _check_depth(depth)
    width = _check_count("width", width)
    n_networks = _check_count("n_networks", n_networks)
    input_dim = _check_count("input_dim", input_dim)
    if isinstance(first, bool) or int(first) != first or first < 0:
        raise ValueError(f"first must be an integer >= 0, got {first!r}")
    device = torch.device("cpu") if device is None else torch.device(device)
    gw = gamma_w(act)
    scale = math.sqrt(gw / width)
    seeds = tuple(network_seed(seed, first + k) for k in range(n_networks))
    w0, hid, ro = [], [], []
    for s in seeds:
        gen = torch.Generator(device=device).manual_seed(s)
        w0.append(torch.randn(width, input_dim, generator=gen, device=device, dtype=dtype))
        hid.append([torch.randn(width, width, generator=gen, device=device, dtype=dtype) * scale
                    for _ in range(depth - 1)])
        ro.append(torch.randn(depth, width, generator=gen, device=device, dtype=dtype) * scale)
    hidden = tuple(torch.stack([h[layer] for h in hid]) for layer in range(depth - 1))
    return RandomNetworks(act, torch.stack(w0), hidden, torch.stack(ro), gw, seeds)


def _psd_sqrt(gram: torch.Tensor) -> torch.Tensor:
    """Symmetric square root of a batch of PSD matrices (robust to rank deficiency)."""
    vals, vecs = torch.linalg.eigh(gram)
    return vecs * vals.clamp(min=0).sqrt()[..., None, :]


def sample_outputs(spec, depth: int, width: int, points, n_networks: int = 1, *, seed: int = 0,
                   first: int = 0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Sample the outputs f_1 … f_L of random networks at a few points, through Gram matrices.

    At ``K`` inputs, the next pre-activations of a layer are ``z = W h`` with iid rows
    ``W_j ~ N(0, Γ_W/n · I)``, so each unit's K-vector is exactly ``N(0, G)`` with
    ``G = Γ_W/n · hᵀh``: drawing it through a square root of ``G`` gives the same joint law
    as :func:`sample_networks` (independent readout per depth included) at O(n K²) per
    layer instead of O(n²) — what makes a Monte Carlo over hundreds of width-2048
    networks cheap.

    Parameters
    ----------
    spec, depth, width, n_networks, seed, first
        As in :func:`sample_networks` (the random streams differ from it).
    points
        ``(K, d+1)`` inputs.

    Returns
    -------
    torch.Tensor
        ``(n_networks, depth, K)``.

    Examples
    --------
    >>> out = sample_outputs("relu", 2, 2048, torch.eye(3), n_networks=4, seed=0)
    >>> out.shape
    torch.Size([4, 2, 3])
    """
    act = activation(spec)
    depth = _check_depth(depth)
    width = _check_count("width", width)
    n_networks = _check_count("n_networks", n_networks)
    x = torch.as_tensor(np.asarray(points), dtype=dtype)
    if x.ndim != 2 or not torch.isfinite(x).all():
        raise ValueError(f"points must be a finite (K, d+1) array, got shape {tuple(x.shape)}")
    gw = gamma_w(act)
    out = torch.empty((n_networks, depth, x.shape[0]), dtype=dtype)
    for k in range(n_networks):
        gen = torch.Generator().manual_seed(network_seed(seed, first + k))
        z = torch.randn(width, x.shape[1], generator=gen, dtype=dtype) @ x.T     # (n, K)
        for layer in range(1, depth + 1):
            h = _apply(act, z)
            root = _psd_sqrt(gw / width * h.T @ h)                                # (K, K)
            out[k, layer - 1] = root @ torch.randn(x.shape[0], generator=gen, dtype=dtype)
            if layer < depth:
                z = torch.randn(width, x.shape[0], generator=gen, dtype=dtype) @ root.T
    return out


def great_circle_points(angles) -> np.ndarray:
    """Points (sin γ, 0, cos γ) at angles γ from the north pole along a meridian (row 0: γ = 0).

    Examples
    --------
    >>> great_circle_points([0.0, np.pi / 2]).round(12).tolist()
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """
    g = np.asarray(angles, dtype=float)
    if g.ndim != 1 or not np.all(np.isfinite(g)):
        raise ValueError("angles must be a finite 1-D sequence")
    return np.stack([np.sin(g), np.zeros_like(g), np.cos(g)], axis=1)


def empirical_covariance(spec, depth: int, width: int, n_networks: int, angles, *,
                         seed: int = 0, sampler: str = "gram", batch: int = 8,
                         progress: bool = False):
    """Monte Carlo covariance E[f_l(x₀) f_l(x_γ)] of width-n networks against κ_l(cos γ).

    Every network gives one product per depth l = 1 … L and angle γ (x₀ is the north pole,
    x_γ at angle γ on a meridian; γ = 0 gives the variance). The products of different
    networks are independent, so the standard error is their standard deviation / √M and
    ``z = (mean − κ_l) / stderr`` is approximately N(0, 1) when the theory holds (up to an
    O(1/n) finite-width bias).

    Parameters
    ----------
    spec, depth, width
        The networks.
    n_networks
        M, the Monte Carlo size (≥ 2).
    angles
        Angles γ in radians.
    seed
        Seed of the network family.
    sampler
        ``"gram"`` (:func:`sample_outputs`) or ``"weights"`` (:func:`sample_networks`:
        every weight drawn, O(n²) per layer).
    batch
        Networks per batch for ``"weights"``.
    progress
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        One row per (depth, angle): ``depth, angle, u, empirical, stderr, kappa, z``.

    Examples
    --------
    >>> df = empirical_covariance("relu", 2, 512, 50, [0.0, 1.0], seed=0)
    >>> list(df.columns)
    ['depth', 'angle', 'u', 'empirical', 'stderr', 'kappa', 'z']
    """
    import pandas as pd

    act = activation(spec)
    depth = _check_depth(depth)
    n_networks = _check_count("n_networks", n_networks)
    if n_networks < 2:
        raise ValueError(f"n_networks must be >= 2 for a standard error, got {n_networks}")
    gam = np.asarray(angles, dtype=float)
    pts = great_circle_points(gam)
    if sampler not in ("gram", "weights"):
        raise ValueError(f"sampler must be 'gram' or 'weights', got {sampler!r}")
    products = []
    step = n_networks if sampler == "gram" else _check_count("batch", batch)
    bar = progress_bar(range(0, n_networks, step), enabled=progress, desc=f"{act.name} nets")
    for start in bar:
        count = min(step, n_networks - start)
        if sampler == "gram":
            out = sample_outputs(act, depth, width, pts, count, seed=seed, first=start)
        else:
            nets = sample_networks(act, depth, width, count, seed=seed, first=start,
                                   dtype=torch.float64)
            out = nets(pts)
        products.append((out[..., :1] * out).double().numpy())   # (B, depth, K)
    prod = np.concatenate(products)
    mean, sd = prod.mean(0), prod.std(0, ddof=1)
    rows = []
    for layer in range(1, depth + 1):
        theory = np.asarray(kappa_depth(np.cos(gam), act, layer))
        for k, g in enumerate(gam):
            se = sd[layer - 1, k] / math.sqrt(n_networks)
            rows.append({"depth": layer, "angle": g, "u": math.cos(g),
                         "empirical": mean[layer - 1, k], "stderr": se,
                         "kappa": float(theory[k]),
                         "z": (mean[layer - 1, k] - theory[k]) / se if se > 0 else math.nan})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------
# Monte Carlo of excursion sets
# ----------------------------------------------------------------------------------------


def mean_ci(values, confidence: float = 0.95) -> dict[str, float]:
    """Mean with a Student-t confidence interval (independent samples).

    Examples
    --------
    >>> r = mean_ci([1.0, 2.0, 3.0])
    >>> r["mean"], round(r["ci_low"], 3), round(r["ci_high"], 3)
    (2.0, -0.484, 4.484)
    """
    from scipy import stats

    v = np.asarray(values, dtype=float)
    if v.ndim != 1 or v.size < 2 or not np.all(np.isfinite(v)):
        raise ValueError("values must be a finite 1-D sequence of at least 2 samples")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}")
    m, se = float(v.mean()), float(v.std(ddof=1) / math.sqrt(v.size))
    half = float(stats.t.ppf(0.5 + confidence / 2, v.size - 1)) * se
    return {"mean": m, "stderr": se, "ci_low": m - half, "ci_high": m + half, "n": int(v.size)}


def boundary_lengths(spec, depth: int, width: int, n_networks: int, grid, *,
                     level: float = 0.0, seed: int = 0, batch: int = 4,
                     device: torch.device | str | None = None, progress: bool = False):
    """Boundary length of {f_l ≥ u} on the sphere for independent networks, every depth l ≤ L.

    Each network is evaluated on ``grid`` (a :class:`fractalnb.sphere.SphereGrid`) and the
    level curve measured by :func:`fractalnb.sphere.boundary_length`.

    Returns
    -------
    pandas.DataFrame
        One row per (network, depth): ``activation, width, network, depth, length``.

    Examples
    --------
    >>> from fractalnb.sphere import latlong_grid
    >>> df = boundary_lengths("tanh", 2, 32, 2, latlong_grid(33), seed=0)
    >>> df.shape
    (4, 5)
    """
    import pandas as pd

    from .sphere import SphereGrid, boundary_length

    act = activation(spec)
    depth = _check_depth(depth)
    n_networks = _check_count("n_networks", n_networks)
    batch = _check_count("batch", batch)
    level = _check_level(level)
    if not isinstance(grid, SphereGrid):
        raise TypeError(f"grid must be a SphereGrid, got {type(grid).__name__}")
    rows = []
    batches = _field_batches(act, depth, width, n_networks, grid, seed=seed, batch=batch,
                             device=device)
    for start, fields in progress_bar(batches, total=-(-n_networks // batch), enabled=progress,
                                      desc=f"{act.name}, width {width}"):
        lengths = boundary_length(fields, grid, level)
        for b in range(fields.shape[0]):
            for layer in range(depth):
                rows.append({"activation": act.name, "width": width, "network": start + b,
                             "depth": layer + 1, "length": float(lengths[b, layer])})
    return pd.DataFrame(rows)


def _field_batches(act: Activation, depth: int, width: int, n_networks: int, grid, *,
                   seed: int, batch: int, device, first: int = 0):
    """Yield ``(first network, fields (B, depth, rows, cols) numpy)`` batch by batch."""
    pts = grid.flat_points(device=device)
    for start in range(first, first + n_networks, batch):
        count = min(batch, first + n_networks - start)
        nets = sample_networks(act, depth, width, count, seed=seed, first=start, device=device)
        yield start, nets(pts).reshape(count, depth, *grid.shape).cpu().numpy()


def network_fields(spec, depth: int, width: int, grid, n_networks: int = 1, *, seed: int = 0,
                   first: int = 0, batch: int = 4,
                   device: torch.device | str | None = None) -> np.ndarray:
    """Evaluate random networks on a sphere grid: the fields f_1 … f_L of each network.

    Parameters
    ----------
    spec, depth, width, n_networks, seed, first
        As in :func:`sample_networks` (the same networks whatever ``batch``).
    grid
        A :class:`fractalnb.sphere.SphereGrid`.
    batch
        Networks evaluated together (memory ≈ batch · 4096 · width floats).
    device
        Where to compute (results come back as numpy).

    Returns
    -------
    numpy.ndarray
        ``(n_networks, depth, rows, cols)`` float32.

    Examples
    --------
    >>> from fractalnb.sphere import latlong_grid
    >>> network_fields("relu", 3, 16, latlong_grid(9), 2).shape
    (2, 3, 9, 16)
    """
    from .sphere import SphereGrid

    act = activation(spec)
    depth = _check_depth(depth)
    n_networks = _check_count("n_networks", n_networks)
    batch = _check_count("batch", batch)
    if not isinstance(grid, SphereGrid):
        raise TypeError(f"grid must be a SphereGrid, got {type(grid).__name__}")
    if isinstance(first, bool) or int(first) != first or first < 0:
        raise ValueError(f"first must be an integer >= 0, got {first!r}")
    parts = [f for _, f in _field_batches(act, depth, width, n_networks, grid, seed=seed,
                                          batch=batch, device=device, first=int(first))]
    return np.concatenate(parts)


def excursion_dimensions(spec, depth: int, width: int, n_networks: int, grid, *,
                         scales: Sequence[int] | None = None, level: float | str = 0.0,
                         fit_range: object = None, seed: int = 0, batch: int = 4,
                         device: torch.device | str | None = None, progress: bool = False):
    """Box-counting dimension of the boundary of {f_l ≥ u} for independent networks, l ≤ L.

    Each network is evaluated on ``grid`` (a cap or patch: a planar chart, where boxes are
    squares of pixels), the excursion set's boundary is box-counted by the engine
    (:func:`fractalnb.boxcount.box_counts`, ``mode="boundary"``) and the dimension fitted
    by :func:`fractalnb.boxcount.fit_dimension`.

    Parameters
    ----------
    spec, depth, width, n_networks, seed, batch, device
        The networks (see :func:`sample_networks`).
    grid
        A :class:`fractalnb.sphere.SphereGrid` with a planar chart (``kind`` ``"cap"`` or
        ``"patch"``).
    scales
        Box sides in pixels; default powers of 2 up to the grid side.
    level
        u, or ``"median"``: each field's own median over the grid. Deep networks carry a
        large random offset common to all points of a cap (κ_L(u) does not tend to 0), so
        at a fixed u many caps hold no boundary; the median level always cuts the field,
        and the dimension of a level set does not depend on the level (our reading of the
        theory).
    fit_range
        Passed to :func:`fractalnb.boxcount.fit_dimension` (default: the engine's
        :func:`fractalnb.boxcount.default_fit_range`).
    progress
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        One row per (network, depth): ``activation, width, network, depth, level,
        dimension, ci_low, ci_high, r2, counts``. A field with no boundary at a fitted scale
        keeps its row, with NaN dimension (it is reported, not dropped).

    Examples
    --------
    >>> from fractalnb.sphere import cap_grid
    >>> df = excursion_dimensions("heaviside", 2, 64, 2, cap_grid(64, 0.5), level="median")
    >>> df.shape
    (4, 10)
    """
    import pandas as pd

    from .sphere import SphereGrid

    act = activation(spec)
    depth = _check_depth(depth)
    n_networks = _check_count("n_networks", n_networks)
    batch = _check_count("batch", batch)
    if not isinstance(grid, SphereGrid):
        raise TypeError(f"grid must be a SphereGrid, got {type(grid).__name__}")
    if grid.kind not in ("cap", "patch"):
        raise ValueError(f"grid must be a planar chart (cap_grid or latlong_patch), "
                         f"got kind {grid.kind!r}")
    _check_level_spec(level)
    frames = []
    batches = _field_batches(act, depth, width, n_networks, grid, seed=seed, batch=batch,
                             device=device)
    for start, fields in progress_bar(batches, total=-(-n_networks // batch), enabled=progress,
                                      desc=f"{act.name}, width {width}"):
        count = fields.shape[0]
        df = field_dimensions(fields.reshape(count * depth, *grid.shape), scales=scales,
                              level=level, fit_range=fit_range)
        df.insert(0, "depth", np.tile(np.arange(1, depth + 1), count))
        df.insert(0, "network", start + np.repeat(np.arange(count), depth))
        df.insert(0, "width", width)
        df.insert(0, "activation", act.name)
        frames.append(df.drop(columns="field"))
    return pd.concat(frames, ignore_index=True)


def _check_level_spec(level: float | str) -> float | str:
    if isinstance(level, str):
        if level != "median":
            raise ValueError(f"level must be a real number or 'median', got {level!r}")
        return level
    return _check_level(level)


def field_dimensions(fields, *, scales: Sequence[int] | None = None, level: float | str = 0.0,
                     fit_range: object = None):
    """Box-counting dimension of the boundary of {f ≥ u} for each of a batch of fields.

    The engine's :func:`fractalnb.boxcount.box_counts` in ``"boundary"`` mode (boxes of
    side r pixels holding points of the set and of its complement), fitted by
    :func:`fractalnb.boxcount.fit_dimension`.

    Parameters
    ----------
    fields
        ``(n, rows, cols)`` values on a planar chart (numpy or torch).
    scales
        Box sides in pixels; default powers of 2 up to the grid side.
    level
        u, or ``"median"`` (each field's own median).
    fit_range
        Passed to :func:`fractalnb.boxcount.fit_dimension` (``None``: the engine's
        :func:`fractalnb.boxcount.default_fit_range`).

    Returns
    -------
    pandas.DataFrame
        One row per field: ``field, level, dimension, ci_low, ci_high, r2, counts``; NaN
        dimension where a fitted scale has no boundary box (kept, not dropped).

    Examples
    --------
    >>> f = np.tile(np.arange(64) - 20.5, (64, 1))[None]    # a straight boundary
    >>> round(float(field_dimensions(f, fit_range="all", scales=[2, 4, 8, 16]).dimension[0]), 6)
    1.0
    """
    import pandas as pd

    from .boxcount import box_counts, dilation_scales, fit_dimension
    from .sphere import _values_array

    level = _check_level_spec(level)
    values = _values_array(fields)
    if values.ndim != 3:
        raise ValueError(f"fields must have shape (n, rows, cols), got {values.shape}")
    shape = values.shape[1:]
    chosen = dilation_scales(shape, 2) if scales is None else np.asarray(scales)
    rows = []
    for k, f in enumerate(values):
        u = float(np.median(f)) if level == "median" else level
        counts = box_counts(f >= u, chosen, mode="boundary")
        row = {"field": k, "level": u}
        try:
            fit = fit_dimension(chosen, counts, fit_range=fit_range, shape=shape,
                                mode="boundary", rule="mask")
            row |= {"dimension": fit.dimension, "ci_low": fit.ci[0], "ci_high": fit.ci[1],
                    "r2": fit.r2}
        except ValueError:          # no boundary at a fitted scale: kept, as NaN
            row |= {"dimension": math.nan, "ci_low": math.nan, "ci_high": math.nan,
                    "r2": math.nan}
        row["counts"] = tuple(int(c) for c in counts)
        rows.append(row)
    return pd.DataFrame(rows)


def limiting_fields(spec, depth: int, grid, ell_max: int, n_fields: int = 1, *,
                    seed: int = 0, first: int = 0) -> np.ndarray:
    """Draw samples of the infinite-width limit f_L: the Gaussian field with covariance κ_L.

    The angular power spectrum of κ_L (:func:`limiting_spectrum`) truncated at ``ell_max``
    and synthesised by spherical harmonics (:func:`fractalnb.sphere.sample_isotropic_field`):
    exact in law for the truncated spectrum, so the field is smooth below the angular scale
    ≈ π/ℓmax — the harmonic analogue of a network's finite width.

    Parameters
    ----------
    spec, depth
        The activation and L.
    grid
        A lat–long grid (:func:`fractalnb.sphere.latlong_grid` or
        :func:`fractalnb.sphere.latlong_patch`).
    ell_max
        Highest multipole.
    n_fields, seed, first
        How many fields, and their seeded stream (field k from ``(seed, first + k)``).

    Returns
    -------
    numpy.ndarray
        ``(n_fields, rows, cols)``.

    Examples
    --------
    >>> from fractalnb.sphere import latlong_grid
    >>> limiting_fields("heaviside", 2, latlong_grid(17), 16, 3).shape
    (3, 17, 32)
    """
    from .sphere import sample_isotropic_field

    spectrum = limiting_spectrum(spec, depth, ell_max)
    return sample_isotropic_field(spectrum, grid, _check_count("n_fields", n_fields), seed=seed,
                                  first=first)


def compare_with_theory(df, column: str, theory: Callable[[str, int], float], *,
                        confidence: float = 0.95):
    """Monte Carlo mean ± CI of ``column`` per (activation, depth), against a theory value.

    Parameters
    ----------
    df
        Rows with ``activation``, ``depth`` and ``column`` (e.g. from
        :func:`boundary_lengths` or :func:`excursion_dimensions`). NaN values are counted
        in ``n_missing`` and left out of the mean.
    column
        The measured quantity.
    theory
        ``theory(activation, depth)``, e.g. ``lambda a, L: expected_boundary_length(a, L)``.
    confidence
        Level of the Student-t interval.

    Returns
    -------
    pandas.DataFrame
        One row per (activation, depth): ``activation, depth, mean, ci_low, ci_high,
        stderr, n, n_missing, theory, ratio, within_ci`` (``within_ci``: the theory value
        lies inside the interval).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"activation": ["relu"] * 4, "depth": [1] * 4,
    ...                    "length": [6.0, 6.5, 6.2, 6.4]})
    >>> out = compare_with_theory(df, "length", lambda a, L: expected_boundary_length(a, L))
    >>> bool(out.loc[0, "within_ci"]), round(float(out.loc[0, "ratio"]), 3)
    (True, 0.999)
    """
    import pandas as pd

    missing = {"activation", "depth", column} - set(df.columns)
    if missing:
        raise ValueError(f"df lacks the columns {sorted(missing)}")
    rows = []
    for (name, depth), group in df.groupby(["activation", "depth"], sort=False):
        values = group[column].to_numpy(dtype=float)
        ok = values[np.isfinite(values)]
        expected = float(theory(name, int(depth)))
        row = {"activation": name, "depth": int(depth), "n": int(ok.size),
               "n_missing": int(values.size - ok.size), "theory": expected}
        if ok.size >= 2:
            ci = mean_ci(ok, confidence)
            row |= {"mean": ci["mean"], "ci_low": ci["ci_low"], "ci_high": ci["ci_high"],
                    "stderr": ci["stderr"]}
        else:
            row |= {"mean": math.nan, "ci_low": math.nan, "ci_high": math.nan,
                    "stderr": math.nan}
        row["ratio"] = row["mean"] / expected if math.isfinite(expected) and expected else math.nan
        row["within_ci"] = bool(row["ci_low"] <= expected <= row["ci_high"])
        rows.append(row)
    columns = ["activation", "depth", "mean", "ci_low", "ci_high", "stderr", "n", "n_missing",
               "theory", "ratio", "within_ci"]
    return pd.DataFrame(rows)[columns]


def limiting_spectrum(spec, depth: int, ell_max: int) -> np.ndarray:
    """Angular power spectrum C_0 … C_ℓmax of the limiting field of depth L (covariance κ_L).

    Examples
    --------
    >>> from fractalnb.sphere import spectrum_variance
    >>> round(spectrum_variance(limiting_spectrum("tanh", 2, 64)), 8)
    1.0
    """
    from .sphere import angular_power_spectrum

    act = activation(spec)
    depth = _check_depth(depth)
    return angular_power_spectrum(lambda u: kappa_depth(u, act, depth), ell_max)


def excursion_box_counts(fields, scales: Sequence[int], level: float = 0.0) -> np.ndarray:
    """Boundary box counts N(r) of the excursion sets {f ≥ u} of a batch of fields.

    The engine's :func:`fractalnb.boxcount.box_counts` in ``"boundary"`` mode (boxes of
    side r pixels holding points of the set and of its complement) on each field.

    Parameters
    ----------
    fields
        ``(n, rows, cols)`` values (numpy or torch).
    scales
        Box sides in pixels.
    level
        u.

    Returns
    -------
    numpy.ndarray
        ``(n, len(scales))`` int64 counts.

    Examples
    --------
    >>> f = np.zeros((1, 8, 8)); f[0, :, 4:] = 1.0
    >>> excursion_box_counts(f, [2, 4], level=0.5).tolist()
    [[0, 0]]
    >>> excursion_box_counts(f, [2, 8], level=0.5).tolist()
    [[0, 1]]
    """
    from .boxcount import box_counts
    from .sphere import excursion_set

    level = _check_level(level)
    masks = excursion_set(fields, level)
    if masks.ndim != 3:
        raise ValueError(f"fields must have shape (n, rows, cols), got {masks.shape}")
    return np.stack([box_counts(m, list(scales), mode="boundary") for m in masks])
