"""Trainability maps (chapter 13): the batched trainer, the classifier, zooms, dimensions.

Known answers: the hand-written gradients against autograd; tiny learning rates converge
and huge ones diverge; with the input layer frozen the loss is quadratic in the output
weights and gradient descent is stable exactly below 2/λ_max of its Hessian; smooth
boundaries have dimension 1 and the Sierpinski carpet's boundary log 8 / log 3.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from fractalnb.dynamics import (
    boundary_dimension,
    classify,
    output_layer_threshold,
    paper_setup,
    rank_colours,
    train_grid,
    trainability_map,
    zoom_sequence,
    zoom_table,
    zoom_window,
)
from fractalnb.geometry import fractals


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu", "identity"])
def test_one_step_matches_autograd(nonlinearity):
    setup = paper_setup(nonlinearity, width=5, seed=3)
    lr0, lr1 = np.array([0.3, 2.0]), np.array([0.7, 0.1])
    losses = train_grid(setup, lr0, lr1, steps=1)
    w0 = setup.w0.clone().requires_grad_(True)
    w1 = setup.w1.clone().requires_grad_(True)
    loss = setup.loss(w0, w1)
    g0, g1 = torch.autograd.grad(loss, (w0, w1))
    assert losses[:, 0] == pytest.approx([float(loss.detach())] * 2, rel=1e-12)
    for k in range(2):
        after = setup.loss(setup.w0 - lr0[k] * g0, setup.w1 - lr1[k] * g1)
        assert losses[k, 1] == pytest.approx(float(after), rel=1e-10)


def test_chunking_and_float32_agree():
    setup = paper_setup("tanh", width=4, seed=1)
    lr = np.logspace(-1, 1.5, 7)
    full = train_grid(setup, lr, lr[::-1].copy(), steps=30)
    chunked = train_grid(setup, lr, lr[::-1].copy(), steps=30, chunk=3)
    np.testing.assert_allclose(full, chunked, rtol=1e-12)
    single = train_grid(setup, lr, lr[::-1].copy(), steps=30, dtype=torch.float32)
    assert np.array_equal(np.isinf(single), np.isinf(full))


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu", "identity"])
def test_tiny_rate_converges_huge_rate_diverges(nonlinearity):
    setup = paper_setup(nonlinearity, width=4, seed=0)
    losses = train_grid(setup, [1e-2, 1e6], [1e-2, 1e6], steps=200)
    converged, measure = classify(losses)
    assert converged.tolist() == [True, False]
    assert measure[0] < 0 < measure[1]
    assert np.isinf(losses[1, -1])  # blown up, frozen, recorded as inf


@pytest.mark.parametrize("nonlinearity", ["tanh", "identity"])
def test_quadratic_threshold_two_over_lambda_max(nonlinearity):
    # eta0 = 0 freezes the input layer: L(w1) = mean((h w1 / n - y)^2) is quadratic with
    # Hessian H = 2 h^T h / (B n^2); gradient descent is stable iff eta1 < 2 / lambda_max
    setup = paper_setup(nonlinearity, width=4, seed=2)
    n = setup.width
    z = setup.x @ setup.w0 / math.sqrt(n)
    h = torch.tanh(z * math.sqrt(2.0)) if nonlinearity == "tanh" else z
    hessian = 2.0 * h.T @ h / (setup.n_data * n**2)
    critical = 2.0 / float(torch.linalg.eigvalsh(hessian).max())
    assert output_layer_threshold(setup) == pytest.approx(critical, rel=1e-12)
    lr1 = critical * np.array([0.9, 0.98, 1.02, 1.1])
    losses = train_grid(setup, np.zeros(4), lr1, steps=3000)
    converged, _ = classify(losses)
    assert converged.tolist() == [True, True, False, False]
    bounded, _ = classify(losses, criterion="bounded")
    assert bounded.tolist() == [True, True, False, False]


def test_classify_criteria_steps_and_errors():
    losses = np.array([[1.0, 0.5, 0.2, 0.1, 0.1],
                       [1.0, 3.0, 1e3, np.inf, np.inf],
                       [1.0, 2.0, 2.0, 2.0, 2.0],
                       [1.0, 0.9, 50.0, 0.5, 0.5]])
    converged, _ = classify(losses, window=2)
    assert converged.tolist() == [True, False, False, True]
    bounded, _ = classify(losses, criterion="bounded", threshold=10.0)
    assert bounded.tolist() == [True, False, True, False]
    early, _ = classify(losses, steps=2, window=1)
    assert early.tolist() == [True, False, False, False]
    with pytest.raises(ValueError, match="NaN"):
        classify(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="L_0"):
        classify(np.array([[0.0, 1.0]]))
    with pytest.raises(ValueError, match="window"):
        classify(losses, window=6)


def test_map_axes_rows_eta1_columns_eta0():
    setup = paper_setup("tanh", width=3, seed=0)
    m = trainability_map(setup, (-1.0, 1.0, 0.0, 2.0), 3, 25, window=5)
    one = train_grid(setup, [10.0**-1.0], [10.0**2.0], 25)  # eta0 = 0.1, eta1 = 100
    np.testing.assert_allclose(m.losses[2, 0], one[0], rtol=1e-6)
    assert m.steps == 25 and m.resolution == 3 and m.width == 2.0


def test_boundary_dimension_known_answers():
    i, j = np.mgrid[:256, :256]
    disc = (i - 127.3) ** 2 + (j - 121.7) ** 2 < 90.0**2
    assert boundary_dimension(disc, fit_range=(8, 64)).dimension == pytest.approx(1.0, abs=0.15)
    edge = np.zeros((256, 256), dtype=bool)
    edge[:, :101] = True
    assert boundary_dimension(edge, fit_range=(8, 64)).dimension == pytest.approx(1.0, abs=1e-12)
    carpet = fractals.sierpinski_carpet(5)
    fit = boundary_dimension(carpet.mask, dilation=3, fit_range=(3, 81))
    assert fit.dimension == pytest.approx(carpet.dimension, abs=1e-9)
    with pytest.raises(ValueError, match="no boundary"):
        boundary_dimension(np.ones((16, 16), dtype=bool))


def test_zoom_window_centres_on_boundary():
    i, j = np.mgrid[:128, :128]
    mask = (i - 30) ** 2 + (j - 90) ** 2 < 20**2  # a small disc: the only boundary
    x0, x1, y0, y1 = zoom_window(mask, (0.0, 127.0, 0.0, 127.0), 4)
    assert x1 - x0 == pytest.approx(127 / 4) and y1 - y0 == pytest.approx(127 / 4)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    assert abs(math.hypot(cx - 90, cy - 30) - 20) < 127 / 8  # window straddles the circle
    with pytest.raises(ValueError, match="no boundary"):
        zoom_window(np.zeros((8, 8), dtype=bool), (0, 1, 0, 1), 2)


def test_zoom_sequence_nests_windows():
    setup = paper_setup("tanh", width=4, seed=0)
    maps = zoom_sequence(setup, (-1.0, 3.0, -1.0, 3.0), 32, 30, 2, 4.0)
    for outer, inner in zip(maps, maps[1:]):
        assert outer.extent[0] <= inner.extent[0] < inner.extent[1] <= outer.extent[1]
        assert outer.extent[2] <= inner.extent[2] < inner.extent[3] <= outer.extent[3]
        assert outer.width / inner.width == pytest.approx(4.0)
        assert 0 < inner.converged.mean() < 1
    table = zoom_table(maps, fit_range=(2, 8))
    assert table.magnification.tolist() == pytest.approx([1.0, 4.0, 16.0])
    assert ((table.ci_low <= table.dimension) & (table.dimension <= table.ci_high)).all()


def test_rank_colours_keep_sign_and_order():
    measure = np.array([[-5.0, -1.0], [0.5, 3.0]])
    c = rank_colours(measure)
    assert (c[measure < 0] > 0).all() and (c[measure >= 0] < 0).all()
    assert c[0, 1] > c[0, 0] and c[1, 1] > c[1, 0]
    assert c.min() >= -1 and c.max() <= 1
