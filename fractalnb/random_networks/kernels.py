"""The covariance kernel kappa of a random network and its iterates over depth.

Also its derivatives at 1, which govern the regularity of the network's excursion sets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from .. import _validate
from ._limits import MAX_DEPTH, MAX_ORDER
from .activations import Activation, _apply, activation

__all__ = [
    "second_moment",
    "gamma_w",
    "kappa",
    "kappa_depth",
    "kappa_sequence",
    "kappa_fixed_point",
    "kappa_prime_one",
    "RegularityIndex",
    "regularity_index",
]


_RADIUS = 12.0  # P(|Z| > 12) < 1e-32: the Gaussian tails beyond are below double precision


def _gauss_legendre_panels(breaks: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss–Legendre nodes/weights on consecutive panels ``breaks[i]..breaks[i+1]``.

    The one quadrature rule of the subpackage (κ here, angular power spectra in
    :mod:`~fractalnb.random_networks.spectrum`).
    """
    x, w = np.polynomial.legendre.leggauss(order)
    a, b = breaks[:-1, None], breaks[1:, None]
    nodes = (a + b) / 2 + (b - a) / 2 * x[None, :]
    weights = (b - a) / 2 * w[None, :]
    return nodes.ravel(), weights.ravel()


def _panels(lo: float, hi: float, count: int) -> np.ndarray:
    return np.linspace(lo, hi, count + 1)


def _gaussian_nodes(order: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nodes z, weights and the N(0, 1) density at z on [−12, 12], panels breaking at 0."""
    breaks = np.concatenate([_panels(-_RADIUS, 0.0, 24), _panels(0.0, _RADIUS, 24)[1:]])
    z, w = _gauss_legendre_panels(breaks, order)
    density = np.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    return z, w, density


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
        Nodes per panel (24 panels on each side of 0), 4 to 48.

    Returns
    -------
    float

    Examples
    --------
    >>> round(second_moment("relu"), 12)
    0.5
    """
    act = activation(spec)
    order = _validate.integer(order, "order", minimum=4, maximum=MAX_ORDER)
    z, w, density = _gaussian_nodes(order)
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
    order = _validate.integer(order, "order", minimum=4, maximum=MAX_ORDER)
    if act.name in ("heaviside", "relu"):
        return 2.0
    if act.name == "linear":
        return 1.0
    return 1.0 / second_moment(act, order=order)


def _cosines(u: object) -> tuple[np.ndarray, bool]:
    """Return ``(u as a float64 array clipped to [−1, 1], whether u is a scalar)``, or raise."""
    if isinstance(u, (np.ndarray, torch.Tensor, list, tuple, range)):
        arr = _validate.real_array(u, "u")
    else:
        arr = np.asarray(_validate.real(u, "u"))
    scalar = arr.ndim == 0
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
    method = _validate.choice(method, "method", _METHODS)
    order = _validate.integer(order, "order", minimum=4, maximum=MAX_ORDER)
    uu, scalar = _cosines(u)
    if method == "closed_form" and act.kappa_closed_form is None:
        raise ValueError(f"activation {act.name!r} has no closed-form kappa; "
                         "use method='quadrature'")
    if method != "quadrature" and act.kappa_closed_form is not None:
        value = np.asarray(act.kappa_closed_form(uu), dtype=float)
    else:
        value = gamma_w(act, order=order) * _pair_expectation(act, uu, order)
    return float(value) if scalar else value


def kappa_depth(u, spec, depth: int, *, method: str = "auto", order: int = 24):
    """κ_L = κ∘…∘κ (``depth`` times): the covariance of the depth-``L`` limiting field.

    Examples
    --------
    >>> round(float(kappa_depth(0.0, "heaviside", 2)), 6)   # κ(1/2) = 1 − 1/3
    0.666667
    """
    depth = _validate.integer(depth, "depth", minimum=1, maximum=MAX_DEPTH)
    act = activation(spec)
    value, scalar = _cosines(u)
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
    depth = _validate.integer(depth, "depth", minimum=1, maximum=MAX_DEPTH)
    act = activation(spec)
    value, _ = _cosines(u)
    _validate.budget(depth * value.size, "depth and u", _validate.MAX_ELEMENTS)
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
    method = _validate.choice(method, "method", _METHODS)
    order = _validate.integer(order, "order", minimum=4, maximum=MAX_ORDER)
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
        ``h`` of the difference method, in (0, 0.5).

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
    method = _validate.choice(method, "method", _PRIME_METHODS)
    order = _validate.integer(order, "order", minimum=4, maximum=MAX_ORDER)
    step = _validate.real(step, "step", 0, 0.5, open_min=True, open_max=True)
    if method in ("auto", "closed_form") and act.kappa_prime_one_closed_form is not None:
        return float(act.kappa_prime_one_closed_form)
    if method == "closed_form":
        raise ValueError(f"activation {act.name!r} has no closed-form kappa'(1); "
                         "use method='moments' or 'difference'")
    if method == "difference":
        k1, k2 = kappa([1 - step, 1 - step / 2], act, method="quadrature", order=order)
        d1, d2 = (1 - k1) / step, (1 - k2) / (step / 2)
        return float((4 * d2 - d1) / 3)
    if act.name == "heaviside":
        return math.inf
    z, w, density = _gaussian_nodes(order)
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
        At least 2 strictly increasing values in (0, 1) (default: 10^{-7} … 10^{-3}).
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
    depth = _validate.integer(depth, "depth", minimum=1, maximum=MAX_DEPTH)
    method = _validate.choice(method, "method", _METHODS)
    if t is None:
        tt = np.logspace(-7, -3, 9)
    else:
        tt = _validate.sizes(t, "t", integral=False, minimum=0, min_count=2)
        if tt[0] <= 0 or tt[-1] >= 1:
            raise ValueError(f"t must hold values in (0, 1), got {tt}")
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
