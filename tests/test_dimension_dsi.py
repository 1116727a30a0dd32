"""Discrete scale invariance: the ratio test and the log-periodic residual.

Validated on sets that are DSI with a known factor (the Cantor set, Sierpinski triangle
and carpet, the Vicsek fractal, random fractal percolation: lambda = 3, 2, 3, 3, 3) and
on sets that are not (a random Bernoulli set, a Gaussian weight matrix) or that are
continuously scale invariant (a filled square, a straight line: constant ratios, flat
residual).
"""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fractalnb import geometry
from fractalnb.geometry import (
    box_dimension,
    dsi_test,
    estimate_dilation,
    log_periodic_concordance,
    ratio_residual,
)

# the engine of dsi_test, tested on its own (private: not part of the API)
from fractalnb.geometry.dsi import _dense_scales as dense_scales
from fractalnb.geometry.dsi import _log_periodic_fit as log_periodic_fit

SETTINGS = settings(deadline=None, max_examples=30, derandomize=True)

DSI_SETS = [
    (geometry.cantor_set(10), 3),
    (geometry.sierpinski_triangle(9), 2),
    (geometry.sierpinski_carpet(6), 3),
    (geometry.vicsek_fractal(6), 3),
    (geometry.cantor_dust(3, rank=4), 3),
    (geometry.fractal_percolation(6, 0.8, seed=0), 3),
]


@pytest.mark.parametrize(
    ("fractal", "dilation"), DSI_SETS, ids=lambda v: getattr(v, "name", str(v))
)
def test_dsi_sets_pass_with_their_factor_and_the_factor_is_recovered(fractal, dilation):
    result = dsi_test(fractal.mask, dilation)
    assert result.is_dsi and result.ratio_constant and result.log_periodic
    assert result.dimension == pytest.approx(fractal.dimension, abs=0.05)
    if "percolation" not in fractal.name:  # deterministic constructions: exact ratios
        assert result.ratio_residual == 0.0
        np.testing.assert_allclose(result.ratios, dilation**fractal.dimension)
    assert result.log_periodic_concordance >= 0.9
    assert estimate_dilation(fractal.mask) == dilation


@pytest.mark.parametrize(("fractal", "wrong"), [
    (geometry.cantor_set(10), 2), (geometry.sierpinski_triangle(9), 3),
    (geometry.sierpinski_carpet(6), 2),
])  # fmt: skip
def test_a_wrong_factor_fails(fractal, wrong):
    assert not dsi_test(fractal.mask, wrong).is_dsi


def _random_sets():
    rng = np.random.default_rng(0)
    return [
        ("Bernoulli p=0.02", rng.random((512, 512)) < 0.02),
        ("Bernoulli p=0.1", rng.random((729, 729)) < 0.1),
        ("Gaussian weights", rng.standard_normal((512, 512))),
        ("Gaussian conv weights", torch.from_numpy(rng.standard_normal((64, 64, 3, 3)))),
    ]


@pytest.mark.parametrize(
    ("name", "x"), _random_sets(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_random_sets_are_not_dsi(name, x):
    for dilation in (2, 3):
        result = dsi_test(x, dilation)
        assert not result.is_dsi, name
    assert estimate_dilation(x) is None


CSI_SETS = [geometry.filled_square(512), geometry.line(512, 0), geometry.filled_square(729)]


@pytest.mark.parametrize("fractal", CSI_SETS, ids=lambda f: f.name)
def test_continuous_scale_invariance_is_not_dsi_proper(fractal):
    # constant ratios at the matched factor, but a flat residual between the lambda^k
    dilation = 3 if fractal.mask.shape[0] == 729 else 2
    result = dsi_test(fractal.mask, dilation)
    assert result.ratio_constant and result.ratio_residual == 0.0
    assert not result.log_periodic and not result.is_dsi
    assert estimate_dilation(fractal.mask) is None


def test_the_dsi_result_agrees_with_box_dimension():
    carpet = geometry.sierpinski_carpet(6).mask
    result = dsi_test(carpet, 3)
    fit = box_dimension(carpet, dilation=3)
    assert fit.fit_range == result.fit_range
    assert fit.dsi_residual == result.ratio_residual == 0.0
    assert fit.dimension == pytest.approx(result.dimension)
    mask = np.random.default_rng(1).random((256, 256)) < 0.05
    assert box_dimension(mask).dsi_residual == pytest.approx(dsi_test(mask).ratio_residual)
    assert math.isnan(box_dimension(mask, scales=[1, 2, 3, 5, 8, 13]).dsi_residual)
    row = result.to_dict()
    assert row["is_dsi"] is True and row["dilation"] == 3


def test_dense_scales_pair_with_their_multiples():
    result = dsi_test(geometry.cantor_set(9).mask, 3)
    dense = set(result.dense_scales.tolist())
    assert all(result.fit_range[0] <= r <= result.fit_range[1] for r in dense)
    assert all(3 * r in dense or (r % 3 == 0 and r // 3 in dense) for r in dense)
    np.testing.assert_allclose(result.phase, np.mod(np.log(result.dense_scales) / np.log(3), 1))
    # the residual vanishes at the powers of lambda
    powers = np.isin(result.dense_scales, result.scales)
    np.testing.assert_allclose(result.residuals[powers], 0.0, atol=1e-9)


def test_transposed_set_gives_the_same_test():
    triangle = geometry.sierpinski_triangle(8).mask
    a, b = dsi_test(triangle, 2), dsi_test(triangle.T, 2)
    np.testing.assert_array_equal(a.dense_counts, b.dense_counts)
    assert a.log_periodic_concordance == b.log_periodic_concordance


# ---------------------------------------------------------------------------------------
# the statistics on their own


@SETTINGS
@given(
    dimension=st.floats(0.2, 3.0),
    lam=st.integers(2, 5),
    k=st.integers(3, 7),
    factor=st.integers(1, 1000),
)
def test_ratio_residual_is_zero_for_a_geometric_sequence_and_scale_free(dimension, lam, k, factor):
    counts = np.exp(-dimension * np.log(lam) * np.arange(k)) * 1e9
    assert ratio_residual(counts, lam) == 0.0
    noisy = counts * np.exp(0.1 * np.sin(np.arange(k) * 1.7))
    assert ratio_residual(noisy * factor, lam) == pytest.approx(ratio_residual(noisy, lam))
    assert ratio_residual(noisy, lam) > 0
    slopes = -np.diff(np.log(noisy)) / np.log(lam)  # the spread of the local slopes
    assert ratio_residual(noisy, lam) == pytest.approx(slopes.std())


@SETTINGS
@given(
    lam=st.integers(2, 5),
    amplitude=st.floats(0.05, 1.0),
    phase=st.floats(0.0, 2 * math.pi),
    seed=st.integers(0, 1000),
)
def test_log_periodic_statistics_on_synthetic_residuals(lam, amplitude, phase, seed):
    r = dense_scales(1, lam**4, 12, lam).astype(np.float64)
    periodic = amplitude * np.cos(2 * np.pi * np.log(r) / np.log(lam) + phase)
    r2, fitted_amplitude, fitted = log_periodic_fit(r, periodic, lam, harmonics=1)
    assert r2 == pytest.approx(1.0) and fitted_amplitude == pytest.approx(
        np.sqrt(np.mean((periodic - periodic.mean()) ** 2)), rel=1e-9
    )
    np.testing.assert_allclose(fitted, periodic, atol=1e-9)
    base = np.arange(1, lam**3 + 1, dtype=np.float64)
    f = lambda x: amplitude * np.cos(2 * np.pi * np.log(x) / np.log(lam) + phase)  # noqa: E731
    assert log_periodic_concordance(f(base), f(lam * base)) == pytest.approx(1.0)
    noise = np.random.default_rng(seed).standard_normal((2, 200))
    assert abs(log_periodic_concordance(noise[0], noise[1])) < 0.35


def test_dense_scales():
    np.testing.assert_array_equal(dense_scales(1, 9, 4, 3), [1, 2, 3, 4, 5, 7, 9])
    scales = dense_scales(2, 512, 8, 2)
    assert scales[0] == 2 and scales[-1] == 512 and np.all(np.diff(scales) > 0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: dsi_test(geometry.cantor_set(5).mask, 1), "dilation must be an integer >= 2"),
        (lambda: dsi_test(geometry.cantor_set(5).mask, 3, tolerance=0), "tolerance"),
        (lambda: dsi_test(geometry.cantor_set(5).mask, 3, mode="surface"), "mode must be"),
        (
            lambda: dsi_test(np.eye(8, dtype=bool), 2, fit_range=(2, 4)),
            "the ratio test needs at least 3",
        ),
        (lambda: dsi_test(np.eye(64, dtype=bool), 2, threshold=0.5), "threshold must be None"),
        (lambda: dsi_test(np.full((64, 64), np.nan), 2), "non-finite"),
        (lambda: dsi_test(np.ones((64, 64)), 2, threshold=2.0), "A empty"),
        (lambda: ratio_residual([4, 2], 2), "at least 3"),
        (lambda: ratio_residual([4, 0, 1], 2), "positive"),
        (lambda: log_periodic_fit([1, 2, 3], [0.0, 0.1, 0.0], 2, harmonics=2), "distinct phases"),
        (lambda: log_periodic_concordance([0.1], [0.1]), "at least 2 values"),
        (lambda: estimate_dilation(geometry.cantor_set(5).mask, candidates=[]), "candidates"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: dsi_test(geometry.cantor_set(5).mask, 3.0), "dilation must be an integer, got"),
        (lambda: dsi_test(geometry.cantor_set(5).mask, 3, harmonics=1.0), "harmonics must be"),
        (lambda: ratio_residual([4, 2, 1], True), "dilation must be an integer, got bool"),
        (lambda: estimate_dilation(geometry.cantor_set(5).mask, candidates=3), "candidates"),
        (lambda: log_periodic_concordance("abc", [0.1, 0.2]), "inner must be"),
    ],
)
def test_wrong_types_are_type_errors(call, message):
    with pytest.raises(TypeError, match=message):
        call()
