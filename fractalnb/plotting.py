"""The book's figure helpers. The seaborn style is set once, by :func:`set_style`.

Examples
--------
>>> from fractalnb import plotting
>>> plotting.set_style()
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

__all__ = ["image_grid", "set_style"]


def set_style() -> None:
    """Set the book's plotting style (seaborn ``ticks``, colour-blind palette, readable sizes)."""
    sns.set_theme(context="notebook", style="ticks", palette="colorblind")
    plt.rcParams.update({
        "figure.dpi": 100,
        "savefig.dpi": 150,
        "figure.figsize": (6.4, 4.0),
        "axes.titlesize": "medium",
        "image.cmap": "viridis",
    })


def image_grid(
    images: np.ndarray,
    labels: Sequence[int] | np.ndarray,
    classes: Sequence[str],
    *,
    ncols: int = 8,
    scale: float = 1.3,
    title: str | None = None,
) -> plt.Figure:
    """Show images in a grid, each titled with its class name.

    Parameters
    ----------
    images
        ``uint8`` array ``(n, h, w, 3)`` or floats in [0, 1].
    labels
        Integer label of each image.
    classes
        Class name for each label.
    ncols
        Images per row.
    scale
        Inches per image.
    title
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Examples
    --------
    >>> fig = image_grid(np.zeros((2, 4, 4, 3), np.uint8), [0, 1], ["a", "b"], ncols=2)
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(f"images must have shape (n, h, w, 3), got {images.shape}")
    if len(labels) != len(images):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1, got {ncols}")
    n = len(images)
    nrows = max(1, -(-n // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(scale * ncols, scale * nrows + 0.2),
                             squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k < n:
            ax.imshow(images[k])
            ax.set_title(classes[int(labels[k])], fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
