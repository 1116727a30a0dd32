"""Claims of chapter 10 (random networks): its verdict rule and its interval for lengths."""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from fractalnb import random_networks

CHAPTER = Path(__file__).resolve().parent.parent / "notebooks" / "10_random_networks.ipynb"


def _chapter_functions(*names):
    """The chapter's own definitions of ``names`` (taken from its code cells)."""
    cells = json.loads(CHAPTER.read_text())["cells"]
    namespace = {"math": math, "np": np, "pd": pd, "N_BOOTSTRAP": 2000, "SEED": 0}
    from scipy import stats

    namespace["stats"] = stats
    found = set()
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        tree = ast.parse("".join(cell["source"]))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name in names:
                exec(compile(ast.Module([node], []), str(CHAPTER), "exec"), namespace)
                found.add(node.name)
    assert found == set(names), f"the chapter no longer defines {set(names) - found}"
    return [namespace[n] for n in names]


def test_a_theory_inside_a_wide_interval_is_not_agreement():
    (verdict,) = _chapter_functions("verdict")
    # the case of the issue: mean 2.59 times the theory, theory inside a huge interval
    theory = 0.375
    assert verdict(theory, 0.0, 2.1, 0.25 * theory) == "CI too wide"
    assert verdict(6.28, 5.9, 6.9, 0.25 * 6.28) == "agrees"
    assert verdict(6.28, 6.5, 7.5, 0.25 * 6.28) == "differs"
    assert verdict(0.15, 0.0, 0.0, 0.25 * 0.15) == "no boundary drawn"
    assert verdict(math.inf, 10.0, 20.0, math.inf) == "theory ∞"


def test_the_length_interval_is_never_negative_where_student_t_is():
    (length_interval,) = _chapter_functions("length_interval")
    skewed = np.array([0.0] * 13 + [3.0, 5.0, 9.0])  # few networks with a boundary
    student = random_networks.mean_ci(skewed)
    assert student["ci_low"] < 0  # the package's Student-t interval: below 0
    low, high = length_interval(skewed)
    assert 0 <= low <= skewed.mean() <= high <= skewed.max()
    assert length_interval(np.zeros(16)) == (0.0, 0.0)


def test_the_sine_exercise_answer():
    exact = (1 + math.exp(-2)) / (1 - math.exp(-2))
    assert round(exact, 2) == 1.31
    assert random_networks.kappa_prime_one(torch.sin, method="moments") == pytest.approx(
        exact, rel=1e-6)


@pytest.mark.parametrize("profile", ["quick", "full"])
def test_cells_of_the_width_n_network_span_two_pixels_of_the_cap(profile, monkeypatch):
    # exercise 10.3: cells of typical diameter pi/n are "2 pixels of the cap used above"
    monkeypatch.setenv("FRACTALNB_PROFILE", profile)
    cells = json.loads(CHAPTER.read_text())["cells"]
    (parameters,) = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
    namespace: dict = {}
    exec("".join(parameters["source"]), namespace)
    pixel = 2 * namespace["DIM_HALF_WIDTH"] / namespace["DIM_SIZE"]
    assert (math.pi / namespace["DIM_WIDTH"]) / pixel == pytest.approx(2.0)
