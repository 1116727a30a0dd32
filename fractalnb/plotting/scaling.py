"""Figures of scaling: log-log plots, local slopes, null comparisons, DSI."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.layout_engine import ConstrainedLayoutEngine

from .. import _validate
from .style import _axes, _text, figure_size

__all__ = [
    "plot_loglog",
    "plot_local_slopes",
    "plot_null_comparison",
    "plot_dsi",
]

_FIT_FIELDS = ("scales", "counts", "fit_mask", "fit_range", "dimension", "intercept",
               "local_slopes")
_DSI_FIELDS = ("dilation", "scales", "counts", "ratios", "dimension", "dense_scales",
               "dense_counts", "residuals", "phase", "periodic_fit")



def _fitted_sides(fit: object) -> object:
    """Return the box sides a fit regressed on: its mean sides where set, else its scales."""
    sides = getattr(fit, "sides", None)
    return fit.scales if sides is None else sides

def _fits(fits: object) -> dict:
    """Check one box-dimension result or a non-empty mapping label -> result; a dict."""
    if not isinstance(fits, Mapping):
        if not all(hasattr(fits, field) for field in _FIT_FIELDS):
            raise TypeError("fits must be a BoxDimension or a non-empty mapping label -> "
                            f"BoxDimension, got {_validate.describe(fits)}")
        fits = {"": fits}
    if not fits:
        raise ValueError("fits must be a BoxDimension or a non-empty mapping label -> "
                         "BoxDimension, got an empty mapping")
    for label, fit in fits.items():
        if not isinstance(label, str):
            raise TypeError(f"fits must be labelled by strings, got {_validate.describe(label)}")
        if not all(hasattr(fit, field) for field in _FIT_FIELDS):
            raise TypeError(f"fits[{label!r}] is not a BoxDimension: got "
                            f"{_validate.describe(fit)}")
    return dict(fits)


def _truth(truth: object, labels: Sequence[str]) -> dict:
    """Check the true dimensions: None, a finite real, or a mapping label -> finite real."""
    if truth is None:
        return {}
    if isinstance(truth, Mapping):  # labels fits lacks are ignored, their values checked
        return {label: _validate.real(value, f"truth[{label!r}]")
                for label, value in truth.items()}
    value = _validate.real(truth, "truth")
    return dict.fromkeys(labels, value)


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
        One :class:`fractalnb.geometry.BoxDimension` or a non-empty mapping label (a string)
        → result. Scales with :math:`N(r) = 0` are left out; a NaN dimension (a failed fit)
        is drawn without its line.
    ax
        Axes to draw on; a new figure when ``None``.
    truth
        Optional true dimension (a finite float, or a mapping label → finite float; labels
        ``fits`` lacks are ignored) added to the legend.
    show_fit
        Draw the fitted lines (a boolean).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    TypeError
        If ``fits`` holds no box-dimension results, ``ax`` is not an Axes or ``truth`` is
        not a number.
    ValueError
        If ``fits`` is empty or ``truth`` is not finite.

    Examples
    --------
    >>> from fractalnb.geometry import box_dimension, fractals
    >>> ax = plot_loglog({"triangle": box_dimension(fractals.sierpinski_triangle(6).mask)})
    """
    fits = _fits(fits)
    truths = _truth(truth, list(fits))
    show_fit = _validate.boolean(show_fit, "show_fit")
    ax = _axes(ax)
    colours = sns.color_palette("colorblind", len(fits))
    for colour, (label, fit) in zip(colours, fits.items()):
        # where a scale does not tile the grid the fit uses the mean box side: plot at it
        inv_r = 1.0 / np.asarray(_fitted_sides(fit), dtype=np.float64)
        counts = np.asarray(fit.counts, dtype=np.float64)
        inside = fit.fit_mask & (counts > 0)
        outside = ~fit.fit_mask & (counts > 0)
        true_d = truths.get(label)
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
        One :class:`fractalnb.geometry.BoxDimension` or a non-empty mapping label (a string)
        → result. NaN local slopes (at scales with :math:`N(r) = 0`) are drawn as gaps.
    ax
        Axes to draw on; a new figure when ``None``.
    truth
        Optional true dimension (a finite float, or a mapping label → finite float; labels
        ``fits`` lacks are ignored).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from fractalnb.geometry import box_dimension, fractals
    >>> ax = plot_local_slopes(box_dimension(fractals.sierpinski_carpet(4).mask), truth=1.89)
    """
    fits = _fits(fits)
    truths = _truth(truth, list(fits))
    ax = _axes(ax)
    colours = sns.color_palette("colorblind", len(fits))
    for colour, (label, fit) in zip(colours, fits.items()):
        r = np.asarray(_fitted_sides(fit), dtype=np.float64)
        middle = np.sqrt(r[:-1] * r[1:])
        ax.plot(middle, fit.local_slopes, "o-", color=colour, label=label or None)
        lo, hi = fit.fit_range
        ax.hlines(fit.dimension, lo, hi, colors=[colour], linestyles="--", lw=1)
        true_d = truths.get(label)
        if true_d is not None:
            ax.axhline(float(true_d), color=colour, ls=":", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("box side r (grid entries)")
    ax.set_ylabel("local slope  −Δlog N / Δlog r")
    if any(fits):
        ax.legend(fontsize="small")
    return ax


def _marks(values: object, name: str, rules: Sequence[str]) -> dict:
    """Check a mapping rule -> finite value, every rule one with null samples."""
    if not isinstance(values, Mapping):
        raise TypeError(f"{name} must be a mapping rule -> value, got {_validate.describe(values)}")
    missing = [rule for rule in values if rule not in rules]
    if missing:
        raise ValueError(f"{name} names rules without null samples: {missing}")
    return {rule: _validate.real(v, f"{name}[{rule!r}]") for rule, v in values.items()}


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
        :func:`fractalnb.geometry.null_dimensions`; NaN samples (failed fits) are left out.
    observed
        Non-empty mapping rule → observed value (finite), rules of ``null`` only.
    reference
        Optional mapping rule → a second value to mark (finite), rules of ``null`` only.
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
    TypeError
        If ``null`` is not a DataFrame, ``observed`` or ``reference`` not a mapping, or a
        label not a string.
    ValueError
        If ``null`` lacks the columns or is empty, or ``observed`` or ``reference`` names a
        rule not in ``null`` or holds a value that is not finite.

    Examples
    --------
    >>> import pandas as pd
    >>> null = pd.DataFrame({"rule": ["a", "a", "b", "b"], "model": ["shuffled"] * 4,
    ...                      "dimension": [1.0, 1.1, 1.5, 1.6]})
    >>> ax = plot_null_comparison(null, {"a": 0.9, "b": 1.55})
    """
    import pandas as pd

    if not isinstance(null, pd.DataFrame):
        raise TypeError(f"null must be a pandas DataFrame, got {_validate.describe(null)}")
    value = _text(value, "value")
    if not {"rule", "model"} <= set(null.columns):
        raise ValueError(f"null must be a DataFrame with columns 'rule', 'model', {value!r}, "
                         f"got {list(null.columns)}")
    if value not in null.columns:
        raise ValueError(f"value={value!r} is not a column of null ({list(null.columns)})")
    if null.empty:
        raise ValueError("null is empty: no null samples to draw")
    rules = list(dict.fromkeys(null["rule"]))
    observed = _marks(observed, "observed", rules)
    if not observed:
        raise ValueError("observed must be a non-empty mapping rule -> value")
    reference = None if reference is None else _marks(reference, "reference", rules)
    observed_label = _text(observed_label, "observed_label")
    reference_label = _text(reference_label, "reference_label")
    ax = _axes(ax)
    sns.stripplot(data=null, x="rule", y=value, hue="model", order=rules, dodge=True,
                  jitter=0.15, size=4, alpha=0.7, ax=ax)
    position = {rule: k for k, rule in enumerate(rules)}
    xs = [position[r] for r in observed]
    ax.scatter(xs, [float(v) for v in observed.values()], marker="D", s=60, color="black",
               zorder=5, label=observed_label)
    if reference is not None:
        known = list(reference)
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

    The three panels share one legend, drawn under them (outside the data): below the
    figure when it has constrained layout (as :func:`plt.subplots` gives after
    :func:`set_style`, and the figure made here), else just under the middle panel. At most
    seven values of :math:`k` are labelled.

    Parameters
    ----------
    result
        A :class:`fractalnb.geometry.DSIResult`. NaN entries are drawn as gaps (a NaN
        Fourier fit, when there are too few phases, is not drawn).
    axes
        Three axes to draw on (a sequence or array of three Axes); a new figure when
        ``None``.

    Returns
    -------
    numpy.ndarray
        The three axes.

    Raises
    ------
    TypeError
        If ``result`` is not a DSI result or ``axes`` holds something other than Axes.
    ValueError
        If ``axes`` does not hold three axes.

    Examples
    --------
    >>> from fractalnb.geometry import fractals
    >>> from fractalnb.geometry import dsi_test
    >>> axes = plot_dsi(dsi_test(fractals.cantor_set(7).mask, dilation=3))
    """
    if not all(hasattr(result, name) for name in _DSI_FIELDS):
        raise TypeError(f"result must be a fractalnb.geometry.DSIResult, got "
                        f"{_validate.describe(result)}")
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=figure_size(0.4), layout="constrained")
    if not isinstance(axes, (np.ndarray, Sequence)) or isinstance(axes, str):
        raise TypeError(f"axes must be a sequence of three Axes, got {_validate.describe(axes)}")
    axes = np.asarray(axes, dtype=object).ravel()
    if axes.size != 3:
        raise ValueError(f"axes must hold three axes, got {axes.size}")
    for ax in axes:
        _axes(ax, "axes")
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

    ax = axes[1]
    k = np.arange(len(result.ratios))
    ax.plot(k, result.ratios, "o-", color=colour)
    ax.axhline(lam**slope, color="0.4", ls="--", lw=1, label=f"{lam}^D = {lam**slope:.3f}")
    ax.set_xlabel(f"k  (ratio of N({lam}^k) to N({lam}^(k+1)))")
    ax.set_ylabel("ratio ρ_k")
    step = -(-len(k) // 7) if len(k) else 1  # at most seven labelled values of k
    ax.set_xticks(k[::step])
    ax.set_xticklabels([str(int(np.round(np.log(s) / np.log(lam)))) for s in scales[:-1]][::step])

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
    _shared_legend(axes)
    return axes


def _shared_legend(axes: np.ndarray) -> None:
    """One legend for all the panels, under them: outside the figure's data."""
    handles, labels = [], []
    for ax in axes:
        found, texts = ax.get_legend_handles_labels()
        handles += found
        labels += texts
    fig = axes[0].figure
    if isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine):
        fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize="small")
    else:
        middle = axes[len(axes) // 2]
        middle.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.25),
                      ncols=3, fontsize="small")
