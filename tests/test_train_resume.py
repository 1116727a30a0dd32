"""Resuming training at epoch granularity gives the uninterrupted run, bit for bit."""

from __future__ import annotations

import pytest
import torch

from fractalnb.graphs import SelfSimilarityConstraint, build_token_model
from fractalnb.training import build_model, train_model

RECIPE = dict(epochs=3, steps_per_epoch=3, batch_size=16, lr=0.05, seed=3,
              variant="sample", progress=False)


class _Interrupt(Exception):
    pass


def _model(name: str = "custom_cnn") -> torch.nn.Module:
    torch.manual_seed(3)
    if name == "custom_cnn":
        return build_model("custom_cnn", width=4)
    return build_token_model("mixer", width=16, depth=2, patch_size=8)


def _interrupted_at(epoch: int):
    """A metric that raises after ``epoch`` epochs were completed and saved (the 'kill')."""
    calls = {"n": 0}

    def metric(model: torch.nn.Module) -> float:
        calls["n"] += 1  # called at epoch 0, 1, 2 ...
        if calls["n"] == epoch + 2:
            raise _Interrupt
        return 0.0

    return metric


def _same(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(),
                                                  b.state_dict().values()))


def test_resumed_run_equals_uninterrupted(tmp_path):
    straight = _model()
    expected = train_model(straight, metrics={"m": lambda m: 0.0}, **RECIPE)
    state = tmp_path / "state.pt"
    first = _model()
    with pytest.raises(_Interrupt):
        train_model(first, metrics={"m": _interrupted_at(1)}, state_file=state, **RECIPE)
    resumed_model = _model()  # a fresh process would build the model again
    resumed = train_model(resumed_model, metrics={"m": lambda m: 0.0}, state_file=state,
                          **RECIPE)
    assert _same(straight, resumed_model)
    columns = ["epoch", "train_loss", "train_acc", "test_loss", "test_acc", "lr", "images"]
    assert resumed[columns].equals(expected[columns])


def test_resumed_constrained_run_draws_the_same_layers(tmp_path):
    probe_free = dict(RECIPE, optimizer="adamw", lr=1e-3)

    def run(state=None, interrupt=None):
        model = _model("mixer")
        constraint = SelfSimilarityConstraint(model, target=0.25, weight=1.0, seed=5,
                                              n_thetas=16)
        metric = interrupt or (lambda m: 0.0)
        try:
            history = train_model(model, extra_loss=constraint, metrics={"m": metric},
                                  state_file=state, **probe_free)
        finally:
            constraint.remove()
        return model, history, constraint

    straight, expected, c1 = run()
    state = tmp_path / "state.pt"
    with pytest.raises(_Interrupt):
        run(state, _interrupted_at(2))
    model, history, c2 = run(state)
    assert _same(straight, model)
    assert [r["layer"] for r in c1.history] == [r["layer"] for r in c2.history]
    assert history["extra_loss"].equals(expected["extra_loss"])


def test_stop_after_replays_a_prefix_of_the_schedule():
    full = train_model(_model(), **RECIPE)
    prefix = train_model(_model(), stop_after=1, **RECIPE)
    assert len(prefix) == 2
    assert prefix.iloc[1][["train_loss", "test_acc", "lr"]].equals(
        full.iloc[1][["train_loss", "test_acc", "lr"]])


def test_state_of_another_recipe_is_refused(tmp_path):
    state = tmp_path / "state.pt"
    train_model(_model(), state_file=state, stop_after=1, **RECIPE)
    with pytest.raises(ValueError, match="another recipe.*'lr'"):
        train_model(_model(), state_file=state, **dict(RECIPE, lr=0.01))
    state.write_bytes(b"not a state")
    with pytest.raises(ValueError, match="cannot be read"):
        train_model(_model(), state_file=state, **RECIPE)


def test_bad_stop_after_and_distributed_state_are_named():
    with pytest.raises(ValueError, match="stop_after"):
        train_model(_model(), stop_after=4, **RECIPE)
    with pytest.raises(TypeError, match="stop_after"):
        train_model(_model(), stop_after=1.0, **RECIPE)
