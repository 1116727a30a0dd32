"""Bad-input fuzz of fractalnb.geometry: every public function refuses bad arguments itself.

One :class:`~tests.fuzz.harness.Spec` per public callable of the subpackage, with a tiny valid
call and, per argument, the bad values to try (see ``tests/fuzz/harness.py`` for what a clear
refusal is).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import fractalnb.geometry
from fractalnb import geometry as g

from .harness import BAD, Spec, cases, check_case, check_coverage, check_valid

MASK = g.sierpinski_carpet(2).mask.copy()                  # 9 x 9 boolean set
W = np.random.default_rng(0).standard_t(3, size=(16, 16))  # a small "weight matrix"
SURFACE = np.random.default_rng(1).normal(size=(8, 8))
HUGE_BOOL = torch.zeros(1, dtype=torch.bool).expand(2**20, 2**20)   # 2^40 elements, no memory
HUGE_REAL = torch.zeros(1).expand(2**20, 2**20)

# bad values shared by several arguments
ARRAY = BAD["array"]
MASKS = [*ARRAY, np.ones((3, 3)), np.zeros((2,) * 5, bool), HUGE_BOOL]
REALS = [*ARRAY, np.zeros((2,) * 5), HUGE_REAL]          # booleans are read as 0 / 1
SURFACES = [*ARRAY, np.ones(8), np.ones((4, 4), bool), HUGE_REAL]
SHAPES = [(0, 4), (-16,), (16.5,), (), (True, 4), "16", None, 16, (2, 2, 2, 2, 2), [4, None]]
SIDES = [0, -2, 1.5, 2.0, True, "2", None, (2, 2, 2), (0, 1), [[1, 2]], 100]
REDUCE = [*BAD["choice"], "median"]
INT_COUNTS = [[4.5, 2, 1], [4, 2], [4, -1, 1], [[4, 2, 1]], "abc", None, [4, np.nan, 1], []]
REAL_COUNTS = [[4, 2], [4, -1, 1], [[4, 2, 1]], "abc", None, [4, np.nan, 1], [4, np.inf, 1],
               [4j, 2, 1]]
FIT_RANGE = ["some", 3, (1,), (1, 2, 3), (4, 2), (1.5, 4), (0, 4), (True, 4), 2.5]
THRESHOLD = ["0.5", True, -0.1, math.nan, ("median", 0.5), ("quantile", 1.5),
             ("quantile", "0.5"), ("absolute", -1), (0.5,), {"q": 0.5}]
CONFIDENCE = [0.0, 1.0, 1.5, -0.1, math.nan, "0.9", None, True]
MODE4 = [*BAD["choice"], "differential"]          # a mode of box counts, not of surfaces


def _observed():
    return {"q": g.box_dimension(W, threshold=("quantile", 0.9))}


NULL = g.null_dimensions(W, {"q": ("quantile", 0.9)}, 2, progress=False)
LAYER = nn.Linear(8, 8)


def _analysis():
    from fractalnb.training import analyze

    return analyze(LAYER)


SPREAD = g.null_spread(LAYER, n=1)
TABLE = _analysis()


SPECS = [
    # --- transform
    Spec(g.coarse_shape, {"shape": (7, 5), "r": 2}, {"shape": SHAPES, "r": SIDES}),
    Spec(g.box_sizes, {"shape": (7, 5), "r": 2},
         {"shape": [*SHAPES, (2**20, 2**20)], "r": SIDES}),
    Spec(g.fractal_transform, {"x": W, "r": 2, "reduce": "mean"},
         {"x": [*REALS, [[1.0, 2.0], [3.0]]], "r": SIDES, "reduce": REDUCE}),
    Spec(g.upsample, {"y": np.ones((4, 3)), "r": 2, "shape": (7, 5), "reduce": "sum"},
         {"y": [*ARRAY, np.ones((4, 4)), np.ones(12)], "r": SIDES,
          "shape": [*SHAPES, (7, 5, 1), (2**20, 2**20)], "reduce": REDUCE}),
    Spec(g.box_oscillation, {"x": W, "r": (2, 3)}, {"x": REALS, "r": SIDES}),
    Spec(g.unfold_conv, {"w": np.zeros((4, 3, 3, 3))},
         {"w": [*ARRAY, [[1.0]], np.zeros((2,) * 5), np.float64(1.0), HUGE_REAL]}),
    # --- occupancy rules
    Spec(g.Absolute, {"tau": 0.1}, {"tau": [-0.1, *BAD["real"]]}),
    Spec(g.Quantile, {"q": 0.9}, {"q": [1.0, *BAD["probability"], math.inf]}),
    Spec(g.MeanStd, {"k": 1.0}, {"k": BAD["real"]}),
    Spec(g.occupancy_rule, {"threshold": ("quantile", 0.5)}, {"threshold": [*THRESHOLD, None]}),
    Spec(g.occupancy, {"x": W, "threshold": 0.5},
         {"x": [*REALS, np.ones(4, bool)], "threshold": [*THRESHOLD, None, 1e9]}),
    # --- box counts
    Spec(g.dilation_scales, {"shape": (64, 3), "dilation": 2},
         {"shape": SHAPES, "dilation": [1, 0, -2, 2.0, 2.5, True, "2", None]}),
    Spec(g.default_scales, {"shape": (64, 3)}, {"shape": SHAPES}),
    Spec(g.box_counts, {"mask": MASK, "scales": [1, 3, 9], "mode": "boundary"},
         {"mask": MASKS, "scales": [*BAD["sizes"], [1, 27], [[1, 3]], True, 2.5],
          "mode": MODE4}),
    Spec(g.differential_box_counts, {"x": SURFACE, "scales": [1, 2, 4]},
         {"x": SURFACES, "scales": [*BAD["sizes"], [1, 16]]}),
    Spec(g.box_dimension,
         {"x": W, "scales": None, "threshold": None, "mode": "occupied", "dilation": 2,
          "fit_range": None, "confidence": 0.9},
         {"x": REALS, "scales": [*[v for v in BAD["sizes"] if v is not None], [1, 32]],
          "threshold": THRESHOLD, "mode": BAD["choice"],
          "dilation": [1, 2.0, True, "2"], "fit_range": FIT_RANGE,
          "confidence": CONFIDENCE}),
    # --- fits
    Spec(g.local_slopes, {"scales": [1, 2, 4], "counts": [9, 3, 1]},
         {"scales": [*BAD["sizes"], [1]], "counts": REAL_COUNTS}),
    Spec(g.self_similarity, {"scales": [1, 3, 9, 27], "counts": [8, 4, 2, 1]},
         {"scales": [*BAD["sizes"], [1, 3, 9]], "counts": [*REAL_COUNTS, [8, 4, 0, 1]]}),
    Spec(g.default_fit_range, {"scales": [1, 2, 4, 8, 16], "shape": (16, 16)},
         {"scales": BAD["sizes"], "shape": SHAPES}),
    Spec(g.fit_dimension,
         {"scales": [1, 2, 4, 8], "counts": [27, 9, 3, 1], "fit_range": "all",
          "confidence": 0.9, "shape": (8, 8), "mode": "occupied", "rule": "counts",
          "tau": 0.5, "density": 0.25},
         {"scales": [*BAD["sizes"], [1, 2, 4]], "counts": [*INT_COUNTS, [27, 9, 3, 0]],
          "fit_range": [*FIT_RANGE, (16, 32)], "confidence": CONFIDENCE,
          "shape": [s for s in SHAPES if s != ()], "mode": BAD["choice"],
          "rule": [None, 3], "tau": [-1.0, math.inf, "0.5", True],
          "density": [1.5, -0.1, math.inf, "0.5", None]}),
    Spec(g.fit_box_dimension,
         {"box_sizes": [1, 2, 4, 8], "n_boxes": [100, 30, 9, 3], "fit_min": 1, "fit_max": 8},
         {"box_sizes": [*BAD["sizes"], [0.0, 1.0, 2.0, 3.0], [1]],
          "n_boxes": [*REAL_COUNTS, [100, 30, 9, 0.5]],
          "fit_min": [0, -1, math.nan, "1", True, 8], "fit_max": [0, math.inf, "8", True, 1]}),
    Spec(g.fit_exponential_decay,
         {"box_sizes": [1, 2, 3, 4], "n_boxes": [100, 30, 9, 3], "fit_min": None,
          "fit_max": None},
         {"box_sizes": BAD["sizes"], "n_boxes": REAL_COUNTS, "fit_min": [math.nan, "1", 5],
          "fit_max": [-1, "8", 0.5]}),
    # --- discrete scale invariance
    Spec(g.ratio_residual, {"counts": [64, 16, 4, 1], "dilation": 2},
         {"counts": [*REAL_COUNTS, [64, 16], [64, 16, 0, 1]],
          "dilation": [1, 2.0, True, "2", None]}),
    Spec(g.log_periodic_concordance, {"inner": [0.1, -0.2, 0.05], "outer": [0.1, -0.2, 0.0]},
         {"inner": [*ARRAY, [0.1], [[0.1, 0.2, 0.3]], [0.1, 0.2]],
          "outer": [*ARRAY, [0.1, 0.2]]}),
    Spec(g.dsi_test,
         {"x": MASK, "dilation": 3, "threshold": None, "mode": "occupied", "fit_range": "all",
          "points_per_period": 4, "harmonics": 1, "tolerance": 0.02},
         {"x": [*ARRAY, np.zeros((2,) * 5, bool), HUGE_BOOL], "dilation": [1, 3.0, True, None],
          "threshold": [0.5, ("quantile", 0.5)], "mode": MODE4, "fit_range": FIT_RANGE,
          "points_per_period": [1, 4.0, True, None], "harmonics": [0, 1.0, "1", None],
          "tolerance": [0.0, -1.0, math.nan, math.inf, "0.1", None]}),
    Spec(g.estimate_dilation, {"x": MASK, "candidates": [2, 3]},
         {"x": [*ARRAY, HUGE_BOOL], "candidates": [[1, 2], [0], [], "abc", None, [2.5], [True], 3],
          "threshold": [0.5], "mode": MODE4}),
    # --- analytic fractals and surfaces
    *[Spec(f, {"level": 1}, {"level": [-1, -16, 1.5, 16.5, 2.0, True, "1", None, 40, 10**9]})
      for f in (g.cantor_set, g.sierpinski_triangle, g.sierpinski_carpet, g.vicsek_fractal,
                g.menger_sponge)],
    Spec(g.cantor_dust, {"level": 1, "rank": 2},
         {"level": [-1, 1.5, True, None, 10**9], "rank": [0, 5, 2.0, True, None]}),
    Spec(g.line, {"size": 8, "angle": 30.0},
         {"size": [1, 0, -16, 16.5, 8.0, True, None, 10**6, 10**30],
          "angle": [-1.0, 46.0, *BAD["real"]]}),
    Spec(g.filled_square, {"size": 8}, {"size": [1, 0, -16, 16.5, True, None, 10**6]}),
    Spec(g.fractal_percolation, {"level": 2, "keep": 0.75, "seed": 0},
         {"level": [0, 1.5, True, None, 10**9], "keep": [1 / 9, 0.0, 1.5, *BAD["real"]],
          "seed": BAD["seed"]}),
    Spec(g.fractional_brownian_surface, {"size": 8, "hurst": 0.5, "seed": 0},
         {"size": [4, 16.5, True, None, 10**6], "hurst": [0.0, 1.0, *BAD["real"]],
          "seed": BAD["seed"], "method": BAD["choice"]}),
    Spec(g.fractional_brownian_surface, {"size": 8, "hurst": 0.9, "seed": 0, "method": "exact"},
         {"size": [4, 16.5, True, None, 4096, 10**6]}, id="surfaces.fbm_surface-exact"),
    Spec(g.fractional_brownian_motion, {"n": 16, "hurst": 0.5, "seed": 0},
         {"n": [4, 16.5, True, None, 10**9], "hurst": [0.0, 1.0, *BAD["real"]],
          "seed": BAD["seed"]}),
    # --- threshold-free roughness (variation estimators)
    *[Spec(f, {"x": W}, {"x": [*SURFACES, np.ones((2, 16)), np.ones((8, 8)), np.ones((2,) * 3)],
                         "method": BAD["choice"], "max_lag": [1, 2.0, True, None, 15]})
      for f in (g.madogram_dimension, g.variogram_dimension)],
    Spec(g.variation_dimension, {"x": W, "power": 1.0},
         {"x": [*ARRAY, np.ones(3), HUGE_REAL], "power": BAD["positive_real"],
          "method": BAD["choice"], "max_lag": [1, 2.0, None]}),
    Spec(g.power_variation, {"x": W[0], "lags": [1, 2], "power": 2.0},
         {"x": [*ARRAY, W, HUGE_REAL], "lags": [*BAD["sizes"], [1, 16]],
          "power": BAD["positive_real"]}),
    # --- null models
    Spec(g.shuffle_entries, {"x": W, "seed": 0},
         {"x": [*ARRAY, [[1.0, 2.0]], np.float64(1.0), HUGE_REAL], "seed": BAD["seed"]}),
    Spec(g.gaussian_like, {"x": W, "seed": 0},
         {"x": [*ARRAY, np.ones(1), np.ones(4, bool), HUGE_REAL], "seed": BAD["seed"]}),
    Spec(g.expected_counts_shuffled,
         {"shape": (8, 8), "scales": [1, 2, 4], "occupied": 10, "mode": "occupied"},
         {"shape": [*SHAPES, (2**20, 2**20)], "scales": [*BAD["sizes"], [1, 16]],
          "occupied": [-1, 65, 2.0, True, None, "3"], "mode": MODE4}),
    Spec(g.null_dimensions,
         {"x": W, "thresholds": {"q": ("quantile", 0.9)}, "n_samples": 2,
          "models": ("shuffled",), "seed": 0, "mode": "occupied", "scales": None,
          "fit_range": None, "progress": False},
         {"x": [*ARRAY, np.ones(4, bool), np.zeros((2,) * 5), HUGE_REAL],
          "thresholds": [{}, {"q": "0.5"}, {"q": ("quantile", 1.5)}, [("quantile", 0.9)], None],
          "n_samples": [1, 2.0, True, None, 10**9],
          "models": [(), ("permuted",), ("shuffled", "shuffled"), "shuffled", None, 3],
          "seed": BAD["seed"], "mode": MODE4, "scales": [[4, 2, 1], [1.5, 2.5], [1, 32]],
          "fit_range": ["some", (4, 2)], "progress": BAD["bool"]}),
    Spec(g.compare_to_null, {"observed": _observed(), "null": NULL, "z_critical": 3.0},
         {"observed": [None, [1.0], {"q": 1.7}, {"other": _observed()["q"]}],
          "null": [None, NULL.drop(columns=["density"]), {"rule": ["q"]}],
          "z_critical": [0.0, -1.0, *BAD["real"]]}),
    Spec(g.shuffled_copy, {"model": LAYER, "seed": 0},
         {"model": BAD["module"], "seed": BAD["seed"]}),
    Spec(g.null_spread, {"model": LAYER, "n": 1, "seed": 0},
         {"model": BAD["module"], "n": [0, 1.5, True, None, 10**9], "seed": BAD["seed"]}),
    Spec(g.against_null, {"table": TABLE, "spread": SPREAD},
         {"table": [None, {"name": ["weight"]}, TABLE.drop(columns=["dimension"])],
          "spread": [None, SPREAD.drop(columns=["null_low"]), pd.DataFrame()]}),
]

EXEMPT = {
    "BoxDimension": "a frozen result record, built only by fit_dimension (its inputs checked)",
    "ScalingFit": "a frozen result record, built only by fit_box_dimension and "
                  "fit_exponential_decay",
    "DSIResult": "a frozen result record, built only by dsi_test",
    "Fractal": "a frozen result record, built only by the analytic-fractal constructors",
    "Surface": "a frozen result record, built only by fractional_brownian_surface and "
               "fractional_brownian_motion",
    "RoughnessDimension": "a frozen result record, built only by variation_dimension",
    "OccupancyRule": "an abstract base class (not instantiable); its subclasses have specs",
}


def test_every_public_function_has_a_spec():
    check_coverage(fractalnb.geometry, SPECS, EXEMPT)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.label())
def test_valid_call_runs(spec):
    check_valid(spec)


@pytest.mark.parametrize(("spec", "argument", "value"), cases(SPECS))
def test_bad_input_is_refused_clearly(spec, argument, value):
    check_case(spec, argument, value)


def test_negative_stride_views_are_read_as_their_values():
    flipped = MASK[::-1, ::-1]
    np.testing.assert_array_equal(g.box_counts(flipped, [1, 3, 9]),
                                  g.box_counts(flipped.copy(), [1, 3, 9]))
    assert (g.box_dimension(W[::-1], fit_range="all").dimension
            == g.box_dimension(W[::-1].copy(), fit_range="all").dimension)
    np.testing.assert_array_equal(g.fractal_transform(W[:, ::-1], 3, "mean"),
                                  g.fractal_transform(W[:, ::-1].copy(), 3, "mean"))
    np.testing.assert_array_equal(g.occupancy(W[::-2], 0.5), g.occupancy(W[::-2].copy(), 0.5))
    np.testing.assert_array_equal(np.sort(g.shuffle_entries(W[::-1], seed=1).ravel()),
                                  np.sort(W.ravel()))
