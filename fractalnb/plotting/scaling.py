"""Figures of scaling: log-log plots, local slopes, null comparisons, DSI."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from .style import _axes

__all__ = [
    "plot_loglog",
    "plot_local_slopes",
    "plot_null_comparison",
    "plot_dsi",
]


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
        One :class:`fractalnb.geometry.BoxDimension` or a mapping label → result.
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
        One :class:`fractalnb.geometry.BoxDimension` or a mapping label → result.
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
        :func:`fractalnb.geometry.null_dimensions`.
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
        A :class:`fractalnb.geometry.DSIResult`.
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
    >>> from fractalnb.geometry import dsi_test
    >>> axes = plot_dsi(dsi_test(fractals.cantor_set(7).mask, dilation=3))
    """
    needed = ("dilation", "scales", "counts", "ratios", "dimension", "dense_scales",
              "dense_counts", "residuals", "phase", "periodic_fit")
    if not all(hasattr(result, name) for name in needed):
        raise ValueError("result must be a fractalnb.geometry.DSIResult")
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
