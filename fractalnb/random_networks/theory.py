"""The theory of excursion sets of random networks.

Expected boundary volumes (Kac-Rice) and fractal dimensions.
"""

from __future__ import annotations

import math

from .. import _validate
from ._limits import MAX_DEPTH, MAX_SPHERE_DIM
from .activations import activation
from .kernels import kappa_prime_one, regularity_index

__all__ = [
    "expected_boundary_volume",
    "expected_boundary_length",
    "fractal_dimension",
]



def expected_boundary_volume(spec, depth: int, level: float = 0.0, *, sphere_dim: int = 2) -> float:
    r"""Kac–Rice: return E[H^{d−1}({f_L = u})] on S^d for the limiting (infinite-width) field.

    For an isotropic unit-variance Gaussian field with covariance K(⟨x, y⟩) the gradient
    at a point is N(0, K'(1) I_d), independent of the value, so

    .. math::

        E[\mathrm{vol}_{d-1}\{f = u\}] = |S^d| \, \varphi(u) \, E|N(0, λ I_d)|,
        \quad λ = κ_L'(1) = κ'(1)^L,

    with E‖N(0, λ I_d)‖ = √(2λ) Γ((d+1)/2) / Γ(d/2). On S² this is 2π e^{−u²/2} κ'(1)^{L/2}.

    Parameters
    ----------
    spec
        The activation (see :func:`~fractalnb.random_networks.activation`).
    depth
        L, 1 to 1000.
    level
        u (finite).
    sphere_dim
        d, 1 to 300.

    Returns
    -------
    float
        ``math.inf`` when κ'(1)^L = ∞ (Heaviside, or past the largest double).

    Examples
    --------
    >>> round(expected_boundary_volume("relu", 3), 6) == round(2 * math.pi, 6)
    True
    """
    depth = _validate.integer(depth, "depth", minimum=1, maximum=MAX_DEPTH)
    level = _validate.real(level, "level")
    d = _validate.integer(sphere_dim, "sphere_dim", minimum=1, maximum=MAX_SPHERE_DIM)
    try:
        lam = kappa_prime_one(spec) ** depth
    except OverflowError:       # κ'(1)^L beyond the largest double
        lam = math.inf
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
    depth = _validate.integer(depth, "depth", minimum=1, maximum=MAX_DEPTH)
    d = _validate.integer(sphere_dim, "sphere_dim", minimum=1, maximum=MAX_SPHERE_DIM)
    beta = act.regularity_index_closed_form
    if beta is None:
        beta = regularity_index(act).beta
    return d - beta**depth if beta < 1 else float(d - 1)
