"""Monte Carlo experiments on random networks, compared with the theory."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .. import _validate
from .._progress import progress_bar
from .activations import Activation, activation
from .sampling import _family, sample_networks
from .sphere import SphereGrid, boundary_length

__all__ = [
    "mean_ci",
    "boundary_lengths",
    "network_fields",
    "excursion_dimensions",
    "field_dimensions",
    "level_set_calibration",
    "compare_with_theory",
]


def mean_ci(values, confidence: float = 0.95) -> dict[str, float]:
    """Mean with a Student-t confidence interval (independent samples).

    Parameters
    ----------
    values
        At least 2 finite samples (1-D numpy, torch or a sequence).
    confidence
        Level of the interval, in (0, 1).

    Returns
    -------
    dict
        ``mean, stderr, ci_low, ci_high, n``.

    Examples
    --------
    >>> r = mean_ci([1.0, 2.0, 3.0])
    >>> r["mean"], round(r["ci_low"], 3), round(r["ci_high"], 3)
    (2.0, -0.484, 4.484)
    """
    v = _validate.real_array(values, "values", ndim=1)
    if v.size < 2:
        raise ValueError(f"values must hold at least 2 samples, got {v.size}")
    confidence = _validate.real(confidence, "confidence", 0, 1, open_min=True, open_max=True)
    from scipy import stats

    m, se = float(v.mean()), float(v.std(ddof=1) / math.sqrt(v.size))
    half = float(stats.t.ppf(0.5 + confidence / 2, v.size - 1)) * se
    return {"mean": m, "stderr": se, "ci_low": m - half, "ci_high": m + half, "n": int(v.size)}


def boundary_lengths(spec, depth: int, width: int, n_networks: int, grid, *,
                     level: float = 0.0, seed: int = 0, batch: int = 4,
                     device: torch.device | str | None = None, progress: bool = False):
    """Boundary length of {f_l ≥ u} on the sphere for independent networks, every depth l ≤ L.

    Each network is evaluated on ``grid`` (a :class:`fractalnb.random_networks.SphereGrid`) and the
    level curve measured by :func:`fractalnb.random_networks.boundary_length`.

    Parameters
    ----------
    spec, depth, width, n_networks, seed
        The networks (see :func:`~fractalnb.random_networks.sample_networks`; at most 10^6).
    grid
        A :class:`fractalnb.random_networks.SphereGrid`.
    level
        u (finite).
    batch
        Networks evaluated together (their weights and fields at most
        2^30 (the package budget ``MAX_ELEMENTS``) numbers).
    device
        Where to compute.
    progress
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        One row per (network, depth): ``activation, width, network, depth, length``.

    Examples
    --------
    >>> from fractalnb.random_networks import latlong_grid
    >>> df = boundary_lengths("tanh", 2, 32, 2, latlong_grid(33), seed=0)
    >>> df.shape
    (4, 5)
    """
    import pandas as pd

    nets = _networks_on_grid(spec, depth, width, n_networks, grid, seed=seed, batch=batch,
                             device=device)
    level = _validate.real(level, "level")
    progress = _validate.boolean(progress, "progress")
    rows = []
    for start, fields in nets.batches(progress):
        lengths = boundary_length(fields, grid, level)
        for b in range(fields.shape[0]):
            for layer in range(nets.depth):
                rows.append({"activation": nets.act.name, "width": nets.width,
                             "network": start + b, "depth": layer + 1,
                             "length": float(lengths[b, layer])})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class _Networks:
    """The checked arguments of a family of networks evaluated on a sphere grid."""

    act: Activation
    depth: int
    width: int
    n_networks: int
    grid: SphereGrid
    seed: int
    first: int
    batch: int
    device: torch.device | None

    def batches(self, progress: bool = False) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(first network, fields (B, depth, rows, cols) numpy)`` batch by batch."""
        yield from progress_bar(self._batches(), total=-(-self.n_networks // self.batch),
                                enabled=progress, desc=f"{self.act.name}, width {self.width}")

    def _batches(self) -> Iterator[tuple[int, np.ndarray]]:
        pts = self.grid.flat_points(device=self.device)
        end = self.first + self.n_networks
        for start in range(self.first, end, self.batch):
            count = min(self.batch, end - start)
            nets = sample_networks(self.act, self.depth, self.width, count, seed=self.seed,
                                   first=start, device=self.device)
            yield start, nets(pts).reshape(count, self.depth, *self.grid.shape).cpu().numpy()


def _networks_on_grid(spec: object, depth: object, width: object, n_networks: object,
                      grid: object, *, seed: object, batch: object, device: object,
                      first: object = 0) -> _Networks:
    """Check the arguments of networks evaluated on ``grid`` in batches of ``batch``.

    Refuses up front more than 10^6 networks, and batches whose weights or fields exceed
    2^30 (the package budget ``MAX_ELEMENTS``) numbers.
    """
    act = activation(spec)
    batch = _validate.integer(batch, "batch", minimum=1)
    depth, width, n_networks = _family(depth, width, n_networks, together=batch)
    if not isinstance(grid, SphereGrid):
        raise TypeError(f"grid must be a SphereGrid, got {_validate.describe(grid)}")
    _validate.budget(min(batch, n_networks) * depth * grid.points.size // 3, "batch",
                     _validate.MAX_ELEMENTS, "field values")
    return _Networks(act, depth, width, n_networks, grid, _validate.seed(seed),
                     _validate.integer(first, "first", minimum=0), batch,
                     _validate.device(device))


def network_fields(spec, depth: int, width: int, grid, n_networks: int = 1, *, seed: int = 0,
                   first: int = 0, batch: int = 4,
                   device: torch.device | str | None = None) -> np.ndarray:
    """Evaluate random networks on a sphere grid: the fields f_1 … f_L of each network.

    Parameters
    ----------
    spec, depth, width, n_networks, seed, first
        As in :func:`sample_networks` (the same networks whatever ``batch``). All the fields
        together may not exceed 2^30 (the package budget ``MAX_ELEMENTS``) numbers.
    grid
        A :class:`fractalnb.random_networks.SphereGrid`.
    batch
        Networks evaluated together (memory ≈ batch · 4096 · width floats).
    device
        Where to compute (results come back as numpy).

    Returns
    -------
    numpy.ndarray
        ``(n_networks, depth, rows, cols)`` float32.

    Examples
    --------
    >>> from fractalnb.random_networks import latlong_grid
    >>> network_fields("relu", 3, 16, latlong_grid(9), 2).shape
    (2, 3, 9, 16)
    """
    nets = _networks_on_grid(spec, depth, width, n_networks, grid, seed=seed, batch=batch,
                             device=device, first=first)
    _validate.budget(nets.n_networks * nets.depth * grid.points.size // 3, "n_networks",
                     _validate.MAX_ELEMENTS, "field values")
    return np.concatenate([f for _, f in nets.batches()])


def excursion_dimensions(spec, depth: int, width: int, n_networks: int, grid, *,
                         scales: Sequence[int] | None = None, level: float | str = 0.0,
                         fit_range: object = None, seed: int = 0, batch: int = 4,
                         device: torch.device | str | None = None, progress: bool = False):
    """Box-counting dimension of the boundary of {f_l ≥ u} for independent networks, l ≤ L.

    Each network is evaluated on ``grid`` (a cap or patch: a planar chart, where boxes are
    squares of pixels), the excursion set's boundary is box-counted by the engine
    (:func:`fractalnb.geometry.box_counts`, ``mode="boundary"``) and the dimension fitted
    by :func:`fractalnb.geometry.fit_dimension`.

    Parameters
    ----------
    spec, depth, width, n_networks, seed, batch, device
        The networks (see :func:`sample_networks`).
    grid
        A :class:`fractalnb.random_networks.SphereGrid` with a planar chart (``kind`` ``"cap"`` or
        ``"patch"``).
    scales
        Box sides in pixels, strictly increasing; default powers of 2 up to the grid side.
    level
        u, or ``"median"``: each field's own median over the grid. Deep networks carry a
        large random offset common to all points of a cap (κ_L(u) does not tend to 0), so
        at a fixed u many caps hold no boundary; the median level always cuts the field,
        and the dimension of a level set does not depend on the level (our reading of the
        theory).
    fit_range
        Passed to :func:`fractalnb.geometry.fit_dimension` (default: the engine's
        :func:`fractalnb.geometry.default_fit_range`); a range holding too few of the
        scales is refused up front.
    progress
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        One row per (network, depth): ``activation, width, network, depth, level,
        dimension, ci_low, ci_high, r2, counts``. A field with no boundary at a fitted scale
        keeps its row, with NaN dimension (it is reported, not dropped).

    Examples
    --------
    >>> from fractalnb.random_networks import cap_grid
    >>> df = excursion_dimensions("heaviside", 2, 64, 2, cap_grid(64, 0.5), level="median")
    >>> df.shape
    (4, 10)
    """
    import pandas as pd

    nets = _networks_on_grid(spec, depth, width, n_networks, grid, seed=seed, batch=batch,
                             device=device)
    if grid.kind not in ("cap", "patch"):
        raise ValueError(f"grid must be a planar chart (cap_grid or latlong_patch), "
                         f"got kind {grid.kind!r}")
    _level_or_median(level)
    _box_sides(scales, fit_range, grid.shape)
    progress = _validate.boolean(progress, "progress")
    depth = nets.depth
    frames = []
    for start, fields in nets.batches(progress):
        count = fields.shape[0]
        df = field_dimensions(fields.reshape(count * depth, *grid.shape), scales=scales,
                              level=level, fit_range=fit_range)
        df.insert(0, "depth", np.tile(np.arange(1, depth + 1), count))
        df.insert(0, "network", start + np.repeat(np.arange(count), depth))
        df.insert(0, "width", nets.width)
        df.insert(0, "activation", nets.act.name)
        frames.append(df.drop(columns="field"))
    return pd.concat(frames, ignore_index=True)


def _level_or_median(level: object) -> float | str:
    if isinstance(level, str):
        if level != "median":
            raise ValueError(f"level must be a real number or 'median', got {level!r}")
        return level
    return _validate.real(level, "level")


def _box_sides(scales: object, fit_range: object, shape: tuple[int, int]) -> np.ndarray:
    """Return the box sides for fields of ``shape``, refusing up front a fit no field passes."""
    from ..geometry.boxcount import dilation_scales
    from ..geometry.fit import fit_dimension

    chosen = dilation_scales(shape, 2) if scales is None else _validate.sizes(scales, "scales")
    if chosen[-1] > max(shape):
        raise ValueError(f"scales must be at most the grid side {max(shape)}, "
                         f"got {chosen.tolist()}")
    # the range must hold enough scales: fitted on counts any field could have
    fit_dimension(chosen, np.ones(chosen.size, dtype=np.int64), fit_range=fit_range,
                  shape=shape, mode="boundary")
    return chosen


def field_dimensions(fields, *, scales: Sequence[int] | None = None, level: float | str = 0.0,
                     fit_range: object = None):
    """Box-counting dimension of the boundary of {f ≥ u} for each of a batch of fields.

    The engine's :func:`fractalnb.geometry.box_counts` in ``"boundary"`` mode (boxes of
    side r pixels holding points of the set and of its complement), fitted by
    :func:`fractalnb.geometry.fit_dimension`.

    Parameters
    ----------
    fields
        ``(n, rows, cols)`` values on a planar chart (numpy, torch or nested sequences).
    scales
        Box sides in pixels, strictly increasing; default powers of 2 up to the grid side.
    level
        u, or ``"median"`` (each field's own median).
    fit_range
        Passed to :func:`fractalnb.geometry.fit_dimension` (``None``: the engine's
        :func:`fractalnb.geometry.default_fit_range`).

    Returns
    -------
    pandas.DataFrame
        One row per field: ``field, level, dimension, ci_low, ci_high, r2, counts``; NaN
        dimension where a fitted scale has no boundary box (kept, not dropped).

    Examples
    --------
    >>> f = np.tile(np.arange(64) - 20.5, (64, 1))[None]    # a straight boundary
    >>> round(float(field_dimensions(f, fit_range="all", scales=[2, 4, 8, 16]).dimension[0]), 6)
    1.0
    """
    import pandas as pd

    from ..geometry.boxcount import box_counts
    from ..geometry.fit import fit_dimension

    level = _level_or_median(level)
    values = _validate.real_array(fields, "fields", ndim=3)
    shape = values.shape[1:]
    chosen = _box_sides(scales, fit_range, shape)
    rows = []
    for k, f in enumerate(values):
        u = float(np.median(f)) if level == "median" else level
        counts = box_counts(f >= u, chosen, mode="boundary")
        row = {"field": k, "level": u}
        try:
            fit = fit_dimension(chosen, counts, fit_range=fit_range, shape=shape,
                                mode="boundary", rule="mask")
            row |= {"dimension": fit.dimension, "ci_low": fit.ci[0], "ci_high": fit.ci[1],
                    "r2": fit.r2}
        except ValueError:          # no boundary at a fitted scale: kept, as NaN
            row |= {"dimension": math.nan, "ci_low": math.nan, "ci_high": math.nan,
                    "r2": math.nan}
        row["counts"] = tuple(int(c) for c in counts)
        rows.append(row)
    return pd.DataFrame(rows)


_MAX_CALIBRATION_PIXELS = 1 << 26
"""The most surface pixels (fields times size squared) :func:`level_set_calibration` draws."""


def level_set_calibration(hursts: Sequence[float], *, size: int, n_fields: int,
                          scales: Sequence[int] | None = None, level: float | str = "median",
                          fit_range: object = None, seed: int = 0, method: str = "exact",
                          confidence: float = 0.95):
    r"""Calibrate :func:`field_dimensions` on fractional Brownian surfaces of known :math:`H`.

    The level sets of a fractional Brownian surface of Hurst index :math:`H` have
    dimension :math:`2 - H`. Each surface
    (:func:`fractalnb.geometry.fractional_brownian_surface`, ``size × size``) is cut and
    box-counted exactly as :func:`field_dimensions` does for network fields, with the same
    ``scales``, ``level`` and ``fit_range``: the difference between the mean measurement
    and :math:`2 - H` is the bias of the estimator at that resolution and window.

    Parameters
    ----------
    hursts
        Hurst indices in (0, 1), at least one (for the Heaviside law :math:`2 - 2^{-L}`,
        :math:`H = 2^{-L}`).
    size
        Pixels per side of each surface, at least 8.
    n_fields
        Surfaces per Hurst index, at least 2; at most :math:`2^{26}` pixels in all.
    scales, level, fit_range
        As in :func:`field_dimensions`.
    seed
        Seed of the first surface; surface ``j`` of index ``i`` has seed
        ``seed + i * n_fields + j``.
    method
        ``"exact"`` (default: Stein's circulant embedding, exact fBm on the grid) or
        ``"spectral"`` (smoother than :math:`H` at the finest lags).
    confidence
        Level of the Student-t interval of the mean.

    Returns
    -------
    pandas.DataFrame
        One row per Hurst index: ``hurst, theory`` (:math:`2 - H`), ``mean, ci_low,
        ci_high, n, n_missing`` (fields without a boundary box at a fitted scale),
        ``bias`` (``mean - theory``) and ``within_ci``.

    Raises
    ------
    TypeError
        For arguments of the wrong type.
    ValueError
        For Hurst indices outside (0, 1), sizes, counts or a window no field can fit, or
        more than :math:`2^{26}` pixels.

    Examples
    --------
    >>> table = level_set_calibration([0.5], size=64, n_fields=2, fit_range=(2, 16))
    >>> table[["hurst", "theory", "n"]].to_dict("records")
    [{'hurst': 0.5, 'theory': 1.5, 'n': 2}]
    """
    import pandas as pd

    from ..geometry.surfaces import fractional_brownian_surface

    hurst_values = _validate.real_array(hursts, "hursts", ndim=1)
    if np.any((hurst_values <= 0) | (hurst_values >= 1)):
        raise ValueError(f"hursts must lie in (0, 1), got {hurst_values.tolist()}")
    size = _validate.integer(size, "size", 8)
    n_fields = _validate.integer(n_fields, "n_fields", 2)
    _validate.budget(hurst_values.size * n_fields * size * size, "n_fields",
                     _MAX_CALIBRATION_PIXELS, "surface pixels")
    seed = _validate.seed(seed)
    _validate.choice(method, "method", ("exact", "spectral"))
    confidence = _validate.real(confidence, "confidence", 0, 1, open_min=True, open_max=True)
    _level_or_median(level)
    _box_sides(scales, fit_range, (size, size))  # refuse a bad window before any surface
    rows = []
    for i, hurst in enumerate(hurst_values.tolist()):
        fields = np.stack([
            np.asarray(fractional_brownian_surface(size, hurst, seed + i * n_fields + j,
                                                   method=method))
            for j in range(n_fields)])  # fmt: skip
        dims = field_dimensions(fields, scales=scales, level=level, fit_range=fit_range)
        values = dims["dimension"].to_numpy(dtype=float)
        ok = values[np.isfinite(values)]
        row = {"hurst": hurst, "theory": 2.0 - hurst, "n": int(ok.size),
               "n_missing": int(values.size - ok.size)}
        if ok.size >= 2:
            ci = mean_ci(ok, confidence)
            row |= {"mean": ci["mean"], "ci_low": ci["ci_low"], "ci_high": ci["ci_high"]}
        else:
            row |= {"mean": math.nan, "ci_low": math.nan, "ci_high": math.nan}
        row["bias"] = row["mean"] - row["theory"]
        row["within_ci"] = bool(row["ci_low"] <= row["theory"] <= row["ci_high"])
        rows.append(row)
    columns = ["hurst", "theory", "mean", "ci_low", "ci_high", "n", "n_missing", "bias",
               "within_ci"]
    return pd.DataFrame(rows)[columns]


def compare_with_theory(df, column: str, theory: Callable[[str, int], float], *,
                        confidence: float = 0.95):
    """Monte Carlo mean ± CI of ``column`` per (activation, depth), against a theory value.

    Parameters
    ----------
    df
        A pandas DataFrame with columns ``activation``, ``depth`` and ``column`` (e.g. from
        :func:`boundary_lengths` or :func:`excursion_dimensions`). NaN values are counted
        in ``n_missing`` and left out of the mean.
    column
        The name of the measured quantity's column.
    theory
        ``theory(activation, depth)``, e.g. ``lambda a, L: expected_boundary_length(a, L)``.
    confidence
        Level of the Student-t interval, in (0, 1).

    Returns
    -------
    pandas.DataFrame
        One row per (activation, depth): ``activation, depth, mean, ci_low, ci_high,
        stderr, n, n_missing, theory, ratio, within_ci`` (``within_ci``: the theory value
        lies inside the interval).

    Examples
    --------
    >>> import pandas as pd
    >>> from fractalnb.random_networks import expected_boundary_length
    >>> df = pd.DataFrame({"activation": ["relu"] * 4, "depth": [1] * 4,
    ...                    "length": [6.0, 6.5, 6.2, 6.4]})
    >>> out = compare_with_theory(df, "length", lambda a, L: expected_boundary_length(a, L))
    >>> bool(out.loc[0, "within_ci"]), round(float(out.loc[0, "ratio"]), 3)
    (True, 0.999)
    """
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame, got {_validate.describe(df)}")
    if not isinstance(column, str):
        raise TypeError(f"column must be a column name (a string), got "
                        f"{_validate.describe(column)}")
    if not callable(theory):
        raise TypeError(f"theory must be a callable theory(activation, depth), got "
                        f"{_validate.describe(theory)}")
    confidence = _validate.real(confidence, "confidence", 0, 1, open_min=True, open_max=True)
    missing = {"activation", "depth", column} - set(df.columns)
    if missing:
        raise ValueError(f"df lacks the columns {sorted(missing)}")
    rows = []
    for (name, depth), group in df.groupby(["activation", "depth"], sort=False):
        values = group[column].to_numpy(dtype=float)
        ok = values[np.isfinite(values)]
        expected = float(theory(name, int(depth)))
        row = {"activation": name, "depth": int(depth), "n": int(ok.size),
               "n_missing": int(values.size - ok.size), "theory": expected}
        if ok.size >= 2:
            ci = mean_ci(ok, confidence)
            row |= {"mean": ci["mean"], "ci_low": ci["ci_low"], "ci_high": ci["ci_high"],
                    "stderr": ci["stderr"]}
        else:
            row |= {"mean": math.nan, "ci_low": math.nan, "ci_high": math.nan,
                    "stderr": math.nan}
        row["ratio"] = row["mean"] / expected if math.isfinite(expected) and expected else math.nan
        row["within_ci"] = bool(row["ci_low"] <= expected <= row["ci_high"])
        rows.append(row)
    columns = ["activation", "depth", "mean", "ci_low", "ci_high", "stderr", "n", "n_missing",
               "theory", "ratio", "within_ci"]
    return pd.DataFrame(rows)[columns]
