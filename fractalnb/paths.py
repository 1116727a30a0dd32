"""Where fractalnb keeps data and cached results.

Two environment variables, both optional:

``FRACTALNB_DATA_DIR``
    Folder for datasets (the full CIFAR-10 lands in ``<data dir>/cifar-10-batches-py``).
    Default: ``~/.cache/fractalnb/data``.
``FRACTALNB_CACHE_DIR``
    Folder for computed results that are expensive to redo (trained models and
    their checkpoints). Default: ``~/.cache/fractalnb``. The Makefile points it at
    ``.cache/fractalnb`` inside the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir", "data_dir", "repo_root"]


def repo_root() -> Path:
    """Return the folder that holds the ``fractalnb`` package (the repository for a source install).

    Examples
    --------
    >>> (repo_root() / "fractalnb").is_dir()
    True
    """
    return Path(__file__).resolve().parent.parent


def _env_dir(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    path = Path(value).expanduser() if value else default
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """Return (and create) the dataset folder, ``$FRACTALNB_DATA_DIR`` by default ``~/.cache/...``.

    Examples
    --------
    >>> data_dir().is_dir()
    True
    """
    return _env_dir("FRACTALNB_DATA_DIR", Path.home() / ".cache" / "fractalnb" / "data")


def cache_dir() -> Path:
    """Return (and create) the results cache, ``$FRACTALNB_CACHE_DIR`` or ``~/.cache/fractalnb``.

    Examples
    --------
    >>> cache_dir().is_dir()
    True
    """
    return _env_dir("FRACTALNB_CACHE_DIR", Path.home() / ".cache" / "fractalnb")
