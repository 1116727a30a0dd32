"""Checks of other objects: torch modules and devices, paths, tables, mappings."""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from .scalars import describe

__all__ = [
    "module",
    "device",
    "path",
    "dataframe",
    "mapping",
]


def module(value: object, name: str = "model") -> Any:
    """Return ``value`` if it is a :class:`torch.nn.Module`, or raise ``TypeError``.

    Examples
    --------
    >>> module(3, "model")
    Traceback (most recent call last):
    ...
    TypeError: model must be a torch.nn.Module, got int 3
    """
    from torch import nn

    if not isinstance(value, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {describe(value)}")
    return value


def device(value: object, name: str = "device") -> Any:
    """Return a :class:`torch.device` from a device or its name; ``None`` passes through.

    Refuses names torch does not know, the ``meta`` device (shapes only, nothing to compute
    on) and CUDA devices this machine does not have.

    Examples
    --------
    >>> device("cpu")
    device(type='cpu')
    >>> device("gpu0")
    Traceback (most recent call last):
    ...
    ValueError: device must name a torch device ('cpu', 'cuda', 'cuda:1', ...), got 'gpu0'
    """
    if value is None:
        return None
    import torch

    if isinstance(value, torch.device):
        result = value
    elif isinstance(value, str):
        try:
            result = torch.device(value)
        except RuntimeError:
            raise ValueError(f"{name} must name a torch device ('cpu', 'cuda', 'cuda:1', ...), "
                             f"got {value!r}") from None
    else:
        raise TypeError(f"{name} must be a torch.device, a device name or None, "
                        f"got {describe(value)}")
    if result.type == "meta":
        raise ValueError(f"{name} must be a real device (cpu, cuda, ...), not 'meta'")
    if result.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0 or (result.index is not None and result.index >= count):
            raise ValueError(f"{name} is {str(result)!r}, but this machine has {count} CUDA "
                             "device(s)")
    return result


def path(value: object, name: str) -> Path:
    """Return a :class:`pathlib.Path` from a ``str`` or path-like (not bytes), or raise.

    Examples
    --------
    >>> path("runs/x", "checkpoint_dir").name
    'x'
    """
    if isinstance(value, (bytes, bytearray)) or not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (str or pathlib.Path), got "
                        f"{describe(value)}")
    if isinstance(value, str) and not value.strip():
        raise ValueError(f"{name} must be a path, got the empty string")
    return Path(value)


def dataframe(value: object, name: str, columns: Collection[str]) -> Any:
    """Return ``value`` if it is a :class:`pandas.DataFrame` holding ``columns``, or raise.

    Examples
    --------
    >>> import pandas as pd
    >>> dataframe(pd.DataFrame({"kind": []}), "table", ["kind", "role"])
    Traceback (most recent call last):
    ...
    ValueError: table lacks the columns ['role']
    """
    import pandas as pd

    if not isinstance(value, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {describe(value)}")
    missing = sorted(set(columns) - set(value.columns))
    if missing:
        raise ValueError(f"{name} lacks the columns {missing}")
    return value


def mapping(value: object, name: str, *, allow_empty: bool = False) -> Any:
    """Return ``value`` if it is a mapping (non-empty unless ``allow_empty``), or raise.

    Examples
    --------
    >>> mapping({}, "models")
    Traceback (most recent call last):
    ...
    ValueError: models is empty: give at least one entry
    """
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping (a dict), got {describe(value)}")
    if not value and not allow_empty:
        raise ValueError(f"{name} is empty: give at least one entry")
    return value
