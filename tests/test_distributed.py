"""Data-parallel training (fractalnb.training.distributed) on gloo with 2 CPU processes.

The equality test trains a tiny CNN **without BatchNorm** (on the CPU, DDP normalises each
rank's slice with its own statistics, and SyncBatchNorm needs CUDA) on 48 random
CIFAR-shaped images for 2 epochs x 2 steps (global batch 16), once in 1 process and once
in 2 (8 images per rank, the same global batches): the weights agree to ``rtol=1e-5,
atol=1e-6``, not bit for bit, because the gradient all-reduce adds the two halves'
mean gradients and halves them, where one process averages all 16 per-image gradients in
one reduction (another order of float32 additions, ~1e-7 relative per step).

Every process runs with ``OMP_NUM_THREADS=1`` on a free port of 127.0.0.1.
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
import torch.distributed as dist
from fuzz.harness import BAD, Spec, cases, check_case, check_valid  # tests/fuzz/harness.py
from torch import nn
from torch.utils.data import TensorDataset

from fractalnb.training import DistributedContext, build_model, train_distributed, train_model

pytestmark = pytest.mark.skipif(not (dist.is_available() and dist.is_gloo_available()),
                                reason="torch.distributed with gloo is not available")

GLOBAL_BATCH = 16
RTOL, ATOL = 1e-5, 1e-6  # see the module docstring
TIMEOUT = 120  # s, per multi-process run (a hang fails instead of blocking CI)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _data() -> tuple[TensorDataset, TensorDataset]:
    gen = torch.Generator().manual_seed(0)
    train = TensorDataset(torch.randn(48, 3, 32, 32, generator=gen),
                          torch.randint(0, 10, (48,), generator=gen))
    test = TensorDataset(torch.randn(20, 3, 32, 32, generator=gen),
                         torch.randint(0, 10, (20,), generator=gen))
    return train, test


def _tiny_cnn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, stride=2), nn.ReLU(), nn.AdaptiveAvgPool2d(4),
                         nn.Flatten(), nn.Linear(64, 10))


def _worker(rank: int, world: int, port: int, folder: str) -> None:
    """One rank: join the gloo group, train, write its history (and rank 0 checkpoints)."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    context = DistributedContext.from_environment(backend="gloo", device="cpu")
    try:
        train_set, test_set = _data()
        loaders = context.loaders(train_set, test_set, batch_size=GLOBAL_BATCH, seed=5,
                                  augment=False)
        history = train_model(_tiny_cnn(), epochs=2, steps_per_epoch=2, lr=0.1,
                              batch_size=context.per_rank_batch(GLOBAL_BATCH), seed=5,
                              loaders=loaders, distributed=context, progress=False,
                              checkpoint_dir=Path(folder) / f"ckpt{rank}")
        history.to_csv(Path(folder) / f"history{rank}.csv", index=False)
    finally:
        context.close()


def _spawn(world: int, folder: Path) -> None:
    import torch.multiprocessing as mp

    processes = mp.start_processes(_worker, args=(world, _free_port(), str(folder)),
                                   nprocs=world, join=False, start_method="spawn")
    deadline = time.monotonic() + TIMEOUT
    while not processes.join(timeout=1):
        if time.monotonic() > deadline:
            for process in processes.processes:
                process.kill()
            pytest.fail(f"the {world}-process run did not finish in {TIMEOUT} s")


def test_two_gloo_processes_train_like_one_with_the_same_global_batch(tmp_path):
    runs = {}
    for world in (1, 2):
        folder = tmp_path / f"world{world}"
        folder.mkdir()
        _spawn(world, folder)
        runs[world] = folder
    one, two = runs[1], runs[2]
    # rank 0 alone wrote checkpoints
    assert sorted(p.name for p in (two / "ckpt0").iterdir()) == [
        "epoch_000.pt", "epoch_001.pt", "epoch_002.pt"]
    assert not (two / "ckpt1").exists()
    for epoch in (0, 1, 2):
        a = torch.load(one / "ckpt0" / f"epoch_{epoch:03d}.pt", weights_only=True)
        b = torch.load(two / "ckpt0" / f"epoch_{epoch:03d}.pt", weights_only=True)
        assert a.keys() == b.keys()
        for name in a:
            torch.testing.assert_close(b[name], a[name], rtol=RTOL, atol=ATOL)
    initial = torch.load(one / "ckpt0" / "epoch_000.pt", weights_only=True)
    final = torch.load(one / "ckpt0" / "epoch_002.pt", weights_only=True)
    assert not torch.allclose(initial["4.weight"], final["4.weight"])  # it did train
    h1 = pd.read_csv(one / "history0.csv")
    h2 = [pd.read_csv(two / f"history{rank}.csv") for rank in (0, 1)]
    # every rank reports the global numbers: images of both ranks, the whole test set
    for h in (h1, *h2):
        assert h["images"].tolist() == [0, 2 * GLOBAL_BATCH, 4 * GLOBAL_BATCH]
    pd.testing.assert_frame_equal(h2[0].drop(columns=["epoch_wall_s", "epoch_cpu_s", "wall_s"]),
                                  h2[1].drop(columns=["epoch_wall_s", "epoch_cpu_s", "wall_s"]))
    for column in ("train_loss", "test_loss", "lr"):
        values = h1[column].iloc[1:] if column == "train_loss" else h1[column]
        other = h2[0][column].iloc[1:] if column == "train_loss" else h2[0][column]
        assert values.to_numpy() == pytest.approx(other.to_numpy(), rel=RTOL, abs=ATOL), column
    assert (h1["test_acc"] * 20).round().tolist() == (h2[0]["test_acc"] * 20).round().tolist()


def test_the_loaders_deal_each_rank_its_half_of_every_global_batch():
    train_set, test_set = _data()
    contexts = [DistributedContext(rank=r, world_size=2, local_rank=r, device="cpu",
                                   backend="gloo") for r in (0, 1)]
    whole = DistributedContext(rank=0, world_size=1, local_rank=0, device="cpu", backend="gloo")
    single, _ = whole.loaders(train_set, test_set, batch_size=GLOBAL_BATCH, seed=3,
                              augment=False)
    halves = [c.loaders(train_set, test_set, batch_size=GLOBAL_BATCH, seed=3, augment=False)
              for c in contexts]
    for epoch in (1, 2):
        for loader in [single] + [h[0] for h in halves]:
            whole.start_epoch(loader, epoch)
        batches = list(single)
        parts = [list(h[0]) for h in halves]
        assert len(batches) == len(parts[0]) == len(parts[1]) == 3
        for batch, a, b in zip(batches, *parts):
            assert len(a[0]) == len(b[0]) == GLOBAL_BATCH // 2
            key = lambda x: sorted(x.flatten(1)[:, 0].tolist())  # noqa: E731
            assert key(batch[0]) == key(torch.cat([a[0], b[0]]))
    # the test set is split into disjoint shards that cover it
    shards = [list(h[1].dataset.indices) for h in halves]
    assert sorted(shards[0] + shards[1]) == list(range(len(test_set)))


def test_the_cli_alone_trains_exactly_as_trained_model(tmp_path, monkeypatch):
    from fractalnb.training import trained_model
    from fractalnb.training.__main__ import main

    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "run"
    argv = ["train", "--model", "custom_cnn", "--seed", "1", "--profile", "quick",
            "--variant", "sample", "--width", "2", "--epochs", "1", "--steps-per-epoch", "2",
            "--batch-size", "8", "--out", str(out), "--device", "cpu", "--no-progress"]
    assert main(argv) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "config.json", "epoch_000.pt", "epoch_001.pt", "history.csv"]
    config = json.loads((out / "config.json").read_text())
    assert (config["world_size"], config["global_batch_size"], config["per_rank_batch_size"]) \
        == (1, 8, 8)
    run = trained_model("custom_cnn", seed=1, profile="quick", variant="sample", width=2,
                        epochs=1, steps_per_epoch=2, batch_size=8, device="cpu", progress=False)
    state = torch.load(out / "epoch_001.pt", weights_only=True)
    assert all(torch.equal(state[k], v) for k, v in run.model.state_dict().items())
    assert main(argv) == 2  # out now holds a run: refused, not overwritten


def test_the_cli_under_torchrun_with_two_gloo_processes(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc_per_node=2", "-m", "fractalnb.training", "train", "--model",
               "custom_cnn", "--width", "2", "--epochs", "1", "--steps-per-epoch", "2",
               "--batch-size", "8", "--variant", "sample", "--profile", "quick", "--device",
               "cpu", "--out", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=TIMEOUT)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert result.stdout.count("test accuracy") == 1  # rank 0 alone reports
    assert sorted(p.name for p in out.iterdir()) == [
        "config.json", "epoch_000.pt", "epoch_001.pt", "history.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no temporary left
    config = json.loads((out / "config.json").read_text())
    assert {k: config[k] for k in ("world_size", "global_batch_size", "per_rank_batch_size",
                                   "backend", "sync_batchnorm", "model", "width")} == {
        "world_size": 2, "global_batch_size": 8, "per_rank_batch_size": 4, "backend": "gloo",
        "sync_batchnorm": False, "model": "custom_cnn", "width": 2}
    history = pd.read_csv(out / "history.csv")
    assert history["images"].tolist() == [0, 16]
    assert math.isfinite(history["test_loss"].iloc[-1])
    model = build_model("custom_cnn", width=2)
    model.load_state_dict(torch.load(out / "epoch_001.pt", weights_only=True))


# -- bad arguments are refused, naming them, before anything is trained ---------------------

_CONTEXT = {"rank": 0, "world_size": 2, "local_rank": 0, "device": "cpu", "backend": "gloo"}
_DEVICE = ["meta", "gpu0", 3, 0.5]

# the project's bad-input fuzz harness (tests/fuzz/harness.py) on this module's public API
SPECS = [
    Spec(DistributedContext, _CONTEXT,
         {"rank": [2, -1, 1.5, True, "0", None], "world_size": "positive_int",
          "local_rank": "nonnegative_int", "device": [*_DEVICE, None],
          "backend": ["mpi", 3, None, "nccl"]}),  # nccl: needs a CUDA device
    Spec(train_distributed,
         {"name": "custom_cnn", "profile": "quick", "variant": "sample", "width": 2,
          "epochs": 1, "steps_per_epoch": 1, "batch_size": 8, "device": "cpu",
          "progress": False},
         {"name": [*BAD["choice"], "resnet50"], "seed": [*BAD["seed"], 2**64],
          "profile": ["medium", 3, True], "variant": ["mini", 3],
          "width": [0, -3, 1.5, True, "2", 10**5], "out": [3, 1.5, b"/tmp", True, ""],
          "device": _DEVICE, "backend": ["mpi", 3], "sync_bn": ["yes", 2, 1.0, True],
          "progress": "bool", "epochs": "positive_int", "batch_size": "positive_int",
          "lr": "positive_real", "colour": [1]},
         names={"colour": ("unknown training settings",), "sync_bn": ("sync_bn",)}),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.label())
def test_valid_call_runs(spec, monkeypatch, tmp_path):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.setenv("FRACTALNB_CACHE_DIR", str(tmp_path))  # the default out: not the repo's
    check_valid(spec)


@pytest.mark.parametrize(("spec", "argument", "value"), cases(SPECS))
def test_bad_input_is_refused_clearly(spec, argument, value, monkeypatch, tmp_path):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.setenv("FRACTALNB_CACHE_DIR", str(tmp_path))
    check_case(spec, argument, value)


def test_context_checks_batches_data_and_environment(monkeypatch):
    context = DistributedContext(**_CONTEXT)
    with pytest.raises(ValueError, match="multiple of the world size 2"):
        context.per_rank_batch(7)
    train_set, test_set = _data()
    with pytest.raises(TypeError, match="train_set"):
        context.loaders([1, 2], test_set, batch_size=4)
    with pytest.raises(ValueError, match="test_set"):
        context.loaders(train_set, TensorDataset(torch.zeros(0, 3)), batch_size=4)
    with pytest.raises(ValueError, match="seed"):
        context.loaders(train_set, test_set, batch_size=4, seed=-1)
    for name in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match="torchrun"):
        DistributedContext.from_environment()
    with pytest.raises(TypeError, match="distributed"):
        train_model(_tiny_cnn(), epochs=1, loaders=([1], [1]), distributed="ranks")
    with pytest.raises(ValueError, match="loaders"):
        train_model(_tiny_cnn(), epochs=1, distributed=context)


def test_train_distributed_refuses_an_indivisible_global_batch_and_a_used_folder(
        tmp_path, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "3")
    monkeypatch.setenv("RANK", "0")
    with pytest.raises(ValueError, match="multiple of the world size 3"):
        train_distributed("custom_cnn", profile="quick", batch_size=8, out=tmp_path / "x")
    monkeypatch.delenv("WORLD_SIZE")
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "file").write_text("")
    with pytest.raises(FileExistsError, match="already exists"):
        train_distributed("custom_cnn", profile="quick", out=tmp_path / "used")
