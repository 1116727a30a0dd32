"""Tests of fractalnb.graphs: G_M, pseudo box counts, SS_rate and the constraint."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from fractalnb import graphs

SETTINGS = settings(max_examples=30, deadline=None)


def random_features(d: int = 24, b: int = 12, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(d, b))


# --- pseudo box count -------------------------------------------------------------------------


@pytest.mark.parametrize("formula", graphs.FORMULAS)
@given(d=st.integers(3, 5000))
@SETTINGS
def test_pseudo_box_count_endpoints(formula, d):
    values = graphs.pseudo_box_count(np.array([0.0, 1.0]), d, formula=formula)
    np.testing.assert_allclose(values, [d, 1.0], rtol=1e-12)


@pytest.mark.parametrize("formula", graphs.FORMULAS)
def test_pseudo_box_count_is_decreasing_and_matches_written_formula(formula):
    d = 50
    p = np.linspace(0, 1, 101)
    values = graphs.pseudo_box_count(p, d, formula=formula)
    assert np.all(np.diff(values) < 0)
    if formula == "paper":
        expected = 1 + (d - 1) * np.log(d + (1 - d) * p) / np.log(d)
    else:
        expected = d - (d - 1) * np.log(1 + (d - 1) * p) / np.log(d)
    np.testing.assert_allclose(values, expected)
    torch_values = graphs.pseudo_box_count(torch.as_tensor(p), d, formula=formula)
    np.testing.assert_allclose(torch_values.numpy(), expected)


# --- SS_rate of known curves ------------------------------------------------------------------


def test_ss_rate_zero_on_the_chord_and_known_value_for_a_parabola():
    x = np.linspace(0.0, 2.0, 256)
    chord = 1 - x / 2
    assert graphs.ss_rate_of_curve(x, chord) == pytest.approx(0.0, abs=1e-15)
    # y = 1 - t^2 with t = x / 2: 2 * mean(t - t^2) -> 2 * (1/2 - 1/3) = 1/3 as the grid refines
    t = x / 2
    exact_mean = 2 * np.mean(np.abs(t - t**2))
    assert graphs.ss_rate_of_curve(x, 1 - t**2) == pytest.approx(exact_mean)
    assert exact_mean == pytest.approx(1 / 3, abs=2e-3)


@SETTINGS
@given(a=st.floats(0.0, 1.0), b=st.floats(0.0, 1.0))
def test_ss_rate_grows_with_curvature(a, b):
    x = np.linspace(0.0, 1.0, 256)
    low, high = sorted((a, b))
    # y = 1 - x + c x (1 - x): bends away from the chord by c; SS_rate = 2 c mean(x (1 - x))
    rate_low = graphs.ss_rate_of_curve(x, 1 - x + low * x * (1 - x))
    rate_high = graphs.ss_rate_of_curve(x, 1 - x + high * x * (1 - x))
    assert rate_low <= rate_high + 1e-12
    assert rate_high == pytest.approx(2 * high * np.mean(x * (1 - x)))


def _inverse_pseudo_box_count(n_boxes: np.ndarray, d: int, formula: str) -> np.ndarray:
    """The pair fraction p at which the pseudo box count equals ``n_boxes``."""
    if formula == "paper":  # N = 1 + (D-1) log_D(D + (1-D) p)
        return (d - d ** ((n_boxes - 1) / (d - 1))) / (d - 1)
    return (d ** ((d - n_boxes) / (d - 1)) - 1) / (d - 1)  # N = D - (D-1) log_D(1 + (D-1) p)


@pytest.mark.parametrize("formula", graphs.FORMULAS)
def test_exact_power_law_feature_network_has_zero_ss_rate(formula):
    # Construct distances whose pseudo box count is an exact power law of 1 + theta:
    # choose p(theta) so that ln N / ln D falls linearly in ln(1 + theta) (for the formula
    # under test), then place the pair distances at the quantiles of that p.
    d = 400
    pairs = d * (d - 1) // 2
    tz, tv = 0.0, 3.0
    lo = np.linspace(np.log1p(tz), np.log1p(tv), 100_000)
    y = 1 - (lo - lo[0]) / (lo[-1] - lo[0])
    p = _inverse_pseudo_box_count(d**y, d, formula)
    np.testing.assert_allclose(graphs.pseudo_box_count(p, d, formula=formula), d**y, rtol=1e-9)
    quantiles = (np.arange(pairs) + 0.5) / pairs
    distances = np.expm1(np.interp(quantiles, p, lo))
    distances[0], distances[-1] = tz, tv
    thetas = graphs.theta_grid(distances)
    pf = graphs.pair_fraction(distances, thetas)
    curve_y = np.log(graphs.pseudo_box_count(pf, d, formula=formula)) / np.log(d)
    rate = graphs.ss_rate_of_curve(np.log1p(thetas), curve_y)
    assert rate < 0.01
    # a network with the same range but all pairs at the far end is far from a power law
    far = np.full(pairs, tv)
    far[0] = tz
    pf_far = graphs.pair_fraction(far, thetas)
    far_y = np.log(graphs.pseudo_box_count(pf_far, d, formula=formula)) / np.log(d)
    assert graphs.ss_rate_of_curve(np.log1p(thetas), far_y) > 0.9


def test_default_formula_is_the_authors_code():
    features = random_features(30, 10, seed=2)
    p = np.linspace(0, 1, 11)
    np.testing.assert_array_equal(graphs.pseudo_box_count(p, 30),
                                  graphs.pseudo_box_count(p, 30, formula="code"))
    assert graphs.ss_rate(features) == graphs.ss_rate(features, formula="code")
    assert graphs.self_similarity_curve(features).formula == "code"
    # the two formulas put the same features on different scales
    assert graphs.ss_rate(features, formula="paper") > graphs.ss_rate(features) + 0.1


@SETTINGS
@given(seed=st.integers(0, 10_000), d=st.integers(3, 40), b=st.integers(2, 20),
       scale=st.floats(1e-3, 1e3), shift=st.floats(-10, 10))
def test_ss_rate_is_invariant_under_channel_permutation_and_common_shift(seed, d, b, scale,
                                                                         shift):
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(d, b))
    if np.ptp(graphs.pair_distances(features)) == 0:
        return
    base = graphs.self_similarity_curve(features, n_thetas=32)
    permuted = graphs.self_similarity_curve(features[rng.permutation(d)], n_thetas=32)
    shifted = graphs.self_similarity_curve(features + shift, n_thetas=32)
    assert permuted.ss_rate == pytest.approx(base.ss_rate)
    assert shifted.ss_rate == pytest.approx(base.ss_rate, abs=1e-9)
    # a common scale changes the thresholds, theta -> s theta, so SS_rate is NOT scale-free:
    # it stays within [0, 2] whatever the scale
    assert 0 <= graphs.ss_rate(features * scale, n_thetas=32) <= 2


def test_curve_structure_and_endpoints():
    curve = graphs.self_similarity_curve(random_features(), n_thetas=64)
    assert curve.theta[0] == pytest.approx(graphs.pair_distances(random_features()).min())
    assert curve.p[-1] == 1.0
    assert curve.n_boxes[-1] == pytest.approx(1.0)
    assert np.all(np.diff(curve.n_boxes) <= 0)
    frame = curve.to_frame()
    assert list(frame.columns) == ["theta", "lo_theta", "p", "n_boxes", "log_n", "chord"]
    np.testing.assert_allclose(np.diff(curve.lo_theta), np.diff(curve.lo_theta)[0])


def test_pair_distances_formula_and_torch_numpy_agree():
    features = random_features(10, 7, seed=3)
    ours = graphs.pair_distances(features)
    rows, cols = np.triu_indices(10, k=1)
    expected = np.linalg.norm(features[rows] - features[cols], axis=1) / np.sqrt(7)
    np.testing.assert_allclose(ours, expected)
    np.testing.assert_allclose(graphs.pair_distances(torch.as_tensor(features)).numpy(), expected)
    matrix = graphs.distance_matrix(features)
    np.testing.assert_allclose(matrix[rows, cols], expected)
    np.testing.assert_allclose(matrix, matrix.T)


def test_channel_features_layouts():
    x = torch.randn(5, 6, 3, 4)
    np.testing.assert_allclose(graphs.channel_features(x), x.mean(dim=(2, 3)).T)
    np.testing.assert_allclose(graphs.channel_features(x.permute(0, 2, 3, 1), "bhwc"),
                               x.mean(dim=(2, 3)).T, rtol=1e-6)
    tokens = torch.randn(5, 9, 6)
    np.testing.assert_allclose(graphs.channel_features(tokens), tokens.mean(dim=1).T)
    assert graphs.channel_features(np.ones((5, 6))).shape == (6, 5)


def test_real_metric_box_counts_match_module_and_bound_pseudo_count():
    features = random_features(40, 16, seed=1)
    real = graphs.metric_self_similarity_curve(features, n_thetas=16)
    assert real.n_boxes[0] <= 40 and real.n_boxes[-1] == 1
    assert np.all(np.diff(real.n_boxes) <= 0)
    counts = graphs.metric_box_cover(graphs.distance_matrix(features), real.theta, seed=0).n_boxes
    np.testing.assert_array_equal(real.n_boxes, counts)


# --- the constraint -----------------------------------------------------------------------------


def test_penalty_value_equals_exact_ss_rate():
    features = torch.as_tensor(random_features(32, 16, seed=4))
    penalty, rate = graphs.self_similarity_penalty(features, target=0.1)
    assert rate == pytest.approx(graphs.ss_rate(features.numpy()))
    assert float(penalty) == pytest.approx((rate - 0.1) ** 2)


def _one_close_pair(d: int = 40) -> torch.Tensor:
    """Channels nearly equidistant except one close pair: p stays ~0 until TV, so the
    normalised log box count lies above the chord and SS_rate is large."""
    gen = torch.Generator().manual_seed(0)
    x = 3 * torch.eye(d, dtype=torch.float64)
    x = x + 0.05 * torch.randn(d, d, dtype=torch.float64, generator=gen)
    x[1] = x[0] + 0.01 * torch.randn(d, dtype=torch.float64, generator=gen)
    return x


@pytest.mark.parametrize("target", [0.0, 2.0])
def test_surrogate_gradient_is_finite_and_has_the_right_sign(target):
    # Spreading the channels apart (x -> m + (1 + eps)(x - m)) raises the exact SS_rate of
    # this network (checked by finite differences). So the surrogate gradient of
    # (SS_rate - target)^2 along the spreading direction must be positive when the target is
    # below SS_rate and negative when it is above.
    x = _one_close_pair()
    centred = x - x.mean(dim=0)
    rate = graphs.ss_rate(x.numpy())
    spread = graphs.ss_rate((x + 0.05 * centred).numpy())
    assert spread > rate  # the finite-difference ground truth
    exact_change = (spread - target) ** 2 - (rate - target) ** 2
    leaf = x.clone().requires_grad_(True)
    penalty, value = graphs.self_similarity_penalty(leaf, target=target)
    penalty.backward()
    assert value == pytest.approx(rate)
    assert torch.isfinite(leaf.grad).all()
    directional = float((leaf.grad * centred).sum())
    assert np.sign(directional) == np.sign(exact_change) != 0


def test_surrogate_gradient_descent_lowers_ss_rate():
    torch.manual_seed(0)
    y = torch.randn(32, 16, dtype=torch.float64) * torch.linspace(0.2, 3.0, 32)[:, None]
    start = graphs.ss_rate(y.numpy())
    for _ in range(30):
        y.requires_grad_(True)
        penalty, _ = graphs.self_similarity_penalty(y, target=0.0)
        (grad,) = torch.autograd.grad(penalty, y)
        y = (y - 0.5 * grad / grad.norm()).detach()
    assert graphs.ss_rate(y.numpy()) < start


def test_penalty_gradient_is_finite_with_duplicate_channels():
    x = torch.randn(8, 5, dtype=torch.float64)
    x = torch.cat([x, x[:2]]).requires_grad_(True)
    penalty, _ = graphs.self_similarity_penalty(x, target=0.0)
    penalty.backward()
    assert torch.isfinite(x.grad).all()


def test_constraint_hooks_layers_and_records_history():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(),
                        nn.Linear(16, 3))
    constraint = graphs.SelfSimilarityConstraint(net, ["1", "3"], target=0.2, weight=0.5, seed=1,
                                             n_thetas=32)
    for _ in range(4):
        out = net(torch.randn(8, 4))
        loss = constraint(net, None, out)
        loss.backward()
    frame = constraint.history_frame()
    assert len(frame) == 4 and set(frame["layer"]) <= {"1", "3"}
    assert np.allclose(frame["penalty"], 0.5 * (frame["ss_rate"] - 0.2) ** 2)
    assert net[0].weight.grad is not None and torch.isfinite(net[0].weight.grad).all()
    constraint.remove()
    out = net(torch.randn(8, 4))
    assert constraint._recorder.outputs["1"].shape[0] == 8  # hooks removed: outputs unchanged


def test_layer_self_similarity_table():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 8))
    table = graphs.layer_self_similarity(net, torch.randn(16, 4), ["0", "2"], n_thetas=16)
    assert table["layer"].tolist() == ["0", "2"]
    assert table["channels"].tolist() == [8, 8]
    assert ((table["ss_rate"] >= 0) & (table["ss_rate"] <= 2)).all()


def test_compare_constraint_formula_and_baseline_options():
    from torch.utils.data import DataLoader, TensorDataset

    x = torch.randn(32, 3, 2, 2, generator=torch.Generator().manual_seed(0))
    y = torch.arange(32) % 10
    loaders = (DataLoader(TensorDataset(x, y), batch_size=16),
               DataLoader(TensorDataset(x, y), batch_size=16))

    def build():
        return nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.Tanh(), nn.Linear(8, 10))

    options = dict(seeds=[0], target=0.2, weight=1.0, layers=["2"], n_thetas=16, epochs=1,
                   loaders=loaders, progress=False, device="cpu")
    both = graphs.compare_constraint(build, x[:16], **options)
    assert set(both["run"]) == {"baseline", "constrained"}
    only = graphs.compare_constraint(build, x[:16], baseline=False, **options)
    assert set(only["run"]) == {"constrained"}
    constrained = both[both["run"] == "constrained"].reset_index(drop=True)
    np.testing.assert_allclose(only["ss_mean"], constrained["ss_mean"])  # same seed, same run
    # the logged SS_rate is on the scale of the formula asked for (code by default)
    torch.manual_seed(0)
    initial = build()
    start = {f: graphs.layer_self_similarity(initial, x[:16], ["2"], n_thetas=16,
                                             formula=f)["ss_rate"].iloc[0]
             for f in graphs.FORMULAS}
    paper = graphs.compare_constraint(build, x[:16], formula="paper", baseline=False, **options)
    assert only["ss_mean"].iloc[0] == pytest.approx(start["code"])
    assert paper["ss_mean"].iloc[0] == pytest.approx(start["paper"])
    with pytest.raises(ValueError, match="formula"):
        graphs.compare_constraint(build, x[:16], formula="mine", **options)
    with pytest.raises(TypeError, match="baseline"):
        graphs.compare_constraint(build, x[:16], baseline="no", **options)


def test_classical_mds_recovers_planar_points():
    points = np.random.default_rng(0).normal(size=(12, 2))
    distances = np.linalg.norm(points[:, None] - points[None], axis=-1)
    embedding = graphs.classical_mds(distances)
    recovered = np.linalg.norm(embedding[:, None] - embedding[None], axis=-1)
    np.testing.assert_allclose(recovered, distances, atol=1e-8)


# --- bad input ------------------------------------------------------------------------------------


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="D >= 3"):
        graphs.ss_rate(np.ones((2, 5)))
    with pytest.raises(ValueError, match="B >= 2"):
        graphs.ss_rate(np.ones((5, 1)))
    nan = random_features()
    nan[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        graphs.ss_rate(nan)
    with pytest.raises(ValueError, match="constant layer"):
        graphs.ss_rate(np.ones((6, 4)))
    with pytest.raises(ValueError, match="formula"):
        graphs.ss_rate(random_features(), formula="mine")
    with pytest.raises(ValueError, match="n_thetas"):
        graphs.ss_rate(random_features(), n_thetas=1)
    with pytest.raises(ValueError, match="p must lie"):
        graphs.pseudo_box_count(np.array([1.5]), 10)
    with pytest.raises(ValueError, match="n_channels"):
        graphs.pseudo_box_count(np.array([0.5]), 2)
    with pytest.raises(ValueError, match="layout"):
        graphs.channel_features(np.ones((2, 3)), layout="nchw")
    with pytest.raises(ValueError, match="needs 4-D"):
        graphs.channel_features(np.ones((2, 3)), layout="bchw")
    with pytest.raises(TypeError, match="features"):
        graphs.self_similarity_penalty(np.ones((5, 3)), target=0.0)
    with pytest.raises(ValueError, match="weight"):
        graphs.SelfSimilarityConstraint(nn.Linear(2, 3), ["0"], target=0.1, weight=-1)
    with pytest.raises(ValueError, match="no layers named"):
        graphs.LayerRecorder(nn.Sequential(nn.Linear(2, 3)), ["5"])
    with pytest.raises(ValueError, match="cannot guess"):
        graphs.default_layers(nn.Linear(2, 2))


# --- token models ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["vit", "mixer"])
def test_token_models_shapes_and_default_layers(name):
    from fractalnb.graphs import build_token_model

    torch.manual_seed(0)
    model = build_token_model(name, width=16, depth=2, patch_size=8)
    assert model(torch.zeros(3, 3, 32, 32)).shape == (3, 10)
    assert graphs.default_layers(model) == ["blocks.0", "blocks.1"]
    features = graphs.layer_features(model, torch.randn(6, 3, 32, 32))
    assert all(f.shape == (16, 6) for f in features.values())


def test_token_models_bad_input():
    from fractalnb.graphs import build_token_model

    with pytest.raises(ValueError, match="name"):
        build_token_model("resnet")
    with pytest.raises(ValueError, match="patch_size"):
        build_token_model("vit", patch_size=5)
    with pytest.raises(ValueError, match="num_heads"):
        build_token_model("vit", width=30, num_heads=4)
    with pytest.raises(ValueError, match="depth"):
        build_token_model("mixer", depth=0)
