"""Occupancy rules: which boxes of a weight tensor count as occupied."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
import torch

from .._validate import as_tensor, describe, real

__all__ = [
    "OccupancyRule",
    "Absolute",
    "Quantile",
    "MeanStd",
    "DEFAULT_RULE",
    "occupancy_rule",
    "occupancy",
]


class OccupancyRule(ABC):
    r"""A rule for the threshold :math:`\tau` of the occupied set :math:`A = \{|W| > \tau\}`.

    Subclasses: :class:`Absolute`, :class:`Quantile`, :class:`MeanStd`.
    """

    @abstractmethod
    def threshold(self, magnitudes: torch.Tensor) -> float:
        r"""Return :math:`\tau` for the magnitudes :math:`|W|` (a flat float tensor)."""

    @abstractmethod
    def describe(self) -> str:
        """Return the rule as a short formula, e.g. ``"|W| > q0.9(|W|)"``."""


@dataclass(frozen=True)
class Absolute(OccupancyRule):
    r""":math:`\tau` given as an absolute value: :math:`A = \{|W| > \tau\}`, ``tau >= 0``.

    Examples
    --------
    >>> Absolute(0.1).describe()
    '|W| > 0.1'
    """

    tau: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "tau", real(self.tau, "Absolute tau", 0))

    def threshold(self, magnitudes: torch.Tensor) -> float:  # noqa: D102
        return self.tau

    def describe(self) -> str:  # noqa: D102
        return f"|W| > {self.tau:g}"


@dataclass(frozen=True)
class Quantile(OccupancyRule):
    r""":math:`\tau` = the ``q``-quantile of :math:`|W|` (linear interpolation), ``0 <= q < 1``.

    About a fraction ``1 - q`` of the entries is occupied (fewer when :math:`|W|` has ties).

    Examples
    --------
    >>> Quantile(0.9).describe()
    '|W| > q0.9(|W|)'
    """

    q: float

    def __post_init__(self) -> None:
        # q = 1 would leave A empty
        object.__setattr__(self, "q", real(self.q, "Quantile q", 0, 1, open_max=True))

    def threshold(self, magnitudes: torch.Tensor) -> float:  # noqa: D102
        return _quantile(magnitudes, self.q)

    def describe(self) -> str:  # noqa: D102
        return f"|W| > q{self.q:g}(|W|)"


@dataclass(frozen=True)
class MeanStd(OccupancyRule):
    r""":math:`\tau = \operatorname{mean}|W| + k \operatorname{std}|W|` (population std).

    Examples
    --------
    >>> MeanStd(1.0).describe()
    '|W| > mean|W| + 1 std|W|'
    """

    k: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "k", real(self.k, "MeanStd k"))

    def threshold(self, magnitudes: torch.Tensor) -> float:  # noqa: D102
        # two passes in float64 (several times faster than torch.std_mean on CPU)
        flat = magnitudes.reshape(-1).to(torch.float64)
        mean = float(flat.sum()) / flat.numel()
        centred = flat - mean
        std = math.sqrt(max(float(torch.dot(centred, centred)), 0.0) / flat.numel())
        return mean + self.k * std

    def describe(self) -> str:  # noqa: D102
        return f"|W| > mean|W| + {self.k:g} std|W|"


DEFAULT_RULE: OccupancyRule = MeanStd(1.0)
"""The occupancy rule used when a real-valued tensor is given without a threshold."""


_RULE_NAMES = {"absolute": Absolute, "quantile": Quantile, "mean_std": MeanStd}


def occupancy_rule(threshold: object) -> OccupancyRule:
    """Read an occupancy rule from its spec.

    Parameters
    ----------
    threshold
        An :class:`OccupancyRule`; a number ``tau`` (absolute threshold); or a pair
        ``("absolute", tau)``, ``("quantile", q)`` or ``("mean_std", k)``.

    Returns
    -------
    OccupancyRule

    Raises
    ------
    TypeError
        If the spec is none of these kinds (a string, None, a bool ...), or its value is not
        a real number.
    ValueError
        If a pair names no rule, or its value is out of range.

    Examples
    --------
    >>> occupancy_rule(("quantile", 0.9))
    Quantile(q=0.9)
    >>> occupancy_rule(0.05)
    Absolute(tau=0.05)
    """
    if isinstance(threshold, OccupancyRule):
        return threshold
    kinds = ("threshold must be a number tau (|W| > tau), ('absolute', tau), ('quantile', q), "
             "('mean_std', k) or an OccupancyRule")
    if isinstance(threshold, (tuple, list)):
        if len(threshold) != 2 or threshold[0] not in _RULE_NAMES:
            raise ValueError(f"{kinds}, got {threshold!r}")
        name, value = threshold
        value = real(value, f"threshold ({name!r}, value)")
        try:
            return _RULE_NAMES[name](value)
        except ValueError as error:
            raise ValueError(f"threshold {threshold!r}: {error}") from None
    if isinstance(threshold, (bool, np.bool_)) or not isinstance(
        threshold, (int, float, np.integer, np.floating)
    ):
        raise TypeError(f"{kinds}, got {describe(threshold)}")
    return Absolute(real(threshold, "threshold", 0))


def _quantile(values: torch.Tensor, q: float) -> float:
    """Return the q-quantile (linear interpolation, as numpy's default) of a flat tensor.

    Uses :func:`torch.kthvalue`, which, unlike :func:`torch.quantile`, takes any size.
    """
    n = values.numel()
    position = q * (n - 1)
    low = math.floor(position)
    frac = position - low
    values = values.cpu() if values.device.type == "mps" else values
    lo = float(torch.kthvalue(values, low + 1).values)
    if frac == 0.0 or low + 1 >= n:
        return lo
    hi = float(torch.kthvalue(values, low + 2).values)
    return lo + frac * (hi - lo)


def _occupancy(t: torch.Tensor, rule: OccupancyRule) -> tuple[torch.Tensor, float, float]:
    """Return ``(mask, tau, density)``; raise if the mask is empty or full."""
    magnitudes = t.abs() if t.is_floating_point() else t.to(torch.float64).abs()
    tau = float(rule.threshold(magnitudes.reshape(-1)))
    mask = magnitudes > tau
    occupied = int(torch.count_nonzero(mask))
    n = mask.numel()
    if occupied == 0:
        raise ValueError(
            f"threshold {rule.describe()} (tau = {tau:.6g}) leaves the occupied set A empty: "
            f"max |W| = {float(magnitudes.max()):.6g}"
        )
    if occupied == n:
        raise ValueError(
            f"threshold {rule.describe()} (tau = {tau:.6g}) leaves the occupied set A full: "
            f"min |W| = {float(magnitudes.min()):.6g} > tau"
        )
    return mask, tau, occupied / n


def _segment(t: torch.Tensor, threshold: object) -> tuple[torch.Tensor, str, float, float]:
    """Return ``(mask, rule, tau, density)`` of a checked tensor: a mask is its own set.

    A boolean ``t`` is the set itself (``threshold`` must be None); a real one is segmented
    by ``threshold`` (None: :data:`DEFAULT_RULE`).
    """
    if t.dtype == torch.bool:
        if threshold is not None:
            raise ValueError("x is a boolean mask (its own occupied set); threshold must be None")
        return t, "mask", math.nan, float(t.float().mean())
    chosen = DEFAULT_RULE if threshold is None else occupancy_rule(threshold)
    mask, tau, density = _occupancy(t, chosen)
    return mask, chosen.describe(), tau, density


def occupancy(x: np.ndarray | torch.Tensor, threshold: object = DEFAULT_RULE):
    r"""Return the occupied set :math:`A = \{\omega : |W(\omega)| > \tau\}` as a boolean mask.

    Parameters
    ----------
    x
        Real array or tensor of rank 1 to 4, finite (not boolean: a mask is its own set).
    threshold
        The rule for :math:`\tau`: a number (absolute), ``("quantile", q)``,
        ``("mean_std", k)``, or an :class:`OccupancyRule`; default
        :data:`DEFAULT_RULE` = ``MeanStd(1.0)``.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        Boolean mask of ``x``'s shape and type (torch: on ``x``'s device).

    Raises
    ------
    ValueError
        If ``x`` is not a valid real array, the rule is malformed, or the threshold leaves
        :math:`A` empty or full.

    Examples
    --------
    >>> import numpy as np
    >>> occupancy(np.array([0.1, -0.5, 0.3, 0.0]), 0.2)
    array([False,  True,  True, False])
    >>> occupancy(np.array([0.1, -0.5, 0.3, 0.0]), ("quantile", 0.5))
    array([False,  True,  True, False])
    """
    t, was_numpy = as_tensor(x, allow_bool=False)
    rule = occupancy_rule(threshold)
    mask, _, _ = _occupancy(t, rule)
    return mask.numpy() if was_numpy else mask
