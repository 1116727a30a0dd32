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

__all__ = [
    "finest_covering_scale",
    "image_grid",
    "plot_box_cover",
    "plot_dsi",
    "plot_local_slopes",
    "plot_loglog",
    "plot_null_comparison",
    "plot_segmentation",
    "plot_weights",
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


# --------------------------------------------------------------------------------------
# weights as images, box covers and log-log plots (chapters 01-03)


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
        A 2-D array or tensor (unfold a conv kernel first with
        :func:`fractalnb.transform.unfold_conv`).
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
    ValueError
        If ``w`` is not 2-D, is empty, has non-finite entries, or ``kind`` is unknown.

    Examples
    --------
    >>> ax = plot_weights(np.random.default_rng(0).normal(size=(8, 12)), kind="abs")
    >>> ax = plot_weights(np.random.default_rng(0).standard_t(2, size=(8, 12)), robust=True)
    """
    values = _as_numpy(w, "w").astype(np.float64)
    if values.ndim != 2:
        raise ValueError(f"w must be 2-D (unfold a conv kernel first), got shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError("w has NaN or infinite entries")
    if kind not in ("signed", "abs"):
        raise ValueError(f"kind must be 'signed' or 'abs', got {kind!r}")
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

    The boxes are those of :func:`fractalnb.transform.fractal_transform` (aligned at the
    origin, partial boxes kept). With nested scales (powers of one dilation factor) the
    covering at side ``r`` is the union of the points whose value is ``<= r``, so one image
    shows the covers of every scale at once. Points that no box of any listed scale puts
    in contact with :math:`A` get 0.

    Parameters
    ----------
    mask
        Boolean array or tensor of rank 1 to 4: the set :math:`A`.
    scales
        Box sides, strictly increasing integers ``>= 1``.

    Returns
    -------
    numpy.ndarray
        ``int64`` array of ``mask``'s shape.

    Raises
    ------
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
    from .transform import fractal_transform, upsample

    values = _as_numpy(mask, "mask")
    if values.dtype != bool:
        raise ValueError(f"mask must be boolean, got dtype {values.dtype}")
    sides = [int(s) for s in scales]
    if not sides or any(s < 1 for s in sides) or any(b <= a for a, b in zip(sides, sides[1:])):
        raise ValueError(f"scales must be strictly increasing integers >= 1, got {list(scales)}")
    result = np.zeros(values.shape, dtype=np.int64)
    for r in reversed(sides):  # coarse first, finer scales overwrite
        covered = upsample(fractal_transform(values, r, reduce="any"), r, values.shape,
                           reduce="any")
        result[covered] = r
    return result


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
        Colour map for the scales (finest dark, coarsest light).
    title, xlabel, ylabel
        Labels.
    colorbar
        Add a colour bar with one tick per scale.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If ``mask`` is not a 2-D boolean array or the scales are invalid.

    Examples
    --------
    >>> a = np.zeros((16, 16), dtype=bool); a[3, 5] = a[12, 9] = True
    >>> ax = plot_segmentation(a, [1, 2, 4, 8])
    """
    from matplotlib.colors import BoundaryNorm, ListedColormap

    values = _as_numpy(mask, "mask")
    if values.ndim != 2:
        raise ValueError(f"mask must be 2-D, got shape {values.shape}")
    levels = finest_covering_scale(values, scales)
    sides = [int(s) for s in scales]
    colours = _scale_colours(sides, cmap)
    if sides[0] == 1:
        colours[0] = (0.0, 0.0, 0.0, 1.0)
    index = np.full(levels.shape, -1, dtype=np.int64)
    for k, r in enumerate(sides):
        index[levels == r] = k
    image = np.ma.masked_less(index, 0)
    listed = ListedColormap(colours).with_extremes(bad=(1.0, 1.0, 1.0, 0.0))
    norm = BoundaryNorm(np.arange(len(sides) + 1) - 0.5, len(sides))
    ax = _axes(ax)
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
    (:func:`fractalnb.boxcount.box_counts`).

    Parameters
    ----------
    mask
        Boolean 2-D array or tensor.
    r
        Box side, an integer ``>= 1``.
    ax
        Axes to draw on; a new figure when ``None``.
    color
        Colour of the occupied boxes.
    title, xlabel, ylabel
        Labels.
    grid
        Draw the box boundaries; by default when there are at most 64 boxes per axis.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> a = np.eye(16, dtype=bool)
    >>> ax = plot_box_cover(a, 4)
    """
    from matplotlib.colors import to_rgba

    from .transform import fractal_transform, upsample

    values = _as_numpy(mask, "mask")
    if values.ndim != 2 or values.dtype != bool:
        raise ValueError(f"mask must be a 2-D boolean array, got {values.dtype} {values.shape}")
    covered = upsample(fractal_transform(values, r, reduce="any"), r, values.shape, reduce="any")
    rgba = np.ones(values.shape + (4,))
    rgba[covered] = to_rgba(color, alpha=1.0)
    rgba[covered, :3] = 0.55 * rgba[covered, :3] + 0.45  # a light tint of the colour
    rgba[values] = (0.0, 0.0, 0.0, 1.0)
    ax = _axes(ax)
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


def plot_loglog(
    fits: object,
    *,
    ax: plt.Axes | None = None,
    truth: object = None,
    show_fit: bool = True,
) -> plt.Axes:
    r"""Plot :math:`N(r)` against :math:`1/r` on log-log axes, with each fitted line.

    The fitted scales are filled markers, the scales left out of the fit hollow; the
    line is :math:`N = e^{c} (1/r)^{D}` over the fit range.

    Parameters
    ----------
    fits
        One :class:`fractalnb.boxcount.BoxDimension` or a mapping label → result.
    ax
        Axes to draw on; a new figure when ``None``.
    truth
        Optional true dimension (a float, or a mapping label → float) added to the legend.
    show_fit
        Draw the fitted lines.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from fractalnb import box_dimension, fractals
    >>> ax = plot_loglog({"triangle": box_dimension(fractals.sierpinski_triangle(6).mask)})
    """
    from collections.abc import Mapping

    if hasattr(fits, "counts"):
        fits = {"": fits}
    if not isinstance(fits, Mapping) or not fits:
        raise ValueError("fits must be a BoxDimension or a non-empty mapping label -> BoxDimension")
    ax = _axes(ax)
    colours = sns.color_palette("colorblind", len(fits))
    for colour, (label, fit) in zip(colours, fits.items()):
        if not hasattr(fit, "counts"):
            raise ValueError(f"fits[{label!r}] is not a BoxDimension")
        inv_r = 1.0 / np.asarray(fit.scales, dtype=np.float64)
        counts = np.asarray(fit.counts, dtype=np.float64)
        inside = fit.fit_mask & (counts > 0)
        outside = ~fit.fit_mask & (counts > 0)
        true_d = truth.get(label) if isinstance(truth, Mapping) else truth
        text = f"{label}: " if label else ""
        text += f"D = {fit.dimension:.3f}"
        if true_d is not None:
            text += f" (true {float(true_d):.3f})"
        ax.plot(inv_r[inside], counts[inside], "o", color=colour, label=text)
        ax.plot(inv_r[outside], counts[outside], "o", mfc="none", color=colour)
        if show_fit:
            x = inv_r[fit.fit_mask]
            ax.plot(x, np.exp(fit.intercept) * x**fit.dimension, "-", color=colour, lw=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("1 / r  (r: box side, in grid entries)")
    ax.set_ylabel("N(r)  (boxes)")
    ax.legend(fontsize="small")
    return ax


def plot_local_slopes(
    fits: object,
    *,
    ax: plt.Axes | None = None,
    truth: object = None,
) -> plt.Axes:
    r"""Plot the local slopes :math:`-\Delta\log N/\Delta\log r` against the scale.

    Each slope is drawn at the geometric mean of its two scales; the fitted :math:`D` is a
    dashed line over the fit range and the true dimension (if given) a dotted one. A
    straight log-log plot has flat local slopes.

    Parameters
    ----------
    fits
        One :class:`fractalnb.boxcount.BoxDimension` or a mapping label → result.
    ax
        Axes to draw on; a new figure when ``None``.
    truth
        Optional true dimension (a float, or a mapping label → float).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from fractalnb import box_dimension, fractals
    >>> ax = plot_local_slopes(box_dimension(fractals.sierpinski_carpet(4).mask), truth=1.89)
    """
    from collections.abc import Mapping

    if hasattr(fits, "counts"):
        fits = {"": fits}
    if not isinstance(fits, Mapping) or not fits:
        raise ValueError("fits must be a BoxDimension or a non-empty mapping label -> BoxDimension")
    ax = _axes(ax)
    colours = sns.color_palette("colorblind", len(fits))
    for colour, (label, fit) in zip(colours, fits.items()):
        r = np.asarray(fit.scales, dtype=np.float64)
        middle = np.sqrt(r[:-1] * r[1:])
        ax.plot(middle, fit.local_slopes, "o-", color=colour, label=label or None)
        lo, hi = fit.fit_range
        ax.hlines(fit.dimension, lo, hi, colors=[colour], linestyles="--", lw=1)
        true_d = truth.get(label) if isinstance(truth, Mapping) else truth
        if true_d is not None:
            ax.axhline(float(true_d), color=colour, ls=":", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("box side r (grid entries)")
    ax.set_ylabel("local slope  −Δlog N / Δlog r")
    if any(fits):
        ax.legend(fontsize="small")
    return ax


# --------------------------------------------------------------------------------------
# null models and discrete scale invariance (chapters 04-05)


def plot_null_comparison(
    null: object,
    observed: object,
    *,
    reference: object = None,
    ax: plt.Axes | None = None,
    value: str = "dimension",
    observed_label: str = "observed",
    reference_label: str = "reference",
) -> plt.Axes:
    r"""Draw the null-model samples of a statistic per rule, with the observed value marked.

    Each null sample is a dot (one colour per null model), the observed value a black
    diamond, an optional reference (e.g. the initial weights) a hollow square.

    Parameters
    ----------
    null
        A table with columns ``rule``, ``model`` and ``value``, as returned by
        :func:`fractalnb.null_models.null_dimensions`.
    observed
        Mapping rule → observed value.
    reference
        Optional mapping rule → a second value to mark.
    ax
        Axes to draw on; a new figure when ``None``.
    value
        The column of ``null`` to plot.
    observed_label, reference_label
        Legend entries of the two markers.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If ``null`` lacks the columns, or ``observed`` names a rule not in ``null``.

    Examples
    --------
    >>> import pandas as pd
    >>> null = pd.DataFrame({"rule": ["a", "a", "b", "b"], "model": ["shuffled"] * 4,
    ...                      "dimension": [1.0, 1.1, 1.5, 1.6]})
    >>> ax = plot_null_comparison(null, {"a": 0.9, "b": 1.55})
    """
    from collections.abc import Mapping

    import pandas as pd

    if not isinstance(null, pd.DataFrame) or not {"rule", "model", value} <= set(null.columns):
        raise ValueError(f"null must be a DataFrame with columns 'rule', 'model', {value!r}")
    if not isinstance(observed, Mapping) or not observed:
        raise ValueError("observed must be a non-empty mapping rule -> value")
    rules = list(dict.fromkeys(null["rule"]))
    missing = [r for r in observed if r not in rules]
    if missing:
        raise ValueError(f"observed names rules without null samples: {missing}")
    ax = _axes(ax)
    sns.stripplot(data=null, x="rule", y=value, hue="model", order=rules, dodge=True,
                  jitter=0.15, size=4, alpha=0.7, ax=ax)
    position = {rule: k for k, rule in enumerate(rules)}
    xs = [position[r] for r in observed]
    ax.scatter(xs, [float(v) for v in observed.values()], marker="D", s=60, color="black",
               zorder=5, label=observed_label)
    if reference is not None:
        if not isinstance(reference, Mapping):
            raise ValueError("reference must be a mapping rule -> value")
        known = [r for r in reference if r in position]
        ax.scatter([position[r] for r in known], [float(reference[r]) for r in known],
                   marker="s", s=60, facecolors="none", edgecolors="black", zorder=5,
                   label=reference_label)
    ax.set_xlabel("occupancy rule")
    ax.set_ylabel(value.replace("_", " "))
    ax.legend(fontsize="small")
    return ax


def plot_dsi(result: object, *, axes: Sequence[plt.Axes] | None = None) -> np.ndarray:
    r"""Draw a discrete-scale-invariance test in three panels.

    1. :math:`N(r)` against :math:`1/r` on log-log axes: the scales :math:`\lambda^k`
       (filled), the dense scales between them (small dots) and the line through the
       :math:`\lambda^k`;
    2. the ratio test: :math:`\rho_k = N(\lambda^k)/N(\lambda^{k+1})` against :math:`k`,
       with :math:`\lambda^D` dashed (constant ratios lie on it);
    3. the log-periodic residual :math:`e(r)` against the phase
       :math:`\log_\lambda r \bmod 1`, with the fitted Fourier series.

    Parameters
    ----------
    result
        A :class:`fractalnb.dsi.DSIResult`.
    axes
        Three axes to draw on; a new figure when ``None``.

    Returns
    -------
    numpy.ndarray
        The three axes.

    Raises
    ------
    ValueError
        If ``result`` is not a DSI result or ``axes`` does not hold three axes.

    Examples
    --------
    >>> from fractalnb import fractals
    >>> from fractalnb.dsi import dsi_test
    >>> axes = plot_dsi(dsi_test(fractals.cantor_set(7).mask, dilation=3))
    """
    needed = ("dilation", "scales", "counts", "ratios", "dimension", "dense_scales",
              "dense_counts", "residuals", "phase", "periodic_fit")
    if not all(hasattr(result, name) for name in needed):
        raise ValueError("result must be a fractalnb.dsi.DSIResult")
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    axes = np.asarray(axes, dtype=object).ravel()
    if axes.size != 3:
        raise ValueError(f"axes must hold three axes, got {axes.size}")
    lam = int(result.dilation)
    scales = np.asarray(result.scales, dtype=np.float64)
    counts = np.asarray(result.counts, dtype=np.float64)
    dense = np.asarray(result.dense_scales, dtype=np.float64)
    dense_counts = np.asarray(result.dense_counts, dtype=np.float64)
    colour, other = sns.color_palette("colorblind", 2)

    ax = axes[0]
    ax.plot(1.0 / dense, dense_counts, ".", color=other, ms=4, label="other integer r")
    ax.plot(1.0 / scales, counts, "o", color=colour, label=f"r = {lam}^k")
    slope = float(result.dimension)
    intercept = float(np.mean(np.log(counts) - slope * np.log(1.0 / scales)))
    x = np.geomspace(1.0 / dense.max(), 1.0 / dense.min(), 50)
    ax.plot(x, np.exp(intercept) * x**slope, "-", color=colour, lw=1,
            label=f"line through {lam}^k: D = {slope:.3f}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    from matplotlib.ticker import NullFormatter

    ax.xaxis.set_minor_formatter(NullFormatter())  # short ranges: no crowded minor labels
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("1 / r  (r: box side, in grid entries)")
    ax.set_ylabel("N(r)  (boxes)")
    ax.legend(fontsize="small")

    ax = axes[1]
    k = np.arange(len(result.ratios))
    ax.plot(k, result.ratios, "o-", color=colour)
    ax.axhline(lam**slope, color="0.4", ls="--", lw=1, label=f"{lam}^D = {lam**slope:.3f}")
    ax.set_xlabel(f"k  (ratio of N({lam}^k) to N({lam}^(k+1)))")
    ax.set_ylabel("ratio ρ_k")
    ax.set_xticks(k)
    ax.set_xticklabels([str(int(np.round(np.log(s) / np.log(lam)))) for s in scales[:-1]])
    ax.legend(fontsize="small")

    ax = axes[2]
    phase = np.asarray(result.phase, dtype=np.float64)
    ax.plot(phase, result.residuals, ".", color=other, ms=5, label="e(r)")
    fitted = np.asarray(result.periodic_fit, dtype=np.float64)
    if np.all(np.isfinite(fitted)):
        order = np.argsort(phase)
        ax.plot(phase[order], fitted[order], "-", color=colour, lw=1.2,
                label="Fourier fit in phase")
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set_xlabel(f"phase  log_{lam} r mod 1")
    ax.set_ylabel("residual e(r) = log N − line  (log units)")
    ax.legend(fontsize="small")
    return axes
