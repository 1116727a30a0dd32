"""The book's figure style and the checks every figure helper shares."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import seaborn as sns

from .. import _validate

__all__ = [
    "FIGURE_WIDTH",
    "figure_size",
    "set_style",
]

FIGURE_WIDTH = 6.8
"""The width, in inches, of a figure that fills the book's content column.

At the style's 100 dpi such a figure is drawn 680 pixels wide, the width at which the page
shows it, so its text appears at the size it was drawn (10-11 pt, about 14 px) instead of
scaled down.
"""


def set_style() -> None:
    """Set the book's plotting style (seaborn ``ticks``, colour-blind palette, readable sizes).

    Examples
    --------
    >>> from fractalnb.plotting import set_style
    >>> set_style()
    """
    sns.set_theme(context="notebook", style="ticks", palette="colorblind")
    plt.rcParams.update({
        "figure.dpi": 100,  # the inline backend draws at this dpi: 1 inch = 100 px on the page
        "savefig.dpi": 150,
        "figure.figsize": figure_size(),
        "figure.constrained_layout.use": True,  # no clipped axis labels, no overlapping panels
        "axes.titlesize": "medium",
        "legend.fontsize": "small",
        "legend.title_fontsize": "small",
        "image.cmap": "viridis",
    })


def figure_size(aspect: float = 0.55, width: float = 1.0) -> tuple[float, float]:
    """Return a ``figsize`` drawn for the book's column: ``width`` of it, ``aspect`` tall.

    Parameters
    ----------
    aspect
        Height over width (default 0.55: a plot a little over half as tall as wide).
    width
        Fraction of the column's width, in ``(0, 1]``: a figure wider than the column is
        shrunk on the page, and its text with it.

    Returns
    -------
    tuple of float
        ``(width, height)`` in inches, for ``plt.subplots(figsize=...)``.

    Raises
    ------
    ValueError
        ``aspect`` not positive, or ``width`` outside ``(0, 1]``.

    Examples
    --------
    >>> from fractalnb.plotting import figure_size
    >>> figure_size()
    (6.8, 3.74)
    >>> figure_size(aspect=1.0, width=0.5)
    (3.4, 3.4)
    """
    aspect = _validate.real(aspect, "aspect", 0.0, open_min=True)
    width = _validate.real(width, "width (a fraction of the column)", 0.0, 1.0, open_min=True)
    inches = round(FIGURE_WIDTH * width, 3)
    return inches, round(inches * aspect, 3)


def _axes(ax: object, name: str = "ax", figsize: tuple[float, float] | None = None) -> plt.Axes:
    """Return ``ax`` if it is a matplotlib Axes, new axes when ``None``; else ``TypeError``."""
    if ax is None:
        return plt.subplots(figsize=figsize, layout="constrained")[1]
    if not isinstance(ax, plt.Axes):
        raise TypeError(f"{name} must be a matplotlib Axes or None, got {_validate.describe(ax)}")
    return ax


def _text(value: object, name: str, *, optional: bool = False) -> str | None:
    """Return a label: a string (or ``None`` where ``optional``); else ``TypeError``."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        kind = "a string or None" if optional else "a string"
        raise TypeError(f"{name} must be {kind}, got {_validate.describe(value)}")
    return value


def _names(value: object, name: str) -> list[str]:
    """Check a non-empty sequence of strings (class or tensor names); return it as a list."""
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TypeError(f"{name} must be a sequence of strings, got {_validate.describe(value)}")
    wrong = [v for v in value if not isinstance(v, str)]
    if wrong:
        raise TypeError(f"{name} must hold strings, got {_validate.describe(wrong[0])}")
    if not value:
        raise ValueError(f"{name} is empty")
    return list(value)
