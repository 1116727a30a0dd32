"""Claims of chapter 05 (discrete scale invariance) not covered by test_dimension_dsi.py."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fractalnb import geometry
from fractalnb.geometry import dsi_test


@pytest.mark.parametrize(
    ("fractal", "dilation"),
    [(geometry.cantor_set(9), 3), (geometry.sierpinski_triangle(8), 2),
     (geometry.sierpinski_carpet(5), 3)],
    ids=["cantor", "triangle", "carpet"],
)
def test_dsi_with_lambda_implies_dsi_with_its_powers(fractal, dilation):
    base = dsi_test(fractal.mask, dilation, fit_range="all")
    for power in (2, 3):
        factor = dilation**power
        if len(base.scales[::power]) < 3:
            continue
        result = dsi_test(fractal.mask, factor, fit_range="all")
        assert result.ratio_constant and result.ratio_residual == 0.0
        # the ratios for lambda^j are products of j consecutive ratios for lambda
        np.testing.assert_allclose(result.ratios, base.ratios[0] ** power)
        assert result.dimension == pytest.approx(base.dimension, abs=1e-12)


@settings(max_examples=20, deadline=None)
@given(level=st.integers(6, 9), wrong=st.sampled_from([2, 4, 5]))
def test_cantor_set_fails_the_ratio_test_for_non_powers_of_3(level, wrong):
    result = dsi_test(geometry.cantor_set(level).mask, wrong, fit_range="all")
    assert not result.ratio_constant and not result.is_dsi


@settings(max_examples=20, deadline=None)
@given(level=st.integers(6, 10))
def test_cantor_counts_at_powers_of_3_are_exact(level):
    result = dsi_test(geometry.cantor_set(level).mask, 3, fit_range="all")
    np.testing.assert_array_equal(result.counts, 2 ** np.arange(level, -1, -1))
    np.testing.assert_array_equal(result.ratios, 2.0)
    assert result.dimension == pytest.approx(np.log(2) / np.log(3), abs=1e-12)


@pytest.mark.parametrize("make", [geometry.filled_square, geometry.line],
                         ids=["square", "line"])
def test_continuous_sets_pass_the_ratio_test_but_their_residual_does_not_repeat(make):
    # chapter 5, controls: "passes the ratio test with lambda = 2 but is not DSI proper:
    # ... it does not repeat from one period to the next" (quick profile: side 512)
    result = dsi_test(make(512).mask, 2, points_per_period=12)
    assert result.ratio_constant and result.ratio_residual == 0.0
    assert result.log_periodic_concordance < geometry.MIN_CONCORDANCE
    assert not result.log_periodic and not result.is_dsi


def test_cantor_set_passes_for_27_and_fails_for_8():
    # exercise 5.1: "of the factors 3, 9 and 27, all three pass; of 2, 4 and 8, none"
    mask = geometry.cantor_set(9).mask
    assert dsi_test(mask, 27, fit_range="all", points_per_period=12).is_dsi
    assert not dsi_test(mask, 8, fit_range="all", points_per_period=12).is_dsi
