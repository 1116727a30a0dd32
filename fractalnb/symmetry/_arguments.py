"""Argument checks specific to the symmetry modules: permutations, positive factors, tensors.

Each builds on :mod:`fractalnb._validate` (integers, seeds and plain arrays are checked there
directly) and keeps its rules: wrong type -> ``TypeError``, wrong value -> ``ValueError``,
every message naming the argument.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, Union

import numpy as np

from .._validate import (
    MAX_ELEMENTS,
    as_tensor,
    budget,
    describe,
    integer,
    integer_array,
    real_array,
    sizes,
)

if TYPE_CHECKING:
    import torch

__all__: list[str] = []


Array = TypeVar("Array", np.ndarray, "torch.Tensor")


IndexLike = Union[Sequence[int], np.ndarray, "torch.Tensor"]  # noqa: UP007 - a forward ref


ScalesLike = Union[Sequence[float], np.ndarray, "torch.Tensor"]  # noqa: UP007 - a forward ref


Seed = Union[int, np.random.Generator]  # noqa: UP007 - kept alike the two above


def _check_count(n: object, name: str = "n") -> int:
    """Return ``n``, a number of items (an integer ``>= 1`` within the array budget)."""
    n = integer(n, name, minimum=1)
    budget(n, name, MAX_ELEMENTS, "items")
    return n


def _check_permutation(perm: object, n: int | None = None, *, name: str = "perm") -> np.ndarray:
    """Return ``perm`` as a contiguous int64 array after checking it permutes ``0..n-1``."""
    p = integer_array(perm, name, ndim=1)
    if n is not None and p.size != n:
        raise ValueError(f"{name} has length {p.size}, but there are {n} indices to permute")
    size = p.size
    if p.min() < 0 or p.max() >= size:
        bad = p[(p < 0) | (p >= size)][0]
        raise ValueError(f"{name} is not a permutation of 0..{size - 1}: it contains {bad}")
    counts = np.bincount(p, minlength=size)
    if np.any(counts != 1):
        repeated = int(np.flatnonzero(counts > 1)[0])
        missing = int(np.flatnonzero(counts == 0)[0])
        raise ValueError(
            f"{name} is not a permutation of 0..{size - 1}: {repeated} appears "
            f"{counts[repeated]} times and {missing} is missing"
        )
    return np.ascontiguousarray(p)  # torch.as_tensor refuses a negative-stride view


def _check_factors(scales: object, n: int | None = None, *, name: str = "scales") -> np.ndarray:
    """Return ``scales`` as a new float64 array after checking they are finite and positive."""
    s = np.array(real_array(scales, name, ndim=1), dtype=np.float64, order="C")
    if n is not None and s.size != n:
        raise ValueError(f"{name} has length {s.size}, but there are {n} neurons to rescale")
    if np.any(s <= 0):
        i = int(np.flatnonzero(s <= 0)[0])
        raise ValueError(
            f"{name} must be strictly positive (a positive rescaling); {name}[{i}] = {s[i]}"
        )
    return s


def _check_tensor(x: Any, name: str = "x", *, min_ndim: int = 1, max_ndim: int | None = None
                  ) -> torch.Tensor:
    """Check a real numpy array or torch tensor (finite, not empty); return it as a tensor.

    The caller keeps working on ``x`` itself where its type must be kept; the tensor shares
    its memory (a negative-stride numpy view is copied).
    """
    import torch

    if not isinstance(x, (np.ndarray, torch.Tensor)):
        raise TypeError(f"{name} must be a numpy array or a torch tensor, got "
                        f"{describe(x)}")
    if x.ndim < min_ndim:
        raise ValueError(f"{name} must have rank >= {min_ndim}, got shape {tuple(x.shape)}")
    t, _ = as_tensor(x, name, max_rank=max(x.ndim, 1) if max_ndim is None else max_ndim)
    return t


def _check_box_sides(scales: object, shape: Sequence[int], name: str = "scales") -> np.ndarray:
    """Return box sides: strictly increasing integers ``>= 1``, at most ``max(shape)``."""
    sides = sizes(scales, name)
    largest = max(int(n) for n in shape)
    if sides.max() > largest:
        raise ValueError(f"{name} holds the side {int(sides.max())}, larger than the grid "
                         f"{tuple(int(n) for n in shape)}")
    return sides


def _check_model(model: object, name: str = "model") -> None:
    """Check that ``model`` is a ``torch.nn.Module`` (``TypeError`` otherwise)."""
    from torch import nn

    if not isinstance(model, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {describe(model)}")


def _check_inputs(inputs: object, name: str = "inputs") -> torch.Tensor:
    """Check a batch of model inputs: a torch tensor, not empty, with finite entries."""
    import torch

    if not isinstance(inputs, torch.Tensor):
        raise TypeError(f"{name} must be a torch tensor, got {describe(inputs)}")
    if inputs.ndim < 1:
        raise ValueError(f"{name} must be a batch (rank >= 1), got a scalar")
    as_tensor(inputs, name, max_rank=inputs.ndim)
    return inputs


def _check_named(values: object, name: str, what: str) -> None:
    """Check a non-empty mapping ``{label: what}`` (``perms``, ``factors``)."""
    if not isinstance(values, Mapping):
        raise TypeError(f"{name} must be a dict {{label: {what}}}, got "
                        f"{describe(values)}")
    if not values:
        raise ValueError(f"{name} is empty: give at least one {{label: {what}}}")
