"""The book's figure style and the helpers every figure shares."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

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


def _as_numpy(x: object, name: str) -> np.ndarray:
    """Return ``x`` (a numpy array or a torch tensor, on any device) as a numpy array."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()  # type: ignore[union-attr]
    array = np.asarray(x)
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape})")
    return array


def _axes(ax: plt.Axes | None) -> plt.Axes:
    return plt.subplots()[1] if ax is None else ax
