"""Checks of single values: integers, reals, booleans, choices, seeds, budgets."""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection

import numpy as np

__all__ = [
    "describe",
    "integer",
    "real",
    "boolean",
    "choice",
    "seed",
    "rng",
    "budget",
]


def describe(value: object) -> str:
    """Return a short description of ``value`` for an error message (type and a short repr).

    Examples
    --------
    >>> describe(2.5)
    'float 2.5'
    >>> describe(np.zeros((3, 4)))
    'ndarray of shape (3, 4) and dtype float64'
    """
    if isinstance(value, np.ndarray) or _is_tensor(value):
        return f"{type(value).__name__} of shape {tuple(value.shape)} and dtype {value.dtype}"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def _is_tensor(value: object) -> bool:
    # torch is imported only where a tensor can exist, so that checks never import torch
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")


def integer(
    value: object, name: str, minimum: int | None = None, maximum: int | None = None
) -> int:
    """Return ``value`` as an ``int``, or raise naming ``name``.

    Parameters
    ----------
    value
        A Python ``int`` or a NumPy integer scalar (``bool`` and floats are refused).
    name
        The argument's name, for the message.
    minimum, maximum
        Inclusive bounds, if any.

    Raises
    ------
    TypeError
        If ``value`` is not an integer.
    ValueError
        If it is outside ``[minimum, maximum]``.

    Examples
    --------
    >>> integer(np.int64(4), "n", minimum=1)
    4
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {describe(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        bound = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise ValueError(f"{name} must be an integer {bound}, got {value}")
    if maximum is not None and value > maximum:
        bound = f"<= {maximum}" if minimum is None else f"in [{minimum}, {maximum}]"
        raise ValueError(f"{name} must be an integer {bound}, got {value}")
    return value


def real(
    value: object,
    name: str,
    minimum: float | None = None,
    maximum: float | None = None,
    *,
    open_min: bool = False,
    open_max: bool = False,
    finite: bool = True,
) -> float:
    """Return ``value`` as a ``float``, or raise naming ``name``.

    Parameters
    ----------
    value
        A real number: ``int``, ``float`` or a NumPy real scalar (not ``bool``).
    name
        The argument's name.
    minimum, maximum
        Bounds, inclusive unless ``open_min`` / ``open_max``.
    finite
        Refuse NaN and infinities (default).

    Examples
    --------
    >>> real(0.5, "q", 0, 1, open_min=True, open_max=True)
    0.5
    >>> real(0, "q", 0, 1, open_min=True)
    Traceback (most recent call last):
    ...
    ValueError: q must be a real number > 0 and <= 1, got 0.0
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {describe(value)}")
    value = float(value)
    if math.isnan(value) or (finite and math.isinf(value)):
        raise ValueError(f"{name} must be a finite real number, got {value}")
    low_bad = minimum is not None and (value <= minimum if open_min else value < minimum)
    high_bad = maximum is not None and (value >= maximum if open_max else value > maximum)
    if low_bad or high_bad:
        parts = []
        if minimum is not None:
            parts.append(f"{'>' if open_min else '>='} {minimum}")
        if maximum is not None:
            parts.append(f"{'<' if open_max else '<='} {maximum}")
        raise ValueError(f"{name} must be a real number {' and '.join(parts)}, got {value}")
    return value


def boolean(value: object, name: str) -> bool:
    """Return ``value`` as a ``bool`` (Python or NumPy booleans only), or raise ``TypeError``.

    Examples
    --------
    >>> boolean(np.True_, "flag")
    True
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {describe(value)}")
    return bool(value)


def choice(value: object, name: str, choices: Collection[str]) -> str:
    """Return ``value`` if it is one of the strings ``choices``, or raise naming ``name``.

    Examples
    --------
    >>> choice("sum", "reduce", ("sum", "max"))
    'sum'
    >>> choice("avg", "reduce", ("sum", "max"))
    Traceback (most recent call last):
    ...
    ValueError: reduce must be one of 'sum', 'max'; got 'avg'
    """
    if not isinstance(value, str):
        raise TypeError(
            f"{name} must be one of {', '.join(map(repr, choices))}; got {describe(value)}"
        )
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def seed(value: object, name: str = "seed") -> int:
    """Return a seed: an integer ``>= 0``.

    Examples
    --------
    >>> seed(7)
    7
    """
    return integer(value, name, minimum=0)


def rng(value: object, name: str = "seed") -> np.random.Generator:
    """Return a NumPy generator from a seed (integer ``>= 0``) or pass a generator through.

    Examples
    --------
    >>> float(rng(0).random()) == float(np.random.default_rng(0).random())
    True
    """
    if isinstance(value, np.random.Generator):
        return value
    return np.random.default_rng(seed(value, name))


def budget(count: int, name: str, limit: int, what: str = "elements") -> None:
    """Refuse up front work whose size ``count`` exceeds ``limit``.

    Examples
    --------
    >>> budget(10**12, "n_networks", 10**7, "networks")
    Traceback (most recent call last):
    ...
    ValueError: n_networks asks for 1000000000000 networks, more than the limit of 10000000
    """
    if count > limit:
        raise ValueError(f"{name} asks for {count} {what}, more than the limit of {limit}")
