"""Bad input to every public function of ``fractalnb.random_networks`` is refused clearly.

One spec per public function (a small valid call, bad values per argument); sizes past the
stated budgets (10^6 networks or fields, depth 1000, quadrature order 48, about 10^9 array
elements, 10^10 quadrature terms) are refused up front.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

import fractalnb.random_networks
from fractalnb import random_networks as rn

from .harness import BAD, Spec, cases, check_case, check_coverage, check_valid

POSITIVE_INT = BAD["positive_int"]
NOT_NONE_INT = [v for v in POSITIVE_INT if v is not None]
SPEC = [3, "relu?", None, np.zeros(3), 1.5]
DEVICE = ["gpu0", "cuda:99", 3, np.zeros(3)]
DTYPE = [torch.int64, np.float32, "float32", None]
GRID = [3, "grid", None, np.zeros((5, 8, 3))]
DEPTH = [*POSITIVE_INT, 10**6]
U = [*BAD["array"], math.nan, math.inf, "0.5", None, True, 1j, 1.5, -2.0,
     np.array([0.0, 1.5])]
ORDER = [*POSITIVE_INT, 3, 10**6]
T = [v for v in BAD["sizes"] if v is not None] + [[0.5, 1.5], [1e-3], [1e-4, 1e-3, 1.0]]
SCALES = [v for v in BAD["sizes"] if v is not None] + [[1, 2, 64]]
FIT_RANGE = ["some", 3, (8, 2), (1000, 2000), (1.5, 4), (2, 4, 8)]
BOOL = BAD["bool"]

GRID5 = rn.latlong_grid(5)
CAP = rn.cap_grid(16, 0.3)
FIELDS = np.random.default_rng(0).standard_normal((2, 16, 16))
NETS = rn.sample_networks("relu", 2, 4, 2)
FRAME = pd.DataFrame({"activation": ["relu"] * 3, "depth": [1] * 3, "length": [6.0, 6.5, 6.2]})


def _theory(name: str, depth: int) -> float:
    return 2 * math.pi


SPECS = [
    # activations
    Spec(rn.Activation, {"name": "cube", "fn": torch.tanh},
         {"name": [3, None, 1.5], "fn": BAD["callable"], "derivative": [3, "x"],
          "kappa_closed_form": [3, "x"],
          "kappa_prime_one_closed_form": ["1", math.nan, -1.0, True],
          "regularity_index_closed_form": ["1", math.nan, 0.0, -1.0, math.inf]}),
    Spec(rn.activation, {"spec": "relu"}, {"spec": SPEC}),
    # kernels
    Spec(rn.second_moment, {"spec": "tanh"}, {"spec": SPEC, "order": ORDER}),
    Spec(rn.gamma_w, {"spec": "relu"}, {"spec": SPEC, "order": ORDER}),
    Spec(rn.kappa, {"u": 0.3, "spec": "relu"},
         {"u": U, "spec": SPEC, "method": BAD["choice"], "order": ORDER}),
    Spec(rn.kappa_depth, {"u": [0.0, 0.5], "spec": "heaviside", "depth": 2},
         {"u": U, "spec": SPEC, "depth": DEPTH, "method": BAD["choice"], "order": ORDER}),
    Spec(rn.kappa_sequence, {"u": [0.0, 0.5], "spec": "heaviside", "depth": 2},
         {"u": U, "spec": SPEC, "depth": DEPTH, "method": BAD["choice"], "order": ORDER}),
    Spec(rn.kappa_fixed_point, {"spec": "heaviside"},
         {"spec": SPEC, "method": BAD["choice"], "order": ORDER}),
    Spec(rn.kappa_prime_one, {"spec": "tanh", "method": "moments"},
         {"spec": SPEC, "method": BAD["choice"], "order": ORDER,
          "step": [*BAD["positive_real"], 0.5, 0.7]}),
    Spec(rn.regularity_index, {"spec": "relu"},
         {"spec": SPEC, "depth": DEPTH, "t": T, "method": BAD["choice"]}),
    # theory
    Spec(rn.expected_boundary_volume, {"spec": "relu", "depth": 2},
         {"spec": SPEC, "depth": DEPTH, "level": BAD["real"],
          "sphere_dim": [*POSITIVE_INT, 10**6]}),
    Spec(rn.expected_boundary_length, {"spec": "relu", "depth": 2},
         {"spec": SPEC, "depth": DEPTH, "level": BAD["real"]}),
    Spec(rn.fractal_dimension, {"spec": "heaviside", "depth": 2},
         {"spec": SPEC, "depth": DEPTH, "sphere_dim": [*POSITIVE_INT, 10**6]}),
    # sampling
    Spec(rn.network_seed, {"seed": 0, "index": 1},
         {"seed": BAD["seed"], "index": BAD["nonnegative_int"]}),
    Spec(rn.sample_networks, {"spec": "relu", "depth": 2, "width": 4, "n_networks": 2},
         {"spec": SPEC, "depth": DEPTH, "width": [*POSITIVE_INT, 10**9],
          "n_networks": [*POSITIVE_INT, 10**9], "seed": BAD["seed"],
          "first": BAD["nonnegative_int"], "input_dim": [*POSITIVE_INT, 10**9],
          "device": DEVICE, "dtype": DTYPE}),
    Spec(NETS.__call__, {"points": np.eye(3)},
         {"points": [*BAD["array"], np.ones((4, 2))],
          "depths": [[0], [3], [1, 1], "abc", [1.5], 2.5, [[1]], []],
          "chunk": POSITIVE_INT}),
    Spec(rn.sample_outputs, {"spec": "relu", "depth": 2, "width": 8, "points": np.eye(3)},
         {"spec": SPEC, "depth": DEPTH, "width": [*POSITIVE_INT, 10**9],
          "points": [*BAD["array"], np.ones((10**5, 3))],
          "n_networks": [*POSITIVE_INT, 10**9], "seed": BAD["seed"],
          "first": BAD["nonnegative_int"], "dtype": DTYPE}),
    Spec(rn.great_circle_points, {"angles": [0.0, 1.0]},
         {"angles": [*BAD["array"], np.zeros((2, 2))]}),
    Spec(rn.empirical_covariance,
         {"spec": "relu", "depth": 1, "width": 8, "n_networks": 4, "angles": [0.0, 1.0]},
         {"spec": SPEC, "depth": DEPTH, "width": [*POSITIVE_INT, 10**9],
          "n_networks": [*POSITIVE_INT, 1, 10**9], "angles": [*BAD["array"], np.zeros((2, 2))],
          "seed": BAD["seed"], "sampler": BAD["choice"], "batch": POSITIVE_INT,
          "progress": BOOL}),
    # sphere
    Spec(rn.latlong_grid, {"n_lat": 5},
         {"n_lat": [*POSITIVE_INT, 2, 10**6], "n_lon": [*NOT_NONE_INT, 3, 10**9]}),
    Spec(rn.cap_grid, {"size": 8, "half_width": 0.2},
         {"size": [*POSITIVE_INT, 7, 10**6], "half_width": [*BAD["positive_real"], 1.0],
          "center": [*BAD["array"], (0, 0, 0), (1, 0)], "projection": BAD["choice"]}),
    Spec(rn.latlong_patch, {"size": 8, "half_width": 0.2},
         {"size": [*POSITIVE_INT, 7, 10**6], "half_width": [*BAD["positive_real"], 1.0],
          "cols": [*NOT_NONE_INT, 7, 10**9]}),
    Spec(GRID5.flat_points, {}, {"device": DEVICE, "dtype": DTYPE}),
    Spec(rn.geodesic_distance, {"p": np.eye(3), "q": np.eye(3)[::-1]},
         {"p": [*BAD["array"], np.zeros((2, 2)), np.zeros((2, 3))],
          "q": [*BAD["array"], np.zeros((2, 2))]}),
    Spec(rn.boundary_length, {"values": GRID5.points[..., 2], "grid": GRID5},
         {"values": [*BAD["array"], np.zeros((3, 3)), np.zeros((5, 8), bool)],
          "grid": GRID, "level": BAD["real"]}),
    # spectrum
    Spec(rn.angular_power_spectrum, {"covariance": lambda u: u, "ell_max": 4},
         {"covariance": BAD["callable"], "ell_max": [*POSITIVE_INT, 10**9],
          "panels_per_degree": [*POSITIVE_INT, 10**9], "order": [*POSITIVE_INT, 10**6]}),
    Spec(rn.sample_isotropic_field, {"spectrum": [1.0, 1.0, 0.5], "grid": GRID5},
         {"spectrum": [*BAD["array"], [1.0], [1.0, -1.0], np.ones((2, 2))],
          "grid": [*GRID, CAP], "n_samples": [*POSITIVE_INT, 10**7], "seed": BAD["seed"],
          "first": BAD["nonnegative_int"], "block": [*POSITIVE_INT, 10**9]}),
    # experiments
    Spec(rn.mean_ci, {"values": [1.0, 2.0, 3.0]},
         {"values": [*BAD["array"], [1.0], np.zeros((2, 2))],
          "confidence": [*BAD["probability"], 0.0, 1.0]}),
    Spec(rn.network_fields, {"spec": "relu", "depth": 2, "width": 4, "grid": GRID5,
                             "n_networks": 2},
         {"spec": SPEC, "depth": DEPTH, "width": [*POSITIVE_INT, 10**9], "grid": GRID,
          "n_networks": [*POSITIVE_INT, 10**9], "seed": BAD["seed"],
          "first": BAD["nonnegative_int"], "batch": POSITIVE_INT, "device": DEVICE}),
    Spec(rn.boundary_lengths, {"spec": "relu", "depth": 2, "width": 4, "n_networks": 2,
                               "grid": GRID5},
         {"spec": SPEC, "depth": DEPTH, "width": [*POSITIVE_INT, 10**9],
          "n_networks": [*POSITIVE_INT, 10**9], "grid": GRID, "level": BAD["real"],
          "seed": BAD["seed"], "batch": POSITIVE_INT, "device": DEVICE, "progress": BOOL}),
    Spec(rn.excursion_dimensions, {"spec": "heaviside", "depth": 2, "width": 4,
                                   "n_networks": 2, "grid": CAP, "level": "median"},
         {"spec": SPEC, "depth": DEPTH, "width": [*POSITIVE_INT, 10**9],
          "n_networks": [*POSITIVE_INT, 10**9], "grid": [*GRID, GRID5], "scales": SCALES,
          "level": BAD["real"], "fit_range": FIT_RANGE, "seed": BAD["seed"],
          "batch": POSITIVE_INT, "device": DEVICE, "progress": BOOL}),
    Spec(rn.field_dimensions, {"fields": FIELDS},
         {"fields": [*BAD["array"], np.zeros((8, 8))], "scales": SCALES,
          "level": BAD["real"], "fit_range": FIT_RANGE}),
    Spec(rn.level_set_calibration, {"hursts": [0.5], "size": 16, "n_fields": 2},
         {"hursts": [*BAD["array"], [0.0], [1.0], [1.5]], "size": [*POSITIVE_INT, 4],
          "n_fields": [*POSITIVE_INT, 1, 10**9], "scales": SCALES, "level": BAD["real"],
          "fit_range": FIT_RANGE, "seed": BAD["seed"], "method": "choice",
          "confidence": BAD["probability"]}),
    Spec(rn.limiting_spectrum, {"spec": "relu", "depth": 1, "ell_max": 8},
         {"spec": SPEC, "depth": DEPTH, "ell_max": [*POSITIVE_INT, 10**9]}),
    Spec(rn.limiting_fields, {"spec": "relu", "depth": 1, "grid": GRID5, "ell_max": 4},
         {"spec": SPEC, "depth": DEPTH, "grid": [*GRID, CAP],
          "ell_max": [*POSITIVE_INT, 10**9], "n_fields": [*POSITIVE_INT, 10**7],
          "seed": BAD["seed"], "first": BAD["nonnegative_int"]}),
    Spec(rn.compare_with_theory, {"df": FRAME, "column": "length", "theory": _theory},
         {"df": [3, None, {"length": [1.0]}, np.zeros(3)],
          "column": [3, None, "no-such-column"], "theory": BAD["callable"],
          "confidence": [*BAD["probability"], 0.0, 1.0]}),
]

EXEMPT = {
    "RegularityIndex": "a frozen result record, built only by regularity_index",
    "RandomNetworks": "a frozen record of weights, built only by sample_networks "
                      "(its __call__ has a spec)",
    "SphereGrid": "a frozen grid record, built only by latlong_grid, cap_grid and "
                  "latlong_patch (its flat_points has a spec)",
}


def test_every_public_function_has_a_spec():
    check_coverage(fractalnb.random_networks, SPECS, EXEMPT)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.label())
def test_valid_call_runs(spec):
    check_valid(spec)


@pytest.mark.parametrize(("spec", "argument", "value"), cases(SPECS))
def test_bad_input_is_refused_clearly(spec, argument, value):
    check_case(spec, argument, value)
