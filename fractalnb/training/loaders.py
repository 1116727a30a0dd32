"""CIFAR-10 as normalised tensors: datasets, augmentation and loaders."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from .data import CIFAR10_MEAN, CIFAR10_STD, load_cifar10

__all__ = [
    "CIFAR10Tensors",
    "cifar10_datasets",
    "augment_batch",
    "cifar10_loaders",
]


def _normalise(images: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(CIFAR10_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR10_STD).view(1, 3, 1, 1)
    return (x - mean) / std


class CIFAR10Tensors(Dataset):
    """CIFAR-10 as normalised ``float32`` tensors ``(3, 32, 32)`` with integer labels.

    Parameters
    ----------
    images
        ``uint8`` array ``(n, 32, 32, 3)``.
    labels
        ``int64`` array ``(n,)``.
    normalize
        Subtract :data:`CIFAR10_MEAN` and divide by :data:`CIFAR10_STD` (else scale to [0, 1]).
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, normalize: bool = True) -> None:
        if images.ndim != 4 or images.shape[1:] != (32, 32, 3):
            raise ValueError(f"images must have shape (n, 32, 32, 3), got {images.shape}")
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        if normalize:
            self.images = _normalise(images)
        else:
            self.images = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2)
            self.images = self.images.float().div_(255.0)
        self.labels = torch.as_tensor(np.asarray(labels), dtype=torch.long)
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
        Standardise each channel with :data:`CIFAR10_MEAN` / :data:`CIFAR10_STD`.
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
    arrays = load_cifar10(variant, **load_kwargs)
    return (
        CIFAR10Tensors(arrays.x_train, arrays.y_train, normalize),
        CIFAR10Tensors(arrays.x_test, arrays.y_test, normalize),
    )


def augment_batch(
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
    >>> augment_batch(x, generator=torch.Generator().manual_seed(0)).shape
    torch.Size([8, 3, 32, 32])
    """
    if images.ndim != 4:
        raise ValueError(f"images must have shape (n, c, h, w), got {tuple(images.shape)}")
    if padding < 0:
        raise ValueError(f"padding must be >= 0, got {padding}")
    n, c, h, w = images.shape
    out = images
    if padding > 0:
        if fill is None:
            fill = [-m / s for m, s in zip(CIFAR10_MEAN, CIFAR10_STD)] if c == 3 else [0.0] * c
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
        return augment_batch(images, generator=self.generator), labels


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
        Seeds the shuffling and the augmentation, so epochs are reproducible.
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
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    train, test = cifar10_datasets(variant, **load_kwargs)
    shuffle_gen = torch.Generator().manual_seed(seed)
    collate = _AugmentCollate(torch.Generator().manual_seed(seed + 1)) if augment else None
    train_loader = DataLoader(
        train, batch_size=batch_size, shuffle=True, generator=shuffle_gen, collate_fn=collate
    )
    test_loader = DataLoader(test, batch_size=test_batch_size or 2 * batch_size, shuffle=False)
    return train_loader, test_loader
