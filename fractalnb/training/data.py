"""CIFAR-10 in two explicit variants: the full dataset and a fixed, checksummed sample.

``"full"``
    The official 50,000 / 10,000 images through :class:`torchvision.datasets.CIFAR10`,
    downloaded into :func:`fractalnb.paths.data_dir` where the network allows.
``"sample"``
    The first 1,000 images of each of the five official training batches and of the
    test batch (5,000 / 1,000 images), in their original order, pixels untouched.
    It is read from ``cifar10-sample.npz`` (checksum verified), or derived from the
    full dataset when that is on disk; both routes give identical arrays, which is
    verified too.

The variant is always chosen explicitly: by argument, or through the environment
variable ``FRACTALNB_CIFAR10`` (``sample`` unless set) read by :func:`variant_from_env`.
One variant never stands in silently for the other. The sample file is looked for at
``$FRACTALNB_CIFAR10_SAMPLE`` when that is set (and then only there), else in
:func:`fractalnb.paths.data_dir`, then in ``../shared/data/`` beside the repository.

Examples
--------
>>> from fractalnb.training import load_cifar10
>>> arrays = load_cifar10("sample")               # doctest: +SKIP
>>> arrays.x_train.shape, arrays.classes[arrays.y_train[0]]   # doctest: +SKIP
((5000, 32, 32, 3), 'frog')
"""

from __future__ import annotations

import hashlib
import os
import pickle
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from .. import _validate
from .._validate import path as _path
from ..paths import data_dir, repo_root

__all__ = [
    "SAMPLE_CONTENT_SHA256",
    "CIFAR10ChecksumError",
    "CIFAR10Arrays",
    "variant_from_env",
    "load_cifar10",
    "to_display",
]


_VARIANTS = ("sample", "full")
"""The valid CIFAR-10 variants."""


_VARIANT_ENV = "FRACTALNB_CIFAR10"
"""Environment variable read by :func:`variant_from_env` (``sample`` or ``full``)."""


_SAMPLE_ENV = "FRACTALNB_CIFAR10_SAMPLE"
"""Environment variable giving the path of ``cifar10-sample.npz``."""


_SAMPLE_FILENAME = "cifar10-sample.npz"
"""File name of the CIFAR-10 sample (5,000 train / 1,000 test images)."""


_SAMPLE_FILE_SHA256 = "6be54dd6081083a07e384e2fce16cf3645d9d612807cbbeb2899d1278bfe3a75"
"""SHA-256 of the file ``cifar10-sample.npz``."""


SAMPLE_CONTENT_SHA256 = "166cfe8e8a07a838114eff293d8a5bec51069d60c8cc3bc41d1e629e6ac911f9"
"""SHA-256 of the sample's arrays (x_train, y_train, x_test, y_test as C-ordered bytes)."""


SAMPLE_PER_BATCH = 1000
"""Images taken from the start of each official batch."""


_BATCH_SIZE = 10_000  # images per official batch


_CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
"""Per-channel mean of the full training set (pixels scaled to [0, 1])."""


_CIFAR10_STD = (0.2470, 0.2435, 0.2616)
"""Per-channel standard deviation of the full training set."""


_HOW_TO_GET = (
    "How to get the data: (a) point {env} at a copy of cifar10-sample.npz "
    "(this project's machines have it at ../shared/data/ beside the repository); or "
    "(b) with internet access, call fractalnb.training.load_cifar10('full') once, which downloads "
    "the official CIFAR-10 into {data_dir}; the sample is then derived from it; "
    "or (c) use variant='full' throughout."
)


class CIFAR10ChecksumError(ValueError):
    """A CIFAR-10 file or array set does not have the checksum it must have."""


@dataclass(frozen=True)
class CIFAR10Arrays:
    """CIFAR-10 images and labels as NumPy arrays.

    Attributes
    ----------
    x_train, x_test : numpy.ndarray
        ``uint8`` images of shape ``(n, 32, 32, 3)`` (height, width, RGB).
    y_train, y_test : numpy.ndarray
        ``int64`` labels in ``0..9``.
    classes : tuple of str
        Class names, indexed by label.
    variant : str
        ``"sample"`` or ``"full"``.
    source : str
        Where the arrays came from (a file path or a folder), for provenance.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]
    variant: str
    source: str

    def content_sha256(self) -> str:
        """Return the SHA-256 of the four arrays' bytes (see :data:`SAMPLE_CONTENT_SHA256`)."""
        return _content_sha256(self.x_train, self.y_train, self.x_test, self.y_test)


def _content_sha256(*arrays: np.ndarray) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def variant_from_env() -> str:
    """Return the CIFAR-10 variant named by ``FRACTALNB_CIFAR10``: ``"sample"`` unless set.

    Raises
    ------
    ValueError
        If the variable holds anything but ``sample`` or ``full``.

    Examples
    --------
    >>> variant_from_env() in ("sample", "full")
    True
    """
    value = os.environ.get(_VARIANT_ENV, "sample").strip().lower() or "sample"
    return _validate.choice(value, f"the environment variable {_VARIANT_ENV}", _VARIANTS)


def _sample_candidates() -> list[Path]:
    candidates = []
    if os.environ.get(_SAMPLE_ENV):
        return [Path(os.environ[_SAMPLE_ENV]).expanduser()]
    candidates.append(data_dir() / _SAMPLE_FILENAME)
    candidates.append(repo_root().parent / "shared" / "data" / _SAMPLE_FILENAME)
    return candidates


def _find_sample_file() -> Path | None:
    """Return the first existing candidate place of ``cifar10-sample.npz``, or ``None``."""
    for candidate in _sample_candidates():
        if candidate.is_file():
            return candidate
    return None


def _full_folder(root: Path) -> Path:
    return root / "cifar-10-batches-py"


def _official_md5() -> dict[str, str]:
    from torchvision.datasets import CIFAR10

    return dict(CIFAR10.train_list + CIFAR10.test_list + [[CIFAR10.meta["filename"],
                                                          CIFAR10.meta["md5"]]])


def _read_batch(path: Path, md5: str) -> dict:
    digest = hashlib.md5(path.read_bytes()).hexdigest()
    if digest != md5:
        raise CIFAR10ChecksumError(
            f"{path} has MD5 {digest}, expected {md5}: the file is damaged. Delete the folder "
            f"{path.parent} and download CIFAR-10 again with load_cifar10('full')."
        )
    with open(path, "rb") as handle:
        return pickle.load(handle, encoding="latin1")


def _read_full(root: Path) -> CIFAR10Arrays:
    """Read the official python batches, verifying each file's MD5 sum."""
    folder = _full_folder(root)
    md5 = _official_md5()

    def images_labels(names: list[str]) -> tuple[np.ndarray, np.ndarray]:
        batches = [_read_batch(folder / name, md5[name]) for name in names]
        x = np.vstack([b["data"] for b in batches]).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        y = np.concatenate([np.asarray(b["labels"], dtype=np.int64) for b in batches])
        return np.ascontiguousarray(x, dtype=np.uint8), y

    x_train, y_train = images_labels([f"data_batch_{i}" for i in range(1, 6)])
    x_test, y_test = images_labels(["test_batch"])
    meta = _read_batch(folder / "batches.meta", md5["batches.meta"])
    return CIFAR10Arrays(
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        classes=tuple(meta["label_names"]),
        variant="full",
        source=str(folder),
    )


def _full_on_disk(root: Path) -> bool:
    folder = _full_folder(root)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]
    return all((folder / name).is_file() for name in names)


def _sample_from_full(root: Path) -> CIFAR10Arrays:
    """Derive the sample from the full CIFAR-10 under ``root`` and verify it (checksum)."""
    if not _full_on_disk(root):
        raise FileNotFoundError(f"the full CIFAR-10 is not in {_full_folder(root)}")
    full = _read_full(root)
    if len(full.y_train) != 5 * _BATCH_SIZE or len(full.y_test) != _BATCH_SIZE:
        raise CIFAR10ChecksumError(
            f"{full.source} holds {len(full.y_train)} training and {len(full.y_test)} test "
            f"images, expected {5 * _BATCH_SIZE} and {_BATCH_SIZE}: not the official CIFAR-10"
        )
    take = np.concatenate(
        [np.arange(b * _BATCH_SIZE, b * _BATCH_SIZE + SAMPLE_PER_BATCH) for b in range(5)]
    )
    arrays = CIFAR10Arrays(
        x_train=np.ascontiguousarray(full.x_train[take]),
        y_train=np.ascontiguousarray(full.y_train[take]),
        x_test=np.ascontiguousarray(full.x_test[:SAMPLE_PER_BATCH]),
        y_test=np.ascontiguousarray(full.y_test[:SAMPLE_PER_BATCH]),
        classes=full.classes,
        variant="sample",
        source=f"derived from {full.source}",
    )
    digest = arrays.content_sha256()
    if digest != SAMPLE_CONTENT_SHA256:
        raise CIFAR10ChecksumError(
            f"the sample derived from {full.source} has content SHA-256 {digest}, expected "
            f"{SAMPLE_CONTENT_SHA256}: the full dataset on disk is not the official CIFAR-10"
        )
    return arrays


def _read_sample_file(path: Path) -> CIFAR10Arrays:
    digest = _file_sha256(path)
    if digest != _SAMPLE_FILE_SHA256:
        raise CIFAR10ChecksumError(
            f"{path} has SHA-256 {digest}, expected {_SAMPLE_FILE_SHA256}: the file is damaged "
            "or is not the fractalnb CIFAR-10 sample. Copy it again. "
            + _HOW_TO_GET.format(env=_SAMPLE_ENV, data_dir=data_dir())
        )
    with np.load(path, allow_pickle=False) as archive:
        return CIFAR10Arrays(
            x_train=archive["x_train"],
            y_train=archive["y_train"],
            x_test=archive["x_test"],
            y_test=archive["y_test"],
            classes=tuple(str(name) for name in archive["classes"]),
            variant="sample",
            source=str(path),
        )


@lru_cache(maxsize=4)
def _load_cached(variant: str, root: str, sample_file: str | None, download: bool) -> CIFAR10Arrays:
    root_path = Path(root)
    if variant == "full":
        if not _full_on_disk(root_path):
            if not download:
                raise FileNotFoundError(
                    f"the full CIFAR-10 is not in {_full_folder(root_path)} and download=False"
                )
            from torchvision.datasets import CIFAR10

            try:
                CIFAR10(str(root_path), train=True, download=True)
            except Exception as error:  # network errors come in many types
                raise ConnectionError(
                    f"could not download the full CIFAR-10 into {root_path} ({error}). "
                    "Without internet access use variant='sample' explicitly, or copy the "
                    "official cifar-10-batches-py folder there."
                ) from error
        return _read_full(root_path)

    if sample_file is not None:
        return _read_sample_file(Path(sample_file))
    if _full_on_disk(root_path):
        return _sample_from_full(root_path)
    looked = ", ".join(str(p) for p in _sample_candidates())
    raise FileNotFoundError(
        f"CIFAR-10 sample not found (looked for {looked}, and for the full dataset in "
        f"{_full_folder(root_path)} to derive it from). "
        + _HOW_TO_GET.format(env=_SAMPLE_ENV, data_dir=data_dir())
    )


def load_cifar10(
    variant: str,
    *,
    root: str | Path | None = None,
    sample_file: str | Path | None = None,
    download: bool = True,
) -> CIFAR10Arrays:
    """Load CIFAR-10 as NumPy arrays, in the variant asked for and no other.

    Parameters
    ----------
    variant
        ``"sample"`` (5,000 / 1,000 images) or ``"full"`` (50,000 / 10,000).
    root
        Folder for the full dataset; :func:`fractalnb.paths.data_dir` by default. For
        ``"sample"``, the sample is derived from the full dataset there (and verified)
        when no sample file is found.
    sample_file
        Path of ``cifar10-sample.npz``; by default ``$FRACTALNB_CIFAR10_SAMPLE``, else the
        data folder, else ``../shared/data/`` beside the repository.
    download
        For ``"full"``: download the dataset when it is not on disk.

    Returns
    -------
    CIFAR10Arrays
        Images ``(n, 32, 32, 3)`` ``uint8`` and labels, with their provenance.

    Raises
    ------
    TypeError
        For an argument of the wrong type (``root`` and ``sample_file`` are paths).
    ValueError
        If ``variant`` is not ``"sample"`` or ``"full"``.
    FileNotFoundError
        If the sample file (or the full dataset, with ``download=False``) is missing;
        the message says how to get it.
    CIFAR10ChecksumError
        If the sample file is damaged, or a sample derived from the full dataset differs
        from the official one.
    ConnectionError
        If the full dataset must be downloaded and cannot be.

    Examples
    --------
    >>> arrays = load_cifar10("sample")   # doctest: +SKIP
    >>> int(arrays.y_train[0]), arrays.classes[6]   # doctest: +SKIP
    (6, 'frog')
    """
    variant = _validate.choice(variant, "variant", _VARIANTS)
    root_path = _path(root, "root") if root is not None else data_dir()
    if sample_file is not None:
        sample_file = _path(sample_file, "sample_file")
    download = _validate.boolean(download, "download")
    if variant == "sample":
        if sample_file is not None:
            if not sample_file.is_file():
                raise FileNotFoundError(
                    f"CIFAR-10 sample file {sample_file} does not exist. "
                    + _HOW_TO_GET.format(env=_SAMPLE_ENV, data_dir=data_dir())
                )
        else:
            sample_file = _find_sample_file()
    return _load_cached(
        variant, str(root_path), None if sample_file is None else str(sample_file), download
    )


def to_display(images: torch.Tensor | np.ndarray) -> np.ndarray:
    """Undo the normalisation of a batch for display, channels last, in [0, 1].

    Parameters
    ----------
    images
        Normalised float batch ``(n, 3, h, w)``, as produced by :class:`CIFAR10Tensors` or
        :func:`cifar10_loaders` (a tensor, or a NumPy array).

    Returns
    -------
    numpy.ndarray
        Floats in [0, 1], channels last.

    Raises
    ------
    TypeError
        If ``images`` is not a float array or tensor.
    ValueError
        If it is not of shape ``(n, 3, h, w)``, or holds NaN or infinities.

    Examples
    --------
    >>> to_display(torch.zeros(1, 3, 2, 2)).shape
    (1, 2, 2, 3)
    """
    images, _ = _validate.as_tensor(images, "images")
    if not images.is_floating_point():
        raise TypeError(f"images must be a float batch (normalised pixels), got dtype "
                        f"{images.dtype}")
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images must have shape (n, 3, h, w), got {tuple(images.shape)}")
    mean = torch.tensor(_CIFAR10_MEAN, dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
    std = torch.tensor(_CIFAR10_STD, dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
    return (images * std + mean).clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy()
