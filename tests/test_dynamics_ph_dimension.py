"""The PH₀ dimension estimator: MST lengths, and sets of known dimension (seeds fixed)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial.distance import pdist, squareform

from fractalnb import dynamics
from fractalnb.dynamics import (
    brownian_path,
    fractal_points,
    mst_length,
    ph_dimension,
    stable_path,
    uniform_cube,
)
from fractalnb.dynamics import persistent_homology as ph
from fractalnb.geometry import sierpinski_carpet, sierpinski_triangle


def test_mst_length_of_small_sets_by_hand():
    assert mst_length([[0.0, 0.0], [1.0, 0.0], [1.0, 2.0]]) == pytest.approx(3.0)
    line = np.arange(6.0)[:, None] * np.array([[3.0, 4.0]])  # steps of length 5
    assert mst_length(line) == pytest.approx(25.0)
    assert mst_length(line, alpha=2.0) == pytest.approx(125.0)


def test_coincident_points_join_at_zero_cost():
    x = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    assert mst_length(x) == pytest.approx(2.0)


def test_mst_length_matches_the_dense_matrix_tree():
    x = np.random.default_rng(3).normal(size=(300, 7))
    dense = minimum_spanning_tree(squareform(pdist(x)))
    assert mst_length(x) == pytest.approx(dense.sum(), rel=1e-12)
    assert mst_length(x, alpha=0.5) == pytest.approx(np.sum(dense.data**0.5), rel=1e-12)


@pytest.mark.parametrize(("dim", "n_points"), [(2, 1000), (3, 1500), (5, 2000)])
def test_uniform_cubes_within_ten_percent(dim, n_points):
    est = ph_dimension(uniform_cube(n_points, dim, seed=dim), n_draws=3, seed=0)
    assert est.sizes[-1] <= 2000
    assert abs(est.dimension - dim) <= 0.1 * dim, est
    assert est.interval[0] <= est.dimension <= est.interval[1]


def test_sierpinski_gasket_within_005():
    gasket = sierpinski_triangle(11)  # 2048 x 2048 grid, 3^11 cells
    est = ph_dimension(fractal_points(gasket, 1000, seed=0), n_draws=3, seed=0)
    assert abs(est.dimension - math.log(3) / math.log(2)) <= 0.05, est
    assert gasket.dimension == pytest.approx(math.log(3) / math.log(2))


def test_sierpinski_carpet_within_ten_percent():
    carpet = sierpinski_carpet(6)  # 729 x 729 grid
    est = ph_dimension(fractal_points(carpet, 1000, seed=1), n_draws=3, seed=0)
    assert abs(est.dimension - carpet.dimension) <= 0.1 * carpet.dimension, est


def test_brownian_path_has_dimension_two():
    est = ph_dimension(brownian_path(2000, 3, seed=0), n_draws=3, seed=0)
    assert abs(est.dimension - 2.0) <= 0.2, est


@pytest.mark.parametrize(("alpha", "exponent"), [(0.8, 0.5), (1.5, 1.0)])
def test_stable_path_has_dimension_alpha(alpha, exponent):
    # the measured bias at 2,000 points is upward, 5-15 %: the tolerance says so
    path = stable_path(2000, alpha, 3, seed=0)
    est = ph_dimension(path, alpha=exponent, n_draws=3, seed=0)
    assert alpha <= est.dimension * 1.02 and est.dimension <= 1.15 * alpha, est


def test_dimension_is_invariant_under_similarities():
    x = uniform_cube(400, 3, seed=5)
    q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))
    moved = 7.5 * x @ q.T + 3.0
    a = ph_dimension(x, [50, 100, 200, 400], n_draws=2, n_boot=50, seed=1)
    b = ph_dimension(moved, [50, 100, 200, 400], n_draws=2, n_boot=50, seed=1)
    assert b.slope == pytest.approx(a.slope, abs=1e-9)
    assert b.dimension == pytest.approx(a.dimension, abs=1e-9)


def test_large_sets_give_the_same_answer_without_the_full_matrix(monkeypatch):
    x = uniform_cube(300, 2, seed=2)
    a = ph_dimension(x, [40, 80, 160], n_draws=2, n_boot=50, seed=4)
    monkeypatch.setattr(ph, "_FULL_MATRIX", 10)
    b = ph_dimension(x, [40, 80, 160], n_draws=2, n_boot=50, seed=4)
    np.testing.assert_allclose(b.lengths, a.lengths, rtol=1e-12)


def test_regression_interval_and_torch_input():
    x = torch.from_numpy(uniform_cube(500, 2, seed=7))
    est = ph_dimension(x, method="regression", n_draws=1, seed=0)
    assert est.method == "regression" and est.lengths.shape == (est.sizes.size, 1)
    assert est.interval[0] < est.dimension < est.interval[1]
    assert "PH0 dimension" in str(est)


def test_the_whole_set_is_computed_once_and_draws_differ_below_it():
    est = ph_dimension(uniform_cube(200, 2, seed=0), [50, 100, 200], n_draws=3, seed=0)
    assert np.all(est.lengths[-1] == est.lengths[-1, 0])
    assert np.ptp(est.lengths[0]) > 0


def test_slope_at_least_one_means_infinite_dimension():
    assert ph._dimension(1.0, 1.0) == np.inf
    assert ph._dimension(0.5, 1.0) == pytest.approx(2.0)


def test_bad_requests_are_refused():
    x = uniform_cube(100, 2, seed=0)
    with pytest.raises(ValueError, match="n_draws"):
        ph_dimension(x, n_draws=1)
    with pytest.raises(ValueError, match="sizes"):
        ph_dimension(x, [10, 20, 200])
    with pytest.raises(ValueError, match="same point"):
        ph_dimension(np.ones((10, 3)))
    with pytest.raises(ValueError, match="occupied"):
        fractal_points(sierpinski_triangle(2), 100)


def test_top_level_export():
    import fractalnb

    assert fractalnb.ph_dimension is dynamics.ph_dimension is ph_dimension
