"""The book's figure style and the checks every figure helper shares."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import seaborn as sns

from .. import _validate

__all__ = [
    "set_style",
]


def set_style() -> None:
    """Set the book's plotting style (seaborn ``ticks``, colour-blind palette, readable sizes).

    Examples
    --------
    >>> from fractalnb.plotting import set_style
    >>> set_style()
    """
    sns.set_theme(context="notebook", style="ticks", palette="colorblind")
    plt.rcParams.update({
        "figure.dpi": 100,
        "savefig.dpi": 150,
        "figure.figsize": (6.4, 4.0),
        "axes.titlesize": "medium",
        "image.cmap": "viridis",
    })


def _axes(ax: object, name: str = "ax", figsize: tuple[float, float] | None = None) -> plt.Axes:
    """Return ``ax`` if it is a matplotlib Axes, new axes when ``None``; else ``TypeError``."""
    if ax is None:
        return plt.subplots(figsize=figsize)[1]
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
