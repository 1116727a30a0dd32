"""Bad input to the chapter-14 functions of ``fractalnb.dynamics`` is refused clearly.

Covers the modules ``persistent_homology``, ``point_sets`` and ``trajectories`` (the
chapter-13 modules of the subpackage have their own specs). Sizes past the stated budgets
(subsamples of 10^4 points, 10^6 generated points, 10^6 SGD steps) are refused up front.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from fractalnb.dynamics import (
    ImageFeatures,
    brownian_path,
    fractal_points,
    image_features,
    mst_length,
    persistent_homology,
    ph_dimension,
    point_sets,
    rank_correlation,
    stable_path,
    train_trajectory,
    trajectories,
    trajectory_grid,
    uniform_cube,
)
from fractalnb.geometry import sierpinski_triangle
from fractalnb.training.data import CIFAR10Arrays

from .harness import BAD, Spec, cases, check_case, check_coverage, check_valid

POINTS = np.random.default_rng(0).random((60, 2))
POINT_ARRAYS = [*BAD["array"], np.zeros(5), np.ones((10, 2)), np.zeros((2, 3)),
                np.zeros((2, 3, 4))]
SIZES = [v for v in BAD["sizes"] if v is not None] + [[3, 4, 61], [3, 4, 10**6], [5, 10]]
POSITIVE_INT = BAD["positive_int"]
RNG = np.random.default_rng(0)
ARRAYS = CIFAR10Arrays(
    x_train=RNG.integers(0, 256, (30, 32, 32, 3), dtype=np.uint8), y_train=RNG.integers(0, 10, 30),
    x_test=RNG.integers(0, 256, (20, 32, 32, 3), dtype=np.uint8), y_test=RNG.integers(0, 10, 20),
    classes=tuple("abcdefghij"), variant="sample", source="fuzz")
DATA = ImageFeatures(torch.randn(30, 5), torch.arange(30) % 10, torch.randn(20, 5),
                     torch.arange(20) % 10, 1, "fuzz")
LEARNING_RATE = [0.0, -0.1, math.nan, math.inf, "0.1", None, True]
STEPS = [-1, 1.5, True, "5", None, 10**7]
FRACTAL = [3, "gasket", None, np.zeros((4, 4)), np.zeros((4, 4), bool)]

SPECS = [
    Spec(mst_length, {"points": POINTS}, {"points": POINT_ARRAYS,
                                           "alpha": BAD["positive_real"]}),
    Spec(ph_dimension, {"points": POINTS, "sizes": [15, 30, 60], "n_draws": 2, "n_boot": 20},
         {"points": POINT_ARRAYS, "sizes": SIZES, "alpha": BAD["positive_real"],
          "n_draws": [*POSITIVE_INT, 1], "method": BAD["choice"],
          "confidence": [*BAD["probability"], 0.0, 1.0], "n_boot": [*POSITIVE_INT, 10**7],
          "seed": BAD["seed"]}),
    Spec(uniform_cube, {"n": 5, "dim": 2},
         {"n": [*POSITIVE_INT, 10**7], "dim": [*POSITIVE_INT, 10**9], "seed": BAD["seed"]}),
    Spec(fractal_points, {"fractal": sierpinski_triangle(4), "n": 5},
         {"fractal": FRACTAL, "n": [*POSITIVE_INT, 10**9], "seed": BAD["seed"]}),
    Spec(brownian_path, {"n": 5, "dim": 3},
         {"n": [*POSITIVE_INT, 10**7], "dim": POSITIVE_INT, "seed": BAD["seed"]}),
    Spec(stable_path, {"n": 5, "alpha": 1.5, "dim": 3},
         {"n": [*POSITIVE_INT, 10**7], "alpha": [*BAD["positive_real"], 2.5],
          "dim": POSITIVE_INT, "seed": BAD["seed"]}),
    Spec(image_features, {"arrays": ARRAYS, "n_train": 20, "n_test": 10},
         {"arrays": [3, None, np.zeros((3, 32, 32, 3))],
          "n_train": [*POSITIVE_INT, 5, 31], "n_test": [*POSITIVE_INT, 21],
          "side": [*POSITIVE_INT, 5, 64]}),
    Spec(train_trajectory, {"data": DATA, "learning_rate": 0.05, "batch_size": 4,
                            "hidden": 3, "max_steps": 5, "record": 10},
         {"data": [3, None, ARRAYS], "learning_rate": LEARNING_RATE,
          "batch_size": [*POSITIVE_INT, 31], "hidden": [*POSITIVE_INT, 10**5],
          "max_steps": STEPS, "target_accuracy": BAD["probability"],
          "record": [*POSITIVE_INT, 9, 10**6], "init": BAD["choice"],
          "adversarial_steps": STEPS, "seed": BAD["seed"]}),
    Spec(trajectory_grid, {"data": DATA, "learning_rates": [0.05], "batch_sizes": [4],
                           "n_draws": 2, "progress": False, "hidden": 3, "max_steps": 5,
                           "record": 12},
         {"data": [3, None], "learning_rates": [[0.1, 0.1], [0.2, 0.1], [0.0, 0.1], [],
                                                "abc", None, [0.1, math.nan], [-0.1]],
          "batch_sizes": [v for v in BAD["sizes"] if v is not None] + [[4, 100]],
          "n_draws": [*POSITIVE_INT, 1], "progress": BAD["bool"]},
         names={"batch_sizes": ("batch_size",)}),
    Spec(rank_correlation, {"x": [1, 2, 3, 4, 5], "y": [2, 1, 4, 3, 5], "n_boot": 20},
         {"x": [*BAD["array"], [1, 2, 3], [[1, 2], [3, 4]], [1, 1, 1, 1, 1]],
          "y": [*BAD["array"], [1, 2, 3, 4], [3, 3, 3, 3, 3]],
          "n_boot": [*POSITIVE_INT, 5, 10**7], "confidence": [*BAD["probability"], 1.0],
          "seed": BAD["seed"]},
         names={"y": ("x and y", "x and y must each"), "x": ("x and y",)}),
]

RECORDS = "a result record, built and returned by the functions; tested through them"
EXEMPT = {"PHDimension": RECORDS, "ImageFeatures": RECORDS, "TrajectoryRun": RECORDS,
          "Correlation": RECORDS}


@pytest.mark.parametrize("module", [persistent_homology, point_sets, trajectories],
                         ids=lambda m: m.__name__)
def test_every_public_function_has_a_spec(module):
    check_coverage(module, SPECS, EXEMPT)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.label())
def test_valid_call_runs(spec):
    check_valid(spec)


@pytest.mark.parametrize(("spec", "argument", "value"), cases(SPECS))
def test_bad_input_is_refused_clearly(spec, argument, value):
    check_case(spec, argument, value)
