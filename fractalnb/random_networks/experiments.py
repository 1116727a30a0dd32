"""Monte Carlo experiments on random networks, compared with the theory."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

from .._progress import progress_bar
from .activations import Activation, activation
from .kernels import _check_depth, kappa_depth
from .sampling import _check_count, sample_networks
from .theory import _check_level

__all__ = [
    "mean_ci",
    "boundary_lengths",
    "network_fields",
    "excursion_dimensions",
    "field_dimensions",
    "limiting_fields",
    "compare_with_theory",
    "limiting_spectrum",
    "excursion_box_counts",
]


def mean_ci(values, confidence: float = 0.95) -> dict[str, float]:
    """Mean with a Student-t confidence interval (independent samples).

    Examples
    --------
    >>> r = mean_ci([1.0, 2.0, 3.0])
    >>> r["mean"], round(r["ci_low"], 3), round(r["ci_high"], 3)
    (2.0, -0.484, 4.484)
    """
    from scipy import stats

    v = np.asarray(values, dtype=float)
    if v.ndim != 1 or v.size < 2 or not np.all(np.isfinite(v)):
        raise ValueError("values must be a finite 1-D sequence of at least 2 samples")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}")
    m, se = float(v.mean()), float(v.std(ddof=1) / math.sqrt(v.size))
    half = float(stats.t.ppf(0.5 + confidence / 2, v.size - 1)) * se
    return {"mean": m, "stderr": se, "ci_low": m - half, "ci_high": m + half, "n": int(v.size)}


def boundary_lengths(spec, depth: int, width: int, n_networks: int, grid, *,
                     level: float = 0.0, seed: int = 0, batch: int = 4,
                     device: torch.device | str | None = None, progress: bool = False):
    """Boundary length of {f_l ≥ u} on the sphere for independent networks, every depth l ≤ L.

    Each network is evaluated on ``grid`` (a :class:`fractalnb.random_networks.SphereGrid`) and the
    level curve measured by :func:`fractalnb.random_networks.boundary_length`.

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

    from .sphere import SphereGrid, boundary_length

    act = activation(spec)
    depth = _check_depth(depth)
    n_networks = _check_count("n_networks", n_networks)
    batch = _check_count("batch", batch)
    level = _check_level(level)
    if not isinstance(grid, SphereGrid):
        raise TypeError(f"grid must be a SphereGrid, got {type(grid).__name__}")
    rows = []
    batches = _field_batches(act, depth, width, n_networks, grid, seed=seed, batch=batch,
                             device=device)
    for start, fields in progress_bar(batches, total=-(-n_networks // batch), enabled=progress,
                                      desc=f"{act.name}, width {width}"):
        lengths = boundary_length(fields, grid, level)
        for b in range(fields.shape[0]):
            for layer in range(depth):
                rows.append({"activation": act.name, "width": width, "network": start + b,
                             "depth": layer + 1, "length": float(lengths[b, layer])})
    return pd.DataFrame(rows)


def _field_batches(act: Activation, depth: int, width: int, n_networks: int, grid, *,
                   seed: int, batch: int, device, first: int = 0):
    """Yield ``(first network, fields (B, depth, rows, cols) numpy)`` batch by batch."""
    pts = grid.flat_points(device=device)
    for start in range(first, first + n_networks, batch):
        count = min(batch, first + n_networks - start)
        nets = sample_networks(act, depth, width, count, seed=seed, first=start, device=device)
        yield start, nets(pts).reshape(count, depth, *grid.shape).cpu().numpy()


def network_fields(spec, depth: int, width: int, grid, n_networks: int = 1, *, seed: int = 0,
                   first: int = 0, batch: int = 4,
                   device: torch.device | str | None = None) -> np.ndarray:
    """Evaluate random networks on a sphere grid: the fields f_1 … f_L of each network.

    Parameters
    ----------
    spec, depth, width, n_networks, seed, first
        As in :func:`sample_networks` (the same networks whatever ``batch``).
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
    from .sphere import SphereGrid

    act = activation(spec)
    depth = _check_depth(depth)
    n_networks = _check_count("n_networks", n_networks)
    batch = _check_count("batch", batch)
    if not isinstance(grid, SphereGrid):
        raise TypeError(f"grid must be a SphereGrid, got {type(grid).__name__}")
    if isinstance(first, bool) or int(first) != first or first < 0:
        raise ValueError(f"first must be an integer >= 0, got {first!r}")
    parts = [f for _, f in _field_batches(act, depth, width, n_networks, grid, seed=seed,
                                          batch=batch, device=device, first=int(first))]
    return np.concatenate(parts)


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
        Box sides in pixels; default powers of 2 up to the grid side.
    level
        u, or ``"median"``: each field's own median over the grid. Deep networks carry a
        large random offset common to all points of a cap (κ_L(u) does not tend to 0), so
        at a fixed u many caps hold no boundary; the median level always cuts the field,
        and the dimension of a level set does not depend on the level (our reading of the
        theory).
    fit_range
        Passed to :func:`fractalnb.geometry.fit_dimension` (default: the engine's
        :func:`fractalnb.geometry.default_fit_range`).
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

    from .sphere import SphereGrid

    act = activation(spec)
    depth = _check_depth(depth)
    n_networks = _check_count("n_networks", n_networks)
    batch = _check_count("batch", batch)
    if not isinstance(grid, SphereGrid):
        raise TypeError(f"grid must be a SphereGrid, got {type(grid).__name__}")
    if grid.kind not in ("cap", "patch"):
        raise ValueError(f"grid must be a planar chart (cap_grid or latlong_patch), "
                         f"got kind {grid.kind!r}")
    _check_level_spec(level)
    frames = []
    batches = _field_batches(act, depth, width, n_networks, grid, seed=seed, batch=batch,
                             device=device)
    for start, fields in progress_bar(batches, total=-(-n_networks // batch), enabled=progress,
                                      desc=f"{act.name}, width {width}"):
        count = fields.shape[0]
        df = field_dimensions(fields.reshape(count * depth, *grid.shape), scales=scales,
                              level=level, fit_range=fit_range)
        df.insert(0, "depth", np.tile(np.arange(1, depth + 1), count))
        df.insert(0, "network", start + np.repeat(np.arange(count), depth))
        df.insert(0, "width", width)
        df.insert(0, "activation", act.name)
        frames.append(df.drop(columns="field"))
    return pd.concat(frames, ignore_index=True)


def _check_level_spec(level: float | str) -> float | str:
    if isinstance(level, str):
        if level != "median":
            raise ValueError(f"level must be a real number or 'median', got {level!r}")
        return level
    return _check_level(level)


def field_dimensions(fields, *, scales: Sequence[int] | None = None, level: float | str = 0.0,
                     fit_range: object = None):
    """Box-counting dimension of the boundary of {f ≥ u} for each of a batch of fields.

    The engine's :func:`fractalnb.geometry.box_counts` in ``"boundary"`` mode (boxes of
    side r pixels holding points of the set and of its complement), fitted by
    :func:`fractalnb.geometry.fit_dimension`.

    Parameters
    ----------
    fields
        ``(n, rows, cols)`` values on a planar chart (numpy or torch).
    scales
        Box sides in pixels; default powers of 2 up to the grid side.
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

    from ..geometry.boxcount import box_counts, dilation_scales
    from ..geometry.fit import fit_dimension
    from .sphere import _values_array

    level = _check_level_spec(level)
    values = _values_array(fields)
    if values.ndim != 3:
        raise ValueError(f"fields must have shape (n, rows, cols), got {values.shape}")
    shape = values.shape[1:]
    chosen = dilation_scales(shape, 2) if scales is None else np.asarray(scales)
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


def limiting_fields(spec, depth: int, grid, ell_max: int, n_fields: int = 1, *,
                    seed: int = 0, first: int = 0) -> np.ndarray:
    """Draw samples of the infinite-width limit f_L: the Gaussian field with covariance κ_L.

    The angular power spectrum of κ_L (:func:`limiting_spectrum`) truncated at ``ell_max``
    and synthesised by spherical harmonics
    (:func:`~fractalnb.random_networks.sample_isotropic_field`):
    exact in law for the truncated spectrum, so the field is smooth below the angular scale
    ≈ π/ℓmax — the harmonic analogue of a network's finite width.

    Parameters
    ----------
    spec, depth
        The activation and L.
    grid
        A lat–long grid (:func:`fractalnb.random_networks.latlong_grid` or
        :func:`fractalnb.random_networks.latlong_patch`).
    ell_max
        Highest multipole.
    n_fields, seed, first
        How many fields, and their seeded stream (field k from ``(seed, first + k)``).

    Returns
    -------
    numpy.ndarray
        ``(n_fields, rows, cols)``.

    Examples
    --------
    >>> from fractalnb.random_networks import latlong_grid
    >>> limiting_fields("heaviside", 2, latlong_grid(17), 16, 3).shape
    (3, 17, 32)
    """
    from .spectrum import sample_isotropic_field

    spectrum = limiting_spectrum(spec, depth, ell_max)
    return sample_isotropic_field(spectrum, grid, _check_count("n_fields", n_fields), seed=seed,
                                  first=first)


def compare_with_theory(df, column: str, theory: Callable[[str, int], float], *,
                        confidence: float = 0.95):
    """Monte Carlo mean ± CI of ``column`` per (activation, depth), against a theory value.

    Parameters
    ----------
    df
        Rows with ``activation``, ``depth`` and ``column`` (e.g. from
        :func:`boundary_lengths` or :func:`excursion_dimensions`). NaN values are counted
        in ``n_missing`` and left out of the mean.
    column
        The measured quantity.
    theory
        ``theory(activation, depth)``, e.g. ``lambda a, L: expected_boundary_length(a, L)``.
    confidence
        Level of the Student-t interval.

    Returns
    -------
    pandas.DataFrame
        One row per (activation, depth): ``activation, depth, mean, ci_low, ci_high,
        stderr, n, n_missing, theory, ratio, within_ci`` (``within_ci``: the theory value
        lies inside the interval).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"activation": ["relu"] * 4, "depth": [1] * 4,
    ...                    "length": [6.0, 6.5, 6.2, 6.4]})
    >>> out = compare_with_theory(df, "length", lambda a, L: expected_boundary_length(a, L))
    >>> bool(out.loc[0, "within_ci"]), round(float(out.loc[0, "ratio"]), 3)
    (True, 0.999)
    """
    import pandas as pd

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


def limiting_spectrum(spec, depth: int, ell_max: int) -> np.ndarray:
    """Angular power spectrum C_0 … C_ℓmax of the limiting field of depth L (covariance κ_L).

    Examples
    --------
    >>> from fractalnb.random_networks import spectrum_variance
    >>> round(spectrum_variance(limiting_spectrum("tanh", 2, 64)), 8)
    1.0
    """
    from .spectrum import angular_power_spectrum

    act = activation(spec)
    depth = _check_depth(depth)
    return angular_power_spectrum(lambda u: kappa_depth(u, act, depth), ell_max)


def excursion_box_counts(fields, scales: Sequence[int], level: float = 0.0) -> np.ndarray:
    """Boundary box counts N(r) of the excursion sets {f ≥ u} of a batch of fields.

    The engine's :func:`fractalnb.geometry.box_counts` in ``"boundary"`` mode (boxes of
    side r pixels holding points of the set and of its complement) on each field.

    Parameters
    ----------
    fields
        ``(n, rows, cols)`` values (numpy or torch).
    scales
        Box sides in pixels.
    level
        u.

    Returns
    -------
    numpy.ndarray
        ``(n, len(scales))`` int64 counts.

    Examples
    --------
    >>> f = np.zeros((1, 8, 8)); f[0, :, 4:] = 1.0
    >>> excursion_box_counts(f, [2, 4], level=0.5).tolist()
    [[0, 0]]
    >>> excursion_box_counts(f, [2, 8], level=0.5).tolist()
    [[0, 1]]
    """
    from ..geometry.boxcount import box_counts
    from .sphere import excursion_set

    level = _check_level(level)
    masks = excursion_set(fields, level)
    if masks.ndim != 3:
        raise ValueError(f"fields must have shape (n, rows, cols), got {masks.shape}")
    return np.stack([box_counts(m, list(scales), mode="boundary") for m in masks])
