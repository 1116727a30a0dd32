"""CIFAR-10 as normalised tensors: datasets, augmentation and loaders."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from .. import _validate
from ._checks import torch_seed
from .data import _CIFAR10_MEAN, _CIFAR10_STD, _VARIANTS, load_cifar10

__all__ = [
    "CIFAR10Tensors",
    "cifar10_datasets",
    "cifar10_loaders",
]


_CLASSES = 10
"""Labels are ``0 .. _CLASSES - 1``."""


def _pixels(images: object) -> np.ndarray:
    """Check a batch of CIFAR-10 images: ``uint8`` pixels of shape ``(n, 32, 32, 3)``."""
    if not isinstance(images, (np.ndarray, torch.Tensor)):
        raise TypeError(f"images must be a numpy array or a torch tensor, got "
                        f"{_validate.describe(images)}")
    array = _validate.to_numpy(images)
    if array.dtype != np.uint8:
        raise TypeError(f"images must hold uint8 pixels (0..255, as load_cifar10 gives them), "
                        f"got dtype {array.dtype}")
    if array.ndim != 4 or array.shape[1:] != (32, 32, 3) or len(array) == 0:
        raise ValueError(f"images must have shape (n, 32, 32, 3) with n >= 1, got {array.shape}")
    return array


def _to_tensor(images: np.ndarray, normalize: bool) -> torch.Tensor:
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(255.0)
    if not normalize:
        return x
    mean = torch.tensor(_CIFAR10_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(_CIFAR10_STD).view(1, 3, 1, 1)
    return (x - mean) / std


class CIFAR10Tensors(Dataset):
    """CIFAR-10 as normalised ``float32`` tensors ``(3, 32, 32)`` with integer labels.

    Parameters
    ----------
    images
        ``uint8`` array ``(n, 32, 32, 3)`` (a NumPy array or a tensor), ``n >= 1``.
    labels
        Integer array ``(n,)`` of labels in ``0..9``.
    normalize
        Subtract the per-channel mean of the full training set and divide by its standard
        deviation (else only scale to [0, 1]).

    Raises
    ------
    TypeError
        For images that are not ``uint8``, labels that are not integers, or a non-boolean
        ``normalize``.
    ValueError
        For a wrong shape, labels outside ``0..9`` or as many labels as images.

    Examples
    --------
    >>> data = CIFAR10Tensors(np.zeros((2, 32, 32, 3), np.uint8), np.array([0, 9]))
    >>> image, label = data[1]
    >>> tuple(image.shape), int(label)
    ((3, 32, 32), 9)
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, normalize: bool = True) -> None:
        images = _pixels(images)
        labels = _validate.integer_array(labels, "labels", ndim=1, minimum=0)
        if labels.size and labels.max() >= _CLASSES:
            raise ValueError(f"labels must be CIFAR-10 classes 0..{_CLASSES - 1}, got "
                             f"{labels.max()}")
        _validate.same_length(images, labels, "images and labels")
        normalize = _validate.boolean(normalize, "normalize")
        self.images = _to_tensor(images, normalize)
        self.labels = torch.from_numpy(np.ascontiguousarray(labels))
        self.normalized = normalize

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.images[index], self.labels[index]


def cifar10_datasets(
    variant: str, *, normalize: bool = True, **load_kwargs
) -> tuple[CIFAR10Tensors, CIFAR10Tensors]:
    """Return the training and test sets of a CIFAR-10 variant as torch datasets.

    Parameters
    ----------
    variant
        ``"sample"`` or ``"full"``.
    normalize
        Standardise each channel with the mean and standard deviation of the full training
        set.
    **load_kwargs
        Passed to :func:`load_cifar10`.

    Returns
    -------
    (CIFAR10Tensors, CIFAR10Tensors)
        Training and test sets.

    Examples
    --------
    >>> from fractalnb.training import cifar10_datasets
    >>> train, test = cifar10_datasets("sample")   # doctest: +SKIP
    >>> len(train), len(test)                      # doctest: +SKIP
    (5000, 1000)
    """
    normalize = _validate.boolean(normalize, "normalize")
    arrays = load_cifar10(variant, **load_kwargs)
    return (
        CIFAR10Tensors(arrays.x_train, arrays.y_train, normalize),
        CIFAR10Tensors(arrays.x_test, arrays.y_test, normalize),
    )


def _augment_batch(
    images: torch.Tensor,
    *,
    padding: int = 4,
    flip: bool = True,
    fill: Sequence[float] | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Augment a whole batch the standard CIFAR way: random crop after padding, horizontal flip.

    Equivalent to torchvision's ``RandomCrop(32, padding)`` and ``RandomHorizontalFlip()``
    applied image by image, but vectorised over the batch.

    Parameters
    ----------
    images
        Batch ``(n, c, h, w)``.
    padding
        Pixels of padding on each side before the random crop (0 disables the crop).
    flip
        Flip each image left-right with probability 1/2.
    fill
        Per-channel value of the padding; black in normalised units
        (``-mean / std``) by default, as torchvision pads before normalising.
    generator
        Random generator, for reproducible augmentation.

    Returns
    -------
    torch.Tensor
        Augmented batch, same shape as ``images``.

    Examples
    --------
    >>> x = torch.zeros(8, 3, 32, 32)
    >>> _augment_batch(x, generator=torch.Generator().manual_seed(0)).shape
    torch.Size([8, 3, 32, 32])
    """
    if images.ndim != 4:
        raise ValueError(f"images must have shape (n, c, h, w), got {tuple(images.shape)}")
    padding = _validate.integer(padding, "padding", 0)
    n, c, h, w = images.shape
    out = images
    if padding > 0:
        if fill is None:
            fill = [-m / s for m, s in zip(_CIFAR10_MEAN, _CIFAR10_STD)] if c == 3 else [0.0] * c
        if len(fill) != c:
            raise ValueError(f"fill has {len(fill)} values for {c} channels")
        padded = torch.empty(n, c, h + 2 * padding, w + 2 * padding, dtype=images.dtype,
                             device=images.device)
        padded[:] = torch.as_tensor(fill, dtype=images.dtype, device=images.device).view(1, c, 1, 1)
        padded[:, :, padding:padding + h, padding:padding + w] = images
        dy = torch.randint(0, 2 * padding + 1, (n,), generator=generator).to(images.device)
        dx = torch.randint(0, 2 * padding + 1, (n,), generator=generator).to(images.device)
        rows = (dy[:, None] + torch.arange(h, device=images.device))[:, None, :, None]
        cols = (dx[:, None] + torch.arange(w, device=images.device))[:, None, None, :]
        batch = torch.arange(n, device=images.device)[:, None, None, None]
        chan = torch.arange(c, device=images.device)[None, :, None, None]
        out = padded[batch, chan, rows, cols]
    if flip:
        mask = (torch.rand(n, generator=generator) < 0.5).to(images.device)
        out = torch.where(mask[:, None, None, None], out.flip(-1), out)
    return out


class _AugmentCollate:
    def __init__(self, generator: torch.Generator) -> None:
        self.generator = generator

    def __call__(self, items):
        images = torch.stack([item[0] for item in items])
        labels = torch.stack([item[1] for item in items])
        return _augment_batch(images, generator=self.generator), labels


def cifar10_loaders(
    variant: str,
    *,
    batch_size: int = 128,
    augment: bool = True,
    seed: int = 0,
    test_batch_size: int | None = None,
    **load_kwargs,
) -> tuple[DataLoader, DataLoader]:
    """Return shuffled, augmented training batches and plain test batches of a CIFAR-10 variant.

    Parameters
    ----------
    variant
        ``"sample"`` or ``"full"``.
    batch_size
        Training batch size.
    augment
        Random crop (padding 4) and horizontal flip on training batches.
    seed
        Seeds the shuffling and the augmentation, so epochs are reproducible (an integer
        ``>= 0``).
    test_batch_size
        Test batch size (``2 * batch_size`` by default).
    **load_kwargs
        Passed to :func:`load_cifar10`.

    Returns
    -------
    (DataLoader, DataLoader)
        Training and test loaders yielding ``(images, labels)``.

    Examples
    --------
    >>> from fractalnb.training import cifar10_loaders
    >>> train, test = cifar10_loaders("sample", batch_size=128, seed=0)   # doctest: +SKIP
    >>> images, labels = next(iter(train))                              # doctest: +SKIP
    >>> images.shape                                                    # doctest: +SKIP
    torch.Size([128, 3, 32, 32])
    """
    _validate.choice(variant, "variant", _VARIANTS)
    batch_size = _validate.integer(batch_size, "batch_size", 1)
    augment = _validate.boolean(augment, "augment")
    seed = torch_seed(seed)
    if test_batch_size is not None:
        test_batch_size = _validate.integer(test_batch_size, "test_batch_size", 1)
    train, test = cifar10_datasets(variant, **load_kwargs)
    shuffle_gen = torch.Generator().manual_seed(seed)
    collate = _AugmentCollate(torch.Generator().manual_seed(seed + 1)) if augment else None
    train_loader = DataLoader(
        train, batch_size=batch_size, shuffle=True, generator=shuffle_gen, collate_fn=collate
    )
    test_loader = DataLoader(test, batch_size=test_batch_size or 2 * batch_size, shuffle=False)
    return train_loader, test_loader
