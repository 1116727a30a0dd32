"""Figures of weights as images: image grids, weight maps, box segmentations and coverings."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from .. import _validate
from .style import FIGURE_WIDTH, _axes, _names, _text

_MAX_IMAGES = 1024  # panels of one image grid


def _scales(scales: object, shape: tuple[int, ...], name: str = "scales") -> list[int]:
    """Check box sides for a grid of ``shape``: strictly increasing integers in [1, max(shape)]."""
    sides = _validate.sizes(scales, name)
    if sides[-1] > max(shape):
        raise ValueError(f"{name} must be <= {max(shape)} (the largest side of the grid "
                         f"{shape}), got {int(sides[-1])}")
    return [int(s) for s in sides]


__all__ = [
    "image_grid",
    "plot_weights",
    "finest_covering_scale",
    "plot_segmentation",
    "plot_box_cover",
]


def image_grid(
    images: np.ndarray,
    labels: Sequence[int] | np.ndarray,
    classes: Sequence[str],
    *,
    ncols: int = 8,
    scale: float | None = None,
    title: str | None = None,
) -> plt.Figure:
    """Show images in a grid, each titled with its class name.

    Parameters
    ----------
    images
        ``uint8`` array ``(n, h, w, 3)`` (or ``(n, h, w, 1)``), or floats in [0, 1]; finite,
        at most 1024 images.
    labels
        Integer label of each image, in ``range(len(classes))``.
    classes
        Class name (a string) for each label.
    ncols
        Images per row, an integer ``>= 1``.
    scale
        Inches per image, a real number ``> 0``; default: the book's column width
        (``FIGURE_WIDTH``) shared by the ``ncols`` images of a row.
    title
        Figure title (a string), or ``None``.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.

    Examples
    --------
    >>> fig = image_grid(np.zeros((2, 4, 4, 3), np.uint8), [0, 1], ["a", "b"], ncols=2)
    """
    values = _validate.real_array(images, "images", ndim=4)
    images = _validate.to_numpy(images)
    if images.shape[-1] not in (1, 3):
        raise ValueError(f"images must have shape (n, h, w, 3), got {images.shape}")
    _validate.budget(len(images), "images", _MAX_IMAGES, "images")
    if images.dtype.kind == "f" and (values.min() < 0 or values.max() > 1):
        raise ValueError(f"images of floats must lie in [0, 1], got [{values.min()}, "
                         f"{values.max()}]")
    if images.dtype.kind in "iu" and (values.min() < 0 or values.max() > 255):
        raise ValueError(f"images of integers must lie in [0, 255], got [{values.min()}, "
                         f"{values.max()}]")
    classes = _names(classes, "classes")
    labels = _validate.integer_array(labels, "labels", ndim=1)
    _validate.same_length(images, labels, "images and labels")
    if labels.min() < 0 or labels.max() >= len(classes):
        raise ValueError(f"labels must lie in [0, {len(classes)}) (one class name each), got "
                         f"[{labels.min()}, {labels.max()}]")
    ncols = _validate.integer(ncols, "ncols", minimum=1)
    scale = (FIGURE_WIDTH / ncols if scale is None
             else _validate.real(scale, "scale", minimum=0, open_min=True))
    title = _text(title, "title", optional=True)
    n = len(images)
    nrows = max(1, -(-n // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(scale * ncols, scale * nrows + 0.2),
                             squeeze=False, layout="constrained")
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k < n:
            ax.imshow(images[k])
            ax.set_title(classes[int(labels[k])], fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def plot_weights(
    w: object,
    *,
    ax: plt.Axes | None = None,
    kind: str = "signed",
    title: str | None = None,
    xlabel: str = "column index j",
    ylabel: str = "row index i",
    colorbar: bool = True,
    robust: bool = False,
    label: str | None = None,
) -> plt.Axes:
    r"""Draw a weight matrix as a heat map: :math:`W` (diverging colours) or :math:`|W|`.

    Parameters
    ----------
    w
        A 2-D real array or tensor (unfold a conv kernel first with
        :func:`fractalnb.geometry.unfold_conv`). NaN and infinite entries are refused, not
        drawn as gaps: the colour limits are read from the entries.
    ax
        Axes to draw on; a new figure when ``None``.
    kind
        ``"signed"``: :math:`W` with a diverging colour map centred at 0 and symmetric
        limits; ``"abs"``: :math:`|W|` with a sequential colour map from 0.
    title, xlabel, ylabel
        Labels (indices are in entries of the grid).
    colorbar
        Add a colour bar labelled with the quantity shown.
    robust
        Set the colour limit at the 99.5th percentile of :math:`|W|` instead of its
        maximum, so that a few large entries do not wash out the rest; larger entries are
        drawn in the end colour and the colour bar says so (an arrow). The data are not
        changed.
    label
        Colour-bar label; ``"W"`` or ``"|W|"`` by default.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    TypeError
        If ``w`` is not an array, ``ax`` not an Axes, a label not a string or a flag not a
        boolean.
    ValueError
        If ``w`` is not 2-D, is empty, has non-finite entries, or ``kind`` is unknown.

    Examples
    --------
    >>> ax = plot_weights(np.random.default_rng(0).normal(size=(8, 12)), kind="abs")
    >>> ax = plot_weights(np.random.default_rng(0).standard_t(2, size=(8, 12)), robust=True)
    """
    values = _validate.real_array(w, "w", ndim=2, allow_bool=True)
    kind = _validate.choice(kind, "kind", ("signed", "abs"))
    title = _text(title, "title", optional=True)
    xlabel = _text(xlabel, "xlabel")
    ylabel = _text(ylabel, "ylabel")
    colorbar = _validate.boolean(colorbar, "colorbar")
    robust = _validate.boolean(robust, "robust")
    label = _text(label, "label", optional=True)
    ax = _axes(ax)
    magnitudes = np.abs(values)
    limit = float(np.quantile(magnitudes, 0.995) if robust else magnitudes.max()) or 1.0
    saturated = bool(magnitudes.max() > limit)
    if kind == "signed":
        image = ax.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto",
                          interpolation="nearest")
        default_label, extend = "W", "both" if saturated else "neither"
    else:
        image = ax.imshow(magnitudes, cmap="magma", vmin=0.0, vmax=limit, aspect="auto",
                          interpolation="nearest")
        default_label, extend = "|W|", "max" if saturated else "neither"
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label=default_label if label is None else label,
                           fraction=0.046, pad=0.02, extend=extend)
    return ax


def finest_covering_scale(mask: object, scales: Sequence[int]) -> np.ndarray:
    r"""For each grid point, the finest box side ``r`` in ``scales`` whose box meets :math:`A`.

    The boxes are those of :func:`fractalnb.geometry.fractal_transform` (aligned at the
    origin, partial boxes kept). With nested scales (powers of one dilation factor) the
    covering at side ``r`` is the union of the points whose value is ``<= r``, so one image
    shows the covers of every scale at once. Points that no box of any listed scale puts
    in contact with :math:`A` get 0.

    Parameters
    ----------
    mask
        Boolean array or tensor of rank 1 to 4: the set :math:`A`.
    scales
        Box sides, strictly increasing integers from 1 to the largest side of the grid.

    Returns
    -------
    numpy.ndarray
        ``int64`` array of ``mask``'s shape.

    Raises
    ------
    TypeError
        If ``mask`` is not an array or tensor, or the scales are not integers.
    ValueError
        If ``mask`` is not boolean or the scales are not valid for its grid.

    Examples
    --------
    >>> a = np.zeros((4, 4), dtype=bool); a[0, 0] = True
    >>> finest_covering_scale(a, [1, 2, 4])
    array([[1, 2, 4, 4],
           [2, 2, 4, 4],
           [4, 4, 4, 4],
           [4, 4, 4, 4]])
    """
    from ..geometry.transform import fractal_transform, upsample

    values = _validate.boolean_array(mask, "mask", min_ndim=1, max_ndim=4)
    sides = _scales(scales, values.shape)
    result = np.zeros(values.shape, dtype=np.int64)
    for r in reversed(sides):  # coarse first, finer scales overwrite
        covered = upsample(fractal_transform(values, r, reduce="any"), r, values.shape,
                           reduce="any")
        result[covered] = r
    return result


def _colormap(cmap: object, name: str = "cmap") -> object:
    """Check a colour map: a registered name or a Colormap."""
    from matplotlib import colormaps
    from matplotlib.colors import Colormap

    if isinstance(cmap, Colormap):
        return cmap
    if not isinstance(cmap, str):
        raise TypeError(f"{name} must be a colour map name or a Colormap, got "
                        f"{_validate.describe(cmap)}")
    if cmap not in colormaps:
        raise ValueError(f"{name} must name a matplotlib colour map, got {cmap!r}")
    return cmap


def _scale_colours(scales: Sequence[int], cmap: str) -> list:
    palette = plt.get_cmap(cmap)
    n = len(scales)
    return [palette(0.15 + 0.75 * k / max(1, n - 1)) for k in range(n)]


def plot_segmentation(
    mask: object,
    scales: Sequence[int],
    *,
    ax: plt.Axes | None = None,
    cmap: str = "viridis",
    title: str | None = None,
    xlabel: str = "column index j",
    ylabel: str = "row index i",
    colorbar: bool = True,
) -> plt.Axes:
    r"""Draw the box-counting segmentation of a 2-D set: the boxes that meet :math:`A`, by scale.

    Each grid point is coloured by the finest box side ``r`` (among ``scales``) whose box
    containing it meets :math:`A` (:func:`finest_covering_scale`); the points of
    :math:`A` itself are black, points no box covers are white. For nested scales the
    boxes counted in :math:`N(r)` are exactly the region coloured ``r`` or finer.

    Parameters
    ----------
    mask
        Boolean 2-D array or tensor: the set :math:`A`.
    scales
        Box sides to show, strictly increasing (``1`` is drawn as :math:`A`).
    ax
        Axes to draw on; a new figure when ``None``.
    cmap
        Colour map for the scales (finest dark, coarsest light): a registered name or a
        :class:`matplotlib.colors.Colormap`.
    title, xlabel, ylabel
        Labels.
    colorbar
        Add a colour bar with one tick per scale.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    TypeError
        If an argument has the wrong type (``ax`` not an Axes, a label not a string ...).
    ValueError
        If ``mask`` is not a 2-D boolean array, the scales are invalid or ``cmap`` is not a
        known colour map.

    Examples
    --------
    >>> a = np.zeros((16, 16), dtype=bool); a[3, 5] = a[12, 9] = True
    >>> ax = plot_segmentation(a, [1, 2, 4, 8])
    """
    from matplotlib.colors import BoundaryNorm, ListedColormap

    values = _validate.boolean_array(mask, "mask", ndim=2)
    sides = _scales(scales, values.shape)
    cmap = _colormap(cmap)
    title = _text(title, "title", optional=True)
    xlabel = _text(xlabel, "xlabel")
    ylabel = _text(ylabel, "ylabel")
    colorbar = _validate.boolean(colorbar, "colorbar")
    ax = _axes(ax)
    levels = finest_covering_scale(values, sides)
    colours = _scale_colours(sides, cmap)
    if sides[0] == 1:
        colours[0] = (0.0, 0.0, 0.0, 1.0)
    index = np.full(levels.shape, -1, dtype=np.int64)
    for k, r in enumerate(sides):
        index[levels == r] = k
    image = np.ma.masked_less(index, 0)
    listed = ListedColormap(colours).with_extremes(bad=(1.0, 1.0, 1.0, 0.0))
    norm = BoundaryNorm(np.arange(len(sides) + 1) - 0.5, len(sides))
    ax.set_facecolor("white")
    shown = ax.imshow(image, cmap=listed, norm=norm, aspect="auto", interpolation="nearest")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if colorbar:
        bar = ax.figure.colorbar(shown, ax=ax, ticks=np.arange(len(sides)), fraction=0.046,
                                 pad=0.02)
        bar.ax.set_yticklabels([str(r) for r in sides])
        bar.set_label("finest box side r meeting A")
    return ax


def plot_box_cover(
    mask: object,
    r: int,
    *,
    ax: plt.Axes | None = None,
    color: object = "tab:orange",
    title: str | None = None,
    xlabel: str = "column index j",
    ylabel: str = "row index i",
    grid: bool | None = None,
) -> plt.Axes:
    r"""Draw a 2-D set :math:`A` (black) and the boxes of side ``r`` that meet it (coloured).

    The number of coloured boxes is :math:`N(r)` in occupied mode
    (:func:`fractalnb.geometry.box_counts`).

    Parameters
    ----------
    mask
        Boolean 2-D array or tensor.
    r
        Box side, an integer from 1 to the largest side of ``mask``.
    ax
        Axes to draw on; a new figure when ``None``.
    color
        Colour of the occupied boxes.
    title, xlabel, ylabel
        Labels.
    grid
        Draw the box boundaries (a boolean); by default when there are at most 64 boxes per
        axis.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> a = np.eye(16, dtype=bool)
    >>> ax = plot_box_cover(a, 4)
    """
    from matplotlib.colors import is_color_like, to_rgba

    from ..geometry.transform import fractal_transform, upsample

    values = _validate.boolean_array(mask, "mask", ndim=2)
    r = _validate.integer(r, "r", minimum=1, maximum=max(values.shape))
    if not is_color_like(color):
        raise ValueError(f"color must be a matplotlib colour, got {_validate.describe(color)}")
    title = _text(title, "title", optional=True)
    xlabel = _text(xlabel, "xlabel")
    ylabel = _text(ylabel, "ylabel")
    if grid is not None:
        grid = _validate.boolean(grid, "grid")
    ax = _axes(ax)
    covered = upsample(fractal_transform(values, r, reduce="any"), r, values.shape, reduce="any")
    rgba = np.ones(values.shape + (4,))
    rgba[covered] = to_rgba(color, alpha=1.0)
    rgba[covered, :3] = 0.55 * rgba[covered, :3] + 0.45  # a light tint of the colour
    rgba[values] = (0.0, 0.0, 0.0, 1.0)
    ax.imshow(rgba, aspect="auto", interpolation="nearest")
    rows, cols = values.shape
    if grid is None:
        grid = max(rows, cols) / r <= 64
    if grid and r > 1:
        for y in np.arange(r, rows, r):
            ax.axhline(y - 0.5, color="0.6", lw=0.4)
        for x in np.arange(r, cols, r):
            ax.axvline(x - 0.5, color="0.6", lw=0.4)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return ax
