"""Argument checks of the training subpackage that :mod:`fractalnb._validate` does not hold.

Each builds on :mod:`fractalnb._validate` and follows its rules (wrong type: ``TypeError``,
wrong value: ``ValueError``, the message names the argument and what it got).
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from .. import _validate

MAX_SEED = 2**63 - 2
"""The largest seed: ``seed + 1`` (the augmentation's generator) still fits in an int64."""


def torch_seed(value: object, name: str = "seed") -> int:
    """Return a seed for torch's generators: an integer in ``[0, MAX_SEED]``.

    Examples
    --------
    >>> torch_seed(3)
    3
    """
    return _validate.integer(value, name, minimum=0, maximum=MAX_SEED)


def path(value: object, name: str) -> Path:
    """Return a :class:`pathlib.Path` from a ``str`` or path-like (not bytes), or raise.

    Examples
    --------
    >>> path("runs/x", "checkpoint_dir").name
    'x'
    """
    if isinstance(value, (bytes, bytearray)) or not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (str or pathlib.Path), got "
                        f"{_validate.describe(value)}")
    if isinstance(value, str) and not value.strip():
        raise ValueError(f"{name} must be a path, got the empty string")
    return Path(value)


def frame(value: object, name: str, columns: Collection[str]) -> Any:
    """Return ``value`` if it is a :class:`pandas.DataFrame` holding ``columns``, or raise.

    Examples
    --------
    >>> import pandas as pd
    >>> frame(pd.DataFrame({"kind": []}), "table", ["kind", "role"])
    Traceback (most recent call last):
    ...
    ValueError: table lacks the columns ['role']
    """
    import pandas as pd

    if not isinstance(value, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {_validate.describe(value)}")
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
        raise TypeError(f"{name} must be a mapping (a dict), got {_validate.describe(value)}")
    if not value and not allow_empty:
        raise ValueError(f"{name} is empty: give at least one entry")
    return value
