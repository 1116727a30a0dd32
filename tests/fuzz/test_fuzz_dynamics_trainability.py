"""Bad input to every public function of the chapter-13 modules of ``fractalnb.dynamics``.

One spec per public function of ``trainability`` and ``trainability_zoom`` (a small valid
call, bad values per argument); grids past 2048 pixels a side, 10^5 steps or 12 zooms are
refused up front.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import fractalnb.dynamics.trainability
import fractalnb.dynamics.trainability_zoom
from fractalnb import dynamics as dy

from .harness import BAD, Spec, cases, check_case, check_coverage, check_valid

POSITIVE_INT = BAD["positive_int"]
NOT_NONE_INT = [v for v in POSITIVE_INT if v is not None]
SETUP_BAD = [3, None, "setup", np.zeros(3)]
DTYPE = [torch.int64, np.float32, "float32", None]
DEVICE = ["gpu0", "cuda:99", 3, np.zeros(3)]
EXTENT = [3, "extent", (0.0, 1.0, 0.0), (1.0, 0.0, 0.0, 1.0), (0.0, 1.0, "a", 2.0),
          (0.0, math.nan, 0.0, 1.0), (0.0, 1.0, 0.0, math.inf)]
MASK_BAD = [3, None, np.zeros((8, 8)), np.ones((8, 8), dtype=bool), np.zeros(8, dtype=bool),
            np.zeros((2, 2, 2), dtype=bool)]
FIT_RANGE = ["some", 3, (8, 2), (1000, 2000), (1.5, 4), (2, 4, 8)]

SETUP = dy.paper_setup("tanh", width=3, seed=0)
MASK = np.zeros((16, 16), dtype=bool)
MASK[:, :7] = True
MAPS = dy.zoom_sequence(dy.paper_setup("tanh", width=4), (-1.0, 3.0, -1.0, 3.0), 16, 20, 1,
                        2.0)

SPECS = [
    Spec(dy.paper_setup, {"nonlinearity": "relu", "width": 3},
         {"nonlinearity": BAD["choice"], "width": [*POSITIVE_INT, 1000],
          "seed": BAD["seed"], "n_data": [*NOT_NONE_INT, 10**6]}),
    Spec(dy.output_layer_threshold, {"setup": SETUP}, {"setup": SETUP_BAD}),
    Spec(dy.train_grid, {"setup": SETUP, "lr0": [0.1, 1.0], "lr1": [0.1, 2.0], "steps": 2},
         {"setup": SETUP_BAD, "lr0": [*BAD["array"], [-1.0, 1.0], [0.1], np.zeros((2, 2))],
          "lr1": [*BAD["array"], [0.1, -2.0]], "steps": [*POSITIVE_INT, 10**6],
          "chunk": [*POSITIVE_INT, 10**7], "dtype": DTYPE, "device": DEVICE,
          "progress": BAD["bool"]},
         names={"lr0": ("lr0 and lr1",), "lr1": ("lr0 and lr1",)}),
    Spec(dy.classify, {"losses": np.array([[1.0, 0.5, 0.2], [1.0, 2.0, np.inf]]),
                       "window": 2},
         {"losses": [*BAD["array"], np.array([[0.0, 1.0]]), np.array([[-1.0, 1.0]]),
                     np.array([[1.0]]), np.ones(1)],
          "steps": [*NOT_NONE_INT, 3], "criterion": BAD["choice"],
          "window": [*POSITIVE_INT, 4], "threshold": [*BAD["real"], 1.0, 0.5, 1e9]}),
    Spec(dy.trainability_map, {"setup": SETUP, "extent": (-1.0, 1.0, -1.0, 1.0),
                               "resolution": 2, "steps": 3, "window": 2},
         {"setup": SETUP_BAD, "extent": [*EXTENT, None], "resolution": [*POSITIVE_INT, 1, 5000],
          "steps": [*POSITIVE_INT, 10**6], "window": [*POSITIVE_INT, 5],
          "chunk": POSITIVE_INT, "dtype": DTYPE, "device": DEVICE, "progress": BAD["bool"]}),
    Spec(dy.boundary_dimension, {"converged": MASK},
         {"converged": MASK_BAD, "fit_range": FIT_RANGE,
          "scales": [v for v in BAD["sizes"] if v is not None] + [[2, 4, 64]],
          "dilation": [*NOT_NONE_INT, 1]}),
    Spec(dy.zoom_window, {"converged": MASK, "extent": (0.0, 1.0, 0.0, 1.0), "factor": 2.0},
         {"converged": MASK_BAD, "extent": [*EXTENT, None],
          "factor": [*BAD["positive_real"], 1.5, 100.0]}),
    Spec(dy.zoom_sequence, {"setup": dy.paper_setup("tanh", width=4),
                            "extent": (-1.0, 3.0, -1.0, 3.0), "resolution": 8, "steps": 20,
                            "zooms": 1, "factor": 2.0},
         {"setup": SETUP_BAD, "extent": EXTENT, "resolution": [*POSITIVE_INT, 3, 5000],
          "steps": [*POSITIVE_INT, 10**6], "zooms": [*BAD["nonnegative_int"], 13],
          "factor": [*BAD["positive_real"], 1.5, 100.0], "dtype": DTYPE, "device": DEVICE}),
    Spec(dy.zoom_table, {"maps": MAPS, "fit_range": (2, 8)},
         {"maps": [3, None, [], [3], MAPS[0], (MAPS[0], "map")], "fit_range": FIT_RANGE}),
    Spec(dy.rank_colours, {"measure": np.array([-1.0, 2.0])},
         {"measure": BAD["array"], "buffer": [*BAD["real"], -0.1, 1.0]}),
]

EXEMPT = {
    "TrainabilitySetup": "a frozen record of weights and data, built only by paper_setup",
    "TrainabilityMap": "a frozen result record, built only by trainability_map "
                       "(its classify is classify, which has a spec)",
}


def test_every_public_function_has_a_spec():
    for module in (fractalnb.dynamics.trainability, fractalnb.dynamics.trainability_zoom):
        check_coverage(module, SPECS, EXEMPT)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.label())
def test_valid_call_runs(spec):
    check_valid(spec)


@pytest.mark.parametrize(("spec", "argument", "value"), cases(SPECS))
def test_bad_input_is_refused_clearly(spec, argument, value):
    check_case(spec, argument, value)
