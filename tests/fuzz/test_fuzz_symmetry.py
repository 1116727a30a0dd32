"""Bad input to every public function of fractalnb.symmetry is refused clearly (see harness)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

import fractalnb.symmetry
from fractalnb import symmetry

from .harness import BAD, Spec, cases, check_case, check_coverage, check_valid

torch.set_num_threads(1)
torch.manual_seed(0)

HUGE = 10**12  # items past the array budget: refused up front, never allocated


def _mlp(batchnorm: bool = False) -> nn.Sequential:
    layers = [nn.Linear(3, 4), *([nn.BatchNorm1d(4)] if batchnorm else []), nn.ReLU(),
              nn.Linear(4, 2)]
    return nn.Sequential(*layers).eval()


MLP = _mlp()
BN_MLP = _mlp(batchnorm=True)
WIDE = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2))  # other parameter shapes
OTHER_OUTPUT = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 7))
SQUARE = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 4))  # three scales 1, 2, 4
X = torch.randn(5, 3)
W = np.random.default_rng(0).normal(size=(6, 4))[::-1]  # negative strides: must be accepted
W_TORCH = torch.from_numpy(np.ascontiguousarray(W))

# a permutation of 4 items, and one of the 6 rows of W
PERM4 = np.arange(4)[::-1]
PERM6 = [5, 4, 3, 2, 1, 0]
BAD_PERM = [[0, 0, 1, 2], [0, 1, 2], [0, 1, 2, 4], [-1, 0, 1, 2], [0.0, 1.0, 2.0, 3.0],
            [0.5, 1, 2, 3], np.array([True, False, True, False]), [], "abc", None,
            np.zeros((2, 2), dtype=int), np.arange(4) + 0j, [[0, 1], [2]]]
# positive factors for 4 neurons
BAD_FACTORS = [[1.0, 1.0, 0.0, 1.0], [1.0, -1.0, 1.0, 1.0], [1.0, math.nan, 1.0, 1.0],
               [1.0, math.inf, 1.0, 1.0], [1.0, 1.0, 1.0], [], "abc", None, np.ones(4, complex),
               np.ones((2, 2)), np.array([True] * 4), [[1.0, 2.0], [3.0]]]
BAD_PERM_ANY = [p for p in BAD_PERM if not (isinstance(p, list) and sorted(p) == [0, 1, 2])]
BAD_SIZES = [v for v in BAD["sizes"] if v is not None]  # None: the default scales
BAD_TENSOR = [*BAD["array"], [[1.0, 2.0], [3.0, 4.0]]]  # a nested list is not a tensor
BAD_RANK_1_TO_4 = [*BAD_TENSOR, np.zeros((1, 1, 1, 1, 2))]
BAD_LAYER = [0, None, "nope", "1", "2"]  # not a name, no module, a ReLU, the output layer
BAD_INPUTS = [X.numpy(), None, "abc", torch.empty(0, 3), torch.full((5, 3), math.nan),
              torch.tensor(1.0), torch.randn(5, 7), torch.zeros(5, 3, dtype=torch.complex64)]
BAD_N = [*BAD["positive_int"], HUGE]
BAD_BASE = [1, 0, -2, 2.0, True, "2", None]
BAD_MAX_FACTOR = [1.0, 0.5, -2.0, math.nan, math.inf, "2", None, True, 1j]
BAD_THRESHOLD = ["abc", ("nope", 1.0), ("quantile", "x"), True, -1.0, math.nan, [1, 2, 3]]
BAD_DILATION = [1, 0, 2.0, True, "2", None]
BAD_AXIS = [2, -1, 1.5, True, "0", None]
BAD_MODE = [*BAD["choice"], "differential"]  # box_counts counts occupied or boundary boxes
THRESHOLD_NAMES = {"threshold": ("tau", "q", "k")}  # a rule names its own parameter

SPECS = [
    # tensors
    Spec(symmetry.permute_rows, {"x": W, "perm": PERM6},
         {"x": BAD_TENSOR, "perm": [*BAD_PERM, [0, 1, 2, 3]]}),
    Spec(symmetry.permute_columns, {"x": W_TORCH, "perm": [1, 0], "block": 2},
         {"x": [*BAD_TENSOR, np.ones(4)], "perm": [*BAD_PERM, [0, 1, 2]],
          "block": [*BAD["positive_int"], 3]}),
    Spec(symmetry.random_permutation, {"n": 4, "seed": 0}, {"n": BAD_N, "seed": "seed"}),
    Spec(symmetry.random_scales, {"n": 4, "max_factor": 2.0, "seed": 0},
         {"n": BAD_N, "max_factor": BAD_MAX_FACTOR, "seed": "seed"}),
    Spec(symmetry.box_constant_scales, {"n": 6, "r": 2, "max_factor": 2.0, "seed": 0},
         {"n": BAD_N, "r": "positive_int", "max_factor": BAD_MAX_FACTOR, "seed": "seed"}),
    # box permutations
    Spec(symmetry.respects_scale, {"perm": PERM4, "r": 2},
         {"perm": BAD_PERM_ANY, "r": "positive_int"}),
    Spec(symmetry.respected_scales, {"perm": PERM4, "scales": [1, 2, 3]},
         {"perm": BAD_PERM_ANY, "scales": BAD_SIZES}),
    Spec(symmetry.block_permutation, {"n": 8, "r": 2, "seed": 0},
         {"n": BAD_N, "r": "positive_int", "seed": "seed"}),
    Spec(symmetry.within_block_permutation, {"n": 8, "r": 2, "seed": 0},
         {"n": BAD_N, "r": "positive_int", "seed": "seed"}),
    Spec(symmetry.hierarchical_permutation, {"n": 8, "base": 2, "seed": 0},
         {"n": BAD_N, "base": BAD_BASE, "seed": "seed"}),
    # coupling and model symmetries
    Spec(symmetry.permutable_layers, {"model": MLP}, {"model": "module"}),
    Spec(symmetry.permute_neurons, {"model": MLP, "layer": "0", "perm": PERM4},
         {"model": "module", "layer": BAD_LAYER, "perm": BAD_PERM}),
    Spec(symmetry.rescale_neurons, {"model": MLP, "layer": "0", "scales": [1.0, 2.0, 3.0, 4.0]},
         {"model": "module", "layer": BAD_LAYER, "scales": BAD_FACTORS}),
    Spec(symmetry.rescale_before_batchnorm,
         {"model": BN_MLP, "layer": "0", "scales": np.array([1.0, 2.0, 3.0, 4.0])[::-1]},
         {"model": [*BAD["module"], MLP], "layer": [0, None, "nope", "1", "3"],
          "scales": BAD_FACTORS},
         names={"model": ("BatchNorm",)}),
    Spec(symmetry.function_preservation,
         {"model": MLP, "inputs": X, "symmetry": "rescaling", "layers": ["0"],
          "max_factor": 2.0, "seed": 0},
         {"model": "module", "inputs": BAD_INPUTS, "symmetry": "choice",
          "layers": ["0", [], [0], ["nope"], ("0", None), 3],
          "max_factor": BAD_MAX_FACTOR, "seed": "seed"}),
    # comparisons of models
    Spec(symmetry.function_distance, {"model_a": MLP, "model_b": _mlp(), "inputs": X},
         {"model_a": "module", "model_b": [*BAD["module"], OTHER_OUTPUT],
          "inputs": BAD_INPUTS}),
    Spec(symmetry.symmetry_checks,
         {"model": MLP, "transforms": {"permute": symmetry.permute_neurons(MLP, "0", PERM4)},
          "inputs": X},
         {"model": "module", "inputs": BAD_INPUTS,
          "transforms": [None, [MLP], {}, {"a": "net"}, {"a": WIDE}, {"a": OTHER_OUTPUT}]}),
    # equivariance
    Spec(symmetry.equivariance_table,
         {"x": W, "perms": {"swap": PERM6}, "scales": [1, 2, 4], "axis": 0,
          "threshold": ("quantile", 0.5), "mode": "boundary", "dilation": 2},
         {"x": BAD_RANK_1_TO_4,
          "perms": [None, [PERM6], {}, {"a": [0, 0, 1, 2, 3, 4]}, {"a": PERM4}, {"a": "abc"}],
          "scales": [*BAD_SIZES, [1, 2, 99]], "axis": BAD_AXIS, "threshold": BAD_THRESHOLD,
          "mode": BAD_MODE, "dilation": BAD_DILATION},
         names=THRESHOLD_NAMES),
    Spec(symmetry.global_quantities, {"x": W, "threshold": ("quantile", 0.5)},
         {"x": BAD_RANK_1_TO_4, "threshold": BAD_THRESHOLD}, names=THRESHOLD_NAMES),
    Spec(symmetry.permutation_spread,
         {"model": SQUARE, "layer": "0", "n_permutations": 2, "kind": "block", "base": 2,
          "threshold": ("quantile", 0.5), "mode": "occupied", "scales": [1, 2, 4],
          "fit_range": "all", "unfold": False, "seed": 0, "progress": False},
         {"model": "module", "layer": BAD_LAYER, "n_permutations": [*BAD_N[:-1], 10**9],
          "kind": "choice", "base": BAD_BASE, "threshold": BAD_THRESHOLD,
          "mode": BAD["choice"], "scales": BAD_SIZES, "fit_range": ["abc", 3],
          "unfold": "bool", "seed": "seed", "progress": "bool"},
         names=THRESHOLD_NAMES),
    # rescaling reports
    Spec(symmetry.rescaling_count_report,
         {"model": MLP, "layer": "0", "scales": [1.0, 2.0, 3.0, 4.0], "method": "intertwiner",
          "absolute": 0.1, "quantile": 0.5, "k": 1.0, "count_scales": [1, 2], "mode": "occupied",
          "dilation": 2, "unfold": False},
         {"model": "module", "layer": BAD_LAYER, "scales": BAD_FACTORS, "method": "choice",
          "absolute": [-1.0, math.nan, math.inf, "1", True], "quantile": [1.0, *BAD["probability"]],
          "k": "real", "count_scales": [*BAD_SIZES, [1, 99]], "mode": BAD_MODE,
          "dilation": BAD_DILATION, "unfold": "bool"}),
    Spec(symmetry.rescaling_commutation_defect,
         {"x": W, "scales": np.linspace(1.0, 2.0, 6)[::-1], "r": 2, "axis": 0},
         {"x": [*BAD_RANK_1_TO_4, np.ones((6, 4), dtype=int)],
          "scales": [*BAD_FACTORS, np.ones(4)],
          "r": [*BAD["positive_int"], [2], [2, 2, 2], [2, 0]], "axis": BAD_AXIS}),
    Spec(symmetry.rescaling_defect_table,
         {"x": W, "factors": {"global": np.full(6, 2.0)}, "scales": [1, 2], "axis": 0,
          "dilation": 2},
         {"x": BAD_RANK_1_TO_4,
          "factors": [None, [np.ones(6)], {}, {"a": [1.0, 0.0, 1.0, 1.0, 1.0, 1.0]},
                      {"a": np.ones(4)}, {"a": "abc"}],
          "scales": BAD_SIZES, "axis": BAD_AXIS, "dilation": BAD_DILATION}),
]

EXEMPT = {
    "RescalingDefect": "a frozen result record, built only by rescaling_commutation_defect",
}


def test_every_public_function_has_a_spec():
    check_coverage(fractalnb.symmetry, SPECS, EXEMPT)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.label())
def test_valid_call_runs(spec):
    check_valid(spec)


@pytest.mark.parametrize(("spec", "argument", "value"), cases(SPECS))
def test_bad_input_is_refused_clearly(spec, argument, value):
    check_case(spec, argument, value)
