"""One validation layer for the whole package: every public function checks its arguments here.

Each check has one meaning everywhere, and every message names the argument and what it got:

- a value of the **wrong type** raises :class:`TypeError`, a value of the right type that is
  **out of range** raises :class:`ValueError`;
- **integers** are Python ``int`` or NumPy integer scalars; ``bool`` is not an integer, and
  neither is a float, even an integral one such as ``2.0`` (``TypeError``);
- **reals** are ``int``, ``float`` or NumPy real scalars (not ``bool``, not complex, not
  strings); NaN and infinities are refused unless a check says otherwise;
- **seeds** are integers ``>= 0``; :func:`rng` also passes a :class:`numpy.random.Generator`
  through;
- **arrays** are NumPy arrays, torch tensors, or (where a function says so) nested sequences;
  NaN, infinities, complex and object dtypes, empty arrays and ranks outside the stated range
  are refused; negative-stride NumPy views (``x[::-1]``) are accepted;
- **sizes past a budget** (:data:`MAX_ELEMENTS` array elements, or a function's own stated
  limit) are refused up front, before any work.

The functions are private to the package (the module name starts with an underscore); the
book's API reference documents what each public function accepts.

Examples
--------
>>> integer(3, "depth", minimum=1)
3
>>> integer(2.0, "depth")
Traceback (most recent call last):
...
TypeError: depth must be an integer, got float 2.0
>>> choice("mean", "reduce", ("sum", "mean"))
'mean'
"""

from __future__ import annotations

import numpy as np  # noqa: F401  (the examples above use it)

from .arrays import (
    MAX_ELEMENTS,
    MAX_RANK,
    as_tensor,
    back,
    boolean_array,
    float_dtype,
    integer_array,
    real_array,
    same_length,
    shape,
    sizes,
    to_numpy,
)
from .objects import (
    dataframe,
    device,
    mapping,
    module,
    path,
)
from .scalars import (
    boolean,
    budget,
    choice,
    describe,
    integer,
    real,
    rng,
    seed,
)

__all__ = [
    "MAX_ELEMENTS",
    "MAX_RANK",
    "as_tensor",
    "back",
    "boolean",
    "boolean_array",
    "budget",
    "choice",
    "dataframe",
    "describe",
    "device",
    "float_dtype",
    "integer",
    "integer_array",
    "mapping",
    "module",
    "path",
    "real",
    "real_array",
    "rng",
    "same_length",
    "seed",
    "shape",
    "sizes",
    "to_numpy",
]
