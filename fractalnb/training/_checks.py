"""Argument checks of the training subpackage that :mod:`fractalnb._validate` does not hold.

Each builds on :mod:`fractalnb._validate` and follows its rules (wrong type: ``TypeError``,
wrong value: ``ValueError``, the message names the argument and what it got).
"""

from __future__ import annotations

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
