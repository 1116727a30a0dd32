"""Tables for the page: numbers formatted by what they mean, columns that fit the column.

A pandas ``DataFrame`` printed as it is shows six decimals, ``NaN``, ``inf``, integers as
``16.0`` and ``-0.0000``; a bare ``Styler`` runs its columns together. :func:`show_table`
returns a styled table that reads like a table of a book: integers as integers, other numbers
to a few significant digits, ``—`` where nothing was measured, ``∞`` for a true infinity,
``yes``/``no`` for truth values, padded cells, and the columns a reader looks at first moved
to the left.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np
import pandas as pd

from .. import _validate

__all__ = ["format_number", "show_table"]

MISSING = "—"  # not measured
CELL_STYLE = [
    {"selector": "th, td", "props": "padding: 0.15em 0.5em; text-align: right;"},
    {"selector": "th.col_heading", "props": "text-align: center;"},
    {"selector": "th.row_heading", "props": "text-align: left;"},
]


def format_number(value: object, digits: int = 3) -> str:
    """Format one number for the page: integers whole, others to ``digits`` significant digits.

    Parameters
    ----------
    value
        A number, a truth value, ``None`` or ``NaN`` (shown as ``—``, not measured), or any
        other object (shown by ``str``).
    digits
        Significant digits of a number that is not an integer; numbers of at least
        ``10 ** digits`` are rounded to a whole number instead (no exponent on the page).

    Returns
    -------
    str
        ``"—"`` for missing values, ``"∞"``/``"−∞"`` for infinities, ``"yes"``/``"no"`` for
        truth values; numbers below ``1e-3`` with an exponent; never ``"-0"``.

    Examples
    --------
    >>> [format_number(v) for v in (16.0, 13383.0, 0.024437, 4.82731, -0.0, 2.0e-5)]
    ['16', '13,383', '0.0244', '4.83', '0', '2.00e-05']
    >>> format_number(float("nan")), format_number(float("inf")), format_number(True)
    ('—', '∞', 'yes')
    """
    digits = _validate.integer(digits, "digits", minimum=1)
    if value is None or value is pd.NA:
        return MISSING
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, Integral):
        return f"{int(value):,}"
    if not isinstance(value, Real):
        return str(value)
    number = float(value)
    if math.isnan(number):
        return MISSING
    if math.isinf(number):
        return "∞" if number > 0 else "−∞"
    if number == 0:
        return "0"
    if number.is_integer() or abs(number) >= 10 ** digits:
        return f"{round(number):,}"
    if abs(number) < 1e-3:  # many leading zeros read worse than an exponent
        return f"{number:.{digits - 1}e}"
    magnitude = math.floor(math.log10(abs(number)))
    return f"{number:.{max(digits - 1 - magnitude, 0)}f}"


def _column_names(value: object, name: str) -> list:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(f"{name} must be a list of column names, got "
                        f"{_validate.describe(value)}")
    return list(value)


def show_table(
    frame: pd.DataFrame,
    *,
    digits: int | dict[str, int] = 3,
    first: Sequence[str] = (),
    columns: Sequence[str] | None = None,
    index: bool = True,
    caption: str | None = None,
) -> pd.io.formats.style.Styler:
    """Return ``frame`` styled for the page (see the module's description).

    Parameters
    ----------
    frame
        The table; its values are not changed, only how they are shown.
    digits
        Significant digits of non-integer numbers: one for every column, or a mapping from
        column name to digits (columns not named get 3).
    first
        Columns to show first, in this order (the verdict a reader looks for).
    columns
        Columns to show (default: all); every name must be a column of ``frame``.
    index
        Whether to show the index.
    caption
        A caption above the table.

    Returns
    -------
    pandas.io.formats.style.Styler
        Shown as HTML in a notebook and in the book.

    Raises
    ------
    TypeError
        ``frame`` is not a ``DataFrame``.
    ValueError
        A name in ``first``, ``columns`` or ``digits`` is not a column of the table, or
        ``digits`` is not an integer >= 1.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"D": [1.58496, float("nan")], "boxes": [16.0, 81.0],
    ...                   "agrees": [True, False]}, index=["gasket", "carpet"])
    >>> styled = show_table(t, first=["agrees"])
    >>> list(styled.data.columns)
    ['agrees', 'D', 'boxes']
    >>> "1.58" in styled.to_html() and "—" in styled.to_html() and "16.0" not in styled.to_html()
    True
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {_validate.describe(frame)}")
    first = _column_names(first, "first")
    names = list(frame.columns) if columns is None else _column_names(columns, "columns")
    for argument, given in (("first", first), ("columns", names)):
        missing = [name for name in given if name not in frame.columns]
        if missing:
            raise ValueError(f"{argument} names {missing}, not columns of the table; its "
                             f"columns are {list(frame.columns)}")
    index = _validate.boolean(index, "index")
    order = [*first, *[name for name in names if name not in first]]
    shown = frame.loc[:, order]
    if isinstance(digits, dict):
        unknown = [name for name in digits if name not in shown.columns]
        if unknown:
            raise ValueError(f"digits names {unknown}, not columns of the table shown")
        per_column = {name: _validate.integer(digits.get(name, 3), f"digits[{name!r}]",
                                              minimum=1) for name in shown.columns}
    else:
        per_column = dict.fromkeys(shown.columns, _validate.integer(digits, "digits",
                                                                    minimum=1))
    styler = shown.style.format({name: (lambda v, d=d: format_number(v, d))
                                 for name, d in per_column.items()})
    styler = styler.format_index(lambda v: format_number(v) if isinstance(v, Real) else str(v))
    styler = styler.set_table_styles(CELL_STYLE)
    if not index:
        styler = styler.hide(axis="index")
    if caption is not None:
        if not isinstance(caption, str):
            raise TypeError(f"caption must be a string, got {_validate.describe(caption)}")
        styler = styler.set_caption(caption)
    return styler
