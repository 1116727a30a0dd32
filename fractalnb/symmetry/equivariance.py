"""How box counts and the dimension respond to permutations: equivariance tables and spreads."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from .._validate import MAX_RANK, boolean, budget, choice, integer, sizes
from .._validate import rng as generator
from ._arguments import (
    IndexLike,
    Seed,
    _check_box_sides,
    _check_named,
    _check_permutation,
    _check_tensor,
)
from .box_permutations import (
    _respects,
    block_permutation,
    hierarchical_permutation,
    within_block_permutation,
)
from .coupling import _find_coupling
from .tensors import (
    _expand_permutation,
    _take,
    permute_columns,
    permute_rows,
    random_permutation,
)

__all__ = [
    "equivariance_table",
    "global_quantities",
    "permutation_spread",
]


_MAX_PERMUTATIONS = 100_000
"""The most random permutations :func:`permutation_spread` draws (each costs two box fits)."""


def equivariance_table(
    x: np.ndarray | torch.Tensor,
    perms: dict[str, IndexLike],
    scales: Sequence[int] | None = None,
    *,
    axis: int = 0,
    threshold: object = None,
    mode: str = "occupied",
    dilation: int = 2,
) -> pd.DataFrame:
    """Check, scale by scale, whether ``T_r`` and ``N(r)`` commute with permutations of an axis.

    For each permutation ``P`` (acting on ``axis`` of ``x``) and each box side ``r``:
    whether ``P`` respects ``r`` (:func:`respects_scale`, on the box side along ``axis``);
    if it does, the largest entry of ``|T_r(P x) − P_r T_r(x)|`` (0 up to the rounding of
    sums taken in another order: exact equivariance); and the box counts ``N(r)`` of the
    occupied sets of ``x`` and ``P x``, each segmented on its own.

    Parameters
    ----------
    x
        Real array or tensor of rank 1 to 4.
    perms
        Named permutations of ``0..x.shape[axis]-1``.
    scales
        Box sides; default :func:`fractalnb.geometry.dilation_scales` ``(x.shape, dilation)``.
    axis
        The axis the permutations act on.
    threshold, mode
        Occupancy rule and counting mode, as in :func:`fractalnb.geometry.box_dimension`.
    dilation
        ``λ`` of the default scales.

    Returns
    -------
    pandas.DataFrame
        One row per permutation and scale: ``permutation``, ``scale``, ``respects_scale``,
        ``transform_error`` (NaN where ``P`` does not respect ``r``: no ``P_r`` exists),
        ``count_before``, ``count_after`` and ``same_count``.

    Examples
    --------
    >>> w = np.random.default_rng(0).normal(size=(8, 8))
    >>> table = equivariance_table(w, {"swap halves": [4, 5, 6, 7, 0, 1, 2, 3]})
    >>> table[["scale", "respects_scale", "same_count"]].values.tolist()[:2]
    [[1, True, True], [2, True, True]]
    """
    from ..geometry.boxcount import box_counts, dilation_scales
    from ..geometry.occupancy_rules import DEFAULT_RULE, occupancy, occupancy_rule
    from ..geometry.transform import fractal_transform

    t = _check_tensor(x, "x", max_ndim=MAX_RANK).cpu()
    axis = integer(axis, "axis", minimum=0, maximum=t.ndim - 1)
    _check_named(perms, "perms", "permutation")
    dilation = integer(dilation, "dilation", minimum=2)
    mode = choice(mode, "mode", ("occupied", "boundary"))
    rule = occupancy_rule(DEFAULT_RULE if threshold is None else threshold)
    n = t.shape[axis]
    sides = (dilation_scales(t.shape, dilation) if scales is None
             else _check_box_sides(scales, t.shape))
    mask = occupancy(t, rule)
    counts_before = box_counts(mask, sides, mode=mode)
    rows = []
    for name, perm in perms.items():
        p = _check_permutation(perm, n, name=f"perms[{name!r}]")
        moved = _take(t, p, axis)
        counts_after = box_counts(occupancy(moved, rule), sides, mode=mode)
        for r, c0, c1 in zip(list(sides), counts_before.tolist(), counts_after.tolist()):
            side = min(int(r), n)
            respects = _respects(p, side)
            error = math.nan
            if respects:
                coarse = fractal_transform(t, int(r))
                induced = p[::side] // side
                error = float((fractal_transform(moved, int(r))
                               - _take(coarse, induced, axis)).abs().max())
            rows.append({"permutation": name, "scale": int(r), "respects_scale": respects,
                         "transform_error": error, "count_before": int(c0),
                         "count_after": int(c1), "same_count": c0 == c1})
    return pd.DataFrame(rows)


def _magnitudes(x: Any) -> torch.Tensor:
    t = _check_tensor(x, "x", max_ndim=MAX_RANK)
    if t.dtype == torch.bool:
        raise ValueError(f"x must be real-valued, got dtype {t.dtype}")
    t = t if t.is_floating_point() else t.to(torch.float64)
    return t.abs().reshape(-1)


def global_quantities(x: np.ndarray | torch.Tensor, threshold: object = None) -> dict[str, float]:
    """Return the quantities that no permutation of the entries can change.

    For ``A = {|W| > τ}``: the threshold ``τ`` (a quantile or ``mean + k·std`` of ``|W|``:
    functions of the multiset of entries), the active density ``|A| / |Ω|``, and the
    counts at the coarsest scale ``r = max(shape)``, where one box covers ``Ω``
    (occupied: 1, since ``A`` is not empty; boundary: 1, since it is not full). ``N(1) = |A|``
    is the density times ``|Ω|``. The norms ``‖W‖₁``, ``‖W‖₂`` (Frobenius) and ``‖W‖_∞``
    are functions of the multiset too. Permuting rows, columns, or any entries leaves all
    of them unchanged (``mean + k·std`` and the sums of the norms up to the rounding of a
    sum taken in another order).

    Parameters
    ----------
    x
        Real array or tensor of rank 1 to 4.
    threshold
        Occupancy rule, as in :func:`fractalnb.geometry.occupancy` (default
        :data:`~fractalnb.geometry.occupancy_rules.DEFAULT_RULE`).

    Returns
    -------
    dict
        ``tau``, ``density``, ``count_at_scale_1``, ``coarsest_scale``,
        ``coarsest_count``, ``coarsest_boundary_count``, ``l1_norm``, ``l2_norm`` and
        ``max_abs``.

    Examples
    --------
    >>> w = np.arange(1.0, 13.0).reshape(3, 4)
    >>> q = global_quantities(w, ("quantile", 0.5))
    >>> q["tau"], q["density"], q["coarsest_count"]
    (6.5, 0.5, 1)
    """
    from ..geometry.boxcount import box_counts
    from ..geometry.occupancy_rules import DEFAULT_RULE, occupancy, occupancy_rule

    magnitudes = _magnitudes(x)
    rule = occupancy_rule(DEFAULT_RULE if threshold is None else threshold)
    mask = occupancy(x, rule)
    coarsest = int(max(mask.shape))
    tau = float(rule.threshold(magnitudes))
    m64 = magnitudes.to(torch.float64)
    return {
        "tau": tau,
        "density": float(mask.sum()) / mask.size if isinstance(mask, np.ndarray)
        else float(mask.sum()) / mask.numel(),
        "count_at_scale_1": int(mask.sum()),
        "coarsest_scale": coarsest,
        "coarsest_count": int(box_counts(mask, [coarsest])[0]),
        "coarsest_boundary_count": int(box_counts(mask, [coarsest], mode="boundary")[0]),
        "l1_norm": float(m64.sum()),
        "l2_norm": float(torch.linalg.vector_norm(m64)),
        "max_abs": float(m64.max()),
    }


_MODES = ("occupied", "boundary", "differential")  # the modes of box_dimension


_PERMUTATION_KINDS = ("uniform", "hierarchical", "block", "within_block")


def _draw_permutation(kind: str, n: int, base: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "uniform":
        return random_permutation(n, seed=rng)
    if kind == "hierarchical":
        return hierarchical_permutation(n, base, seed=rng)
    if kind == "block":
        return block_permutation(n, base, seed=rng)
    return within_block_permutation(n, base, seed=rng)


def _tensor_view(weight: torch.Tensor, unfold: bool) -> torch.Tensor:
    from ..geometry.transform import unfold_conv

    return unfold_conv(weight) if unfold else weight


def permutation_spread(
    model: nn.Module,
    layer: str,
    *,
    n_permutations: int = 100,
    kind: str = "uniform",
    base: int = 2,
    threshold: object = None,
    mode: str = "occupied",
    scales: Sequence[int] | None = None,
    fit_range: object = None,
    unfold: bool = False,
    seed: Seed = 0,
    progress: bool = False,
) -> pd.DataFrame:
    """Measure how ``N(r)`` and ``D`` move under function-preserving permutations of a layer.

    Draws ``n_permutations`` permutations of the neurons of ``layer``; each permutes the
    rows of ``layer``'s weight and the columns (blocks of columns after a ``flatten``) of
    its successor's weight, as :func:`permute_neurons` does. For each permutation and each
    of the two tensors, the box counts and :func:`fractalnb.geometry.box_dimension` are
    recomputed. Permutation 0 is the identity (the model as it is).

    Parameters
    ----------
    model
        The network; not modified.
    layer
        Name of the ``nn.Linear``/``nn.Conv2d`` whose neurons are permuted (see
        :func:`permutable_layers`).
    n_permutations
        Number of random permutations (besides the identity).
    kind
        ``"uniform"`` (any permutation, the weak-equivariance case), ``"hierarchical"``
        (:func:`hierarchical_permutation` with ``base``), ``"block"``
        (:func:`block_permutation` of ``base``-blocks) or ``"within_block"``
        (:func:`within_block_permutation` inside ``base``-blocks).
    base
        The dilation factor ``λ`` (``"hierarchical"``) or the block side.
    threshold, mode, scales, fit_range
        Passed to :func:`fractalnb.geometry.box_dimension` (the default scales are the
        powers of ``base``).
    unfold
        Count a conv kernel on its 2-D unfolding ``out × in·kh·kw``
        (:func:`fractalnb.geometry.unfold_conv`) instead of its 4-D grid.
    seed
        Seed (an integer ``>= 0``) or ``numpy.random.Generator`` for the permutations.
    progress
        Show a ``tqdm`` progress bar.

    Returns
    -------
    pandas.DataFrame
        One row per permutation, tensor and scale: ``permutation`` (0 = identity),
        ``kind``, ``tensor`` (parameter name), ``role`` (``"rows"`` of the layer or
        ``"columns"`` of the successor), ``scale``, ``count``, ``respects_scale`` (the
        permutation, as it acts on this tensor's axis, maps boxes of this side onto boxes:
        then ``count`` equals the identity's exactly), ``dimension``, ``r2`` and ``density``.

    Examples
    --------
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> mlp = nn.Sequential(nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 8))
    >>> spread = permutation_spread(mlp, "0", n_permutations=5, threshold=("quantile", 0.8))
    >>> sorted(spread["tensor"].unique())
    ['0.weight', '2.weight']
    >>> spread.groupby(["tensor", "scale"])["count"].nunique().loc["0.weight"].tolist()[0]
    1
    """
    from .._progress import progress_bar
    from ..geometry.boxcount import box_dimension
    from ..geometry.occupancy_rules import occupancy_rule

    n_permutations = integer(n_permutations, "n_permutations", minimum=1)
    budget(n_permutations, "n_permutations", _MAX_PERMUTATIONS, "permutations")
    choice(kind, "kind", _PERMUTATION_KINDS)
    base = integer(base, "base", minimum=2)
    if threshold is not None:
        occupancy_rule(threshold)
    choice(mode, "mode", _MODES)
    if scales is not None:
        sizes(scales, "scales")
    unfold = boolean(unfold, "unfold")
    progress = boolean(progress, "progress")
    rng = generator(seed)
    coupling = _find_coupling(model, layer)
    modules = dict(model.named_modules())
    weights = {
        "rows": (f"{layer}.weight", modules[layer].weight.detach()),
        "columns": (f"{coupling.successor}.weight", modules[coupling.successor].weight.detach()),
    }
    perms = [np.arange(coupling.width, dtype=np.int64)] + [
        _draw_permutation(kind, coupling.width, int(base), rng) for _ in range(n_permutations)
    ]
    rows = []
    bar = progress_bar(perms, desc=f"permutations of {layer}", enabled=progress)
    for pid, perm in enumerate(bar):
        for role, (name, weight) in weights.items():
            if role == "rows":
                permuted, axis_perm = permute_rows(weight, perm), perm
            else:
                permuted = permute_columns(weight, perm, block=coupling.block)
                axis_perm = _expand_permutation(perm, coupling.block)
                if unfold and permuted.ndim == 4:  # unfolded columns: c·kh·kw + (i, j)
                    kernel = permuted.shape[2] * permuted.shape[3]
                    axis_perm = _expand_permutation(axis_perm, kernel)
            x = _tensor_view(permuted, unfold)
            fit = box_dimension(x, scales=scales, threshold=threshold, mode=mode,
                                dilation=int(base), fit_range=fit_range)
            axis_len = axis_perm.size
            for r, count in zip(fit.scales.tolist(), fit.counts.tolist()):
                rows.append({
                    "permutation": pid, "kind": "identity" if pid == 0 else kind,
                    "tensor": name, "role": role, "scale": int(r), "count": int(count),
                    "respects_scale": bool(r >= axis_len or _respects(axis_perm, int(r))),
                    "dimension": fit.dimension, "r2": fit.r2, "density": fit.density,
                })  # fmt: skip
    return pd.DataFrame(rows)
