"""Bad input to the reference results' API (``fractalnb.reference``) is refused clearly."""

from __future__ import annotations

import math

import numpy as np
import pytest

import fractalnb.reference
from fractalnb.reference import run_spec

from .harness import Spec, cases, check_case, check_coverage, check_valid

R = fractalnb.reference
_RUN = "mixer-baseline-seed0"
_RUN_ID = [3, None, "", "../x", b"x"]
_RESULTS = [3, 1.5, b"/tmp"]
_RUNS = [3, "abc", [3]]

SPECS = [
    Spec(R.run_spec, {"run_id": "vgg16-seed0"}, {"run_id": [3, None, "nope"]}),
    Spec(R.load_manifest, {"run_id": _RUN}, {"run_id": _RUN_ID, "results": _RESULTS}),
    Spec(R.load_history, {"run_id": _RUN}, {"run_id": _RUN_ID, "results": _RESULTS}),
    Spec(R.load_weights, {"run_id": _RUN, "epoch": None},
         {"run_id": _RUN_ID, "epoch": [-1, 1.5, "1", True, 999], "results": _RESULTS}),
    Spec(R.provenance, {"run_ids": [_RUN]}, {"run_ids": [3, [], "abc"]}),
    Spec(R.verify_results, {"runs": [run_spec(_RUN)]}, {"runs": _RUNS, "results": _RESULTS}),
    Spec(R.resolve_target, {"spec": run_spec("vit-gamma0.25-seed0")},
         {"spec": [3, "x", None]}),
    Spec(R.source_sha256, {}, {"files": [3, "abc", ["nope.py"], [3]],
                               "package": [3, 1.5]}),
    Spec(R.reference_curves, {"runs": [run_spec(_RUN)]},
         {"part": ["IV", 3], "runs": _RUNS, "results": _RESULTS}),
    Spec(R.accuracy_table, {"part": "V"}, {"part": ["IV", 3, None]}),
    Spec(R.constraint_gains, {}, {"confidence": [0, 1.5, math.nan, "0.95"]}),
    Spec(R.run_reference, {"only": [], "progress": False},
         {"jobs": [0, -1, 1.5, "2"], "only": [3, "abc", ["nope"]], "progress": ["yes", 2]}),
    Spec(R.null_range_chance, {"n_shuffles": 20}, {"n_shuffles": "positive_int"}),
    Spec(R.matched_density_threshold,
         {"weights": np.random.default_rng(0).normal(size=100), "density": 0.3},
         {"density": [0, 1.5, math.nan, "0.3", None]}),
    Spec(R.probe_batch, {"size": 4}, {"size": [0, 1, 1.5, "4", None], "variant": "choice"}),
]

EXEMPT = {
    "train_reference_run": "trains a run for minutes; its spec is checked first (TypeError)",
    "replay_first_epoch": "trains an epoch; its run_id goes through load_manifest (above)",
    "build_reference_model": "part of the hashed training sources: called with RunSpecs only",
    "state_sha256": "part of the hashed training sources: called with state dicts only",
    "training_kwargs": "part of the hashed training sources: called with RunSpecs only",
    "RunSpec": "a frozen dataclass of the run list, not user input",
    "reference_runs": "takes no arguments",
    "results_dir": "takes no arguments",
    "layer_dimensions": "trains nothing but analyses 20 shuffles per layer (seconds per run);"
                        " its arguments are tested in tests/test_reference_layer_evidence.py",
    "layer_contrasts": "takes the table of layer_dimensions; tested with it",
    "evidence_summary": "takes the table of layer_contrasts; tested with it",
    "dimension_dynamics": "takes the table of layer_dimensions; tested with it",
    "stored_ss_rates": "loads weights and computes SS_rate per block; tested in "
                       "tests/test_reference_feature_evidence.py",
    "float16_shift": "loads weights and computes SS_rate; tested with stored_ss_rates",
    "training_change": "takes the table of stored_ss_rates; tested with it",
}


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.label())
def test_valid_call_runs(spec):
    check_valid(spec)


@pytest.mark.parametrize(("spec", "argument", "value"), cases(SPECS))
def test_bad_input_is_refused_clearly(spec, argument, value):
    check_case(spec, argument, value)


def test_every_public_callable_is_fuzzed_or_exempt():
    check_coverage(fractalnb.reference, SPECS, EXEMPT)
