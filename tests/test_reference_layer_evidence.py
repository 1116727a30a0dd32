"""The per-layer evidence of Part III: D of trained layers against initialisation and null.

On tiny stand-ins of Part III runs (2 epochs of 2 steps, narrow widths) trained into a
temporary results folder with the reference code itself, and on synthetic tables whose
answer is known.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
import torch

from fractalnb.geometry import occupancy, shuffled_copy
from fractalnb.reference import (
    TREATMENTS,
    dimension_dynamics,
    evidence_summary,
    execute,
    layer_contrasts,
    layer_dimensions,
    matched_density_threshold,
    null_range_chance,
)
from fractalnb.reference.runs import run_spec
from fractalnb.reference.store import load_manifest, load_weights
from fractalnb.training import analyze, weight_layers

RUNS = ("custom_cnn-seed0", "custom_cnn-seed1", "custom_cnn-seed2", "vgg16-seed0",
        "vgg16-seed1")
"""The reference runs the stand-ins are shrunk from (ids prefixed ``tiny-``)."""

N_SHUFFLES = 3


def _tiny(run_id: str):
    spec = run_spec(run_id)
    return dataclasses.replace(
        spec, run_id=f"tiny-{run_id}",
        recipe=dict(spec.recipe, epochs=2, steps_per_epoch=2, warmup_epochs=0.0),
        checkpoints=(1, 2), architecture={"width": 4})


TINY = tuple(f"tiny-{r}" for r in RUNS)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    root = tmp_path_factory.mktemp("results")
    threads = torch.get_num_threads()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FRACTALNB_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        try:
            for run_id in RUNS:
                execute.train_reference_run(_tiny(run_id), root)
        finally:
            torch.set_num_threads(threads)
    return root


@pytest.fixture(scope="module")
def dimensions(results):
    return layer_dimensions(TINY, n_shuffles=N_SHUFFLES, seed=5, results=results)


# ------------------------------------------------------------------ known answers


def test_null_range_chance_is_two_in_n_plus_one():
    assert null_range_chance(20) == pytest.approx(2 / 21)
    assert null_range_chance(1) == 1.0
    # an exchangeable value: a draw of the same distribution as the null draws
    rng = np.random.default_rng(0)
    draws = rng.normal(size=(40_000, 21))
    value, null = draws[:, 0], draws[:, 1:]
    rate = np.mean((value < null.min(1)) | (value > null.max(1)))
    assert rate == pytest.approx(null_range_chance(20), abs=0.005)


@pytest.mark.parametrize("bad, error", [(2.0, TypeError), (True, TypeError), (0, ValueError)])
def test_null_range_chance_refuses(bad, error):
    with pytest.raises(error, match="n_shuffles"):
        null_range_chance(bad)


@pytest.mark.parametrize("shape", [(7,), (64, 64), (16, 3, 3, 3), (33, 129)])
@pytest.mark.parametrize("density", [0.001, 0.07, 0.158, 0.31, 0.5, 0.93])
def test_matched_density_threshold_occupies_exactly_the_fraction(shape, density):
    w = torch.rand(shape, generator=torch.Generator().manual_seed(1)) * 2 - 1
    rule = matched_density_threshold(w, density)
    assert rule[0] == "quantile"
    wanted = min(max(round(density * w.numel()), 1), w.numel() - 1)
    assert int(occupancy(w, rule).sum()) == wanted
    assert int(occupancy(w.numpy(), matched_density_threshold(w.numpy(), density)).sum()) \
        == wanted


@pytest.mark.parametrize("weights, density, error, name", [
    ([1.0, 2.0], 0.5, TypeError, "weights"),
    (np.ones(1), 0.5, ValueError, "weights"),
    (np.ones(4), 0.0, ValueError, "density"),
    (np.ones(4), 1.0, ValueError, "density"),
    (np.ones(4), "half", TypeError, "density"),
])
def test_matched_density_threshold_refuses(weights, density, error, name):
    with pytest.raises(error, match=name):
        matched_density_threshold(weights, density)


@pytest.mark.parametrize("shape", [(10, 256), (64, 64), (33, 129), (128, 1152), (7, 5)])
@pytest.mark.parametrize("density", [0.02, 0.16, 0.6])
def test_stacked_dimensions_are_box_dimension_s(shape, density):
    from fractalnb.geometry import box_dimension
    from fractalnb.reference.layer_measurements import _stack_dimensions

    rng = np.random.default_rng(3)
    masks = rng.random((4, *shape)) < density
    masks[:, 0, 0] = True  # never empty
    got = _stack_dimensions(torch.from_numpy(masks))
    for mask, value in zip(masks, got):
        try:
            expected = box_dimension(mask, dilation=2).dimension  # dyadic scales
        except ValueError:  # too few scales: NaN
            expected = math.nan
        assert value == pytest.approx(expected, abs=1e-12, nan_ok=True)


def _synthetic(trained: np.ndarray, control: np.ndarray, null: np.ndarray | None = None
               ) -> pd.DataFrame:
    """A layer_dimensions table: layers x seeds of trained, init (= matched) and shuffles."""
    layers, seeds = trained.shape
    null = np.zeros((layers, seeds, 2)) if null is None else null
    rows = []
    for layer in range(layers):
        for seed in range(seeds):
            base = {"run_id": f"m-seed{seed}", "model": "m", "seed": seed,
                    "name": f"l{layer}.weight", "layer_depth": layer, "numel": 100,
                    "rule": "r", "density": 0.1, "ci_low": np.nan, "ci_high": np.nan,
                    "r2": 1.0}
            rows.append({**base, "treatment": "weights", "epoch": 0, "sample": pd.NA,
                         "dimension": control[layer, seed]})
            rows.append({**base, "treatment": "weights", "epoch": 4, "sample": pd.NA,
                         "dimension": trained[layer, seed]})
            rows.append({**base, "treatment": "matched density", "epoch": 0,
                         "sample": pd.NA, "dimension": control[layer, seed]})
            for k in range(null.shape[2]):
                rows.append({**base, "treatment": "shuffled", "epoch": 4, "sample": k,
                             "dimension": null[layer, seed, k]})
    table = pd.DataFrame(rows)
    table["sample"] = table["sample"].astype("Int64")
    return table


def test_contrasts_find_a_known_shift():
    rng = np.random.default_rng(1)
    control = 1.5 + 0.01 * rng.normal(size=(4, 3))
    trained = control + np.array([[0.5], [0.0], [-0.5], [0.002]])
    null = trained[:, :, None] + np.array([-0.1, 0.1])  # brackets the trained D
    table = layer_contrasts(_synthetic(trained, control, null))
    assert table["name"].tolist() == [f"l{i}.weight" for i in range(4)]
    assert table["diff_init"].to_numpy() == pytest.approx([0.5, 0.0, -0.5, 0.002], abs=1e-12)
    assert table["beyond_init"].tolist() == [True, False, True, False]
    assert table["paired_init"].tolist() == [True, False, True, True]
    assert table["outside_null"].tolist() == [0, 0, 0, 0]
    assert table["diff_null"].to_numpy() == pytest.approx(0.0, abs=1e-12)
    assert table["seed_sd"].to_numpy() == pytest.approx(trained.std(axis=1, ddof=1))
    summary = evidence_summary(table)
    assert summary.loc["m", "beyond_init"] == 2 and summary.loc["m", "layers"] == 4
    assert summary.loc["m", "expected_outside"] == pytest.approx(12 * 2 / 3)
    assert "by more than 2 seed sd in 2 of 4 layers" in summary.loc["m", "verdict"]


def test_seed_spread_criterion_has_its_known_false_positive_rate():
    # trained and initial D exchangeable (i.i.d. normal), 3 seeds: mean(T - I) / (s_T / sqrt 3)
    # is Student t with 2 df times sqrt 2, so P(|mean| > 2 s_T) = P(|t_2| > 2 sqrt(3/2));
    # P(|t_2| > x) = 1 - x / sqrt(2 + x**2). The paired 95% interval excludes 0 in 5%.
    rng = np.random.default_rng(2)
    n = 3000
    table = layer_contrasts(_synthetic(rng.normal(size=(n, 3)), rng.normal(size=(n, 3))))
    x = 2 * math.sqrt(1.5)
    assert table["beyond_init"].mean() == pytest.approx(1 - x / math.sqrt(2 + x**2), abs=0.02)
    assert table["paired_init"].mean() == pytest.approx(0.05, abs=0.012)


def test_contrasts_refuse_bad_tables(dimensions):
    with pytest.raises(TypeError, match="dimensions"):
        layer_contrasts(dimensions.to_dict())
    with pytest.raises(ValueError, match="dimensions"):
        layer_contrasts(dimensions.drop(columns=["treatment"]))
    with pytest.raises(ValueError, match="shuffled"):
        layer_contrasts(dimensions[dimensions["treatment"] != "shuffled"])
    with pytest.raises(ValueError, match="factor"):
        layer_contrasts(dimensions, factor=0)
    with pytest.raises(TypeError, match="contrasts"):
        evidence_summary("table")


# ------------------------------------------------------------------ on stored runs


def test_layer_dimensions_measures_every_stored_epoch_and_both_controls(dimensions,
                                                                         results):
    assert set(dimensions["treatment"]) == set(TREATMENTS)
    assert dimensions["run_id"].unique().tolist() == list(TINY)
    for run_id in TINY:
        stored = load_manifest(run_id, results)["config"]["checkpoints"]
        rows = dimensions[dimensions["run_id"] == run_id]
        weights = rows[rows["treatment"] == "weights"]
        assert sorted(weights["epoch"].unique().tolist()) == [0, *stored]
        shuffled = rows[rows["treatment"] == "shuffled"]
        assert sorted(shuffled["sample"].unique().tolist()) == list(range(N_SHUFFLES))
        assert (shuffled["epoch"] == stored[-1]).all()
        # epoch 0 is analyze() of the rebuilt initialisation
        expected = weight_layers(analyze(load_weights(run_id, 0, results)))
        got = weights[weights["epoch"] == 0]
        assert got["name"].tolist() == expected["name"].tolist()
        np.testing.assert_allclose(got["dimension"], expected["dimension"], equal_nan=True)


def test_the_controls_keep_the_trained_density(dimensions):
    last = dimensions[(dimensions["treatment"] == "weights") & (dimensions["epoch"] == 2)]
    trained = last.set_index(["run_id", "name"])
    shuffled = dimensions[dimensions["treatment"] == "shuffled"]
    for _, group in shuffled.groupby("sample"):
        density = group.set_index(["run_id", "name"])["density"]
        np.testing.assert_array_equal(density, trained.loc[density.index, "density"])
    matched = dimensions[dimensions["treatment"] == "matched density"].set_index(
        ["run_id", "name"])
    gap = (matched["density"] - trained.loc[matched.index, "density"]).abs()
    assert (gap <= 0.5 / trained.loc[matched.index, "numel"] + 1e-12).all()
    init = dimensions[(dimensions["treatment"] == "weights") & (dimensions["epoch"] == 0)]
    assert init["density"].notna().all()


def test_shuffles_are_those_of_shuffled_copy(dimensions, results):
    run_id = TINY[0]
    model = load_weights(run_id, None, results)
    expected = weight_layers(analyze(shuffled_copy(model, seed=5 + 1)))
    got = dimensions[(dimensions["run_id"] == run_id) & (dimensions["treatment"] == "shuffled")
                     & (dimensions["sample"] == 1)]
    np.testing.assert_allclose(got["dimension"], expected["dimension"], equal_nan=True)


def test_contrasts_and_summary_on_stored_runs(dimensions):
    contrasts = layer_contrasts(dimensions)
    assert set(contrasts["model"]) == {"custom_cnn", "vgg16"}
    assert (contrasts.groupby("model")["n_seeds"].first() == pd.Series(
        {"custom_cnn": 3, "vgg16": 2})).all()
    assert (contrasts["n_shuffles"] == N_SHUFFLES).all()
    summary = evidence_summary(contrasts)
    assert summary.index.tolist() == ["custom_cnn", "vgg16"]
    for _, row in summary.iterrows():
        assert row["beyond_init"] <= row["layers"]
        assert row["outside_null"] <= row["layer_seeds"]
        assert f"of {row['layers']} layers" in row["verdict"]
        assert row["expected_outside"] == pytest.approx(
            row["layer_seeds"] * null_range_chance(N_SHUFFLES))


def test_dynamics_follow_the_stored_epochs(dimensions):
    dynamics = dimension_dynamics(dimensions)
    assert sorted(dynamics["epoch"].unique().tolist()) == [0, 1, 2]
    assert sorted(dynamics["fraction"].unique().tolist()) == [0.0, 0.5, 1.0]
    start = dynamics[dynamics["epoch"] == 0]
    assert start["change"].fillna(0).abs().max() == 0
    assert set(dynamics.loc[dynamics["model"] == "custom_cnn", "n_seeds"]) <= {0, 3}


@pytest.mark.parametrize("run_ids, error, match", [
    ("tiny-custom_cnn-seed0", TypeError, "run_ids"),
    ([], ValueError, "run_ids"),
    ([3], TypeError, "run_ids"),
])
def test_layer_dimensions_refuses(results, run_ids, error, match):
    with pytest.raises(error, match=match):
        layer_dimensions(run_ids, results=results)


def test_layer_dimensions_refuses_bad_options(results):
    with pytest.raises(ValueError, match="n_shuffles"):
        layer_dimensions(TINY[:1], n_shuffles=1, results=results)
    with pytest.raises(FileNotFoundError, match="not stored"):
        layer_dimensions(["custom_cnn-seed0"], results=results)
