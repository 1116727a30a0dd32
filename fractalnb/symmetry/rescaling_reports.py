"""How box counts respond to positive rescalings: count reports and commutation defects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from .._validate import MAX_RANK, boolean, choice, integer, real, sizes
from ._arguments import (
    ScalesLike,
    _check_box_sides,
    _check_factors,
    _check_named,
    _check_tensor,
)
from .coupling import _find_coupling
from .equivariance import _magnitudes, _tensor_view
from .neurons import rescale_before_batchnorm, rescale_neurons
from .tensors import _multiply_axis

__all__ = [
    "rescaling_count_report",
    "RescalingDefect",
    "rescaling_commutation_defect",
    "rescaling_defect_table",
]


_REPORT_RULES = ("support", "absolute", "quantile", "mean_std")


def rescaling_count_report(
    model: nn.Module,
    layer: str,
    scales: ScalesLike,
    *,
    method: str = "intertwiner",
    absolute: float | None = None,
    quantile: float = 0.9,
    k: float = 1.0,
    count_scales: Sequence[int] | None = None,
    mode: str = "occupied",
    dilation: int = 2,
    unfold: bool = False,
) -> pd.DataFrame:
    """Report which occupancy rules see a function-preserving positive rescaling.

    The model is rescaled by :func:`rescale_neurons` (``method="intertwiner"``) or
    :func:`rescale_before_batchnorm` (``method="batchnorm"``); for the weight of ``layer``
    and of its successor, the occupied set and the box counts are compared before and
    after under four rules:

    ``support``
        ``|W| > 0``: invariant under every positive rescaling.
    ``absolute``
        ``|W| > τ`` with one fixed ``τ`` (``absolute``; by default the ``quantile`` of the
        original tensor's ``|W|``, so that before rescaling it agrees with the next rule):
        not invariant.
    ``quantile``
        ``|W| > q-quantile of |W|``, recomputed on each tensor: invariant under a global
        scale, not under a per-neuron ``Λ``.
    ``mean_std``
        ``|W| > mean|W| + k·std|W|``: likewise.

    An empty or full occupied set is reported (count 0, or every box), not refused.

    Parameters
    ----------
    model
        The network; not modified.
    layer
        Name of the ``nn.Linear``/``nn.Conv2d`` whose neurons are rescaled.
    scales
        One factor ``λ_i > 0`` per neuron.
    method
        ``"intertwiner"`` or ``"batchnorm"``.
    absolute
        The fixed threshold of the ``absolute`` rule (``None``: see above).
    quantile, k
        Parameters of the ``quantile`` and ``mean_std`` rules.
    count_scales
        Box sides (default: powers of ``dilation`` up to the tensor's largest side).
    mode
        ``"occupied"`` or ``"boundary"``.
    dilation
        ``λ`` of the default box sides.
    unfold
        Count a conv kernel on its 2-D unfolding (:func:`fractalnb.geometry.unfold_conv`).

    Returns
    -------
    pandas.DataFrame
        One row per tensor, rule and scale: ``tensor``, ``role`` (``"layer"`` or
        ``"successor"``), ``rule``, ``scale``, ``count_before``, ``count_after``,
        ``tau_before``, ``tau_after``, ``density_before``, ``density_after``,
        ``same_set`` (the occupied sets are identical) and ``same_count``.

    Examples
    --------
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> from fractalnb.symmetry import random_scales
    >>> mlp = nn.Sequential(nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 4))
    >>> report = rescaling_count_report(mlp, "0", random_scales(8, seed=0))
    >>> report.groupby("rule")["same_set"].all().to_dict()["support"]
    True
    """
    from ..geometry.boxcount import box_counts, dilation_scales
    from ..geometry.occupancy_rules import Absolute, MeanStd, Quantile

    choice(method, "method", ("intertwiner", "batchnorm"))
    if absolute is not None:
        absolute = real(absolute, "absolute", 0)
    quantile = real(quantile, "quantile", 0, 1, open_max=True)
    k = real(k, "k")
    if count_scales is not None:
        count_scales = sizes(count_scales, "count_scales")
    choice(mode, "mode", ("occupied", "boundary"))
    dilation = integer(dilation, "dilation", minimum=2)
    unfold = boolean(unfold, "unfold")
    if method == "intertwiner":
        rescaled = rescale_neurons(model, layer, scales)
    else:
        rescaled = rescale_before_batchnorm(model, layer, scales)
    coupling = _find_coupling(model, layer)
    before, after = dict(model.named_modules()), dict(rescaled.named_modules())
    rows = []
    for role, name in (("layer", layer), ("successor", coupling.successor)):
        w0 = _tensor_view(before[name].weight.detach(), unfold)
        w1 = _tensor_view(after[name].weight.detach(), unfold)
        m0, m1 = _magnitudes(w0).reshape(w0.shape), _magnitudes(w1).reshape(w1.shape)
        tau_abs = absolute if absolute is not None else Quantile(quantile).threshold(m0.reshape(-1))
        rules = {
            "support": (Absolute(0.0), Absolute(0.0)),
            "absolute": (Absolute(tau_abs), Absolute(tau_abs)),
            "quantile": (Quantile(quantile), Quantile(quantile)),
            "mean_std": (MeanStd(k), MeanStd(k)),
        }
        sides = (dilation_scales(w0.shape, dilation) if count_scales is None
                 else _check_box_sides(count_scales, w0.shape, "count_scales"))
        for rule_name, (rule0, rule1) in rules.items():
            tau0 = float(rule0.threshold(m0.reshape(-1)))
            tau1 = float(rule1.threshold(m1.reshape(-1)))
            a0, a1 = m0 > tau0, m1 > tau1
            n0 = box_counts(a0, sides, mode=mode)
            n1 = box_counts(a1, sides, mode=mode)
            same_set = bool(torch.equal(a0, a1))
            for r, c0, c1 in zip(sides.tolist(), n0.tolist(), n1.tolist()):
                rows.append({
                    "tensor": f"{name}.weight", "role": role, "rule": rule_name,
                    "scale": int(r), "count_before": int(c0), "count_after": int(c1),
                    "tau_before": tau0, "tau_after": tau1,
                    "density_before": float(a0.float().mean()),
                    "density_after": float(a1.float().mean()),
                    "same_set": same_set, "same_count": c0 == c1,
                })  # fmt: skip
    return pd.DataFrame(rows)


def _check_box_side(r: object, ndim: int) -> int | list[int]:
    """Return ``r``: one box side, or one per axis (``ndim`` of them), integers ``>= 1``."""
    if isinstance(r, (list, tuple, np.ndarray)):
        if len(r) != ndim:
            raise ValueError(f"r must give one box side per axis ({ndim}), got {len(r)}")
        return [integer(side, "r", minimum=1) for side in r]
    return integer(r, "r", minimum=1)


@dataclass(frozen=True)
class RescalingDefect:
    """How far ``T_r`` is from commuting with a diagonal rescaling along one axis.

    Attributes
    ----------
    defect
        ``|T_r(Λx) − M_r T_r(x)|`` on the coarse grid, ``M_r`` the mid-range of ``λ`` over
        each box of the axis.
    bound
        ``½ osc_r(λ) · T_r(|x|)``: ``defect ≤ bound`` entrywise (up to rounding).
    box_constant
        Whether ``λ`` is constant on every box of the axis (then ``M_r = Λ_r``, the bound is
        0 and ``T_r(Λx) = Λ_r T_r(x)``).
    """

    defect: np.ndarray
    bound: np.ndarray
    box_constant: bool


def rescaling_commutation_defect(
    x: np.ndarray | torch.Tensor, scales: ScalesLike, r: int | Sequence[int], *, axis: int = 0
) -> RescalingDefect:
    """Measure ``T_r(Λx) − M_r T_r(x)`` for ``Λ = diag(scales)`` acting along ``axis``.

    By linearity, ``T_r(Λx)_B = Σ_{i ∈ B} λ_i x_i``. With ``m_B`` the mid-range of ``λ``
    over the box's extent along ``axis``,
    ``|Σ (λ_i − m_B) x_i| ≤ ½ (max_B λ − min_B λ) Σ |x_i|``; so ``T_r`` commutes with ``Λ``
    exactly when ``λ`` is constant on boxes (a global scale in particular), and otherwise
    up to the oscillation of ``λ`` inside a box times the box's mass ``T_r(|x|)``.

    Parameters
    ----------
    x
        Real array or tensor of rank 1 to 4.
    scales
        Positive factors, one per index along ``axis`` (after a ``flatten``, repeat each
        neuron's factor over its block).
    r
        Box side, as for :func:`fractalnb.geometry.fractal_transform`.
    axis
        The axis ``Λ`` acts on (0: rows, 1: columns).

    Returns
    -------
    RescalingDefect

    Examples
    --------
    >>> w = np.ones((4, 3))
    >>> d = rescaling_commutation_defect(w, [1.0, 1.0, 2.0, 2.0], 2)
    >>> d.box_constant, float(d.defect.max())
    (True, 0.0)
    >>> d = rescaling_commutation_defect(w, [1.0, 2.0, 2.0, 2.0], 2)
    >>> d.box_constant, float(d.defect.max()) <= float(d.bound.max())
    (False, True)
    """
    from ..geometry.transform import fractal_transform

    t = _check_tensor(x, "x", max_ndim=MAX_RANK).cpu()
    axis = integer(axis, "axis", minimum=0, maximum=t.ndim - 1)
    if not t.is_floating_point():
        raise ValueError(f"x must have a real floating dtype, got {t.dtype}")
    lam = _check_factors(scales, t.shape[axis])
    r = _check_box_side(r, t.ndim)
    side = r if isinstance(r, int) else r[axis]
    side = min(int(side), lam.size)  # a box at least as long as the axis: one box
    t64 = t.to(torch.float64)
    scaled = _multiply_axis(t64, lam, axis)
    lam_max = fractal_transform(lam, side, reduce="max")
    lam_min = fractal_transform(lam, side, reduce="min")
    mid = (lam_max + lam_min) / 2
    coarse = fractal_transform(t64, r)
    defect = (fractal_transform(scaled, r) - _multiply_axis(coarse, mid, axis)).abs()
    bound = _multiply_axis(fractal_transform(t64.abs(), r), (lam_max - lam_min) / 2, axis)
    return RescalingDefect(
        defect=defect.numpy(), bound=bound.numpy(), box_constant=bool(np.all(lam_max == lam_min))
    )


def rescaling_defect_table(
    x: np.ndarray | torch.Tensor,
    factors: dict[str, ScalesLike],
    scales: Sequence[int] | None = None,
    *,
    axis: int = 0,
    dilation: int = 2,
) -> pd.DataFrame:
    """Tabulate, scale by scale, how far ``T_r`` is from commuting with several rescalings.

    Runs :func:`rescaling_commutation_defect` for every named factor vector and every box
    side, and summarises each coarse grid by its largest defect, the defect relative to
    the mass ``Σ T_r(|x|)`` and the largest ratio ``defect / bound`` (at most 1).

    Parameters
    ----------
    x
        Real array or tensor of rank 1 to 4.
    factors
        Named positive factor vectors, one factor per index along ``axis``.
    scales
        Box sides; default :func:`fractalnb.geometry.dilation_scales` ``(x.shape, dilation)``.
    axis
        The axis the factors act on.
    dilation
        ``λ`` of the default scales.

    Returns
    -------
    pandas.DataFrame
        One row per factor vector and scale: ``factors``, ``scale``, ``box_constant``,
        ``max_defect``, ``relative_defect`` and ``max_ratio`` (``defect / bound`` where the
        bound is positive; 0 where it is 0).

    Examples
    --------
    >>> from fractalnb.symmetry import random_scales
    >>> w = np.random.default_rng(0).normal(size=(8, 4))
    >>> table = rescaling_defect_table(w, {"global": np.full(8, 3.0),
    ...                                    "per row": random_scales(8, seed=0)})
    >>> table.groupby("factors")["box_constant"].all().to_dict()
    {'global': True, 'per row': False}
    """
    from ..geometry.boxcount import dilation_scales
    from ..geometry.transform import fractal_transform

    t = _check_tensor(x, "x", max_ndim=MAX_RANK).cpu().to(torch.float64)
    axis = integer(axis, "axis", minimum=0, maximum=t.ndim - 1)
    _check_named(factors, "factors", "factor vector")
    for name, lam in factors.items():
        _check_factors(lam, t.shape[axis], name=f"factors[{name!r}]")
    dilation = integer(dilation, "dilation", minimum=2)
    sides = (dilation_scales(t.shape, dilation).tolist() if scales is None
             else sizes(scales, "scales").tolist())
    rows = []
    for name, lam in factors.items():
        for r in sides:
            d = rescaling_commutation_defect(t, lam, int(r), axis=axis)
            mass = float(fractal_transform(t.abs(), int(r)).sum())
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(d.bound > 0, d.defect / np.where(d.bound > 0, d.bound, 1), 0.0)
            rows.append({"factors": name, "scale": int(r), "box_constant": d.box_constant,
                         "max_defect": float(d.defect.max()),
                         "relative_defect": float(d.defect.sum()) / mass if mass else 0.0,
                         "max_ratio": float(ratio.max())})
    return pd.DataFrame(rows)
