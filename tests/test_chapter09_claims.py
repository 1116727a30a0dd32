"""Claims of chapter 09 (the fractal analysis of trained networks) about its controls."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from fractalnb.geometry import occupancy
from fractalnb.training import build_model


@pytest.mark.parametrize(("draw", "expected"), [
    ("gaussian", 2 * (1 - 0.5 * (1 + math.erf((math.sqrt(2 / math.pi)
                                                + math.sqrt(1 - 2 / math.pi))
                                               / math.sqrt(2))))),
    ("uniform", 0.5 - 1 / math.sqrt(12)),
])
def test_the_default_rule_keeps_16_and_21_percent_of_an_initialisation(draw, expected):
    # the chapter: mean + 1 std of |W| keeps 16% of Gaussian and 21% of uniform entries
    rng = np.random.default_rng(0)
    w = rng.standard_normal(400_000) if draw == "gaussian" else rng.uniform(-1, 1, 400_000)
    assert round(100 * expected) == (16 if draw == "gaussian" else 21)
    assert occupancy(w).mean() == pytest.approx(expected, abs=0.003)


def test_the_initialisation_is_he_normal_for_convolutions_and_uniform_for_linear_layers():
    # the chapter's description of checkpoint 0: conv N(0, 2/fan_out), linear U(-b, b)
    torch.manual_seed(0)
    model = build_model("custom_cnn", width=16)
    conv = model.conv3.weight.detach()
    fan_out = conv.shape[0] * conv.shape[2] * conv.shape[3]
    assert conv.std().item() == pytest.approx(math.sqrt(2 / fan_out), rel=0.05)
    z = (conv / conv.std()).flatten().numpy()
    assert np.mean(z**4) == pytest.approx(3.0, abs=0.3)  # Gaussian kurtosis
    for layer in (model.fc1, model.fc2):
        bound = 1 / math.sqrt(layer.in_features)
        for tensor in (layer.weight, layer.bias):
            t = tensor.detach()
            assert t.abs().max().item() <= bound
        u = (layer.weight.detach() / bound).flatten().numpy()
        assert np.mean(u**2) == pytest.approx(1 / 3, abs=0.02)  # uniform on [-1, 1]
    assert torch.all(model.bn1.weight == 1) and torch.all(model.bn1.bias == 0)
