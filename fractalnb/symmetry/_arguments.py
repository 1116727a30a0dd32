"""Argument checks shared by the symmetry modules: permutations, positive scales, tensors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np
import torch

__all__: list[str] = []


Array = TypeVar("Array", np.ndarray, torch.Tensor)


IndexLike = Sequence[int] | np.ndarray | torch.Tensor


ScalesLike = Sequence[float] | np.ndarray | torch.Tensor


Seed = int | np.random.Generator | None


def _to_numpy(values: Any) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def _check_permutation(perm: IndexLike, n: int | None = None, *, name: str = "perm") -> np.ndarray:
    """Return ``perm`` as an int64 array after checking it is a permutation of ``0..n-1``."""
    p = _to_numpy(perm)
    if p.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {p.shape}")
    if p.size and not np.issubdtype(p.dtype, np.integer):
        integral = np.issubdtype(p.dtype, np.floating) and np.all(np.isfinite(p))
        if integral and np.all(p == np.round(p)):
            p = p.astype(np.int64)
        else:
            raise ValueError(f"{name} must hold integers, got dtype {p.dtype}")
    p = p.astype(np.int64, copy=False)
    if n is not None and p.size != n:
        raise ValueError(f"{name} has length {p.size}, but there are {n} indices to permute")
    size = p.size
    if size == 0:
        raise ValueError(f"{name} is empty: there is nothing to permute")
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
    return p


def _check_scales(scales: ScalesLike, n: int | None = None, *, name: str = "scales") -> np.ndarray:
    """Return ``scales`` as a float64 array after checking they are finite and positive."""
    s = _to_numpy(scales)
    if s.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {s.shape}")
    if np.iscomplexobj(s) or not (np.issubdtype(s.dtype, np.floating)
                                  or np.issubdtype(s.dtype, np.integer)):
        raise ValueError(f"{name} must be real numbers, got dtype {s.dtype}")
    s = s.astype(np.float64)
    if n is not None and s.size != n:
        raise ValueError(f"{name} has length {s.size}, but there are {n} neurons to rescale")
    if s.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(s)):
        i = int(np.flatnonzero(~np.isfinite(s))[0])
        raise ValueError(f"{name} must be finite; {name}[{i}] = {s[i]}")
    if np.any(s <= 0):
        i = int(np.flatnonzero(s <= 0)[0])
        raise ValueError(
            f"{name} must be strictly positive (a positive rescaling); {name}[{i}] = {s[i]}"
        )
    return s


def _check_array(x: Any, *, name: str, min_ndim: int) -> None:
    if not isinstance(x, (np.ndarray, torch.Tensor)):
        raise TypeError(f"{name} must be a numpy array or a torch tensor, got {type(x).__name__}")
    if x.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s), got shape "
                         f"{tuple(x.shape)}")


def _check_real_float(x: Array, *, name: str) -> None:
    if isinstance(x, torch.Tensor):
        ok = x.is_floating_point()
    else:
        ok = np.issubdtype(x.dtype, np.floating)
    if not ok:
        raise ValueError(f"{name} must have a real floating dtype to be rescaled, got {x.dtype}")


def _check_block(block: int) -> int:
    if isinstance(block, bool) or not isinstance(block, (int, np.integer)) or block < 1:
        raise ValueError(f"block must be a positive integer, got {block!r}")
    return int(block)


def _rng(seed: Seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def _check_length(n: int, name: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    return int(n)


def _check_scale(r: int, name: str = "r") -> int:
    if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or r < 1:
        raise ValueError(f"{name} must be a positive integer box side, got {r!r}")
    return int(r)
