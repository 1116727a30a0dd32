"""Figures of training runs and trained networks: histories, dimension by depth and over epochs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from .. import _validate
from ..training.analysis import weight_layers
from .style import _axes, _names, _text, figure_size

__all__ = [
    "plot_history",
    "plot_dimension_by_depth",
    "plot_dimension_over_epochs",
]

_DIMENSION_COLUMNS = ("name", "layer_depth", "dimension", "ci_low", "ci_high")


def _weight_rows(table: object) -> pd.DataFrame:
    """Return the conv/linear weight rows of an analysis table (checked for the columns)."""
    rows = weight_layers(_validate.dataframe(table, "table", ("kind", "role", *_DIMENSION_COLUMNS)))
    if rows.empty:
        raise ValueError("table has no conv/linear weight rows to plot")
    return rows


def plot_history(histories: Mapping[str, pd.DataFrame], *, title: str | None = None
                 ) -> plt.Figure:
    """Plot learning curves: loss and accuracy against epoch, one colour per run.

    Parameters
    ----------
    histories
        Non-empty mapping label → history returned by :func:`~fractalnb.training.train_model` (or
        ``TrainedModel.history``). NaN entries (epoch 0 has no training loss) are drawn as
        gaps.
    title
        Figure title (a string), or ``None``.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels: cross-entropy (training solid, test dashed) and accuracy (same), with
        chance level (10%) marked.

    Examples
    --------
    >>> h = pd.DataFrame({"epoch": [0, 1], "train_loss": [float("nan"), 1.0],
    ...                   "test_loss": [2.3, 1.2], "train_acc": [float("nan"), 0.5],
    ...                   "test_acc": [0.1, 0.45]})
    >>> fig = plot_history({"net": h})
    """
    if not isinstance(histories, Mapping):
        raise TypeError("histories must be a mapping label -> history DataFrame, got "
                        f"{_validate.describe(histories)}")
    if not histories:
        raise ValueError("histories must be a non-empty mapping label -> history DataFrame")
    needed = ("epoch", "train_loss", "test_loss", "train_acc", "test_acc")
    for label, history in histories.items():
        _validate.dataframe(history, f"histories[{label!r}]", needed)
    title = _text(title, "title", optional=True)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=figure_size(0.45),
                                         layout="constrained")
    for k, (label, history) in enumerate(histories.items()):
        colour = f"C{k}"
        ax_loss.plot(history["epoch"], history["train_loss"], color=colour, label=f"{label} train")
        ax_loss.plot(history["epoch"], history["test_loss"], color=colour, ls="--",
                     label=f"{label} test")
        ax_acc.plot(history["epoch"], 100 * history["train_acc"], color=colour)
        ax_acc.plot(history["epoch"], 100 * history["test_acc"], color=colour, ls="--")
    ax_acc.axhline(10.0, color="0.5", lw=0.8, ls=":", label="chance")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("cross-entropy (nats)")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy (%)")
    ax_loss.legend(fontsize="small", ncols=2)
    ax_acc.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    return fig


def plot_dimension_by_depth(
    table: pd.DataFrame,
    *,
    hue: str | None = None,
    ax: plt.Axes | None = None,
    band: pd.DataFrame | None = None,
    title: str | None = None,
) -> plt.Axes:
    """Plot the dimension of each conv/linear weight against its depth, with its CI.

    Parameters
    ----------
    table
        A result of :func:`~fractalnb.training.analyze` or :func:`~fractalnb.training.compare`
        (only conv/linear weights are drawn;
        rows with a NaN dimension are left out).
    hue
        Column separating several series (e.g. ``"model"`` or ``"state"``); one series
        when ``None``.
    ax
        Axes to draw on; a new figure when ``None``.
    band
        Optional table with columns ``layer_depth``, ``low``, ``high``: drawn as a grey
        band (e.g. the spread of a null model; NaN entries are gaps).
    title
        Axes title.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from torch import nn
    >>> from fractalnb.training import analyze
    >>> ax = plot_dimension_by_depth(analyze(nn.Sequential(nn.Linear(64, 64), nn.Linear(64, 8))))
    >>> ax.get_xlabel()
    'depth (conv/linear layer index)'
    """
    rows = _weight_rows(table)
    hue = _text(hue, "hue", optional=True)
    if hue is not None and hue not in rows.columns:
        raise ValueError(f"hue {hue!r} is not a column of table")
    if band is not None:
        _validate.dataframe(band, "band", ("layer_depth", "low", "high"))
    title = _text(title, "title", optional=True)
    ax = _axes(ax, figsize=figure_size())
    if band is not None:
        ax.fill_between(band["layer_depth"], band["low"], band["high"], color="0.8",
                        label="null spread", zorder=0)
    groups = [(None, rows)] if hue is None else list(rows.groupby(hue, sort=False))
    for label, group in groups:
        ok = group.dropna(subset=["dimension"])
        err = np.vstack([ok["dimension"] - ok["ci_low"], ok["ci_high"] - ok["dimension"]])
        ax.errorbar(ok["layer_depth"], ok["dimension"], yerr=err, marker="o", ms=4,
                    capsize=2, lw=1.2, label=None if label is None else str(label))
    ax.set_xlabel("depth (conv/linear layer index)")
    ax.set_ylabel("box-counting dimension D")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if hue is not None or band is not None:
        ax.legend(fontsize="small", title=hue, loc="lower left")
    if title:
        ax.set_title(title)
    return ax


def plot_dimension_over_epochs(
    table: pd.DataFrame,
    *,
    layers: Sequence[str] | None = None,
    key: str = "epoch",
    ax: plt.Axes | None = None,
    title: str | None = None,
) -> plt.Axes:
    """Plot D of chosen conv/linear weights against the training epoch, with CI bands.

    Parameters
    ----------
    table
        A result of :func:`~fractalnb.training.compare` over checkpoints, labelled by ``key`` (NaN
        dimensions
        are drawn as gaps).
    layers
        Names of the tensors to draw (strings); every conv/linear weight when ``None``.
    key
        The epoch column.
    ax
        Axes to draw on; a new figure when ``None``.
    title
        Axes title.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from torch import nn
    >>> from fractalnb.training import compare
    >>> nets = {0: nn.Linear(64, 64), 1: nn.Linear(64, 64)}
    >>> ax = plot_dimension_over_epochs(compare(nets, key="epoch"))
    """
    key = _text(key, "key")
    if key not in _validate.dataframe(table, "table", ()).columns:
        raise ValueError(f"table has no column {key!r}: pass compare(..., key={key!r})")
    rows = _weight_rows(table)
    if layers is None:
        names = list(dict.fromkeys(rows["name"]))
    else:
        names = _names(layers, "layers")
    unknown = sorted(set(names) - set(rows["name"]))
    if unknown:
        raise ValueError(f"layers {unknown} are not conv/linear weights of the table")
    title = _text(title, "title", optional=True)
    ax = _axes(ax, figsize=figure_size())
    for name in names:
        one = rows[rows["name"] == name].sort_values(key)
        line = ax.plot(one[key], one["dimension"], marker="o", ms=3, label=name)[0]
        ax.fill_between(one[key], one["ci_low"], one["ci_high"], color=line.get_color(),
                        alpha=0.15, lw=0)
    ax.set_xlabel(key)
    ax.set_ylabel("box-counting dimension D")
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return ax
