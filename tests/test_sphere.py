"""Sphere grids, the boundary-length estimator and isotropic fields.

Known answers: a great circle has length 2π; the latitude circle at colatitude θ (and any
small circle of angular radius ρ) has length 2π sin θ (2π sin ρ); marching squares with
linear interpolation converges at second order; an isotropic field with spectrum C_ℓ has
variance Σ C_ℓ (2ℓ+1)/4π and gradient variance K'(1).
"""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fractalnb import random_networks as rn

SETTINGS = settings(deadline=None, max_examples=25, derandomize=True)


def _variance(c: np.ndarray) -> float:
    ell = np.arange(c.size)
    return float(np.sum(c * (2 * ell + 1)) / (4 * math.pi))


def _gradient_variance(c: np.ndarray) -> float:
    ell = np.arange(c.size)
    return float(np.sum(c * (2 * ell + 1) * ell * (ell + 1) / 2) / (4 * math.pi))


def _rotation(a: float, b: float) -> np.ndarray:
    ca, sa, cb, sb = math.cos(a), math.sin(a), math.cos(b), math.sin(b)
    rz = np.array([[ca, -sa, 0], [sa, ca, 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, cb, -sb], [0, sb, cb]])
    return rz @ rx


# --------------------------------------------------------------------------------------
# grids


def test_latlong_grid_points_are_unit_vectors_with_poles():
    g = rn.latlong_grid(19)
    assert g.shape == (19, 36)
    np.testing.assert_allclose(np.linalg.norm(g.points, axis=-1), 1.0, atol=1e-15)
    np.testing.assert_allclose(g.points[0], np.broadcast_to([0, 0, 1.0], (36, 3)))


@SETTINGS
@given(a=st.floats(-3, 3), b=st.floats(-3, 3))
def test_cap_grid_is_centred_and_near_isometric(a, b):
    center = _rotation(a, b) @ np.array([0.0, 0.0, 1.0])
    g = rn.cap_grid(33, 0.3, center=center)
    np.testing.assert_allclose(g.points[16, 16], center, atol=1e-12)
    step = rn.geodesic_distance(g.points[:, 1:], g.points[:, :-1])
    assert step.max() <= g.spacing * (1 + 1e-12)
    assert step.min() >= g.spacing / g.distortion * (1 - 1e-12)


# --------------------------------------------------------------------------------------
# boundary length


@pytest.mark.parametrize("n", [91, 181])
def test_equator_has_length_two_pi(n):
    g = rn.latlong_grid(n)
    assert rn.boundary_length(g.points[..., 2], g) == pytest.approx(2 * math.pi, abs=1e-3)


@SETTINGS
@given(a=st.floats(-3, 3), b=st.floats(-3, 3))
def test_any_great_circle_has_length_two_pi(a, b):
    g = rn.latlong_grid(121)
    normal = _rotation(a, b) @ np.array([0.3, -0.2, 0.9])
    length = rn.boundary_length(g.points @ normal, g)
    assert length == pytest.approx(2 * math.pi, rel=2e-3)


@SETTINGS
@given(theta=st.floats(0.15, math.pi - 0.15))
def test_latitude_circle_has_length_two_pi_sin_theta(theta):
    g = rn.latlong_grid(181)
    length = rn.boundary_length(g.points[..., 2] - math.cos(theta), g)
    assert length == pytest.approx(2 * math.pi * math.sin(theta), rel=2e-3, abs=2e-3)


def test_boundary_length_converges_at_second_order():
    theta = 1.0
    errors = []
    for n in (33, 65, 129, 257):
        g = rn.latlong_grid(n)
        errors.append(abs(rn.boundary_length(g.points[..., 2] - math.cos(theta), g)
                          - 2 * math.pi * math.sin(theta)))
    # the order (slope of log error against log spacing) is 2, up to the grid's alignment
    order = -np.polyfit(np.log([33, 65, 129, 257]), np.log(errors), 1)[0]
    assert order == pytest.approx(2.0, abs=0.3), errors
    assert errors[-1] < 1e-4


@pytest.mark.parametrize("projection", ["equidistant", "gnomonic"])
def test_small_circle_on_a_cap_converges(projection):
    rho = 0.25
    errors = []
    for n in (32, 64, 128, 256):
        g = rn.cap_grid(n, 0.4, center=(1.0, 1.0, 1.0), projection=projection)
        c = np.ones(3) / math.sqrt(3)
        errors.append(abs(rn.boundary_length(g.points @ c - math.cos(rho), g)
                          - 2 * math.pi * math.sin(rho)))
    assert errors[-1] < 1e-4
    assert errors[0] > errors[-1] * 10


def test_small_circle_on_a_patch():
    rho = 0.2
    g = rn.latlong_patch(200, 0.35)
    length = rn.boundary_length(g.points @ np.array([1.0, 0, 0]) - math.cos(rho), g)
    assert length == pytest.approx(2 * math.pi * math.sin(rho), rel=1e-3)


def test_boundary_length_is_batched_and_accepts_torch():
    g = rn.latlong_grid(61)
    z = g.points[..., 2]
    batch = np.stack([z, z - 0.5, -z])
    out = rn.boundary_length(torch.as_tensor(batch), g)
    assert out.shape == (3,)
    np.testing.assert_allclose(out, [rn.boundary_length(f, g) for f in batch])
    assert out[0] == pytest.approx(out[2])          # {f = 0} = {−f = 0}


def test_no_curve_has_no_length():
    g = rn.latlong_grid(31)
    assert rn.boundary_length(g.points[..., 2] + 2.0, g) == 0.0


@SETTINGS
@given(seed=st.integers(0, 10_000))
def test_length_of_level_set_is_symmetric_under_negation(seed):
    g = rn.latlong_grid(25)
    f = np.random.default_rng(seed).standard_normal(g.shape)
    f[0], f[-1] = f[0, 0], f[-1, 0]                 # one value per pole
    assert rn.boundary_length(f, g, 0.3) == pytest.approx(rn.boundary_length(-f, g, -0.3))


# --------------------------------------------------------------------------------------
# isotropic fields


def test_spectrum_of_kappa_has_unit_variance_and_gradient_variance_kappa_prime():
    c = rn.limiting_spectrum("tanh", 2, 96)
    assert _variance(c) == pytest.approx(1.0, abs=1e-6)
    assert _gradient_variance(c) == pytest.approx(rn.kappa_prime_one("tanh") ** 2, rel=1e-4)


def test_spectrum_of_a_linear_covariance_is_a_single_dipole():
    c = rn.angular_power_spectrum(lambda u: u, 8)          # K(u) = u: only ℓ = 1
    np.testing.assert_allclose(c, np.eye(9)[1] * 4 * math.pi / 3, atol=1e-12)
    assert _variance(c) == pytest.approx(1.0, abs=1e-12)
    assert _gradient_variance(c) == pytest.approx(1.0, abs=1e-12)


def test_heaviside_spectrum_decays_like_a_power():
    # 1 − κ(1 − t) ~ t^{1/2}: C_ℓ ~ ℓ^{−3} (variogram γ^{2H}, H = 1/2, C_ℓ ~ ℓ^{−2−2H})
    c = rn.limiting_spectrum("heaviside", 1, 256)
    ell = np.arange(c.size)
    odd = (ell % 2 == 1) & (ell > 32)              # κ − 1/2 is odd: only odd ℓ beyond ℓ = 0
    slope = np.polyfit(np.log(ell[odd]), np.log(c[odd]), 1)[0]
    assert slope == pytest.approx(-3.0, abs=0.1)


def test_sampled_isotropic_field_has_the_spectrum_variance():
    c = rn.limiting_spectrum("relu", 1, 32)
    g = rn.latlong_grid(33)
    f = rn.sample_isotropic_field(c, g, 64, seed=0)
    w = np.broadcast_to(np.sin(g.rows_coord)[:, None], g.shape)    # the area element sin θ
    variance = float((f**2 * w).sum(axis=(1, 2)).mean() / (w.sum()))
    assert variance == pytest.approx(_variance(c), rel=0.1)
    again = rn.sample_isotropic_field(c, g, 2, seed=0, first=1)
    np.testing.assert_allclose(again[0], f[1])


# --------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(("call", "match"), [
    (lambda: rn.latlong_grid(2), "n_lat must be an integer >= 3, got 2"),
    (lambda: rn.latlong_grid(10, 3), "n_lon must be an integer >= 4, got 3"),
    (lambda: rn.latlong_grid(10**6), "n_lat and n_lon asks for"),
    (lambda: rn.cap_grid(4, 0.1), "size must be an integer >= 8"),
    (lambda: rn.cap_grid(16, 1.0), "half_width must be a real number > 0"),
    (lambda: rn.cap_grid(16, 0.1, projection="mercator"), "projection must be one of"),
    (lambda: rn.cap_grid(16, 0.1, center=(0, 0, 0)), "center must be a non-zero 3-vector"),
    (lambda: rn.cap_grid(16, 0.1, center=(1, 0)), "center must be a non-zero 3-vector"),
    (lambda: rn.latlong_patch(16, 0.0), "half_width"),
    (lambda: rn.boundary_length(np.zeros((3, 3)), rn.latlong_grid(5)), "do not match"),
    (lambda: rn.boundary_length(np.full((5, 8), np.nan), rn.latlong_grid(5)), "40 NaN"),
    (lambda: rn.boundary_length(np.zeros((5, 8)), rn.latlong_grid(5), math.nan), "level"),
    (lambda: rn.boundary_length(np.zeros((5, 8), bool), rn.latlong_grid(5)), "real numbers"),
    (lambda: rn.boundary_length(np.zeros(8), rn.latlong_grid(5)), "values must have rank"),
    (lambda: rn.geodesic_distance(np.zeros((2, 3)), np.zeros((3, 3))), "broadcastable"),
    (lambda: rn.angular_power_spectrum(lambda u: u, 0), "ell_max must be an integer >= 1"),
    (lambda: rn.angular_power_spectrum(lambda u: u, 10**6), "ell_max, panels_per_degree"),
    (lambda: rn.sample_isotropic_field([1.0, -1.0], rn.latlong_grid(5)), "non-negative"),
    (lambda: rn.sample_isotropic_field([1.0, 1.0], rn.cap_grid(8, 0.1)), "lat-long"),
    (lambda: rn.sample_isotropic_field(np.ones(10**4), rn.latlong_grid(5), 100),
     "spectrum and n_samples asks for"),
])
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(("call", "match"), [
    (lambda: rn.boundary_length(np.zeros((5, 8)), np.zeros((5, 8, 3))), "grid must be a"),
    (lambda: rn.latlong_grid(10.5), "n_lat must be an integer, got float"),
    (lambda: rn.cap_grid(16, "0.1"), "half_width must be a real number"),
    (lambda: rn.sample_isotropic_field([1.0, 1.0], np.zeros((5, 8, 3))), "grid must be a"),
    (lambda: rn.angular_power_spectrum("u", 4), "covariance must be a callable"),
])
def test_bad_types_raise_type_error(call, match):
    with pytest.raises(TypeError, match=match):
        call()
