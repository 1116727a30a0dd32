"""The trained-model cache cannot lie: damaged runs are retrained or refused, never read.

Every run here trains the 2-channel CNN for two steps on 8 random CIFAR-sized images (the
cache's ``train_model`` is replaced by one on those images), so the whole file takes seconds.
"""

import hashlib
import json
import struct
import threading
import warnings
import zipfile
from pathlib import Path

import pytest
import torch
from filelock import FileLock
from torch.utils.data import DataLoader, TensorDataset

from fractalnb.training import build_model, cache, train_model, trained_model

TINY = {"width": 2, "epochs": 1, "steps_per_epoch": 2, "batch_size": 4, "profile": "quick",
        "variant": "sample", "progress": False, "device": "cpu"}
_IMAGES = TensorDataset(torch.randn(8, 3, 32, 32, generator=torch.Generator().manual_seed(0)),
                        torch.arange(8))


def _tiny_loaders(batch_size: int) -> tuple[DataLoader, DataLoader]:
    return DataLoader(_IMAGES, batch_size=batch_size), DataLoader(_IMAGES, batch_size=8)


@pytest.fixture
def trainings(tmp_path, monkeypatch) -> list[int]:
    """Point the cache at ``tmp_path``; train on random images; count the trainings."""
    monkeypatch.setenv("FRACTALNB_CACHE_DIR", str(tmp_path))
    calls: list[int] = []

    def tiny(model, *, variant, batch_size, **kwargs):
        calls.append(1)
        return train_model(model, batch_size=batch_size, loaders=_tiny_loaders(batch_size),
                           **kwargs)

    monkeypatch.setattr(cache, "train_model", tiny)
    return calls


def _state(run) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in run.model.state_dict().items()}


def _same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _flip_a_bit_in_the_weights(path: Path) -> None:
    """Flip the lowest mantissa bit of one float in the largest tensor of a checkpoint."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        record = max(archive.infolist(), key=lambda info: info.file_size)
    start = record.header_offset
    name_len, extra_len = struct.unpack("<HH", data[start + 26:start + 30])
    data[start + 30 + name_len + extra_len + 4] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_good_cache_is_read_without_retraining(trainings):
    first = trained_model("custom_cnn", **TINY)
    again = trained_model("custom_cnn", **TINY)
    assert first.trained_now and not again.trained_now and len(trainings) == 1
    assert again.path == first.path and again.history.equals(first.history)
    assert _same_weights(_state(first), _state(again))
    assert _same_weights(first.load_epoch(0).state_dict(), again.load_epoch(0).state_dict())
    manifest = json.loads((first.path / "manifest.json").read_text())
    assert set(manifest["files"]) == {"epoch_000.pt", "epoch_001.pt", "history.csv",
                                      "config.json"}
    for name, entry in manifest["files"].items():
        data = (first.path / name).read_bytes()
        assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    # the trained weights are those of train_model itself for the same seed
    torch.manual_seed(0)
    model = build_model("custom_cnn", width=2)
    train_model(model, epochs=1, steps_per_epoch=2, batch_size=4, loaders=_tiny_loaders(4),
                seed=0, device="cpu", progress=False)
    assert _same_weights(model.state_dict(), _state(first))
    assert not [p for p in first.path.parent.iterdir() if ".tmp" in p.name]


def test_everything_that_changes_the_weights_is_in_the_key_and_the_manifest(trainings):
    run = trained_model("custom_cnn", **TINY)
    env = run.config["environment"]
    assert env["torch"] == torch.__version__ and env["threads"] == torch.get_num_threads()
    assert env["device_type"] == "cpu"
    assert env["deterministic_algorithms"] == torch.are_deterministic_algorithms_enabled()
    manifest = json.loads((run.path / "manifest.json").read_text())
    assert manifest["config"]["environment"] == env and manifest["key"] == run.path.name
    assert f"-t{torch.get_num_threads()}-cpu-" in run.path.name
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(not previous)
    try:
        other = trained_model("custom_cnn", **TINY)
    finally:
        torch.use_deterministic_algorithms(previous)
    assert other.path != run.path and other.trained_now


def test_the_thread_count_is_in_the_key(trainings):
    threads = torch.get_num_threads()
    runs = {}
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            runs[n] = trained_model("custom_cnn", **TINY)
    finally:
        torch.set_num_threads(threads)
    assert runs[1].path != runs[2].path and len(trainings) == 2
    assert "-t1-cpu-" in runs[1].path.name and "-t2-cpu-" in runs[2].path.name
    assert [runs[n].config["environment"]["threads"] for n in (1, 2)] == [1, 2]


def test_the_key_is_pinned(trainings, monkeypatch):
    # the key of a run never changes by accident (a change retrains every cached model): the
    # numerical environment is fixed here, so the key depends only on the code
    monkeypatch.setattr(cache, "_environment", lambda device: {
        "torch": "2.5.1", "threads": 2, "device_type": "cpu", "deterministic_algorithms": False,
        "float32_matmul_precision": "highest", "cpu_capability": "AVX2"})
    run = trained_model("custom_cnn", seed=0, **{**TINY, "batch_size": 16})
    assert run.path.name == "custom_cnn-w2-quick-sample-seed0-t2-cpu-48ad726881"


def test_a_bit_flip_in_a_checkpoint_is_retrained_never_loaded(trainings):
    first = trained_model("custom_cnn", **TINY)
    good = _state(first)
    final = first.checkpoints[-1]
    _flip_a_bit_in_the_weights(final)
    # unchecked, the flipped file loads silently with one weight changed in the 7th digit
    flipped = torch.load(final, weights_only=True)
    assert not _same_weights(flipped, good)
    assert all(torch.allclose(flipped[k], good[k], rtol=1e-6, atol=1e-8) for k in good)
    with pytest.raises(ValueError, match=r"damaged.*epoch_001\.pt.*SHA-256"):
        trained_model("custom_cnn", allow_training=False, **TINY)
    with pytest.raises(ValueError, match=r"epoch_001\.pt"):
        first.load_epoch(1)
    with pytest.warns(RuntimeWarning, match=r"damaged \(epoch_001\.pt"):
        again = trained_model("custom_cnn", **TINY)
    assert again.trained_now and len(trainings) == 2
    assert _same_weights(_state(again), good)
    # an intermediate checkpoint is verified when it is read
    _flip_a_bit_in_the_weights(again.checkpoints[0])
    with pytest.raises(ValueError, match=r"epoch_000\.pt.*SHA-256"):
        again.load_epoch(0)
    with pytest.raises(ValueError, match=r"epoch_000\.pt"):
        trained_model("custom_cnn", **TINY).load_epoch(0)


def test_a_truncated_history_is_detected(trainings):
    first = trained_model("custom_cnn", **TINY)
    history = first.path / "history.csv"
    lines = history.read_text().splitlines(keepends=True)
    history.write_text("".join(lines[:-1]))  # the last epoch's row is gone
    with pytest.raises(ValueError, match=r"history\.csv"):
        trained_model("custom_cnn", allow_training=False, **TINY)
    with pytest.warns(RuntimeWarning, match=r"history\.csv"):
        again = trained_model("custom_cnn", **TINY)
    assert again.trained_now and again.test_accuracy == first.test_accuracy
    # same length, one digit changed: caught by the checksum
    text = history.read_text()
    history.write_text(text[:-3] + ("1" if text[-3] != "1" else "2") + text[-2:])
    with pytest.raises(ValueError, match=r"history\.csv.*SHA-256"):
        trained_model("custom_cnn", allow_training=False, **TINY)


@pytest.mark.parametrize("keep", [0, 0.5, -1])
def test_a_truncated_checkpoint_is_a_clear_error_naming_the_file(trainings, keep):
    first = trained_model("custom_cnn", **TINY)
    for checkpoint in first.checkpoints:
        data = checkpoint.read_bytes()
        checkpoint.write_bytes(data[:int(keep * len(data)) if keep != -1 else -1])
        with pytest.raises(ValueError, match=rf"{checkpoint.name}.*truncated"):
            trained_model("custom_cnn", allow_training=False, **TINY)
        with pytest.raises(ValueError, match=rf"{checkpoint.name}.*truncated"):
            first.load_epoch(first.checkpoints.index(checkpoint))
        with pytest.warns(RuntimeWarning, match=rf"{checkpoint.name}"):
            assert trained_model("custom_cnn", **TINY).trained_now


def test_a_damaged_or_missing_manifest_retrains(trainings):
    first = trained_model("custom_cnn", **TINY)
    manifest = first.path / "manifest.json"
    content = json.loads(manifest.read_text())
    content["files"]["history.csv"]["bytes"] += 1
    manifest.write_text(json.dumps(content))
    with pytest.raises(ValueError, match=r"manifest\.json.*own checksum"):
        trained_model("custom_cnn", allow_training=False, **TINY)
    manifest.write_text("{")
    with pytest.raises(ValueError, match=r"manifest\.json.*JSON"):
        trained_model("custom_cnn", allow_training=False, **TINY)
    manifest.unlink()
    with pytest.warns(RuntimeWarning, match=r"manifest\.json"):
        assert trained_model("custom_cnn", **TINY).trained_now
    (first.path / "epoch_000.pt").unlink()
    with pytest.raises(ValueError, match=r"epoch_000\.pt.*missing"):
        trained_model("custom_cnn", allow_training=False, **TINY)


def test_without_training_a_missing_run_is_an_error(trainings):
    with pytest.raises(FileNotFoundError, match="not in the cache"):
        trained_model("custom_cnn", allow_training=False, **TINY)
    assert trainings == []
    with pytest.raises(TypeError, match="allow_training"):
        trained_model("custom_cnn", allow_training="no", **TINY)


def test_stale_temporary_folders_are_removed(trainings, tmp_path):
    first = trained_model("custom_cnn", **TINY)
    root = first.path.parent
    key = first.path.name
    stale = [root / f".{key}.tmp-999999", root / ".resnet18-w8-quick-sample-seed0.tmp-4242",
             root / f".{key}.tmp-999998-damaged"]
    busy = root / ".vgg16-w8-quick-sample-seed0.tmp-4343"
    for folder in [*stale, busy]:
        folder.mkdir()
        (folder / "epoch_000.pt.tmp999999").write_bytes(b"half a checkpoint")
    # busy: its lock is held (a run being trained right now), so its folder stays
    with FileLock(root / "vgg16-w8-quick-sample-seed0.lock"):
        again = trained_model("custom_cnn", **TINY)
    assert not again.trained_now
    assert not any(folder.exists() for folder in stale)
    assert busy.is_dir()
    trained_model("custom_cnn", **TINY)
    assert not busy.exists()


def test_concurrent_calls_train_once_and_all_read_a_verified_run(trainings):
    runs = []

    def call():
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            runs.append(trained_model("custom_cnn", **TINY))

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(trainings) == 1 and len(runs) == 3
    assert sorted(run.trained_now for run in runs) == [False, False, True]
    assert len({run.path for run in runs}) == 1
    assert all(_same_weights(_state(run), _state(runs[0])) for run in runs)
    assert not [p for p in runs[0].path.parent.iterdir() if ".tmp" in p.name]
