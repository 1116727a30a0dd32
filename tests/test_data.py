import hashlib
import pickle
import shutil

import numpy as np
import pytest
import torch

from fractalnb import training
from fractalnb.training import data
from fractalnb.training.loaders import _augment_batch

CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
           "dog", "frog", "horse", "ship", "truck")
VARIANT_ENV, SAMPLE_ENV = "FRACTALNB_CIFAR10", "FRACTALNB_CIFAR10_SAMPLE"


@pytest.fixture(scope="module")
def sample():
    return training.load_cifar10("sample")


def test_sample_shapes_and_checksum(sample):
    assert sample.variant == "sample"
    assert sample.x_train.shape == (5000, 32, 32, 3) and sample.x_train.dtype == np.uint8
    assert sample.x_test.shape == (1000, 32, 32, 3)
    assert sample.y_train.shape == (5000,) and sample.y_test.shape == (1000,)
    assert sample.content_sha256() == training.SAMPLE_CONTENT_SHA256


def test_first_training_image_is_the_official_frog(sample):
    assert int(sample.y_train[0]) == 6
    assert sample.classes[6] == "frog"
    # the first row of the first image of the official data_batch_1, red and green channels
    np.testing.assert_array_equal(sample.x_train[0, 0, :6, 0], [59, 43, 50, 68, 98, 119])
    np.testing.assert_array_equal(sample.x_train[0, 0, :6, 1], [62, 46, 48, 54, 73, 91])
    # the official test batch starts cat, ship, ship, airplane, frog
    np.testing.assert_array_equal(sample.y_test[:5], [3, 8, 8, 0, 6])


def test_sample_is_first_thousand_of_each_batch(sample):
    counts = np.bincount(sample.y_train, minlength=10)
    assert counts.min() >= 469 and counts.max() <= 527
    assert tuple(sample.classes) == CLASSES


def test_wrong_variant_name():
    with pytest.raises(ValueError, match="variant must be one of"):
        training.load_cifar10("mini")
    with pytest.raises(TypeError, match="variant must be one of"):
        training.load_cifar10(None)


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [({"root": 3}, "root"), ({"sample_file": 3}, "sample_file"), ({"download": "no"}, "download")],
)
def test_wrong_argument_types(kwargs, word):
    with pytest.raises(TypeError, match=word):
        training.load_cifar10("sample", **kwargs)


def test_wrong_variant_in_environment(monkeypatch):
    monkeypatch.setenv(VARIANT_ENV, "tiny")
    with pytest.raises(ValueError, match="FRACTALNB_CIFAR10"):
        training.variant_from_env()


def test_checksum_mismatch(tmp_path, sample):
    source = sample.source
    damaged = tmp_path / "cifar10-sample.npz"
    shutil.copy(source, damaged)
    with open(damaged, "r+b") as handle:
        handle.seek(1000)
        byte = handle.read(1)
        handle.seek(1000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(training.CIFAR10ChecksumError, match="damaged"):
        training.load_cifar10("sample", sample_file=damaged)


def test_missing_sample_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist.*How to get the data"):
        training.load_cifar10("sample", sample_file=tmp_path / "nowhere.npz")


def test_missing_sample_everywhere(tmp_path, monkeypatch):
    monkeypatch.setenv(SAMPLE_ENV, str(tmp_path / "absent.npz"))
    with pytest.raises(FileNotFoundError, match="CIFAR-10 sample not found"):
        training.load_cifar10("sample", root=tmp_path / "empty")


def test_full_missing_without_download(tmp_path):
    with pytest.raises(FileNotFoundError, match="download=False"):
        training.load_cifar10("full", root=tmp_path, download=False)


def _write_batch(path, images, labels):
    rows = images.transpose(0, 3, 1, 2).reshape(len(images), -1)
    with open(path, "wb") as handle:
        pickle.dump({"data": rows, "labels": [int(v) for v in labels]}, handle)


BATCH = 1200  # synthetic batches are smaller than the official 10,000 images


@pytest.fixture()
def synthetic_full(tmp_path, sample, monkeypatch):
    """A stand-in for the official python batches: the sample's images at the start of
    each batch, noise after them; MD5 sums registered for the synthetic files."""
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for b in range(5):
        images = rng.integers(0, 256, size=(BATCH, 32, 32, 3), dtype=np.uint8)
        labels = rng.integers(0, 10, size=BATCH)
        images[:1000] = sample.x_train[b * 1000:(b + 1) * 1000]
        labels[:1000] = sample.y_train[b * 1000:(b + 1) * 1000]
        _write_batch(folder / f"data_batch_{b + 1}", images, labels)
    test_images = rng.integers(0, 256, size=(BATCH, 32, 32, 3), dtype=np.uint8)
    test_labels = rng.integers(0, 10, size=BATCH)
    test_images[:1000], test_labels[:1000] = sample.x_test, sample.y_test
    _write_batch(folder / "test_batch", test_images, test_labels)
    with open(folder / "batches.meta", "wb") as handle:
        pickle.dump({"label_names": list(CLASSES)}, handle)

    def register_md5():
        md5 = {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in folder.iterdir()}
        monkeypatch.setattr(data, "_official_md5", lambda: md5)

    register_md5()
    monkeypatch.setattr(data, "_BATCH_SIZE", BATCH)
    # no sample file anywhere: load_cifar10("sample", root=...) derives it from the batches
    monkeypatch.setenv(SAMPLE_ENV, str(tmp_path / "absent.npz"))
    return tmp_path, register_md5


def test_sample_derived_from_full_is_identical(synthetic_full, sample):
    root, _ = synthetic_full
    derived = training.load_cifar10("sample", root=root)
    assert derived.variant == "sample" and "derived" in derived.source
    assert derived.content_sha256() == training.SAMPLE_CONTENT_SHA256
    np.testing.assert_array_equal(derived.x_train, sample.x_train)
    np.testing.assert_array_equal(derived.y_train, sample.y_train)
    np.testing.assert_array_equal(derived.x_test, sample.x_test)


def test_sample_from_full_rejects_a_different_dataset(synthetic_full):
    root, register_md5 = synthetic_full
    path = root / "cifar-10-batches-py" / "data_batch_2"
    with open(path, "rb") as handle:
        batch = pickle.load(handle)
    batch["data"][5, :10] = 255 - batch["data"][5, :10]
    with open(path, "wb") as handle:
        pickle.dump(batch, handle)
    register_md5()  # a consistent file, but not the official pixels
    with pytest.raises(training.CIFAR10ChecksumError, match="not the official CIFAR-10"):
        training.load_cifar10("sample", root=root)


def test_full_dataset_of_the_wrong_size(synthetic_full, monkeypatch):
    root, _ = synthetic_full
    monkeypatch.setattr(data, "_BATCH_SIZE", 10_000)
    with pytest.raises(training.CIFAR10ChecksumError, match="expected 50000"):
        training.load_cifar10("sample", root=root)


def test_damaged_full_batch(synthetic_full):
    root, _ = synthetic_full
    batch = root / "cifar-10-batches-py" / "data_batch_3"
    batch.write_bytes(batch.read_bytes()[:-10])
    with pytest.raises(training.CIFAR10ChecksumError, match="data_batch_3"):
        training.load_cifar10("full", root=root, download=False)


def test_augment_batch_identity_and_translation():
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8)
    assert torch.equal(_augment_batch(x, padding=0, flip=False), x)
    out = _augment_batch(x, padding=2, flip=False, fill=[-1.0] * 3,
                         generator=torch.Generator().manual_seed(3))
    assert out.shape == x.shape
    for image, crop in zip(x, out):
        # every crop is the image shifted by (dy, dx) in [-2, 2]^2, padded with the fill value
        padded = torch.nn.functional.pad(image, (2, 2, 2, 2), value=-1.0)
        windows = [padded[:, i:i + 8, j:j + 8] for i in range(5) for j in range(5)]
        assert any(torch.equal(crop, w) for w in windows)


def test_augment_batch_flip_is_a_mirror():
    x = torch.randn(64, 3, 4, 4)
    out = _augment_batch(x, padding=0, generator=torch.Generator().manual_seed(0))
    flipped = [torch.equal(o, i.flip(-1)) for o, i in zip(out, x)]
    kept = [torch.equal(o, i) for o, i in zip(out, x)]
    assert all(f or k for f, k in zip(flipped, kept))
    assert 10 < sum(flipped) < 54


def test_loaders_are_reproducible():
    first = next(iter(training.cifar10_loaders("sample", batch_size=16, seed=7)[0]))
    again = next(iter(training.cifar10_loaders("sample", batch_size=16, seed=7)[0]))
    other = next(iter(training.cifar10_loaders("sample", batch_size=16, seed=8)[0]))
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])
    assert not torch.equal(first[0], other[0])


def test_normalised_training_set_is_standardised():
    train, _ = training.cifar10_datasets("sample")
    means = train.images.mean(dim=(0, 2, 3))
    assert torch.allclose(means, torch.zeros(3), atol=0.05)
    shown = training.to_display(train.images[:2])
    original = training.load_cifar10("sample").x_train[:2] / 255
    np.testing.assert_allclose(shown, original, atol=1e-5)


def test_cifar10_tensors_refuse_what_is_not_cifar10(sample):
    images, labels = sample.x_train[:4], sample.y_train[:4]
    data_set = training.CIFAR10Tensors(images[::-1], labels[::-1], normalize=False)
    assert torch.equal(data_set[0][0], torch.from_numpy(images[3].copy()).permute(2, 0, 1) / 255)
    assert int(data_set[0][1]) == int(labels[3])
    with pytest.raises(TypeError, match="uint8"):
        training.CIFAR10Tensors(images.astype(np.float32), labels)
    with pytest.raises(ValueError, match="labels"):
        training.CIFAR10Tensors(images, np.array([0, 1, 2, 11]))
    with pytest.raises(TypeError, match="labels"):
        training.CIFAR10Tensors(images, labels.astype(float))
    with pytest.raises(ValueError, match="images and labels"):
        training.CIFAR10Tensors(images, labels[:3])
    with pytest.raises(ValueError, match="images"):
        training.CIFAR10Tensors(images.transpose(0, 3, 1, 2), labels)


def test_loaders_and_display_check_their_arguments():
    with pytest.raises(TypeError, match="seed"):
        training.cifar10_loaders("sample", seed=1.5)
    with pytest.raises(ValueError, match="test_batch_size"):
        training.cifar10_loaders("sample", test_batch_size=0)
    with pytest.raises(TypeError, match="augment"):
        training.cifar10_loaders("sample", augment="yes")
    with pytest.raises(TypeError, match="images"):
        training.to_display(torch.zeros(1, 3, 2, 2, dtype=torch.uint8))
    with pytest.raises(ValueError, match="images"):
        training.to_display(torch.zeros(1, 4, 2, 2))
    np.testing.assert_array_equal(training.to_display(np.zeros((1, 3, 2, 2), np.float32)),
                                  training.to_display(torch.zeros(1, 3, 2, 2)))
