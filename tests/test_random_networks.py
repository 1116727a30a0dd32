"""Random networks on the sphere: κ, κ'(1), β, the theory curves and the samplers.

Known answers used:
- Heaviside: κ(u) = 1 − arccos(u)/π, κ'(1) = ∞ (1 − κ(1 − t) = √(2t)/π + O(t^{3/2})), β = 1/2;
- ReLU: κ(u) = (√(1−u²) + (π − arccos u) u)/π (order-1 arc-cosine kernel × Γ_W = 2), κ'(1) = 1,
  β = 3/2;
- linear: κ(u) = u; any odd σ: κ(−u) = −κ(u);
- Kac–Rice on S²: E length{f = u} = 2π e^{−u²/2} κ'(1)^{L/2};
- wide networks: E[f_L(x) f_L(y)] = κ_L(⟨x, y⟩) up to O(1/n).
"""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fractalnb import geometry
from fractalnb import random_networks as rn
from fractalnb.random_networks import cap_grid, latlong_grid

SETTINGS = settings(deadline=None, max_examples=30, derandomize=True)
NAMED = ["heaviside", "relu", "tanh", "logistic", "linear"]
U_GRID = np.linspace(-1.0, 1.0, 41)


# --------------------------------------------------------------------------------------
# κ: quadrature against closed forms


@pytest.mark.parametrize("name", ["heaviside", "relu", "linear"])
def test_quadrature_matches_closed_form_on_a_grid(name):
    closed = rn.kappa(U_GRID, name, method="closed_form")
    quad = rn.kappa(U_GRID, name, method="quadrature")
    np.testing.assert_allclose(quad, closed, atol=1e-10)


def test_closed_forms_are_the_textbook_formulas():
    theta = np.arccos(U_GRID)
    np.testing.assert_allclose(rn.kappa(U_GRID, "heaviside"), 1 - theta / np.pi, atol=1e-15)
    relu = (np.sin(theta) + (np.pi - theta) * np.cos(theta)) / np.pi
    np.testing.assert_allclose(rn.kappa(U_GRID, "relu"), relu, atol=1e-15)


@SETTINGS
@given(u=st.floats(-1.0, 1.0), name=st.sampled_from(["heaviside", "relu"]))
def test_quadrature_matches_closed_form_anywhere(u, name):
    assert rn.kappa(u, name, method="quadrature") == pytest.approx(
        rn.kappa(u, name, method="closed_form"), abs=1e-10)


@pytest.mark.parametrize("spec", [*NAMED, torch.sin, lambda x: x**3 - x])
def test_kappa_at_one_is_one(spec):
    # Γ_W = 1 / E[σ(Z)²] normalises the limiting field to unit variance
    assert rn.kappa(1.0, spec) == pytest.approx(1.0, abs=1e-12)
    assert rn.kappa_depth(1.0, spec, 3) == pytest.approx(1.0, abs=1e-12)


@SETTINGS
@given(u=st.floats(0.0, 1.0), name=st.sampled_from(["tanh", "linear"]))
def test_odd_activations_give_odd_kappa(u, name):
    assert rn.kappa(-u, name) == pytest.approx(-rn.kappa(u, name), abs=1e-12)


def test_kappa_of_a_custom_callable_matches_its_named_twin():
    np.testing.assert_allclose(rn.kappa(U_GRID, lambda x: torch.tanh(x)),
                               rn.kappa(U_GRID, "tanh"), atol=1e-14)
    assert rn.activation(torch.sin).name == "sin"


@SETTINGS
@given(u=st.floats(-1.0, 1.0), name=st.sampled_from(NAMED))
def test_kappa_is_a_monotone_map_of_the_interval_into_itself(u, name):
    # κ has non-negative Hermite coefficients: increasing on [−1, 1], |κ| ≤ 1
    value = rn.kappa(u, name)
    assert -1 - 1e-12 <= value <= 1 + 1e-12
    assert rn.kappa(min(u + 0.05, 1.0), name) >= value - 1e-12


def test_kappa_depth_is_the_composition():
    u = np.linspace(-0.9, 0.9, 7)
    for name in ("heaviside", "tanh"):
        two = rn.kappa(rn.kappa(u, name), name)
        np.testing.assert_allclose(rn.kappa_depth(u, name, 2), two, atol=1e-14)
    # Heaviside, depth 2 at u = 0: κ(1/2) = 1 − arccos(1/2)/π = 2/3
    assert rn.kappa_depth(0.0, "heaviside", 2) == pytest.approx(2 / 3, abs=1e-14)


def test_kappa_fixed_points():
    u_star = rn.kappa_fixed_point("heaviside")
    assert 1 - math.acos(u_star) / math.pi == pytest.approx(u_star, abs=1e-12)
    assert 0.5 < u_star < 1
    assert rn.kappa_depth(0.0, "heaviside", 60) == pytest.approx(u_star, abs=1e-6)
    assert rn.kappa_fixed_point("relu") == 1.0          # κ(u) > u on [−1, 1)
    assert rn.kappa_fixed_point("tanh") == pytest.approx(0.0, abs=1e-9)


def test_gamma_w_normalises_the_second_moment():
    for name in NAMED:
        assert rn.gamma_w(name) * rn.second_moment(name) == pytest.approx(1.0, abs=1e-12)
    assert rn.second_moment("relu") == pytest.approx(0.5, abs=1e-14)
    assert rn.second_moment("heaviside") == pytest.approx(0.5, abs=1e-14)


# --------------------------------------------------------------------------------------
# κ'(1), β


def test_kappa_prime_one_relu_is_exactly_one():
    assert rn.kappa_prime_one("relu") == 1.0
    assert rn.kappa_prime_one("relu", method="moments") == pytest.approx(1.0, abs=1e-13)
    # the difference quotient sees the t^{3/2} term: error ~ c √h
    difference = rn.kappa_prime_one("relu", method="difference", step=1e-6)
    assert difference == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("name", ["tanh", "logistic"])
def test_kappa_prime_one_smooth_by_two_methods(name):
    moments = rn.kappa_prime_one(name, method="moments")
    difference = rn.kappa_prime_one(name, method="difference")
    assert moments == pytest.approx(difference, abs=1e-5)
    # a third, independent route: E[σ'(Z)²] by Gauss–Hermite nodes
    z, w = np.polynomial.hermite_e.hermegauss(120)
    w = w / w.sum()
    sigma = {"tanh": np.tanh, "logistic": lambda x: 1 / (1 + np.exp(-x))}[name]
    dsigma = {"tanh": lambda x: 1 - np.tanh(x) ** 2,
              "logistic": lambda x: sigma(x) * (1 - sigma(x))}[name]
    hermite = float(np.sum(w * dsigma(z) ** 2) / np.sum(w * sigma(z) ** 2))
    assert moments == pytest.approx(hermite, abs=1e-8)


def test_kappa_prime_one_regimes():
    # tanh > 1 (lengths explode), ReLU = 1 (stay), logistic < 1 (shrink), Heaviside ∞
    assert rn.kappa_prime_one("tanh") > 1 > rn.kappa_prime_one("logistic")
    assert math.isinf(rn.kappa_prime_one("heaviside"))
    assert math.isinf(rn.kappa_prime_one("heaviside", method="moments"))


def test_heaviside_difference_quotient_diverges_like_one_over_sqrt_h():
    # 1 − κ(1 − h) = √(2h)/π + O(h^{3/2}); the Richardson step multiplies c by (4√2 − 1)/3
    expected = math.sqrt(2) / math.pi * (4 * math.sqrt(2) - 1) / 3
    for h in (1e-3, 1e-4, 1e-5):
        value = rn.kappa_prime_one("heaviside", method="difference", step=h)
        assert value * math.sqrt(h) == pytest.approx(expected, rel=1e-3)


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_heaviside_regularity_index_is_one_half_to_the_depth(depth):
    est = rn.regularity_index("heaviside", depth)
    assert est.fractal
    assert est.beta == pytest.approx(0.5**depth, abs=2e-3)


@pytest.mark.parametrize(("name", "beta"), [("relu", 1.5), ("tanh", 2.0), ("logistic", 2.0)])
def test_regularity_index_of_the_kac_rice_class(name, beta):
    est = rn.regularity_index(name)
    assert not est.fractal
    assert est.beta == pytest.approx(beta, abs=5e-3)


def test_fractal_dimension_law():
    assert [rn.fractal_dimension("heaviside", L) for L in (1, 2, 3)] == [1.5, 1.75, 1.875]
    assert rn.fractal_dimension("relu", 5) == 1.0
    assert rn.fractal_dimension(torch.sin, 2) == 1.0     # smooth: β estimated, = 2


# --------------------------------------------------------------------------------------
# Kac–Rice theory curves


@SETTINGS
@given(level=st.floats(-3, 3), depth=st.integers(1, 6),
       name=st.sampled_from(["relu", "tanh", "logistic"]))
def test_expected_boundary_length_formula(level, depth, name):
    expected = 2 * math.pi * math.exp(-level**2 / 2) * rn.kappa_prime_one(name) ** (depth / 2)
    assert rn.expected_boundary_length(name, depth, level) == pytest.approx(expected, rel=1e-12)


def test_expected_boundary_volume_on_the_circle_counts_zeros():
    # S¹, K(cos γ) = cos γ (f = a cos γ + b sin γ): exactly 2 zeros, E = 2
    assert rn.expected_boundary_volume("linear", 1, sphere_dim=1) == pytest.approx(2.0)
    assert math.isinf(rn.expected_boundary_length("heaviside", 2))


# --------------------------------------------------------------------------------------
# sampling


def test_sampling_is_seeded_and_independent_of_batching():
    pts = torch.as_tensor(latlong_grid(9).points.reshape(-1, 3), dtype=torch.float32)
    a = rn.sample_networks("tanh", 3, 32, 4, seed=7)(pts)
    b = rn.sample_networks("tanh", 3, 32, 4, seed=7)(pts)
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    tail = rn.sample_networks("tanh", 3, 32, 2, seed=7, first=2)(pts)
    torch.testing.assert_close(a[2:], tail, rtol=0, atol=0)
    other = rn.sample_networks("tanh", 3, 32, 4, seed=8)(pts)
    assert not torch.allclose(a, other)
    assert a.shape == (4, 3, pts.shape[0])


def test_network_output_matches_a_plain_forward_pass():
    nets = rn.sample_networks("relu", 3, 16, 2, seed=1, dtype=torch.float64)
    x = torch.as_tensor(latlong_grid(7).points.reshape(-1, 3))
    out = nets(x, chunk=5)
    for b in range(2):
        z = x @ nets.first[b].T
        for layer in range(3):
            h = torch.relu(z)
            torch.testing.assert_close(out[b, layer], h @ nets.readout[b, layer])
            if layer < 2:
                z = h @ nets.hidden[layer][b].T


def test_weight_variances_follow_gamma_w():
    nets = rn.sample_networks("tanh", 2, 512, 1, seed=0, dtype=torch.float64)
    assert float(nets.first.var()) == pytest.approx(1.0, rel=0.05)
    assert float(nets.hidden[0].var()) * 512 == pytest.approx(rn.gamma_w("tanh"), rel=0.01)


def test_gram_sampler_is_seeded():
    pts = rn.great_circle_points([0.0, 0.5, 1.0])
    a = rn.sample_outputs("relu", 2, 64, pts, 3, seed=2)
    b = rn.sample_outputs("relu", 2, 64, pts, 3, seed=2)
    torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize("name", ["relu", "tanh", "heaviside"])
def test_wide_network_covariance_matches_kappa_recursion(name):
    # width 2048: the O(1/n) bias is far below the Monte Carlo error of 400 networks
    angles = np.linspace(0.0, np.pi, 7)
    df = rn.empirical_covariance(name, 3, 2048, 400, angles, seed=11)
    assert len(df) == 3 * 7
    assert np.all(np.abs(df["z"].fillna(0.0)) < 4.5), df


def test_weights_sampler_agrees_with_gram_sampler_in_law():
    angles = np.array([0.0, 1.0, 2.5])
    df = rn.empirical_covariance("tanh", 2, 128, 150, angles, seed=3, sampler="weights", batch=50)
    assert np.all(np.abs(df["z"]) < 4.5), df


def test_boundary_lengths_of_regular_networks_against_kac_rice():
    # width 256, depth ≤ 2, 24 networks on a 1°-ish grid: mean within 5 standard errors
    grid = latlong_grid(91)
    df = rn.boundary_lengths("relu", 2, 256, 24, grid, seed=5, batch=8)
    for depth, lengths in df.groupby("depth")["length"]:
        ci = rn.mean_ci(lengths.to_numpy())
        theory = rn.expected_boundary_length("relu", int(depth))
        assert abs(ci["mean"] - theory) < 5 * ci["stderr"] + 0.05 * theory, (depth, ci)


def test_mean_ci_coverage_formula():
    r = rn.mean_ci([1.0, 2.0, 3.0, 4.0], confidence=0.9)
    assert r["mean"] == 2.5 and r["n"] == 4
    assert r["ci_high"] - r["mean"] == pytest.approx(r["mean"] - r["ci_low"])


# --------------------------------------------------------------------------------------
# excursion sets: box dimension


def test_excursion_box_dimension_of_a_smooth_field_is_one():
    grid = cap_grid(512, 0.5, center=(0.0, 0.0, 1.0))
    x, y, _ = np.moveaxis(grid.points, -1, 0)
    field = np.sin(7 * x) + np.cos(5 * y) + 3 * x * y
    scales = [1, 2, 4, 8, 16, 32, 64, 128]
    df = rn.field_dimensions(field[None], scales=scales, level=0.2, fit_range=(4, 64))
    assert df.dimension[0] == pytest.approx(1.0, abs=0.15)


def test_excursion_box_dimension_of_a_fractional_brownian_level_set():
    # the level sets of a fractional Brownian surface with Hurst H have dimension 2 − H;
    # box counting in boundary mode sees it at the middle scales (finest ones biased low)
    scales = [1, 2, 4, 8, 16, 32, 64, 128, 256]
    surfaces = np.stack([geometry.fractional_brownian_surface(1024, 0.5, seed=seed).values
                         for seed in range(3)])
    df = rn.field_dimensions(surfaces, scales=scales, level=0.0, fit_range=(8, 128))
    assert df.dimension.mean() == pytest.approx(1.5, abs=0.12)


def test_excursion_box_counts_match_the_engine_on_a_carpet():
    carpet = geometry.sierpinski_carpet(4).mask
    df = rn.field_dimensions(carpet[None].astype(float), scales=[3, 9, 27], level=0.5,
                             fit_range="all")
    assert list(df.counts[0]) == [512, 64, 8]      # 8^{4−k}: dimension ln 8 / ln 3
    assert df.dimension[0] == pytest.approx(math.log(8) / math.log(3))


# --------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(("call", "match"), [
    (lambda: rn.activation("softsign-ish"), "unknown activation spec 'softsign-ish'"),
    (lambda: rn.kappa(1.5, "relu"), "u must lie"),
    (lambda: rn.kappa(np.nan, "relu"), "u must be a finite real number"),
    (lambda: rn.kappa(np.array([0.0, np.inf]), "relu"), "u has non-finite entries"),
    (lambda: rn.kappa(0.0, "tanh", method="closed_form"), "closed-form"),
    (lambda: rn.kappa(0.0, "relu", method="exact"), "method must be one of"),
    (lambda: rn.kappa(0.0, "tanh", order=2), "order must be an integer in"),
    (lambda: rn.kappa_depth(0.0, "relu", 0), "depth must be an integer in"),
    (lambda: rn.kappa_depth(0.0, "relu", 10**6), "depth must be an integer in"),
    (lambda: rn.kappa_prime_one("relu", method="guess"), "method"),
    (lambda: rn.kappa_prime_one("tanh", method="difference", step=0.9), "step must be"),
    (lambda: rn.second_moment(lambda x: torch.zeros_like(x)), "finite and > 0"),
    (lambda: rn.expected_boundary_length("relu", 2, level=math.inf), "level must be a finite"),
    (lambda: rn.sample_networks("relu", 2, 0), "width must be an integer >= 1"),
    (lambda: rn.sample_networks("relu", 2, 8, first=-1), "first must be an integer >= 0"),
    (lambda: rn.sample_networks("relu", 2, 8)(torch.ones(4, 2)), "points must have shape"),
    (lambda: rn.sample_networks("relu", 2, 8)(torch.ones(4, 3), depths=[3]), "depths"),
    (lambda: rn.sample_networks("relu", 2, 8)(torch.ones(4, 3), depths=[1, 1]), "distinct"),
    (lambda: rn.empirical_covariance("relu", 1, 8, 1, [0.0]), "n_networks must be"),
    (lambda: rn.empirical_covariance("relu", 1, 8, 4, [0.0], sampler="exact"), "sampler"),
    (lambda: rn.mean_ci([1.0]), "values must hold at least 2"),
    (lambda: rn.regularity_index("relu", t=[1e-3, 1e-4]), "t must be strictly increasing"),
    (lambda: rn.regularity_index("relu", t=[1e-3, 1.0]), r"t must hold values in \(0, 1\)"),
    (lambda: rn.sample_networks("relu", 1, 4)(torch.full((2, 3), math.nan)),
     r"points has non-finite entries \(6 NaN"),
])
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(("call", "match"), [
    (lambda: rn.activation(3), "spec must be an activation"),
    (lambda: rn.boundary_lengths("relu", 1, 8, 1, np.zeros((4, 4))), "grid must be a SphereGrid"),
    (lambda: rn.sample_networks("relu", 2, 8, n_networks=2.5), "n_networks must be an integer"),
    (lambda: rn.kappa_depth(0.0, "relu", 2.0), "depth must be an integer, got float"),
    (lambda: rn.expected_boundary_length("relu", 2, level="0"), "level must be a real number"),
    (lambda: rn.kappa("0.5", "relu"), "u must be a real number"),
    (lambda: rn.sample_networks("relu", 2, 8, dtype=np.float32), "dtype must be a torch dtype"),
])
def test_bad_types_raise_type_error(call, match):
    with pytest.raises(TypeError, match=match):
        call()


@pytest.mark.parametrize("call", [
    lambda: rn.sample_networks("relu", 1, 1, n_networks=10**9),
    lambda: rn.network_fields("relu", 1, 4, latlong_grid(5), n_networks=10**9),
    lambda: rn.boundary_lengths("relu", 1, 4, 10**9, latlong_grid(5)),
    lambda: rn.excursion_dimensions("relu", 1, 4, 10**9, cap_grid(16, 0.1)),
    lambda: rn.empirical_covariance("relu", 1, 4, 10**9, [0.0]),
    lambda: rn.sample_outputs("relu", 1, 4, np.eye(3), n_networks=10**9),
])
def test_a_billion_networks_are_refused_up_front(call):
    with pytest.raises(ValueError, match=r"n_networks must be an integer in \[[12], 1000000\]"):
        call()


def test_weights_past_the_budget_are_refused_up_front():
    with pytest.raises(ValueError, match="width, n_networks and input_dim asks for .* weights"):
        rn.sample_networks("relu", 3, 10**5, n_networks=2)


def test_activation_changing_shape_is_rejected():
    with pytest.raises(ValueError, match="elementwise"):
        rn.kappa(0.0, lambda x: x.sum(), method="quadrature")


# --------------------------------------------------------------------------------------
# Monte Carlo helpers of the chapter


def test_network_fields_are_the_networks_on_the_grid():
    grid = latlong_grid(9)
    fields = rn.network_fields("tanh", 2, 16, grid, 3, seed=4, batch=2)
    direct = rn.sample_networks("tanh", 2, 16, 3, seed=4)(grid.flat_points())
    np.testing.assert_allclose(fields, direct.reshape(3, 2, *grid.shape).numpy(), atol=1e-6)


def test_field_dimensions_of_straight_and_empty_boundaries():
    straight = np.tile(np.arange(64) - 20.5, (64, 1))
    flat = np.ones((64, 64))
    df = rn.field_dimensions(np.stack([straight, flat]), scales=[2, 4, 8, 16],
                             fit_range="all", level=0.0)
    assert df.dimension[0] == pytest.approx(1.0)
    assert math.isnan(df.dimension[1])              # no boundary: kept as NaN, not dropped
    median = rn.field_dimensions(straight[None] + 5.0, scales=[2, 4, 8, 16], fit_range="all",
                                 level="median")
    assert median.level[0] == pytest.approx(float(np.median(straight + 5.0)))


def test_excursion_dimensions_of_heaviside_networks_grow_with_depth():
    grid = cap_grid(128, 0.6, center=(0.0, 0.0, 1.0))
    df = rn.excursion_dimensions("heaviside", 3, 128, 3, grid, level="median",
                                 fit_range=(4, 32), seed=1)
    assert len(df) == 9 and set(df.depth) == {1, 2, 3}
    means = df.groupby("depth").dimension.mean()
    assert means[1] < means[3]
    assert np.all((df.dimension > 1.0) & (df.dimension < 2.0))


def test_limiting_fields_are_seeded_unit_variance_fields():
    grid = latlong_grid(33)
    f = rn.limiting_fields("relu", 1, grid, 32, 40, seed=2)
    np.testing.assert_allclose(f[1:3], rn.limiting_fields("relu", 1, grid, 32, 2, seed=2,
                                                          first=1))
    assert float(f[:, 16].var()) == pytest.approx(1.0, abs=0.15)   # equator, 40 fields


def test_compare_with_theory_flags_agreement():
    import pandas as pd

    df = pd.DataFrame({"activation": ["a"] * 3 + ["b"] * 3, "depth": [1] * 6,
                       "x": [0.9, 1.0, 1.1, 2.9, 3.0, 3.1]})
    out = rn.compare_with_theory(df, "x", lambda name, depth: 1.0)
    assert out.within_ci.tolist() == [True, False]
    assert out.ratio.tolist() == pytest.approx([1.0, 3.0])
    with pytest.raises(ValueError, match="columns"):
        rn.compare_with_theory(df, "y", lambda name, depth: 1.0)


def test_chapter_helpers_reject_bad_input():
    with pytest.raises(ValueError, match="level must be a real number or 'median'"):
        rn.field_dimensions(np.zeros((1, 8, 8)), level="mean")
    with pytest.raises(ValueError, match="fields must have rank 3"):
        rn.field_dimensions(np.zeros((8, 8)))
    with pytest.raises(ValueError, match="planar chart"):
        rn.excursion_dimensions("relu", 1, 4, 1, latlong_grid(9))
    with pytest.raises(TypeError, match="grid must be a SphereGrid"):
        rn.network_fields("relu", 1, 4, np.zeros((3, 3, 3)))
    # a fit range holding too few scales would give every field NaN: refused up front
    with pytest.raises(ValueError, match="fit_range"):
        rn.field_dimensions(np.zeros((1, 16, 16)), scales=[1, 2, 4], fit_range=(8, 16))
    with pytest.raises(ValueError, match="scales must be at most the grid side 16"):
        rn.field_dimensions(np.zeros((1, 16, 16)), scales=[1, 2, 32], fit_range="all")
    with pytest.raises(TypeError, match="df must be a pandas DataFrame"):
        rn.compare_with_theory({"x": [1.0]}, "x", lambda name, depth: 1.0)


def test_negative_stride_views_are_read_like_copies():
    pts = np.eye(3)[::-1]
    nets = rn.sample_networks("relu", 2, 8, 2)
    torch.testing.assert_close(nets(pts), nets(pts.copy()), rtol=0, atol=0)
    torch.testing.assert_close(rn.sample_outputs("relu", 1, 8, pts),
                               rn.sample_outputs("relu", 1, 8, pts.copy()), rtol=0, atol=0)
    u = np.linspace(-1.0, 1.0, 5)[::-1]
    np.testing.assert_array_equal(rn.kappa(u, "relu"), rn.kappa(u.copy(), "relu"))
    grid = latlong_grid(9)
    z = grid.points[..., 2][::-1, ::-1]
    assert rn.boundary_length(z, grid) == rn.boundary_length(z.copy(), grid)
    fields = np.random.default_rng(0).standard_normal((2, 16, 16))[:, ::-1]
    assert rn.field_dimensions(fields).equals(rn.field_dimensions(fields.copy()))
    spectrum = np.array([0.5, 1.0, 1.0])[::-1]
    np.testing.assert_array_equal(rn.sample_isotropic_field(spectrum, grid),
                                  rn.sample_isotropic_field(spectrum.copy(), grid))


# --- calibration of the excursion-set dimension on fBm surfaces ---------------------

def test_level_set_calibration_measures_the_bias_against_two_minus_h():
    scales = [1, 2, 4, 8, 16, 32, 64, 128, 256]  # chapter 10's resolution and window
    table = rn.level_set_calibration([0.5, 0.25], size=256, n_fields=4, scales=scales,
                                     fit_range=(8, 64), seed=0)
    assert table["hurst"].tolist() == [0.5, 0.25]
    assert table["theory"].tolist() == [1.5, 1.75]
    np.testing.assert_allclose(table["bias"], table["mean"] - table["theory"])
    # H = 1/2 (a Brownian surface): the middle-scale box count is close to 2 - H
    assert abs(table.loc[0, "bias"]) < 0.12
    assert table.loc[0, "mean"] < table.loc[1, "mean"]  # rougher surface, larger dimension
    # the same surfaces through field_dimensions give the same numbers
    surfaces = np.stack([np.asarray(geometry.fractional_brownian_surface(
        256, 0.5, seed, method="exact")) for seed in range(4)])
    direct = rn.field_dimensions(surfaces, scales=scales, level="median", fit_range=(8, 64))
    assert table.loc[0, "mean"] == pytest.approx(direct["dimension"].mean())


def test_level_set_calibration_refuses_bad_input():
    with pytest.raises(ValueError, match="hursts"):
        rn.level_set_calibration([0.0, 0.5], size=32, n_fields=2)
    with pytest.raises(ValueError, match="n_fields"):
        rn.level_set_calibration([0.5], size=32, n_fields=1)
    with pytest.raises(ValueError, match="n_fields"):
        rn.level_set_calibration([0.5], size=4096, n_fields=10**4)
    with pytest.raises(TypeError, match="size"):
        rn.level_set_calibration([0.5], size=32.0, n_fields=2)
    with pytest.raises(ValueError, match="method"):
        rn.level_set_calibration([0.5], size=32, n_fields=2, method="fourier")
