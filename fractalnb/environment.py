"""What the book ran on: versions, device, profile, data variant.

Examples
--------
>>> from fractalnb.environment import environment_report
>>> "fractalnb" in environment_report()["item"].tolist()
True
"""

from __future__ import annotations

import os
import platform
from importlib import metadata

import pandas as pd
import torch

from . import profiles

__all__ = ["default_device", "environment_report"]

DEVICE_ENV = "FRACTALNB_DEVICE"


def default_device() -> torch.device:
    """Return the device for heavy work: ``$FRACTALNB_DEVICE``, else CUDA if present, else CPU.

    Raises
    ------
    ValueError
        If ``FRACTALNB_DEVICE`` names a device torch does not know or cannot use.

    Examples
    --------
    >>> default_device().type in ("cpu", "cuda", "mps")
    True
    """
    requested = os.environ.get(DEVICE_ENV)
    if requested:
        try:
            device = torch.device(requested)
        except RuntimeError as error:
            raise ValueError(f"{DEVICE_ENV}={requested!r} is not a torch device") from error
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"{DEVICE_ENV}={requested!r} but CUDA is not available here")
        return device
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def environment_report() -> pd.DataFrame:
    """Tabulate the software and hardware a computation ran on.

    Returns
    -------
    pandas.DataFrame
        Columns ``item`` and ``value``: Python, the key packages, the torch device,
        CPU threads, the run profile and the CIFAR-10 variant.

    Examples
    --------
    >>> from fractalnb.environment import environment_report
    >>> report = environment_report()
    >>> "torch" in set(report.iloc[:, 0])   # doctest: +SKIP
    True
    """
    from .training.data import variant_from_env

    device = default_device()
    rows = [
        ("python", platform.python_version()),
        ("platform", platform.platform(terse=True)),
    ]
    for package in ("fractalnb", "numpy", "scipy", "torch", "torchvision", "pandas",
                    "matplotlib", "seaborn", "jupyter-book"):
        rows.append((package, _version(package)))
    rows += [
        ("device", str(device) + (f" ({torch.cuda.get_device_name(device)})"
                                  if device.type == "cuda" else "")),
        ("torch CPU threads", str(torch.get_num_threads())),
        ("profile", profiles.current()),
        ("CIFAR-10 variant", variant_from_env()),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])
