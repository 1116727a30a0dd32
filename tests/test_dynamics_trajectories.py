"""SGD trajectories of the small MLP, the grid table, and Spearman's rho with its interval."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from fractalnb.dynamics import (
    ImageFeatures,
    image_features,
    rank_correlation,
    train_trajectory,
    trajectory_grid,
)
from fractalnb.training.data import CIFAR10Arrays


def _fake_cifar(n_train=60, n_test=30, seed=0) -> CIFAR10Arrays:
    rng = np.random.default_rng(seed)
    return CIFAR10Arrays(
        x_train=rng.integers(0, 256, (n_train, 32, 32, 3), dtype=np.uint8),
        y_train=rng.integers(0, 10, n_train),
        x_test=rng.integers(0, 256, (n_test, 32, 32, 3), dtype=np.uint8),
        y_test=rng.integers(0, 10, n_test),
        classes=tuple(f"c{i}" for i in range(10)),
        variant="sample",
        source="test",
    )


def _separable(n=80, dim=6, seed=0) -> ImageFeatures:
    g = torch.Generator().manual_seed(seed)
    centres = 3 * torch.randn(10, dim, generator=g)
    y = torch.arange(n) % 10
    x = centres[y] + 0.3 * torch.randn(n, dim, generator=g)
    return ImageFeatures(x[: n // 2], y[: n // 2], x[n // 2:], y[n // 2:], 1, "synthetic")


def test_image_features_block_means_and_standardisation():
    arrays = _fake_cifar()
    data = image_features(arrays, 40, 20, side=4)
    assert tuple(data.x_train.shape) == (40, 48) and tuple(data.x_test.shape) == (20, 48)
    assert data.x_train.dtype == torch.float32
    np.testing.assert_allclose(data.x_train.mean(0).numpy(), 0.0, atol=1e-5)
    block = arrays.x_train[0, :8, :8, 0].mean() / 255.0
    raw = arrays.x_train[:40, :8, :8, 0].mean(axis=(1, 2)) / 255.0
    expected = (block - raw.mean()) / (raw.std() + 1e-6)
    assert float(data.x_train[0, 0]) == pytest.approx(expected, rel=1e-4)
    assert torch.equal(data.y_train, torch.from_numpy(arrays.y_train[:40]))


def test_image_features_refuses_a_side_not_dividing_32():
    with pytest.raises(ValueError, match="side"):
        image_features(_fake_cifar(), 20, 20, side=5)


def test_a_run_records_its_last_iterates_and_reaches_the_target():
    data = _separable()
    run = train_trajectory(data, 0.1, 8, hidden=8, max_steps=2000, record=30, seed=1)
    parameters = 6 * 8 + 8 + 8 * 10 + 10
    assert run.iterates.shape == (30, parameters)
    assert run.train_accuracy == 1.0 and run.steps < 2000 + 30
    assert run.weight_norm == pytest.approx(np.linalg.norm(run.iterates[-1]))
    assert np.all(np.linalg.norm(np.diff(run.iterates, axis=0), axis=1) > 0)
    assert run.gap == pytest.approx(run.train_accuracy - run.test_accuracy)


def test_runs_are_reproducible_and_the_adversarial_start_differs():
    data = _separable()
    kwargs = {"hidden": 8, "max_steps": 100, "record": 10, "seed": 2}
    a = train_trajectory(data, 0.05, 8, **kwargs)
    b = train_trajectory(data, 0.05, 8, **kwargs)
    np.testing.assert_array_equal(a.iterates, b.iterates)
    c = train_trajectory(data, 0.05, 8, init="adversarial", adversarial_steps=200, **kwargs)
    assert c.init == "adversarial" and c.steps == a.steps + 200
    assert not np.allclose(c.iterates[-1], a.iterates[-1])


def test_the_grid_has_one_row_per_pair():
    table = trajectory_grid(_separable(), [0.02, 0.1], [4, 16], n_draws=2, progress=False,
                            hidden=4, max_steps=50, record=40)
    assert len(table) == 4
    assert list(table[["learning_rate", "batch_size"]].itertuples(index=False, name=None)) == [
        (0.02, 4), (0.02, 16), (0.1, 4), (0.1, 16)]
    assert (table["ph_low"] <= table["ph_dim"]).all()
    assert (table["ph_dim"] <= table["ph_high"]).all()
    assert np.allclose(table["gap"], table["train_accuracy"] - table["test_accuracy"])


def test_rank_correlation_against_scipy_and_its_extremes():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=20), rng.normal(size=20)
    c = rank_correlation(x, y, n_boot=300)
    assert c.rho == pytest.approx(stats.spearmanr(x, y)[0])
    assert c.interval[0] <= c.rho <= c.interval[1] and c.n == 20
    assert rank_correlation(x, 2 * x + 1, n_boot=100).interval == pytest.approx((1.0, 1.0))
    assert rank_correlation(x, -x**3, n_boot=100).rho == pytest.approx(-1.0)


def test_rank_correlation_refuses_constant_or_short_input():
    with pytest.raises(ValueError, match="different"):
        rank_correlation([1, 1, 1, 1], [1, 2, 3, 4])
    with pytest.raises(ValueError, match="x"):
        rank_correlation([1, 2, 3], [1, 2, 3])
    with pytest.raises(ValueError, match="x and y"):
        rank_correlation([1, 2, 3, 4], [1, 2, 3, 4, 5])


def test_a_diverging_run_says_so():
    data = _separable()
    with pytest.raises(FloatingPointError, match="diverged"):
        train_trajectory(data, 1e6, 4, hidden=4, max_steps=50, record=10)


def test_training_restores_the_thread_count():
    before = torch.get_num_threads()
    train_trajectory(_separable(), 0.05, 8, hidden=4, max_steps=10, record=10)
    assert torch.get_num_threads() == before


def test_the_bootstrap_rho_equals_spearmanr_on_each_resample():
    x = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0])
    y = np.array([2.0, 7.0, 1.0, 8.0, 2.0, 8.0, 1.0, 8.0])
    c = rank_correlation(x, y, n_boot=400, seed=3)
    pick = np.random.default_rng(3).integers(0, 8, (400, 8))
    rhos = [stats.spearmanr(x[i], y[i])[0] for i in pick
            if np.ptp(x[i]) > 0 and np.ptp(y[i]) > 0]
    assert c.interval == pytest.approx(tuple(np.quantile(rhos, [0.025, 0.975])))
