"""Bad input to every public function of ``fractalnb.graphs`` is refused clearly.

One spec per public callable (a tiny valid call, bad values per argument). Adjacency
matrices with entries other than 0 and 1 (NaN, -1, 0.5, 2) are refused, not read as edges;
odd dtypes are refused (or converted) before any numba kernel runs; box sizes must be
strictly increasing (sorted, no duplicates); sizes past the stated budgets (2^26 nodes,
2^20 thresholds, 2^28 weights of a token model, about 10^9 array elements) are refused up
front.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import fractalnb.graphs
from fractalnb import graphs as g

from .harness import BAD, Spec, cases, check_case, check_coverage, check_valid

PATH = g.path_graph(5)
POINTS = np.array([0.0, 1.0, 2.5, 4.0])
DIST = np.abs(POINTS[:, None] - POINTS[None, :])
FEATURES = np.random.default_rng(0).normal(size=(6, 4))
HUGE_REAL = torch.zeros(1).expand(2**20, 2**20)   # 2^40 elements, no memory


def _symmetric(value: float) -> np.ndarray:
    a = PATH.toarray().astype(float)
    a[0, 1] = a[1, 0] = value
    return a


GRAPHS = [_symmetric(math.nan), _symmetric(-1.0), _symmetric(0.5), _symmetric(2.0),
          _symmetric(math.inf), sp.csr_matrix(_symmetric(0.5)), sp.csr_matrix(_symmetric(-1.0)),
          np.zeros((2, 3)), np.zeros((0, 0)), np.eye(3), np.array([[0, 1], [0, 0]]),
          np.zeros((2, 2), complex), np.array([["0", "1"], ["1", "0"]]), np.zeros((2, 2, 2)),
          nx.DiGraph([(0, 1)]), nx.Graph([(0, 0)]), sp.coo_matrix((1 << 27, 1 << 27)),
          "abc", None, 3, [[0, 1], [1, 0]], torch.zeros(2, 2)]
SIZES = BAD["sizes"]
METRIC_SIZES = [[1.0, 1.0], [2.0, 1.0], [-0.5, 1.0], [1.0, math.inf], [], "abc", None,
                [1, math.nan], [[1.0, 2.0]], [1j]]
ORDERS = [[0, 1, 2], [0, 0, 1, 2, 3], [1, 2, 3, 4, 5], [0.0, 1.0, 2.0, 3.0, 4.0], "abc",
          [[0, 1, 2, 3, 4]], 3]
DISTANCES = [*BAD["array"], np.zeros((2, 3)), np.array([[0.0, 1.0], [2.0, 0.0]]),
             np.array([[0.0, -1.0], [-1.0, 0.0]]), np.array([[0.0, np.nan], [np.nan, 0.0]]),
             np.zeros((0, 0)), np.eye(2, dtype=bool), np.zeros((2, 2), complex),
             DIST.astype(object), HUGE_REAL]
ACTIVATIONS = [*BAD["array"], np.zeros((2,) * 5), np.ones((4, 3), bool),
               torch.full((2, 3, 2, 2), math.nan), HUGE_REAL]
MATRICES = [*BAD["array"], np.ones((2, 5)), np.ones((5, 1)), np.ones((4, 3), bool),
            np.zeros((3, 3, 3)), torch.full((4, 3), math.nan), np.zeros((2**16, 2))]
CONSTANT = np.ones((6, 4))
EQUIDISTANT = np.eye(4)
PAIRS = [*BAD["array"], np.array([-1.0, 2.0]), np.ones(3, bool), np.zeros((2,) * 5),
         torch.tensor([1.0, -2.0]), HUGE_REAL]
THETAS = [np.array([1.0, np.nan]), [math.inf], [], "abc", None, 3.0, np.zeros(2, complex),
          [[1.0], [2.0, 3.0]]]
N_THETAS = [*BAD["positive_int"], 1, 2**21]
THETA = [*BAD["real"], -1.0]
MODULES = BAD["module"]
LAYER_NAMES = ["0", [0], [], ["7"], 3, None]


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 8))


NET = _net()
INPUTS = torch.randn(12, 4, generator=torch.Generator().manual_seed(1))
BAD_INPUTS = [np.zeros((4, 4)), None, "abc", torch.full((4, 4), math.nan), torch.zeros(0, 4),
              torch.zeros(4, 4, dtype=torch.bool)]
TENSOR = torch.as_tensor(FEATURES)


def _build() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.Tanh(), nn.Linear(8, 10))


_X = torch.randn(32, 3, 2, 2, generator=torch.Generator().manual_seed(0))
_Y = torch.arange(32) % 10
LOADERS = (DataLoader(TensorDataset(_X, _Y), batch_size=16),
           DataLoader(TensorDataset(_X, _Y), batch_size=16))

SPECS = [
    # generators
    Spec(g.as_adjacency, {"graph": PATH}, {"graph": GRAPHS}),
    Spec(g.uv_flower, {"u": 2, "v": 2, "generation": 2},
         {"u": [0, -1, 1.5, 2.0, True, "2", None, 3], "v": [1, 0, 1.5, True, "2", None],
          "generation": [*BAD["nonnegative_int"], 40]}),
    Spec(g.flower_box_dimension, {"u": 2, "v": 3},
         {"u": [1, 0, 1.5, True, "2", None, 4], "v": [1, 0, 1.5, True, "2", None]}),
    Spec(g.flower_diameter, {"u": 2, "v": 3, "generation": 2},
         {"u": [0, 1.5, True, "2", None, 4], "v": [1, 0, 1.5, True, "2", None],
          "generation": [*BAD["nonnegative_int"], 9, 40]}),
    Spec(g.subflower_cover, {"u": 2, "v": 3, "generation": 3, "k": 1},
         {"u": [0, 1.5, True, "2", None, 4], "v": [1, 0, 1.5, True, "2", None],
          "generation": [*BAD["nonnegative_int"], 40], "k": [*BAD["positive_int"], 4]}),
    Spec(g.subflower_bound, {"u": 2, "v": 3, "generation": 3, "box_sizes": [3, 7]},
         {"u": [0, 1.5, True, "2", None, 4], "v": [1, 0, 1.5, True, "2", None],
          "generation": [*BAD["nonnegative_int"], 40], "box_sizes": "sizes"}),
    Spec(g.path_graph, {"n": 5}, {"n": [*BAD["positive_int"], 1, 2**40]}),
    Spec(g.lattice_graph, {"rows": 3, "cols": 4, "periodic": False},
         {"rows": [*BAD["positive_int"], 1, 2**30], "cols": [1, 1.5, True, "3", 2**30],
          "periodic": BAD["bool"]}),
    Spec(g.lattice_graph, {"rows": 3}, {"rows": [2**20]}, id="generators.lattice_graph-square"),
    Spec(g.small_world_graph, {"n": 12, "k": 4, "p": 0.2, "seed": 0},
         {"n": [*BAD["positive_int"], 2, 10**7], "k": [3, 0, 1.5, True, None, 12, "4"],
          "p": BAD["probability"], "seed": BAD["seed"]}),
    Spec(g.threshold_graph, {"distances": DIST, "epsilon": 1.5},
         {"distances": DISTANCES, "epsilon": THETA}),
    Spec(g.connectivity_threshold, {"distances": DIST},
         {"distances": [*DISTANCES, np.zeros((1, 1))]}),
    # box covering
    Spec(g.hop_distances, {"graph": PATH, "sources": [0, 2]},
         {"graph": GRAPHS, "sources": [[-1], [5], [0.5], "abc", [[0]], [], 3]}),
    Spec(g.box_cover, {"graph": PATH, "box_sizes": [1, 2, 3], "method": "greedy", "seed": 0},
         {"graph": GRAPHS, "box_sizes": SIZES, "method": BAD["choice"], "seed": BAD["seed"],
          "order": ORDERS}),
    Spec(g.box_cover, {"graph": PATH, "box_sizes": [1, 3], "method": "memb", "seed": 0},
         {"box_sizes": [*SIZES, [1, 2]], "order": [list(range(5))], "seed": BAD["seed"]},
         id="boxcover.box_cover-memb"),
    Spec(g.box_cover, {"graph": PATH, "box_sizes": [1, 2], "method": "cbb"},
         {"box_sizes": SIZES, "order": [list(range(5))]}, id="boxcover.box_cover-cbb"),
    Spec(g.graph_box_counts, {"graph": PATH, "box_sizes": [1, 2, 3], "order": range(5)},
         {"graph": GRAPHS, "box_sizes": SIZES, "method": BAD["choice"], "seed": BAD["seed"],
          "order": ORDERS}),
    Spec(g.greedy_box_cover_networkx, {"graph": PATH, "box_sizes": [1, 2], "order": range(5)},
         {"graph": GRAPHS, "box_sizes": SIZES, "order": [*ORDERS, None]}),
    Spec(g.metric_box_cover, {"distances": DIST, "box_sizes": [0.5, 1.5], "seed": 0},
         {"distances": DISTANCES, "box_sizes": METRIC_SIZES, "seed": BAD["seed"],
          "order": [[0, 1], [0, 0, 1, 2], "abc", [0.5, 1, 2, 3]]}),
    # feature networks
    Spec(g.channel_features, {"activations": np.ones((3, 4, 2, 2)), "layout": "auto"},
         {"activations": ACTIVATIONS, "layout": [*BAD["choice"], "bd", "bnc"]}),
    Spec(g.pair_distances, {"features": FEATURES}, {"features": MATRICES}),
    Spec(g.distance_matrix, {"features": TENSOR}, {"features": MATRICES}),
    Spec(g.feature_graph, {"features": FEATURES, "theta": 1.0},
         {"features": MATRICES, "theta": THETA}),
    Spec(g.classical_mds, {"distances": DIST, "n_components": 2},
         {"distances": DISTANCES, "n_components": [*BAD["positive_int"], 5]}),
    Spec(g.default_layers, {"model": g.build_token_model("mixer", width=8, depth=1)},
         {"model": [*MODULES, nn.Linear(2, 2)]}),
    Spec(g.LayerRecorder, {"model": NET, "layers": ["0"], "detach": True},
         {"model": MODULES, "layers": LAYER_NAMES, "detach": BAD["bool"]}),
    Spec(g.layer_features, {"model": NET, "inputs": INPUTS, "layers": ["0", "2"]},
         {"model": MODULES, "inputs": BAD_INPUTS, "layers": LAYER_NAMES,
          "layout": BAD["choice"]}),
    # self-similarity
    Spec(g.theta_grid, {"distances": np.array([0.5, 1.0, 3.0]), "n_thetas": 4},
         {"distances": [*PAIRS, np.zeros(3), np.ones(3)], "n_thetas": N_THETAS}),
    Spec(g.pair_fraction, {"distances": np.array([1.0, 2.0, 3.0]), "thetas": np.array([2.0])},
         {"distances": PAIRS, "thetas": THETAS}),
    Spec(g.pair_fraction, {"distances": torch.tensor([1.0, 2.0]), "thetas": [1.5, 0.5]},
         {"distances": [torch.tensor([1.0, math.nan])], "thetas": THETAS},
         id="self_similarity.pair_fraction-torch"),
    Spec(g.pseudo_box_count, {"p": np.array([0.0, 0.5, 1.0]), "n_channels": 10},
         {"p": [np.array([1.5]), np.array([-0.1]), np.array([0.5, np.nan]), np.array([]),
                "abc", None, np.zeros(2, complex), torch.tensor([math.nan]),
                torch.tensor([2.0])],
          "n_channels": [*BAD["positive_int"], 2], "formula": BAD["choice"]}),
    Spec(g.ss_rate_of_curve, {"lo_theta": np.linspace(0, 1, 5), "y": np.linspace(1, 0, 5)},
         {"lo_theta": [[1, 1, 2, 3, 4], [4, 3, 2, 1, 0], [], "abc", None, [1, np.nan, 2, 3, 4],
                       [1.0], [[0, 1, 2, 3, 4]]],
          "y": [np.ones(3), np.array([0, np.nan, 0, 0, 0]), "abc", None, np.zeros(5, complex),
                torch.full((5,), math.nan), np.array([])]}),
    Spec(g.self_similarity_curve, {"features": FEATURES, "n_thetas": 8, "formula": "code"},
         {"features": [*MATRICES, CONSTANT, EQUIDISTANT], "n_thetas": N_THETAS,
          "formula": BAD["choice"]}),
    Spec(g.ss_rate, {"features": TENSOR, "n_thetas": 8},
         {"features": [*MATRICES, CONSTANT, EQUIDISTANT], "n_thetas": N_THETAS,
          "formula": BAD["choice"]}),
    Spec(g.metric_self_similarity_curve, {"features": FEATURES, "n_thetas": 6, "seed": 0},
         {"features": [*MATRICES, CONSTANT], "n_thetas": N_THETAS, "seed": BAD["seed"],
          "order": [[0, 1], [0] * 6, "abc", [0.5, 1, 2, 3, 4, 5]]}),
    Spec(g.ss_rate_metric, {"inputs": INPUTS, "layers": ["0"], "n_thetas": 8},
         {"inputs": BAD_INPUTS, "layers": ["0", [0], [], 3], "n_thetas": N_THETAS,
          "formula": BAD["choice"]}),
    Spec(g.feature_graph_box_counts, {"features": FEATURES, "seed": 0},
         {"features": MATRICES, "epsilon": [v for v in THETA if v is not None],
          "method": BAD["choice"],
          "seed": BAD["seed"]}),
    Spec(g.layer_self_similarity, {"model": NET, "inputs": INPUTS, "layers": ["0", "2"],
                                   "n_thetas": 8},
         {"model": MODULES, "inputs": BAD_INPUTS, "layers": LAYER_NAMES,
          "n_thetas": N_THETAS, "formula": BAD["choice"], "layout": BAD["choice"]}),
    # the constraint
    Spec(g.self_similarity_penalty, {"features": TENSOR, "target": 0.2, "n_thetas": 8},
         {"features": [FEATURES, torch.ones(2, 3), torch.full((4, 3), math.nan),
                       torch.zeros(4, 3, 2), "abc", None, torch.ones(4, 3, dtype=torch.bool),
                       torch.ones(6, 4)],
          "target": BAD["real"], "n_thetas": N_THETAS, "sharpness": BAD["positive_real"],
          "gradient_scale": [0.0, -1.0, math.nan, math.inf, "1", True],
          "formula": BAD["choice"]}),
    Spec(g.self_similarity_penalty, {"features": torch.arange(300.0).reshape(100, 3),
                                     "target": 0.0, "n_thetas": 8},
         {"n_thetas": [2**20]}, id="constraint.self_similarity_penalty-budget"),
    Spec(g.SelfSimilarityConstraint, {"model": NET, "layers": ["1"], "target": 0.2,
                                      "weight": 0.1, "n_thetas": 8},
         {"model": MODULES, "layers": ["1", [1], [], ["9"]], "target": BAD["real"],
          "weight": [-1.0, math.nan, math.inf, "1", None, True], "seed": BAD["seed"],
          "layout": BAD["choice"], "n_thetas": [1, 1.5, "8", None],
          "sharpness": [0.0, math.nan, "1"], "gradient_scale": [0.0, "1"],
          "formula": BAD["choice"], "colour": [1]}),
    Spec(g.compare_constraint, {"build": _build, "probe": _X[:16], "seeds": [0], "target": 0.2,
                                "weight": 0.1, "layers": ["2"], "n_thetas": 8, "epochs": 1,
                                "loaders": LOADERS, "progress": False, "device": "cpu"},
         {"build": [3, None, "net"], "probe": [np.zeros((16, 3, 2, 2)), None,
                                               torch.full((16, 3, 2, 2), math.nan)],
          "seeds": [[], [-1], [1.5], "0", None, 3, [0, 0], [True]], "target": BAD["real"],
          "weight": [-1.0, math.nan, "1", None], "layers": ["2", [2], []],
          "n_thetas": [1, 1.5, None]}),
    # token models
    Spec(g.build_token_model, {"name": "vit", "width": 16, "depth": 1, "patch_size": 8},
         {"name": [*BAD["choice"], "resnet"], "width": [*BAD["positive_int"], 10**6],
          "depth": [*BAD["positive_int"], 10**9], "patch_size": [*BAD["positive_int"], 5],
          "num_heads": [*BAD["positive_int"], 5], "num_classes": [*BAD["positive_int"], 10**9],
          "image_size": [*BAD["positive_int"], 8 * 10**5]}),
]

EXEMPT = {
    "BoxCovering": "a frozen result record, built only by box_cover and metric_box_cover",
    "SelfSimilarityCurve": "a frozen result record, built only by the self-similarity curves",
}


def test_every_public_function_has_a_spec():
    check_coverage(fractalnb.graphs, SPECS, EXEMPT)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.label())
def test_valid_call_runs(spec):
    check_valid(spec)


@pytest.mark.parametrize(("spec", "argument", "value"), cases(SPECS))
def test_bad_input_is_refused_clearly(spec, argument, value):
    check_case(spec, argument, value)
