"""Tests of fractalnb.geometry.null_models: shuffles, Gaussian surrogates, exact expected counts."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fractalnb.geometry import (
    box_counts,
    box_dimension,
    compare_to_null,
    expected_counts_shuffled,
    gaussian_like,
    null_dimensions,
    shuffle_entries,
)

shapes = st.lists(st.integers(1, 7), min_size=1, max_size=3).map(tuple)


@settings(max_examples=30, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**16))
def test_shuffle_keeps_the_multiset_shape_and_dtype(shape, seed):
    w = np.random.default_rng(seed).normal(size=shape).astype(np.float32)
    s = shuffle_entries(w, seed=seed)
    assert isinstance(s, np.ndarray) and s.shape == w.shape and s.dtype == w.dtype
    np.testing.assert_array_equal(np.sort(s, axis=None), np.sort(w, axis=None))


def test_shuffle_is_reproducible_and_keeps_torch():
    w = torch.arange(100.0).reshape(10, 10)
    a, b = shuffle_entries(w, seed=3), shuffle_entries(w, seed=3)
    assert isinstance(a, torch.Tensor) and torch.equal(a, b)
    assert not torch.equal(a, shuffle_entries(w, seed=4))
    assert not torch.equal(a, w)


def test_shuffle_of_a_mask_keeps_its_size():
    mask = np.zeros((8, 8), dtype=bool)
    mask[:2] = True
    assert shuffle_entries(mask, seed=0).sum() == 16


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(2, 9), min_size=1, max_size=3).map(tuple),
       seed=st.integers(0, 2**16))
def test_shuffle_keeps_every_rules_threshold_and_density(shape, seed):
    w = np.random.default_rng(seed).standard_t(3, size=shape)
    s = shuffle_entries(w, seed=seed + 1)
    for rule in (("quantile", 0.5), ("mean_std", 0.5), float(np.median(np.abs(w)))):
        try:
            fit_w = box_dimension(w, threshold=rule, scales=[1], fit_range="all")
        except ValueError:
            continue  # too few scales for a fit: compare the masks instead
        fit_s = box_dimension(s, threshold=rule, scales=[1], fit_range="all")
        assert fit_w.tau == fit_s.tau and fit_w.density == fit_s.density
    from fractalnb.geometry import occupancy
    for rule in (("quantile", 0.5), ("mean_std", 0.0)):
        try:
            a = occupancy(w, rule)
        except ValueError:  # a rule leaving A empty or full is refused for both
            with pytest.raises(ValueError):
                occupancy(s, rule)
            continue
        assert a.sum() == occupancy(s, rule).sum()


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(1, 9), min_size=1, max_size=3).map(tuple),
       seed=st.integers(0, 2**16))
def test_gaussian_like_matches_mean_and_std_exactly(shape, seed):
    rng = np.random.default_rng(seed)
    w = rng.exponential(size=shape) * 3 + 1
    if w.size < 2:
        with pytest.raises(ValueError, match="at least 2"):
            gaussian_like(w, seed=seed)
        return
    g = gaussian_like(w, seed=seed)
    assert g.shape == w.shape and g.dtype == w.dtype
    assert math.isclose(g.mean(), w.mean(), rel_tol=1e-9, abs_tol=1e-9)
    assert math.isclose(g.std(), w.std(), rel_tol=1e-9, abs_tol=1e-9)


def test_gaussian_like_is_gaussian_and_keeps_torch_float32():
    w = torch.rand(200, 300) * 4 - 1
    g = gaussian_like(w, seed=0)
    assert isinstance(g, torch.Tensor) and g.dtype == torch.float32
    z = ((g - g.mean()) / g.std()).double()
    assert abs(float((z**3).mean())) < 0.05          # skewness of a normal: 0
    assert abs(float((z**4).mean()) - 3.0) < 0.1     # kurtosis of a normal: 3
    assert torch.equal(g, gaussian_like(w, seed=0))
    integer = gaussian_like(np.array([1, 2, 3, 4]), seed=0)
    assert integer.dtype == np.float64


def _brute_force_expectation(shape, scales, k, mode):
    """Average box_counts over every placement of k points (small grids only)."""
    n = math.prod(shape)
    totals = np.zeros(len(scales))
    placements = list(itertools.combinations(range(n), k))
    for chosen in placements:
        mask = np.zeros(n, dtype=bool)
        mask[list(chosen)] = True
        totals += box_counts(mask.reshape(shape), scales, mode)
    return totals / len(placements)


@pytest.mark.parametrize("shape", [(3, 3), (5,), (2, 3, 2)])
@pytest.mark.parametrize("mode", ["occupied", "boundary"])
def test_expected_counts_equal_the_average_over_all_placements(shape, mode):
    scales = [r for r in (1, 2, 3, 4) if r <= max(shape)]
    n = math.prod(shape)
    # every k on small grids; on larger ones the ends (the middle k have many placements)
    ks = range(n + 1) if n <= 9 else [*range(4), *range(n - 3, n + 1)]
    for k in ks:
        exact = _brute_force_expectation(shape, scales, k, mode)
        np.testing.assert_allclose(
            expected_counts_shuffled(shape, scales, k, mode), exact, rtol=1e-9, atol=1e-9
        )


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(4, 24), min_size=2, max_size=2).map(tuple),
       fraction=st.floats(0.02, 0.98), seed=st.integers(0, 2**16))
def test_expected_counts_match_monte_carlo_shuffles(shape, fraction, seed):
    n = math.prod(shape)
    k = max(1, min(n - 1, round(fraction * n)))
    mask = np.zeros(n, dtype=bool)
    mask[:k] = True
    mask = mask.reshape(shape)
    scales = [r for r in (1, 2, 3, 4, 8) if r <= max(shape)]
    samples = np.array([box_counts(shuffle_entries(mask, seed + s), scales, "occupied")
                        for s in range(200)], dtype=np.float64)
    expected = expected_counts_shuffled(shape, scales, k)
    standard_error = samples.std(axis=0, ddof=1) / math.sqrt(len(samples))
    # + 0.02: rare events (a box empty with probability < 1e-3) leave the sample std at 0
    assert np.all(np.abs(samples.mean(axis=0) - expected) <= 5 * standard_error + 0.02)


def test_expected_counts_known_cases():
    shape, scales = (16, 32), [1, 2, 4, 8, 16, 32]
    boxes = np.array([512, 128, 32, 8, 2, 1], dtype=float)
    np.testing.assert_array_equal(expected_counts_shuffled(shape, scales, 0), 0.0)
    np.testing.assert_allclose(expected_counts_shuffled(shape, scales, 512), boxes)
    np.testing.assert_allclose(expected_counts_shuffled(shape, scales, 512, "boundary"), 0.0)
    np.testing.assert_allclose(expected_counts_shuffled(shape, [1], 37), [37.0])
    # one point: exactly one box meets it at every scale
    np.testing.assert_allclose(expected_counts_shuffled(shape, scales, 1), 1.0)
    # i.i.d. limit: E N(r) ~ (n / r^2) (1 - (1 - p)^(r^2)) for a large grid
    big = (1024, 1024)
    p = 0.01
    approx = [(big[0] * big[1] / r**2) * (1 - (1 - p) ** (r * r)) for r in (2, 4, 8)]
    np.testing.assert_allclose(
        expected_counts_shuffled(big, [2, 4, 8], round(p * big[0] * big[1])), approx, rtol=1e-3
    )


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: shuffle_entries(np.array(1.0)), ValueError, "x must have rank"),
        (lambda: shuffle_entries(np.zeros((0, 3))), ValueError, "x is empty"),
        (lambda: shuffle_entries(np.array([1.0, np.nan])), ValueError, "x has non-finite"),
        (lambda: shuffle_entries(np.array([1j, 2j])), ValueError, "x must be real"),
        (lambda: shuffle_entries(np.ones(3), seed=-1), ValueError, "seed must be an integer >= 0"),
        (lambda: shuffle_entries(np.ones(3), seed=1.0), TypeError, "seed must be an integer"),
        (lambda: shuffle_entries([1.0, 2.0]), TypeError, "numpy array or a torch tensor"),
        (lambda: gaussian_like(np.array([np.inf, 1.0])), ValueError, "1 infinite"),
        (lambda: gaussian_like(np.ones(3, bool)), ValueError, "x must be real-valued"),
        (lambda: expected_counts_shuffled((4, 4), [2], 17), ValueError, "occupied"),
        (lambda: expected_counts_shuffled((4, 4), [2], 3.0), TypeError, "occupied"),
        (lambda: expected_counts_shuffled((4, 4), [0], 3), ValueError, "scales"),
        (lambda: expected_counts_shuffled((4, 4), [2, 1], 3), ValueError, "strictly increasing"),
        (lambda: expected_counts_shuffled((4, 4), [2], 3, mode="differential"), ValueError,
         "mode"),
        (lambda: expected_counts_shuffled((), [1], 0), ValueError, "shape"),
        (lambda: expected_counts_shuffled((4, 4.5), [1], 0), TypeError, "shape"),
        (lambda: null_dimensions(np.ones((8, 8)), {"a": 0.5}, 1), ValueError, "n_samples"),
        (lambda: null_dimensions(np.ones((8, 8)), {"a": 0.5}, 2.0), TypeError, "n_samples"),
        (lambda: null_dimensions(np.ones((8, 8)), {"a": 0.5}, 2, models=("uniform",)),
         ValueError, "models"),
        (lambda: null_dimensions(np.ones((8, 8)), {}, 2), ValueError, "thresholds"),
        (lambda: null_dimensions(np.ones((8, 8)), {"a": "q"}, 2), TypeError, "thresholds"),
        (lambda: null_dimensions(np.ones((8, 8)), {"a": 0.5}, 10**9), ValueError,
         "more than the limit"),
    ],
)
def test_bad_input_is_refused_with_a_message(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_null_dimensions_and_comparison():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(64, 64))
    w[:8, :8] *= 20  # a block of large weights: structure a shuffle destroys
    rules = {"q0.95": ("quantile", 0.95), "k2": ("mean_std", 2.0)}
    null = null_dimensions(w, rules, 4, progress=False)
    assert len(null) == 2 * 4 * 2
    assert set(null.columns) >= {"model", "sample", "rule", "dimension", "density", "tau"}
    again = null_dimensions(w, rules, 4, progress=False)
    np.testing.assert_array_equal(null["dimension"], again["dimension"])
    shuffled = null[(null["model"] == "shuffled") & (null["rule"] == "q0.95")]
    observed = {label: box_dimension(w, threshold=rule) for label, rule in rules.items()}
    assert np.all(shuffled["density"] == observed["q0.95"].density)
    table = compare_to_null(observed, null)
    assert len(table) == 4
    row = table[(table["rule"] == "q0.95") & (table["model"] == "shuffled")].iloc[0]
    assert row["observed"] < row["null_min"]  # a compact block covers fewer boxes
    assert row["distinct"] and row["outside_range"]
    assert math.isclose(row["z"], (row["observed"] - row["null_mean"]) / row["null_std"])
    with pytest.raises(ValueError, match="no null samples"):
        compare_to_null({"other": observed["k2"]}, null)


def test_plot_helpers_for_null_models_and_dsi():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from fractalnb import geometry, plotting
    from fractalnb.geometry import dsi_test

    w = np.random.default_rng(1).normal(size=(32, 32))
    rules = {"q0.9": ("quantile", 0.9)}
    null = null_dimensions(w, rules, 3, progress=False)
    observed = box_dimension(w, threshold=rules["q0.9"]).dimension
    ax = plotting.plot_null_comparison(null, {"q0.9": observed}, reference={"q0.9": 1.5})
    assert ax.get_ylabel() == "dimension" and len(ax.collections) >= 3
    with pytest.raises(ValueError, match="without null samples"):
        plotting.plot_null_comparison(null, {"other": 1.0})
    with pytest.raises(ValueError, match="columns"):
        plotting.plot_null_comparison(null.drop(columns="model"), {"q0.9": 1.0})
    result = dsi_test(geometry.cantor_set(6).mask, dilation=3, fit_range="all")
    axes = plotting.plot_dsi(result)
    assert len(axes) == 3
    ratios = axes[1].lines[0].get_ydata()
    np.testing.assert_allclose(ratios, result.ratios)
    # one legend for the three panels, under them, none over the data
    fig = axes[0].figure
    assert all(ax.get_legend() is None for ax in axes) and len(fig.legends) == 1
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "r = 3^k" in texts and any(t.startswith("line through 3^k") for t in texts)
    # on a figure without constrained layout the legend hangs under the middle panel
    _, plain = plt.subplots(1, 3, layout="none")
    plotting.plot_dsi(result, axes=plain)
    assert plain[1].get_legend() is not None and not plain[0].figure.legends
    with pytest.raises(TypeError, match="DSIResult"):
        plotting.plot_dsi(object())
    plt.close("all")
