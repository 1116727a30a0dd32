"""fractalnb.training: the training loop on a tiny synthetic task, checkpoints, and the cache."""

import json
import math
import re
import threading
import time

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from fractalnb import plotting, training
from fractalnb.environment import default_device
from fractalnb.training import TrainConfig, build_model, train_model, trained_model


def _blobs(n: int, seed: int, k: int = 4) -> TensorDataset:
    """k classes of 3x8x8 images: a class-specific mean pattern plus noise (separable)."""
    gen = torch.Generator().manual_seed(seed)
    centres = torch.randn(k, 3, 8, 8, generator=torch.Generator().manual_seed(123))
    labels = torch.randint(0, k, (n,), generator=gen)
    images = centres[labels] + 0.8 * torch.randn(n, 3, 8, 8, generator=gen)
    return TensorDataset(images, labels)


def _loaders(seed: int = 0) -> tuple[DataLoader, DataLoader]:
    train_set, test_set = _blobs(256, seed), _blobs(128, seed + 1)
    return (DataLoader(train_set, batch_size=32, shuffle=True,
                       generator=torch.Generator().manual_seed(seed)),
            DataLoader(test_set, batch_size=64))


def _mlp() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 32), nn.ReLU(), nn.Linear(32, 4))


def test_training_reduces_the_loss_and_writes_loadable_checkpoints(tmp_path):
    torch.manual_seed(0)
    model = _mlp()
    history = train_model(model, epochs=4, lr=0.05, loaders=_loaders(), checkpoint_dir=tmp_path,
                          progress=False, device="cpu")
    assert history["epoch"].tolist() == [0, 1, 2, 3, 4]
    for column in ("train_loss", "train_acc", "test_loss", "test_acc", "lr", "wall_s",
                   "epoch_wall_s", "images"):
        assert column in history.columns
    assert math.isnan(history["train_loss"].iloc[0])
    assert history["test_loss"].iloc[-1] < 0.5 * history["test_loss"].iloc[0]
    assert history["train_loss"].iloc[-1] < history["train_loss"].iloc[1]
    assert history["test_acc"].iloc[-1] > 0.9  # chance is 0.25
    assert history["lr"].iloc[-1] == pytest.approx(0.0, abs=1e-12)  # cosine to zero
    assert history["images"].iloc[-1] == 4 * 256
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [f"epoch_{e:03d}.pt" for e in range(5)]
    state = torch.load(tmp_path / "epoch_004.pt", weights_only=True)
    fresh = _mlp()
    fresh.load_state_dict(state)
    x = torch.randn(5, 3, 8, 8)
    model.eval()
    assert torch.equal(fresh(x), model(x))
    initial = _mlp()
    initial.load_state_dict(torch.load(tmp_path / "epoch_000.pt", weights_only=True))
    assert not torch.equal(initial[1].weight, model[1].weight)


def test_training_is_reproducible_from_the_seed():
    histories = []
    weights = []
    for _ in range(2):
        torch.manual_seed(1)
        model = _mlp()
        histories.append(train_model(model, epochs=2, loaders=_loaders(3), seed=7,
                                     progress=False, device="cpu"))
        weights.append(model[1].weight.detach().clone())
    cols = ["train_loss", "test_loss", "test_acc"]
    assert histories[0][cols].iloc[1:].equals(histories[1][cols].iloc[1:])
    assert torch.equal(weights[0], weights[1])


def test_steps_per_epoch_warmup_adamw_and_metrics():
    torch.manual_seed(0)
    model = _mlp()
    history = train_model(model, epochs=2, optimizer="adamw", lr=1e-3, warmup_epochs=1,
                          steps_per_epoch=3, loaders=_loaders(), progress=False, device="cpu",
                          metrics={"norm": lambda m: float(m[1].weight.norm()),
                                   "pair": lambda m: {"a": 1.0, "b": 2.0}},
                          extra_loss=lambda m, x, y: 0.0 * y.sum())
    assert history["images"].tolist() == [0, 96, 192]
    assert {"norm", "pair_a", "pair_b", "extra_loss"} <= set(history.columns)
    assert history["norm"].notna().all()


def test_a_diverging_loss_stops_with_a_clear_error():
    model = _mlp()
    with pytest.raises(FloatingPointError, match="epoch 1, step 0"):
        train_model(model, epochs=1, loaders=_loaders(), progress=False, device="cpu",
                    extra_loss=lambda m, x, y: torch.tensor(float("nan")))


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [({"epochs": 0}, "epochs"), ({"epochs": 1, "lr": -1.0}, "lr"),
     ({"epochs": 1, "momentum": 1.0}, "momentum"), ({"epochs": 1, "optimizer": "adam"},
                                                    "optimizer"),
     ({"epochs": 2, "warmup_epochs": 2}, "warmup_epochs"),
     ({"epochs": 1, "steps_per_epoch": 0}, "steps_per_epoch"),
     ({"epochs": 1, "batch_size": 0}, "batch_size"),
     ({"epochs": 1, "seed": -1}, "seed")],
)
def test_bad_recipes_raise_naming_the_setting(kwargs, word):
    with pytest.raises(ValueError, match=word):
        train_model(_mlp(), loaders=_loaders(), progress=False, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [({"epochs": 1.5}, "epochs"), ({"epochs": True}, "epochs"), ({"lr": "0.1"}, "lr"),
     ({"seed": 1.5}, "seed"), ({"steps_per_epoch": 2.0}, "steps_per_epoch"),
     ({"progress": "no"}, "progress"), ({"metrics": {"m": 3}}, "metrics"),
     ({"extra_loss": 3}, "extra_loss"), ({"checkpoint_dir": 3}, "checkpoint_dir")],
)
def test_wrong_types_raise_type_errors_naming_the_argument(kwargs, word):
    with pytest.raises(TypeError, match=word):
        train_model(_mlp(), **{"epochs": 1, "loaders": _loaders(), "progress": False, **kwargs})


def test_other_bad_input():
    with pytest.raises(ValueError, match="variant or loaders"):
        train_model(_mlp(), epochs=1, loaders=_loaders(), variant="sample", progress=False)
    with pytest.raises(TypeError, match="model"):
        train_model("mlp", epochs=1, loaders=_loaders(), progress=False)
    with pytest.raises(ValueError, match="no images"):
        train_model(_mlp(), epochs=1, loaders=(_loaders()[0], []), progress=False)
    with pytest.raises(TypeError, match="loaders"):
        train_model(_mlp(), epochs=1, loaders=_loaders()[0], progress=False)
    with pytest.raises(TypeError, match=r"\(images, labels\) pairs"):
        train_model(_mlp(), epochs=1, loaders=(_loaders()[0], [torch.zeros(2)]),
                    progress=False)
    with pytest.raises(TypeError, match="metrics"):
        train_model(_mlp(), epochs=1, loaders=_loaders(), progress=False,
                    metrics={"m": lambda m: "high"})


def test_the_initial_evaluation_counts_correct_predictions():
    layer = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.eye(2))
    data = [(torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0]]), torch.tensor([0, 1, 1]))]
    history = train_model(layer, epochs=1, loaders=(data, data), progress=False, device="cpu")
    assert history["test_acc"].iloc[0] == pytest.approx(2 / 3)  # before any step
    assert history["test_loss"].iloc[0] > 0


def test_a_train_config_checks_every_field():
    assert TrainConfig(epochs=3).to_dict()["epochs"] == 3
    with pytest.raises(ValueError, match="warmup_epochs"):
        TrainConfig(epochs=2, warmup_epochs=2.0)
    with pytest.raises(TypeError, match="width"):
        TrainConfig(width=8.0)
    with pytest.raises(ValueError, match="optimizer"):
        TrainConfig(optimizer="adam")


def test_recipes_cover_every_model_and_profile():
    full, quick = training.recipe_table("full"), training.recipe_table("quick")
    assert list(full.index) == list(quick.index) == ["custom_cnn", "resnet18", "vgg16"]
    assert set(full.columns) == {f for f in TrainConfig().to_dict()}
    with pytest.raises(ValueError, match="profile"):
        training.recipe_table("medium")
    with pytest.raises(ValueError, match="name must be one of"):
        trained_model("resnet50", variant="sample")


TINY = {"width": 2, "epochs": 1, "steps_per_epoch": 2, "batch_size": 16, "profile": "quick"}


def test_the_cache_trains_once_and_reloads(tmp_path, monkeypatch):
    monkeypatch.setenv("FRACTALNB_CACHE_DIR", str(tmp_path))
    first = trained_model("custom_cnn", seed=0, variant="sample", progress=False, **TINY)
    assert first.trained_now
    # the key's format; its exact value is pinned in tests/test_cache_integrity.py
    assert re.fullmatch(rf"custom_cnn-w2-quick-sample-seed0-t{torch.get_num_threads()}"
                        rf"-{default_device().type}-[0-9a-f]{{10}}", first.path.name)
    assert len(first.checkpoints) == 2 and all(p.is_file() for p in first.checkpoints)
    assert first.path.parent == tmp_path / "trained"
    config = json.loads((first.path / "config.json").read_text())
    assert config["model"] == "custom_cnn" and config["seed"] == 0
    assert config["variant"] == "sample" and config["width"] == 2
    again = trained_model("custom_cnn", seed=0, variant="sample", progress=False, **TINY)
    assert not again.trained_now and again.path == first.path
    assert again.history.equals(first.history)
    for (name, p), q in zip(first.model.state_dict().items(), again.model.state_dict().values()):
        assert torch.equal(p, q), name
    # the initial checkpoint is the seeded initialisation
    torch.manual_seed(0)
    init = build_model("custom_cnn", width=2)
    assert torch.equal(again.load_epoch(0).fc1.weight, init.fc1.weight)
    assert again.test_accuracy == pytest.approx(first.history["test_acc"].iloc[-1])
    other = trained_model("custom_cnn", seed=1, variant="sample", progress=False, **TINY)
    assert other.trained_now and other.path != first.path
    with pytest.raises(ValueError, match="epoch"):
        again.load_epoch(5)
    with pytest.raises(TypeError, match="epoch"):
        again.load_epoch(1.0)
    with pytest.raises(ValueError, match="unknown training settings"):
        trained_model("custom_cnn", variant="sample", epoch=3)
    with pytest.raises(TypeError, match="seed"):
        trained_model("custom_cnn", seed=1.5, variant="sample", progress=False, **TINY)
    # nothing half-written is left behind
    assert not [p for p in (tmp_path / "trained").iterdir() if ".tmp" in p.name]
    again.checkpoints[0].unlink()
    with pytest.raises(FileNotFoundError, match="checkpoint"):
        again.load_epoch(0)


def test_concurrent_calls_train_a_run_once_and_the_others_read_it(tmp_path, monkeypatch):
    # the lock is what is tested: the run trains (slowly) on 8 random images, not CIFAR-10
    from fractalnb.training import cache

    monkeypatch.setenv("FRACTALNB_CACHE_DIR", str(tmp_path))
    images = TensorDataset(torch.randn(8, 3, 32, 32), torch.arange(8))
    trainings = []

    def slow_tiny_training(model, *, variant, batch_size, **kwargs):
        trainings.append(variant)
        time.sleep(0.5)  # the other calls arrive while the run is being trained
        loaders = (DataLoader(images, batch_size=batch_size), DataLoader(images))
        return train_model(model, batch_size=batch_size, loaders=loaders, **kwargs)

    monkeypatch.setattr(cache, "train_model", slow_tiny_training)
    runs = []

    def call():
        runs.append(trained_model("custom_cnn", seed=3, variant="sample", progress=False,
                                  **TINY))

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert trainings == ["sample"]
    assert len(runs) == 3 and len({run.path for run in runs}) == 1
    assert sorted(run.trained_now for run in runs) == [False, False, True]
    for run in runs[1:]:
        assert run.history.equals(runs[0].history)


def test_train_module_exports():
    assert set(training.__all__) >= {"train_model", "trained_model", "recipe_table"}
    assert not {"file_lock", "evaluate", "RECIPES", "register_model"} & set(training.__all__)


def test_recipe_table_and_plot_history():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = training.recipe_table("full")
    assert table.loc["resnet18", "width"] == 64 and table.loc["vgg16", "width"] == 64
    assert table.loc["custom_cnn", "width"] == 32
    assert (training.recipe_table("quick")["width"] < table["width"]).all()
    torch.manual_seed(0)
    history = train_model(_mlp(), epochs=2, loaders=_loaders(), progress=False, device="cpu")
    fig = plotting.plot_history({"mlp": history, "again": history}, title="t")
    assert [ax.get_ylabel() for ax in fig.axes] == ["cross-entropy (nats)", "accuracy (%)"]
    plt.close(fig)
    with pytest.raises(ValueError, match="histories"):
        plotting.plot_history({})
    with pytest.raises(ValueError, match="columns"):
        plotting.plot_history({"x": history.drop(columns=["test_acc"])})
