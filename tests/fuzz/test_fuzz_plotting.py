"""Bad input to every figure helper of ``fractalnb.plotting`` is refused clearly.

One spec per public function (a tiny valid figure, bad values per argument): arrays with NaN
where the figure reads them (weights, images, marked values), wrong ranks and dtypes, axes
that are no matplotlib Axes, labels that are no strings, tables without their columns. NaN
that a figure draws as a gap (missing losses, failed fits, NaN local slopes) is accepted, as
each docstring says.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import fractalnb.plotting  # noqa: E402
from fractalnb import plotting as p  # noqa: E402
from fractalnb.geometry import box_dimension, dsi_test, fractals  # noqa: E402
from fractalnb.training import analyze, compare  # noqa: E402

from .harness import BAD, Spec, cases, check_case, check_coverage, check_valid  # noqa: E402

MASK = fractals.sierpinski_carpet(2).mask.copy()                     # 9 x 9 boolean set
FIT = box_dimension(MASK, scales=[1, 3, 9], fit_range="all")
DSI = dsi_test(fractals.cantor_set(5).mask, dilation=3)
W = np.random.default_rng(0).normal(size=(6, 8))
HUGE_BOOL = torch.zeros(1, dtype=torch.bool).expand(2**20, 2**20)   # 2^40 elements, no memory
HUGE_REAL = torch.zeros(1).expand(2**20, 2**20)
NULL = pd.DataFrame({"rule": ["a", "a", "b", "b"], "model": ["shuffled"] * 4,
                     "dimension": [1.0, 1.1, math.nan, 1.6]})       # a NaN sample: left out
HISTORY = pd.DataFrame({"epoch": [0, 1], "train_loss": [math.nan, 1.0], "test_loss": [2.3, 1.2],
                        "train_acc": [math.nan, 0.5], "test_acc": [0.1, 0.45]})
TABLE = analyze(nn.Sequential(nn.Linear(16, 16), nn.Linear(16, 8)))
EPOCHS = compare({0: nn.Linear(16, 16), 1: nn.Linear(16, 16)}, key="epoch")
BAND = pd.DataFrame({"layer_depth": [0, 1], "low": [1.0, math.nan], "high": [1.5, 1.6]})

AXES = ["ax", 3, np.zeros(3), plt.figure]
TEXT = [3, ["t"], b"t"]
LABEL = [None, 3, ["x"]]
MASKS = [np.ones((3, 3)), np.zeros((0, 3), bool), "abc", None, [[True, False]],
         np.zeros((2,) * 5, bool), HUGE_BOOL]
MASKS_2D = [*MASKS, np.zeros(4, bool), np.zeros((2, 2, 2), bool)]
SCALES = [*BAD["sizes"], [1, 16]]
FITS = [3, None, "fit", {}, {"a": 3}, {1: FIT}, [FIT]]
TRUTH = [math.nan, math.inf, "1.5", True, {"a": math.nan}, {"a": "1"}, 1j]
MARKS = [{"zz": 1.0}, {"a": math.nan}, {"a": "1"}, 3, [1.0]]
TABLES = [3, None, pd.DataFrame(), TABLE.iloc[0:0], TABLE.drop(columns="ci_low")]

SPECS = [
    Spec(p.set_style, {}, {}),
    Spec(p.image_grid, {"images": np.zeros((2, 4, 4, 3), np.uint8), "labels": [0, 1],
                        "classes": ["a", "b"], "ncols": 2, "scale": 1.0},
         {"images": [*BAD["array"], np.zeros((2, 4, 4, 2)), np.full((2, 4, 4, 3), 1.5),
                     np.full((2, 4, 4, 3), -1, np.int16), np.full((2, 4, 4, 3), math.nan),
                     np.zeros((2, 4, 4, 3), bool), np.zeros((2000, 1, 1, 3), np.uint8)],
          "labels": [[0], [0, 5], [-1, 0], [0.0, 1.0], "ab", None, [[0, 1]]],
          "classes": ["ab", None, [1, 2], [], 3, ["a"]], "ncols": BAD["positive_int"],
          "scale": [v for v in BAD["positive_real"] if v is not None], "title": TEXT},
         names={"classes": ("class name",)}),
    Spec(p.figure_size, {"aspect": 0.5, "width": 1.0},
         {"aspect": BAD["positive_real"], "width": [*BAD["positive_real"], 1.5]}),
    Spec(p.format_number, {"value": 1.5, "digits": 3}, {"digits": BAD["positive_int"]}),
    Spec(p.show_table, {"frame": pd.DataFrame({"a": [1.0], "b": [2]}), "first": ["b"]},
         {"frame": [3, None, pd.Series([1.0]), np.zeros((2, 2))],
          "first": [["zz"], "b", 3, None], "columns": [["zz"], "a", 3],
          "digits": [*BAD["positive_int"], {"zz": 2}, {"a": 0}], "index": BAD["bool"],
          "caption": [3, ["c"]]}),
    Spec(p.plot_weights, {"w": W, "robust": True},
         {"w": [*BAD["array"], np.zeros((2, 2, 2)), torch.full((2, 2), math.nan), HUGE_REAL],
          "ax": AXES, "kind": BAD["choice"], "title": TEXT, "xlabel": LABEL, "ylabel": LABEL,
          "colorbar": BAD["bool"], "robust": BAD["bool"], "label": TEXT}),
    Spec(p.finest_covering_scale, {"mask": MASK, "scales": [1, 3, 9]},
         {"mask": MASKS, "scales": SCALES}),
    Spec(p.plot_segmentation, {"mask": torch.from_numpy(MASK), "scales": [1, 3, 9]},
         {"mask": MASKS_2D, "scales": SCALES, "ax": AXES, "cmap": [3, None, "no-such-map"],
          "title": TEXT, "xlabel": LABEL, "ylabel": LABEL, "colorbar": BAD["bool"]}),
    Spec(p.plot_box_cover, {"mask": MASK, "r": 3},
         {"mask": MASKS_2D, "r": [*BAD["positive_int"], 99], "ax": AXES,
          "color": ["no-colour", None, 3.5, (1, 2)], "title": TEXT, "xlabel": LABEL,
          "ylabel": LABEL, "grid": ["yes", 2, 1.0]}),
    Spec(p.plot_loglog, {"fits": {"carpet": FIT}, "truth": {"carpet": 1.89, "other": 1.0}},
         {"fits": FITS, "ax": AXES, "truth": TRUTH, "show_fit": BAD["bool"]}),
    Spec(p.plot_local_slopes, {"fits": FIT, "truth": 1.89},
         {"fits": FITS, "ax": AXES, "truth": TRUTH}),
    Spec(p.plot_null_comparison, {"null": NULL, "observed": {"a": 0.9, "b": 1.55},
                                  "reference": {"a": 1.0}},
         {"null": [3, None, pd.DataFrame(), NULL.iloc[0:0], NULL.drop(columns="model")],
          "observed": [{}, *MARKS, None], "reference": MARKS, "ax": AXES,
          "value": [3, None, "no_column"], "observed_label": [3, None],
          "reference_label": [3, None]}),
    Spec(p.plot_dsi, {"result": DSI},
         {"result": [3, None, FIT],
          "axes": [3, "abc", list(plt.subplots(1, 2)[1]), [1, 2, 3]]}),
    Spec(p.plot_history, {"histories": {"net": HISTORY}, "title": "runs"},
         {"histories": [3, None, {}, {"a": 3}, {"a": pd.DataFrame({"epoch": [0]})}, [HISTORY]],
          "title": TEXT}),
    Spec(p.plot_dimension_by_depth, {"table": TABLE, "band": BAND},
         {"table": TABLES, "hue": [3, "no_col"], "ax": AXES,
          "band": [3, pd.DataFrame({"layer_depth": [0]})], "title": TEXT}),
    Spec(p.plot_dimension_over_epochs, {"table": EPOCHS, "layers": ["weight"]},
         {"table": [*TABLES, EPOCHS.drop(columns="epoch")],
          "layers": ["weight", [3], [], ["nope"]], "key": [3, None, "nope"], "ax": AXES,
          "title": TEXT}),
]

EXEMPT: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_every_public_function_has_a_spec():
    check_coverage(fractalnb.plotting, SPECS, EXEMPT)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.label())
def test_valid_call_runs(spec):
    check_valid(spec)


@pytest.mark.parametrize(("spec", "argument", "value"), cases(SPECS))
def test_bad_input_is_refused_clearly(spec, argument, value):
    check_case(spec, argument, value)
