"""Smoke test of the ``full`` profile on the CPU, without training anything at scale.

- Every model of the book is built at its ``full`` size (the CIFAR-10 CNNs at their standard
  widths, the token models of chapters 11-12 at those chapters' full settings) and takes one
  optimizer step of its full recipe on a batch of 2 images (through ``train_model``).
- Every chapter's ``parameters`` cell runs with ``FRACTALNB_PROFILE=full``; each of its
  values has a sane type (numbers finite, counts positive integers, scales increasing), it
  defines the same names as under ``quick``, and the sizes the chapter passes to fractalnb's
  training functions are accepted by their validators (``TrainConfig``, ``build_model``,
  ``build_token_model``).
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from fractalnb import _validate
from fractalnb.graphs import build_token_model
from fractalnb.training import TrainConfig, build_model, recipe_table, train_model
from fractalnb.training.config import _recipe
from fractalnb.training.models import _STANDARD_WIDTHS

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
CNNS = ("resnet18", "vgg16", "custom_cnn")
TOKEN_MODELS = ("vit", "mixer")


def _parameters_source(path: Path) -> str:
    # the hidden set-up cell of tools/setup_cell.py (tag fractalnb-setup) may come first
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"
             and "fractalnb-setup" not in c.get("metadata", {}).get("tags", [])]
    assert cells, f"{path.name} has no code cell"
    assert "parameters" in cells[0].get("metadata", {}).get("tags", []), (
        f"{path.name}: the first code cell is not tagged 'parameters'")
    return "".join(cells[0]["source"])


def _parameters(path: Path, profile: str, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Run a chapter's parameters cell under a profile; return its upper-case names."""
    monkeypatch.setenv("FRACTALNB_PROFILE", profile)
    namespace: dict = {}
    exec(compile(_parameters_source(path), f"{path.name}[parameters]", "exec"), namespace)
    return {k: v for k, v in namespace.items() if k.isupper()}


def _chapter(prefix: str) -> Path:
    (path,) = [p for p in NOTEBOOKS if p.name.startswith(prefix)]
    return path


def _check_sane(name: str, value: object) -> None:
    """A parameter is a number (floats finite), a string, None, a torch dtype (the precision
    a chapter computes in), or a container of those."""
    import torch

    if isinstance(value, (bool, str, int, np.integer, torch.dtype)) or value is None:
        return  # signs are checked where they matter (counts, seeds: _check_sizes)
    if isinstance(value, (float, np.floating)):
        assert math.isfinite(value), f"{name} = {value} is not finite"
        return
    if isinstance(value, np.ndarray):
        _validate.real_array(value, name)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), f"{name} has a key {key!r} that is not a string"
            _check_sane(f"{name}[{key!r}]", item)
        return
    assert isinstance(value, (list, tuple)), f"{name} has type {type(value).__name__}"
    for i, item in enumerate(value):
        _check_sane(f"{name}[{i}]", item)


_COUNTS = ("N_", "EPOCHS", "BATCH_SIZE", "STEPS_PER_EPOCH", "PROBE_SIZE", "DEPTH", "WIDTH",
           "LEVEL", "SIZE", "NETS", "GRID", "THETAS", "NODES", "SIDE", "ELL_MAX", "FIELDS")
_SCALES = ("SCALES", "RESOLUTIONS", "WIDTHS", "LEVELS", "DILATIONS")


def _check_sizes(name: str, value: object) -> None:
    """Counts are integers >= 1 (``None``: the whole set), scale lists strictly increase."""
    if name.endswith(_SCALES) and isinstance(value, list):
        _validate.sizes(value, name)
    elif (name != "LEVEL" and any(part in name for part in _COUNTS)
          and isinstance(value, (int, np.integer)) and not isinstance(value, bool)):
        _validate.integer(value, name, 1)
    if name in ("SEED", "SEEDS"):
        for seed in (value if isinstance(value, list) else [value]):
            _validate.seed(seed)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_parameters_cell_runs_under_the_full_profile(path, monkeypatch):
    full = _parameters(path, "full", monkeypatch)
    quick = _parameters(path, "quick", monkeypatch)
    assert full.keys() == quick.keys(), f"{path.name}: the profiles define different names"
    if "PROFILE" in full:
        assert full["PROFILE"] == "full"
    for name, value in full.items():
        _check_sane(name, value)
        _check_sizes(name, value)
        other = quick[name]
        if value is not None and other is not None and name != "PROFILE":
            assert type(value) is type(other), (
                f"{path.name}: {name} is a {type(value).__name__} under full, "
                f"a {type(other).__name__} under quick")


def test_every_full_recipe_validates_at_the_standard_width():
    table = recipe_table("full")
    assert sorted(table.index) == sorted(CNNS)
    for name in CNNS:
        recipe = _recipe(name, "full")
        assert TrainConfig(**recipe.to_dict()) == recipe  # every field passes the checks
        assert table.loc[name, "width"] == _STANDARD_WIDTHS[name]
        assert recipe.width in (None, _STANDARD_WIDTHS[name])


def test_the_training_settings_of_chapters_8_11_and_12_validate_under_full(monkeypatch):
    ch08 = _parameters(_chapter("08_"), "full", monkeypatch)
    assert set(ch08["MODEL_NAMES"]) == set(CNNS)
    ch11 = _parameters(_chapter("11_"), "full", monkeypatch)
    ch12 = _parameters(_chapter("12_"), "full", monkeypatch)
    for chapter in (ch11, ch12):
        # the token models' recipe (lr 2e-3, AdamW, weight decay 0.05, as the chapters pass it)
        TrainConfig(epochs=chapter["EPOCHS"], steps_per_epoch=chapter["STEPS_PER_EPOCH"],
                    batch_size=chapter["BATCH_SIZE"], lr=2e-3, optimizer="adamw",
                    weight_decay=0.05)
        for name in TOKEN_MODELS:
            build_token_model(name, width=chapter["TOKEN_WIDTH"], depth=chapter["TOKEN_DEPTH"],
                              patch_size=chapter["PATCH_SIZE"])
    # chapter 11 compares with trained_model("resnet18", width=CNN_WIDTH, epochs=EPOCHS, ...)
    cnn = dataclasses.replace(_recipe("resnet18", "full"), width=ch11["CNN_WIDTH"],
                              epochs=ch11["EPOCHS"], steps_per_epoch=ch11["STEPS_PER_EPOCH"],
                              batch_size=ch11["BATCH_SIZE"])
    assert cnn.width == _STANDARD_WIDTHS["resnet18"]


def _one_step(model: torch.nn.Module, config: TrainConfig) -> None:
    """One optimizer step of ``config``'s recipe on 2 random CIFAR-sized images (CPU)."""
    gen = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.randn(2, 3, 32, 32, generator=gen), torch.tensor([3, 7]))
    before = [p.detach().clone() for p in model.parameters()]
    history = train_model(model, epochs=1, steps_per_epoch=1, batch_size=2, lr=config.lr,
                          momentum=config.momentum, weight_decay=config.weight_decay,
                          optimizer=config.optimizer, device="cpu", progress=False,
                          loaders=(DataLoader(data, batch_size=2), DataLoader(data)))
    assert history["images"].tolist() == [0, 2]
    assert math.isfinite(history["train_loss"].iloc[-1])
    after = list(model.parameters())
    assert all(torch.isfinite(p).all() for p in after)
    changed = sum(not torch.equal(a, b) for a, b in zip(before, after))
    assert changed > len(before) // 2, f"only {changed} of {len(before)} parameters moved"


@pytest.mark.parametrize("name", CNNS)
def test_every_cnn_takes_a_step_at_its_full_width(name):
    torch.manual_seed(0)
    recipe = _recipe(name, "full")
    model = build_model(name, width=recipe.width)
    _one_step(model, recipe)


@pytest.mark.parametrize("name", TOKEN_MODELS)
def test_every_token_model_takes_a_step_at_the_chapters_full_size(name, monkeypatch):
    settings = _parameters(_chapter("11_"), "full", monkeypatch)
    torch.manual_seed(0)
    model = build_token_model(name, width=settings["TOKEN_WIDTH"],
                              depth=settings["TOKEN_DEPTH"], patch_size=settings["PATCH_SIZE"])
    assert len(model.blocks) == settings["TOKEN_DEPTH"]
    _one_step(model, TrainConfig(epochs=1, lr=2e-3, optimizer="adamw", weight_decay=0.05))
