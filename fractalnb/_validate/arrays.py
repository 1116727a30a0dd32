"""Checks of arrays and tensors: dtype, rank, finiteness, sizes, and the tensor coercion."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from .scalars import _is_tensor, budget, describe, integer

__all__ = [
    "MAX_ELEMENTS",
    "MAX_RANK",
    "to_numpy",
    "real_array",
    "integer_array",
    "sizes",
    "same_length",
    "as_tensor",
    "back",
    "boolean_array",
    "shape",
    "float_dtype",
]


MAX_ELEMENTS = 1 << 30
"""The largest array (in elements, about 10^9) a function accepts before refusing up front."""


MAX_RANK = 4
"""The highest rank of a weight tensor the box-counting engine reads (conv kernels: rank 4)."""


_WIDEN_TO_INT64 = (np.uint16, np.uint32)


def to_numpy(value: Any) -> np.ndarray:
    """Return a NumPy view or copy of a tensor or array-like (no checks)."""
    if _is_tensor(value):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _array_of(value: object, name: str, allow_sequences: bool) -> np.ndarray:
    if _is_tensor(value):
        return value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return value
    if allow_sequences and isinstance(value, (list, tuple, range)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", np.exceptions.VisibleDeprecationWarning)
                return np.asarray(value)
        except ValueError as error:  # ragged nesting
            raise ValueError(f"{name} is not a rectangular array: {error}") from None
    kinds = "a numpy array or a torch tensor" + (" or a sequence" if allow_sequences else "")
    raise TypeError(f"{name} must be {kinds}, got {describe(value)}")


def _check_shape(
    a: np.ndarray,
    name: str,
    ndim: int | None,
    min_ndim: int,
    max_ndim: int | None,
    allow_empty: bool,
) -> None:
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{name} must have rank {ndim}, got rank {a.ndim} (shape {a.shape})")
    if a.ndim < min_ndim or (max_ndim is not None and a.ndim > max_ndim):
        span = f"{min_ndim} to {max_ndim}" if max_ndim is not None else f">= {min_ndim}"
        raise ValueError(f"{name} must have rank {span}, got rank {a.ndim} (shape {a.shape})")
    if a.size == 0 and not allow_empty:
        raise ValueError(f"{name} is empty (shape {a.shape})")
    budget(a.size, name, MAX_ELEMENTS)


def real_array(
    value: object,
    name: str,
    *,
    ndim: int | None = None,
    min_ndim: int = 0,
    max_ndim: int | None = None,
    allow_empty: bool = False,
    allow_bool: bool = False,
    finite: bool = True,
    allow_sequences: bool = True,
) -> np.ndarray:
    """Return ``value`` as a float64 NumPy array after checking dtype, rank and values.

    Examples
    --------
    >>> real_array([1, 2, 3], "x", ndim=1)
    array([1., 2., 3.])
    >>> real_array([1.0, np.nan], "x")
    Traceback (most recent call last):
    ...
    ValueError: x has non-finite entries (1 NaN, 0 infinite) of 2
    """
    a = _array_of(value, name, allow_sequences)
    kind = a.dtype.kind
    if kind == "c":
        raise ValueError(f"{name} must be real, got complex dtype {a.dtype}")
    if kind == "b" and not allow_bool:
        raise ValueError(f"{name} must hold real numbers, got a boolean array")
    if kind not in "biuf":
        raise ValueError(f"{name} must hold real numbers, got dtype {a.dtype}")
    _check_shape(a, name, ndim, min_ndim, max_ndim, allow_empty)
    a = a.astype(np.float64, copy=False)
    if finite and a.size and not np.isfinite(a).all():
        nan = int(np.isnan(a).sum())
        inf = int((~np.isfinite(a)).sum()) - nan
        raise ValueError(f"{name} has non-finite entries ({nan} NaN, {inf} infinite) of {a.size}")
    return a


def integer_array(
    value: object,
    name: str,
    *,
    ndim: int | None = None,
    min_ndim: int = 0,
    max_ndim: int | None = None,
    minimum: int | None = None,
    allow_empty: bool = False,
    allow_integral_floats: bool = False,
    allow_sequences: bool = True,
) -> np.ndarray:
    """Return ``value`` as an int64 NumPy array; floats only if integral and allowed.

    Examples
    --------
    >>> integer_array([1, 2, 4], "scales", ndim=1, minimum=1)
    array([1, 2, 4])
    >>> integer_array([1.5], "scales")
    Traceback (most recent call last):
    ...
    TypeError: scales must hold integers, got dtype float64
    """
    a = _array_of(value, name, allow_sequences)
    kind = a.dtype.kind
    if kind == "f" and allow_integral_floats and a.size:
        if not np.isfinite(a).all() or not np.all(a == np.round(a)):
            bad = a[~np.isfinite(a) | (a != np.round(a))][0]
            raise ValueError(f"{name} must hold whole numbers, got {bad}")
    elif kind not in "iu" and not (kind == "f" and a.size == 0):
        raise TypeError(f"{name} must hold integers, got dtype {a.dtype}")
    _check_shape(a, name, ndim, min_ndim, max_ndim, allow_empty)
    if kind == "u" and a.size and a.max() > np.iinfo(np.int64).max:
        raise ValueError(f"{name} holds values above 2**63 - 1")
    a = a.astype(np.int64, copy=False)
    if minimum is not None and a.size and a.min() < minimum:
        raise ValueError(f"{name} must hold integers >= {minimum}, got {a.min()}")
    return a


def sizes(
    value: object,
    name: str,
    *,
    integral: bool = True,
    minimum: float = 1,
    increasing: bool = True,
    min_count: int = 1,
) -> np.ndarray:
    """Return a 1-D array of distinct positive sizes (box sides, scales), strictly increasing.

    Duplicates and unsorted input are refused with a message (never silently sorted or
    merged): a function that reads several scales relies on their order.

    Examples
    --------
    >>> sizes([1, 2, 4], "scales")
    array([1, 2, 4])
    >>> sizes([1, 2, 2], "scales")
    Traceback (most recent call last):
    ...
    ValueError: scales must be strictly increasing, got [1 2 2]
    """
    if integral:
        a = integer_array(value, name, ndim=1, allow_empty=min_count == 0)
    else:
        a = real_array(value, name, ndim=1, allow_empty=min_count == 0)
    if a.size < min_count:
        raise ValueError(f"{name} needs at least {min_count} values, got {a.size}")
    if a.size and a.min() < minimum:
        raise ValueError(f"{name} must hold values >= {minimum}, got {a.min()}")
    if increasing and a.size > 1 and not np.all(np.diff(a) > 0):
        raise ValueError(f"{name} must be strictly increasing, got {a}")
    return a


def same_length(first: Sequence | np.ndarray, second: Sequence | np.ndarray, names: str) -> None:
    """Raise ``ValueError`` unless two sequences have the same length; ``names`` is "a and b".

    Examples
    --------
    >>> same_length([1, 2], [3], "scales and counts")
    Traceback (most recent call last):
    ...
    ValueError: scales and counts must have the same length, got 2 and 1
    """
    if len(first) != len(second):
        raise ValueError(f"{names} must have the same length, got {len(first)} and {len(second)}")


def as_tensor(
    x: object,
    name: str = "x",
    *,
    allow_bool: bool = True,
    check_finite: bool = True,
    max_rank: int = MAX_RANK,
) -> tuple[Any, bool]:
    """Return ``(tensor, was_numpy)`` for a real array of rank 1 to ``max_rank``, or raise.

    NumPy inputs are wrapped without a copy where torch supports their dtype and strides
    (a negative-stride view such as ``x[::-1]`` is copied once). The array may not have more
    than :data:`MAX_ELEMENTS` elements: a broadcast (expanded) tensor of 2^40 elements is
    refused here rather than read for minutes.

    Examples
    --------
    >>> t, was_numpy = as_tensor(np.arange(4.0)[::-1], "x")
    >>> t.tolist(), was_numpy
    ([3.0, 2.0, 1.0, 0.0], True)
    """
    import torch

    if isinstance(x, torch.Tensor):
        t, was_numpy = x.detach(), False
        if t.is_complex():
            raise ValueError(f"{name} must be real, got a complex tensor of dtype {t.dtype}")
        if t.dtype in (torch.uint16, torch.uint32, torch.uint64):
            t = t.to(torch.int64)
    else:
        if isinstance(x, (list, tuple)) or np.isscalar(x) or hasattr(x, "__array__"):
            if isinstance(x, str):
                raise TypeError(f"{name} must be a numpy array or a torch tensor, got str")
            try:
                x = np.asarray(x)
            except ValueError as error:
                raise ValueError(f"{name} is not a rectangular array: {error}") from None
        if not isinstance(x, np.ndarray):
            raise TypeError(f"{name} must be a numpy array or a torch tensor, got {describe(x)}")
        was_numpy = True
        kind = x.dtype.kind
        if kind == "c":
            raise ValueError(f"{name} must be real, got a complex array of dtype {x.dtype}")
        if kind not in "biuf":
            raise ValueError(f"{name} must hold real numbers or booleans, got dtype {x.dtype}")
        if x.size > MAX_ELEMENTS:
            budget(x.size, name, MAX_ELEMENTS)
        if x.dtype == np.uint64:
            if x.size and x.max() > np.iinfo(np.int64).max:
                raise ValueError(f"{name} holds uint64 values above 2**63 - 1; convert it first")
            x = x.astype(np.int64)
        elif x.dtype.type in _WIDEN_TO_INT64:
            x = x.astype(np.int64)
        elif kind == "f" and x.dtype.itemsize > 8:
            raise ValueError(f"{name} has dtype {x.dtype}; use float64 or a smaller float")
        if not x.dtype.isnative:
            x = x.astype(x.dtype.newbyteorder("="))
        if any(stride < 0 for stride in x.strides):
            x = np.ascontiguousarray(x)  # torch.from_numpy refuses negative strides
        with warnings.catch_warnings():
            # read-only arrays (e.g. Fractal.mask) are fine: the engine never writes
            # into its input, it reduces into fresh tensors
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            t = torch.from_numpy(x)
    if t.ndim == 0:
        raise ValueError(f"{name} must have rank 1 to {max_rank}, got a scalar (rank 0)")
    if t.ndim > max_rank:
        raise ValueError(
            f"{name} must have rank 1 to {max_rank}, got rank {t.ndim} (shape {tuple(t.shape)})"
        )
    if t.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(t.shape)})")
    budget(t.numel(), name, MAX_ELEMENTS)
    if t.dtype == torch.bool and not allow_bool:
        raise ValueError(f"{name} must be real-valued, got a boolean array")
    # a NaN or an infinity makes the sum non-finite (one cheap pass); only then, or when the
    # sum overflows, is every entry checked
    if check_finite and t.is_floating_point() and not bool(torch.isfinite(t.sum())):
        finite = torch.isfinite(t)
        if not bool(finite.all()):
            nan = int(torch.isnan(t).sum())
            inf = int(t.numel() - finite.sum()) - nan
            raise ValueError(
                f"{name} has non-finite entries ({nan} NaN, {inf} infinite) "
                f"of {t.numel()}; remove or replace them first"
            )
    return t, was_numpy


def back(t: Any, was_numpy: bool) -> Any:
    """Return ``t`` as NumPy if the input was NumPy (the inverse of :func:`as_tensor`)."""
    return t.numpy() if was_numpy else t


def boolean_array(
    value: object,
    name: str,
    *,
    ndim: int | None = None,
    min_ndim: int = 0,
    max_ndim: int | None = None,
    allow_sequences: bool = False,
) -> np.ndarray:
    """Return ``value`` as a boolean NumPy array (a mask: a set of grid points), or raise.

    A NumPy array or torch tensor (sequences where a function says so) of dtype ``bool``,
    of the stated rank, not empty, within :data:`MAX_ELEMENTS`; no copy of a NumPy input.

    Examples
    --------
    >>> boolean_array(np.eye(2, dtype=bool), "mask", ndim=2).shape
    (2, 2)
    >>> boolean_array(np.eye(2), "mask")
    Traceback (most recent call last):
    ...
    ValueError: mask must be boolean, got dtype float64
    """
    a = _array_of(value, name, allow_sequences)
    if a.dtype != bool:
        raise ValueError(f"{name} must be boolean, got dtype {a.dtype}")
    _check_shape(a, name, ndim, min_ndim, max_ndim, allow_empty=False)
    return a


def shape(
    value: object, name: str = "shape", *, max_rank: int | None = None, allow_empty: bool = False
) -> tuple[int, ...]:
    """Return a grid shape: a tuple or list (``torch.Size`` too) of integers ``>= 1``.

    Examples
    --------
    >>> shape([64, 3], "shape", max_rank=4)
    (64, 3)
    >>> shape((16, 16.5), "shape")
    Traceback (most recent call last):
    ...
    TypeError: shape must be an integer, got float 16.5
    """
    if isinstance(value, np.ndarray) and value.ndim == 1:
        value = tuple(value.tolist())
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{name} must be a tuple of integers, got {describe(value)}")
    if (max_rank is not None and len(value) > max_rank) or (not value and not allow_empty):
        span = f"1 to {max_rank}" if max_rank is not None else ">= 1"
        raise ValueError(f"{name} must have {span} axes, got {tuple(value)!r}")
    return tuple(integer(n, name, minimum=1) for n in value)


def float_dtype(value: object, name: str = "dtype") -> Any:
    """Return ``value`` if it is a floating-point :class:`torch.dtype` (``torch.float32``, ...).

    Examples
    --------
    >>> import torch
    >>> float_dtype(torch.float64)
    torch.float64
    >>> float_dtype(torch.int64)
    Traceback (most recent call last):
    ...
    ValueError: dtype must be a floating-point torch dtype, got torch.int64
    """
    import torch

    if not isinstance(value, torch.dtype):
        raise TypeError(f"{name} must be a torch dtype such as torch.float32, "
                        f"got {describe(value)}")
    if not value.is_floating_point:
        raise ValueError(f"{name} must be a floating-point torch dtype, got {value}")
    return value
