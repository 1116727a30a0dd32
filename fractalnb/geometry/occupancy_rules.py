"""Occupancy rules: which boxes of a weight tensor count as occupied."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from .._validate import as_tensor

__all__ = [
    "MODES",
    "OccupancyRule",
    "Absolute",
    "Quantile",
    "MeanStd",
    "DEFAULT_RULE",
    "occupancy_rule",
    "occupancy",
]


Mode = Literal["occupied", "boundary", "differential"]


MODES: tuple[str, ...] = ("occupied", "boundary", "differential")
"""The counting modes (boxes meeting A; boxes on the boundary of A; boxes under a surface)."""


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
        tau = float(self.tau)
        if not math.isfinite(tau) or tau < 0:
            raise ValueError(f"Absolute threshold tau must be finite and >= 0, got {self.tau!r}")
        object.__setattr__(self, "tau", tau)

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
        q = float(self.q)
        if not (0.0 <= q < 1.0):
            raise ValueError(
                f"Quantile q must lie in [0, 1), got {self.q!r} (q = 1 leaves A empty)"
            )
        object.__setattr__(self, "q", q)

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
        k = float(self.k)
        if not math.isfinite(k):
            raise ValueError(f"MeanStd k must be finite, got {self.k!r}")
        object.__setattr__(self, "k", k)

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
    ValueError
        If the spec is not one of these, or its value is out of range.

    Examples
    --------
    >>> occupancy_rule(("quantile", 0.9))
    Quantile(q=0.9)
    >>> occupancy_rule(0.05)
    Absolute(tau=0.05)
    """
    if isinstance(threshold, OccupancyRule):
        return threshold
    if isinstance(threshold, (bool, np.bool_)):
        raise ValueError(f"threshold must be a number or a rule, got {threshold!r}")
    if isinstance(threshold, (int, float, np.integer, np.floating)):
        return Absolute(float(threshold))
    if isinstance(threshold, (tuple, list)) and len(threshold) == 2:
        name, value = threshold
        if name in _RULE_NAMES:
            if isinstance(value, (bool, np.bool_)) or not isinstance(
                value, (int, float, np.integer, np.floating)
            ):
                raise ValueError(f"threshold {name!r} needs a number, got {value!r}")
            return _RULE_NAMES[name](float(value))
    raise ValueError(
        "threshold must be a number tau (|W| > tau), ('absolute', tau), ('quantile', q), "
        f"('mean_std', k) or an OccupancyRule, got {threshold!r}"
    )


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
    rule = occupancy_rule(threshold)
    t, was_numpy = as_tensor(x, allow_bool=False)
    mask, _, _ = _occupancy(t, rule)
    return mask.numpy() if was_numpy else mask
