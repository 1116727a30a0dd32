"""SS_rate recomputed from stored Part V weights agrees with the SS_rate the run logged.

On tiny stand-ins of the Part V baselines (2 epochs of 2 steps, width 16, depth 2), trained
into a temporary results folder with the reference code itself.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from fractalnb.reference import execute
from fractalnb.reference.feature_evidence import (
    EXACT_TOLERANCE,
    FLOAT16_TOLERANCE,
    float16_shift,
    probe_batch,
    stored_ss_rates,
    training_change,
)
from fractalnb.reference.runs import config_sha256, run_spec

BASELINES = ("vit-baseline-seed0", "vit-baseline-seed1", "mixer-baseline-seed0")
"""The reference runs the stand-ins are shrunk from (their ids get a ``tiny-`` prefix, so
their work folders never meet those of real reference runs)."""


def _tiny(run_id: str):
    spec = run_spec(run_id)
    return dataclasses.replace(
        spec, run_id=f"tiny-{run_id}",
        recipe=dict(spec.recipe, epochs=2, steps_per_epoch=2, warmup_epochs=0.0),
        checkpoints=(2,), architecture=dict(width=16, depth=2, patch_size=8))


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    import torch

    root = tmp_path_factory.mktemp("results")
    threads = torch.get_num_threads()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FRACTALNB_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        try:
            for run_id in BASELINES:
                execute.train_reference_run(_tiny(run_id), root)
        finally:
            torch.set_num_threads(threads)
    return root


@pytest.fixture(scope="module")
def rates(results):
    return stored_ss_rates([f"tiny-{r}" for r in BASELINES], results=results)


def test_live_ss_rate_matches_the_logged_one(rates):
    assert set(rates["state"]) == {"untrained", "trained"}
    assert sorted(rates["epoch"].unique().tolist()) == [0, 2]
    assert rates["layer"].unique().tolist() == ["blocks.0", "blocks.1"]
    assert len(rates) == len(BASELINES) * 2 * 2
    assert np.isfinite(rates["ss_rate"]).all()
    initial = rates[rates["state"] == "untrained"]["difference"].abs()
    final = rates[rates["state"] == "trained"]["difference"].abs()
    assert initial.max() <= EXACT_TOLERANCE
    assert final.max() <= FLOAT16_TOLERANCE
    # training moved the weights, so the two states are not the same numbers
    pairs = rates.pivot_table(index=["run_id", "layer"], columns="state",
                              values="ss_rate")
    assert not np.allclose(pairs["untrained"], pairs["trained"])


def test_float16_rounding_of_the_initialisation(results, rates):
    run_id = f"tiny-{BASELINES[0]}"
    shift = float16_shift([run_id], results=results)
    assert shift["layer"].tolist() == ["blocks.0", "blocks.1"]
    assert shift["shift"].abs().max() <= FLOAT16_TOLERANCE
    exact = rates[(rates["run_id"] == run_id) & (rates["epoch"] == 0)]
    np.testing.assert_allclose(shift["exact"], exact["ss_rate"], atol=EXACT_TOLERANCE)


def test_training_change_is_the_paired_mean(rates):
    table = training_change(rates)
    assert table.index.tolist() == [("mixer", "blocks.0"), ("mixer", "blocks.1"),
                                    ("mixer", "mean"), ("vit", "blocks.0"),
                                    ("vit", "blocks.1"), ("vit", "mean")]
    vit = rates[rates["model"] == "vit"]
    per_run = vit.pivot_table(index="run_id", columns="state", values="ss_rate")
    row = table.loc[("vit", "mean")]
    assert row["n_seeds"] == 2
    assert row["change"] == pytest.approx((per_run["trained"] - per_run["untrained"]).mean())
    assert row["ci_low"] <= row["change"] <= row["ci_high"]
    mixer = table.loc[("mixer", "mean")]
    assert mixer["n_seeds"] == 1 and np.isnan(mixer["ci_low"]) and np.isnan(mixer["trained_sd"])


def test_a_chosen_stored_epoch_only(results):
    run_id = f"tiny-{BASELINES[2]}"
    table = stored_ss_rates([run_id], epochs=(2,), results=results)
    assert table["state"].unique().tolist() == ["trained"]
    same = stored_ss_rates([run_id], epochs=(None, 2), results=results)
    assert len(same) == len(table)  # None is the last stored epoch, 2, counted once


def test_bad_arguments_are_named(results, rates):
    run_id = f"tiny-{BASELINES[0]}"
    with pytest.raises(TypeError, match="run_ids"):
        stored_ss_rates(run_id, results=results)
    with pytest.raises(TypeError, match="run_ids must hold strings"):
        stored_ss_rates([3], results=results)
    with pytest.raises(ValueError, match="run_ids is empty"):
        stored_ss_rates([], results=results)
    with pytest.raises(ValueError, match="epoch 1 of tiny-vit-baseline-seed0 is not stored"):
        stored_ss_rates([run_id], epochs=(1,), results=results)
    with pytest.raises(TypeError, match="epochs"):
        stored_ss_rates([run_id], epochs=0, results=results)
    with pytest.raises(ValueError, match="epochs is empty"):
        stored_ss_rates([run_id], epochs=(), results=results)
    with pytest.raises(FileNotFoundError, match="vit-baseline-seed7"):
        stored_ss_rates(["vit-baseline-seed7"], results=results)
    with pytest.raises(TypeError, match="ss_rates must be a pandas DataFrame"):
        training_change(rates.to_dict())
    with pytest.raises(ValueError, match="ss_rates lacks the columns"):
        training_change(rates.drop(columns="depth"))
    with pytest.raises(ValueError, match="'untrained' state"):
        training_change(rates[rates["state"] == "trained"])
    with pytest.raises(ValueError, match="confidence"):
        training_change(rates, confidence=1.5)
    with pytest.raises(ValueError, match="size"):
        probe_batch(1)
    with pytest.raises(ValueError, match="size must be at most"):
        probe_batch(10**6)
    with pytest.raises(ValueError, match="variant"):
        probe_batch(4, "tiny")


def test_a_part_iii_run_is_refused(results, tmp_path):
    source = results / f"tiny-{BASELINES[0]}"
    folder = tmp_path / "tiny-cnn"
    folder.mkdir()
    manifest = json.loads((source / "manifest.json").read_text())
    manifest["config"]["part"] = "III"
    manifest["run_id"] = manifest["config"]["run_id"] = "tiny-cnn"
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    manifest["manifest_sha256"] = config_sha256(body)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="tiny-cnn is a Part III run"):
        stored_ss_rates(["tiny-cnn"], results=tmp_path)


def test_probe_is_the_first_test_images():
    from fractalnb.training import cifar10_datasets

    probe = probe_batch(3)
    _, test = cifar10_datasets("sample")
    assert probe.shape == (3, 3, 32, 32)
    assert bool((probe[2] == test[2][0]).all())
