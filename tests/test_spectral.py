"""fractalnb.training.spectral: the ESD tail exponent alpha, checked on known answers.

Known answers:

- a matrix built with a prescribed spectrum: W = U diag(sqrt(N lambda)) with U orthonormal
  columns has W^T W / N = diag(lambda) exactly, so lambda drawn from a Pareto density
  lambda^(-alpha) above 1 must give back alpha;
- i.i.d. symmetric Pareto entries of tail index mu < 2 (Levy regime): the ESD tail is
  lambda^(-(1 + mu/2)) (Martin and Mahoney 2021, Table 3; the largest eigenvalues are the
  squares of the largest entries, P(x^2 > t) ~ t^(-mu/2));
- i.i.d. Gaussian entries: Marchenko-Pastur, a compact ESD with no power-law tail, so the
  fitted alpha is large (WeightWatcher reads alpha > 6 as "random-like"; at N = 1000,
  M = 500 we require > 5).
"""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fractalnb import training
from fractalnb.training import SpectralFit, empirical_spectral_density, esd_alpha


def _prescribed(alpha: float, m: int = 500, n: int = 1000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lam = rng.pareto(alpha - 1.0, m) + 1.0  # density (alpha - 1) lambda^-alpha on [1, inf)
    u, _ = np.linalg.qr(rng.standard_normal((n, m)))
    return u * np.sqrt(n * lam)


def _pareto_entries(mu: float, shape=(1000, 500), seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.pareto(mu, shape) + 1.0) * rng.choice([-1.0, 1.0], shape)


# --- the ESD -----------------------------------------------------------------------

def test_esd_of_a_prescribed_spectrum_is_that_spectrum():
    w = _prescribed(3.0, m=50, n=80)
    lam = np.sort(np.sum(w**2, axis=0) / 80)  # orthogonal columns: W^T W is diagonal
    np.testing.assert_allclose(empirical_spectral_density(w), lam, rtol=1e-10)
    # the transpose has the same non-zero eigenvalues (normalised by the larger side)
    np.testing.assert_allclose(empirical_spectral_density(w.T), lam, rtol=1e-10)


def test_conv_kernels_follow_weightwatcher_slices_or_the_unfolded_matrix():
    rng = np.random.default_rng(0)
    k = rng.standard_normal((12, 5, 3, 3))
    pooled = np.sort(np.concatenate([
        np.linalg.svd(k[:, :, i, j], compute_uv=False) ** 2 / 12
        for i in range(3) for j in range(3)]))  # fmt: skip
    np.testing.assert_allclose(empirical_spectral_density(k), pooled, rtol=1e-10)
    unfolded = np.linalg.svd(k.reshape(12, -1), compute_uv=False) ** 2 / 45
    np.testing.assert_allclose(empirical_spectral_density(k, conv="unfold"),
                               np.sort(unfolded), rtol=1e-10)
    t = torch.as_tensor(k)
    np.testing.assert_allclose(empirical_spectral_density(t), pooled, rtol=1e-10)


def test_numerical_zeros_are_dropped():
    w = np.zeros((20, 10))
    w[:4, :4] = np.eye(4)
    assert empirical_spectral_density(w).tolist() == [0.05] * 4


# --- alpha on known answers --------------------------------------------------------

@pytest.mark.parametrize("alpha", [2.0, 3.0, 4.0])
def test_alpha_of_a_prescribed_power_law_spectrum(alpha):
    fit = esd_alpha(_prescribed(alpha))
    assert isinstance(fit, SpectralFit) and fit.n_evals == 500
    assert abs(fit.alpha - alpha) < max(0.3, 3 * fit.standard_error)
    assert fit.standard_error == pytest.approx((fit.alpha - 1) / math.sqrt(fit.n_tail))
    assert fit.xmin >= 1.0 - 1e-9 and fit.lambda_max >= fit.xmin


@pytest.mark.parametrize("mu", [0.5, 1.0])
def test_alpha_of_iid_pareto_entries_is_one_plus_half_the_tail_index(mu):
    fit = esd_alpha(_pareto_entries(mu))
    assert fit.alpha == pytest.approx(1 + mu / 2, abs=0.12)


def test_alpha_grows_with_the_tail_index_and_a_gaussian_matrix_has_no_heavy_tail():
    alphas = [esd_alpha(_pareto_entries(mu, seed=1)).alpha for mu in (0.5, 1.0, 1.5)]
    assert alphas == sorted(alphas)
    gauss = esd_alpha(np.random.default_rng(2).standard_normal((1000, 500)))
    assert gauss.alpha > 5 > alphas[-1] + 2


@settings(max_examples=10, deadline=None)
@given(scale=st.floats(1e-3, 1e3), seed=st.integers(0, 1000))
def test_alpha_is_scale_free(scale, seed):
    w = _pareto_entries(1.0, shape=(120, 60), seed=seed)
    a, b = esd_alpha(w), esd_alpha(scale * w)
    assert b.alpha == pytest.approx(a.alpha, rel=1e-6)
    assert b.n_tail == a.n_tail


def test_torch_float16_weights_are_accepted():
    w = torch.as_tensor(_pareto_entries(1.0, shape=(200, 100)), dtype=torch.float16)
    fit = esd_alpha(w)
    assert fit.n_evals == 100 and 1.0 < fit.alpha < 3.0
    assert fit.to_dict()["conv"] == "slices"


# --- bad input ---------------------------------------------------------------------

@pytest.mark.parametrize(
    ("weight", "message"),
    [
        (np.ones(5), "rank 2 to 5|at least 2"),
        (np.ones((2, 2, 2, 2, 2, 2)), "rank|at most 5"),
        (np.zeros((4, 4)), "all zero"),
        (np.array([[1.0, np.nan], [0.0, 1.0]]), "non-finite"),
        (torch.ones(3), "rank 2 to 5"),
        (torch.full((3, 3), math.inf), "non-finite"),
        (torch.zeros(3, 3, dtype=torch.complex64), "real"),
    ],
)
def test_bad_weights_are_refused(weight, message):
    with pytest.raises(ValueError, match=message):
        esd_alpha(weight)


def test_too_few_eigenvalues_and_bad_options_are_refused():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="fewer than min_evals = 50"):
        esd_alpha(rng.standard_normal((40, 20)))
    assert esd_alpha(rng.standard_normal((40, 20)), min_evals=10).n_evals == 20
    with pytest.raises(ValueError, match="distinct"):
        esd_alpha(np.eye(20), min_evals=10)
    with pytest.raises(ValueError, match="min_evals"):
        esd_alpha(rng.standard_normal((40, 20)), min_evals=5)
    with pytest.raises(TypeError, match="min_evals"):
        esd_alpha(rng.standard_normal((40, 20)), min_evals=20.0)
    with pytest.raises(ValueError, match="conv"):
        esd_alpha(rng.standard_normal((40, 20)), conv="grid")
    with pytest.raises(TypeError, match="weight"):
        esd_alpha("matrix")


def test_public_names_are_exported():
    assert training.esd_alpha is esd_alpha
    assert training.DEFAULT_MIN_EVALS == 50 and training.ALPHA_RANGE[0] == 1.0
