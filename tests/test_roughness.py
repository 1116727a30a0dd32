"""Variation (madogram, variogram) estimators of fractal dimension, and exact fBm generators.

The estimators are validated on exact samples of fractional Brownian motion (Davies-Harte)
and fractional Brownian surfaces (Stein's circulant embedding) of known Hurst exponent
H in {0.2, 0.4, 0.6, 0.8}: bias and RMSE over 20 seeds, 256 x 256 surfaces and series of
1024 points. No maintained Python library implements these estimators (the reference, the
R package ``fractaldim``, cannot run here; ``antropy``, ``nolds`` and ``hurst`` offer
Higuchi/Katz/DFA/R-S instead, and ``scikit-gstat``'s variogram would downgrade SciPy), so
the checks are against the known H and against closed forms (planes, ramps, white noise).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fractalnb import geometry
from fractalnb.geometry import (
    RECOMMENDED,
    fractional_brownian_motion,
    fractional_brownian_surface,
    madogram_dimension,
    power_variation,
    variation_dimension,
    variogram_dimension,
)

HURSTS = (0.2, 0.4, 0.6, 0.8)
SEEDS = range(20)
SIDE = 256
LENGTH = 1024
BIAS_LIMIT = 0.05  # the bar for the recommended estimator at 256 x 256
SURFACE_RMSE_LIMIT = 0.03  # measured: at most 0.018 (H = 0.8)
SERIES_RMSE_LIMIT = 0.05  # measured: at most 0.031 (H = 0.2, madogram)

SURFACE_ESTIMATORS = {
    "madogram, transect": lambda z: madogram_dimension(z).dimension,
    "variogram, transect": lambda z: variogram_dimension(z).dimension,
    "madogram, isotropic": lambda z: madogram_dimension(z, method="isotropic").dimension,
    "variogram, isotropic": lambda z: variogram_dimension(z, method="isotropic").dimension,
}
SERIES_ESTIMATORS = {
    "madogram": lambda x: madogram_dimension(x).dimension,
    "variogram": lambda x: variogram_dimension(x).dimension,
}


@pytest.fixture(scope="module")
def exact_fields():
    """Exact fBm surfaces (256 x 256) and series (1024 points), 20 seeds per H, made once."""
    surfaces = {h: [fractional_brownian_surface(SIDE, h, seed=s, method="exact").values
                    for s in SEEDS] for h in HURSTS}  # fmt: skip
    series = {h: [fractional_brownian_motion(LENGTH, h, seed=s).values for s in SEEDS]
              for h in HURSTS}  # fmt: skip
    return surfaces, series


def _bias_rmse(estimates, truth):
    errors = np.asarray(estimates) - truth
    return float(errors.mean()), float(np.sqrt(np.mean(errors**2)))


@pytest.mark.parametrize("hurst", HURSTS)
@pytest.mark.parametrize("name", list(SURFACE_ESTIMATORS))
def test_surface_estimators_are_nearly_unbiased_on_exact_fbm(exact_fields, name, hurst):
    surfaces = exact_fields[0][hurst]
    bias, rmse = _bias_rmse([SURFACE_ESTIMATORS[name](z) for z in surfaces], 3 - hurst)
    assert abs(bias) <= BIAS_LIMIT, (name, hurst, bias)
    assert rmse <= SURFACE_RMSE_LIMIT, (name, hurst, rmse)


@pytest.mark.parametrize("hurst", HURSTS)
@pytest.mark.parametrize("name", list(SERIES_ESTIMATORS))
def test_series_estimators_are_nearly_unbiased_on_exact_fbm(exact_fields, name, hurst):
    paths = exact_fields[1][hurst]
    bias, rmse = _bias_rmse([SERIES_ESTIMATORS[name](x) for x in paths], 2 - hurst)
    assert abs(bias) <= BIAS_LIMIT, (name, hurst, bias)
    assert rmse <= SERIES_RMSE_LIMIT, (name, hurst, rmse)


def test_recommended_is_the_transect_madogram(exact_fields):
    z = exact_fields[0][0.4][0]
    assert RECOMMENDED == {"power": 1.0, "method": "transect", "max_lag": 2}
    assert variation_dimension(z, **RECOMMENDED).dimension == madogram_dimension(z).dimension


def test_spectral_surfaces_are_smoother_than_nominal_at_fine_lags():
    # what "known H" means for the spectral generator: at lags 1-2 it reads smoother than
    # H (measured bias -0.28 at H = 0.2, -0.03 at H = 0.8); the exact generator does not
    d_spectral = [madogram_dimension(fractional_brownian_surface(SIDE, 0.2, seed=s).values)
                  .dimension for s in range(3)]  # fmt: skip
    d_exact = [madogram_dimension(fractional_brownian_surface(SIDE, 0.2, seed=s,
                                                              method="exact").values)
               .dimension for s in range(3)]  # fmt: skip
    assert np.mean(d_spectral) < 2.8 - 0.15
    assert abs(np.mean(d_exact) - 2.8) < 0.02


def test_davies_harte_increments_have_the_fgn_autocovariance():
    # unit variance and lag-1 correlation 2^(2H-1) - 1, within 5 standard errors over seeds
    for hurst in (0.2, 0.8):
        inc = np.stack([np.diff(fractional_brownian_motion(LENGTH, hurst, seed=s).values)
                        for s in range(60)])  # fmt: skip
        for stat, truth in ((np.mean(inc**2, axis=1), 1.0),
                            (np.mean(inc[:, 1:] * inc[:, :-1], axis=1), 2 ** (2 * hurst - 1) - 1)):
            assert abs(stat.mean() - truth) <= 5 * stat.std() / np.sqrt(stat.size), hurst


def test_exact_surface_is_standardised_and_deterministic():
    a = fractional_brownian_surface(64, 0.3, seed=7, method="exact")
    b = fractional_brownian_surface(64, 0.3, seed=7, method="exact")
    np.testing.assert_array_equal(a.values, b.values)
    assert a.values.mean() == pytest.approx(0.0, abs=1e-12)
    assert a.values.std() == pytest.approx(1.0)
    assert a.dimension == pytest.approx(2.7) and "exact" in a.name


def test_closed_forms_planes_ramps_and_noise():
    i, j = np.meshgrid(np.arange(32.0), np.arange(32.0), indexing="ij")
    plane = 0.5 * i - 2.0 * j
    assert madogram_dimension(plane).dimension == pytest.approx(2.0, abs=1e-12)
    assert variogram_dimension(plane, method="isotropic").dimension == pytest.approx(2.0)
    ramp = madogram_dimension(np.arange(50.0))
    assert ramp.dimension == pytest.approx(1.0) and ramp.method == "series"
    rows_only = madogram_dimension(i)  # constant rows are left out and counted
    assert rows_only.n_flat == 32 and rows_only.dimension == pytest.approx(2.0)
    noise = np.random.default_rng(0).standard_normal((256, 256))
    assert madogram_dimension(noise).dimension == pytest.approx(3.0, abs=0.02)
    np.testing.assert_allclose(power_variation([0.0, 1.0, 0.0, 1.0], [1, 2, 3], power=2),
                               [0.5, 0.0, 0.5])  # fmt: skip


def test_invariances_and_inputs():
    z = fractional_brownian_surface(64, 0.5, seed=1, method="exact").values
    d = madogram_dimension(z).dimension
    assert madogram_dimension(3.0 * z - 7.0).dimension == pytest.approx(d)
    assert madogram_dimension(z.T).dimension == pytest.approx(d)
    assert madogram_dimension(torch.tensor(z)).dimension == pytest.approx(d)
    assert len(madogram_dimension(z).transects) == 128
    assert variogram_dimension(z, method="isotropic", max_lag=4).distances.tolist() == \
        pytest.approx([1, 2**0.5, 2, 2 * 2**0.5, 3, 4])
    series = madogram_dimension(z[0], max_lag=8)
    assert series.distances.tolist() == list(range(1, 9))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: madogram_dimension(np.zeros((3, 3, 3))), ValueError, "x"),
        (lambda: madogram_dimension(np.array([1.0, np.nan, 2.0, 3.0])), ValueError, "x"),
        (lambda: madogram_dimension(np.ones((3, 40))), ValueError, "max_lag"),
        (lambda: madogram_dimension(np.ones((8, 8))), ValueError, "no roughness"),
        (lambda: madogram_dimension(np.ones(8)), ValueError, "constant"),
        (lambda: madogram_dimension(np.ones((8, 8)), method="iso"), ValueError, "method"),
        (lambda: madogram_dimension(np.ones(8), max_lag=1), ValueError, "max_lag"),
        (lambda: madogram_dimension(np.ones(8), max_lag=2.0), TypeError, "max_lag"),
        (lambda: variation_dimension(np.arange(8.0), 0.0), ValueError, "power"),
        (lambda: variation_dimension(np.arange(8.0), "1"), TypeError, "power"),
        (lambda: madogram_dimension("abc"), TypeError, "x"),
        (lambda: power_variation(np.arange(4.0), [2, 1]), ValueError, "lags"),
        (lambda: power_variation(np.arange(4.0), [1, 4]), ValueError, "lags"),
        (lambda: fractional_brownian_motion(4, 0.5, seed=0), ValueError, "n"),
        (lambda: fractional_brownian_motion(64, 1.0, seed=0), ValueError, "hurst"),
        (lambda: fractional_brownian_motion(10**9, 0.5, seed=0), ValueError, "n asks"),
        (lambda: fractional_brownian_surface(8, 0.5, 0, method="fft"), ValueError, "method"),
        (lambda: fractional_brownian_surface(4096, 0.9, 0, method="exact"), ValueError,
         "size asks"),
    ],
)
def test_bad_input_is_refused(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_public_names():
    assert geometry.RoughnessDimension is not None
    assert geometry.madogram_dimension is madogram_dimension
