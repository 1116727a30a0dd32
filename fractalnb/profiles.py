"""The run profile: one switch between a quick run (CI, laptops) and the papers' scale.

The profile is read from the environment variable ``FRACTALNB_PROFILE`` here and
nowhere else. Every notebook's ``parameters`` cell calls :func:`current` and
:func:`pick`, so the rendered book states which profile produced its numbers.

``quick`` (the default)
    Small data, few epochs, few Monte Carlo repetitions: every chapter finishes
    on two CPU cores.
``full``
    The papers' scale: standard model widths, many epochs and repetitions.
    Meant for a GPU.

Between the two sits the **reference** tier, which is not a switch: the largest runs of
Parts III and V that fit a fixed budget on the machines that build the book (two CPU
cores, the CIFAR-10 sample), trained once by ``make reference``, stored with their
provenance in ``results/reference`` and checked by the test suite
(:mod:`fractalnb.reference`). Chapters 08, 09, 11 and 12 read their conclusions from them
in every profile, beside the live run of the active profile.

Examples
--------
>>> from fractalnb import profiles
>>> profiles.current() in profiles.PROFILES
True
>>> profiles.pick(quick=3, full=200, profile="full")
200
"""

from __future__ import annotations

import os
from typing import TypeVar

from ._validate import choice

__all__ = ["PROFILE_ENV", "PROFILES", "current", "pick"]

PROFILE_ENV = "FRACTALNB_PROFILE"
"""Name of the environment variable that selects the profile."""

PROFILES = ("quick", "full")
"""The valid profile names."""

T = TypeVar("T")


def _profile_name(profile: object, name: str = "profile") -> str:
    try:
        return choice(profile, name, PROFILES)
    except ValueError as error:
        raise ValueError(f"{error} (set {PROFILE_ENV}=quick or {PROFILE_ENV}=full)") from None


def current() -> str:
    """Return the active run profile, ``"quick"`` unless ``FRACTALNB_PROFILE`` says otherwise.

    Returns
    -------
    str
        ``"quick"`` or ``"full"``.

    Raises
    ------
    ValueError
        If ``FRACTALNB_PROFILE`` holds anything but ``quick`` or ``full``.

    Examples
    --------
    >>> current() in ("quick", "full")
    True
    """
    value = os.environ.get(PROFILE_ENV, "quick").strip().lower() or "quick"
    return _profile_name(value, PROFILE_ENV)


def pick(*, quick: T, full: T, profile: str | None = None) -> T:
    """Choose a value by profile: the one switch that every size in the book goes through.

    Parameters
    ----------
    quick, full
        The values for the two profiles.
    profile
        Profile to pick for; the active one (:func:`current`) when ``None``.

    Returns
    -------
    object
        ``quick`` or ``full``.

    Examples
    --------
    >>> pick(quick=2, full=50, profile="quick")
    2
    """
    chosen = current() if profile is None else _profile_name(profile)
    return quick if chosen == "quick" else full
