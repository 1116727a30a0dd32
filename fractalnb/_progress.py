"""One progress bar for the whole package: ``tqdm.auto``, switched off the same way everywhere.

``tqdm.auto`` draws a widget in JupyterLab and a text bar elsewhere. Two of its defaults
do not suit a book that is executed by CI: the notebook bar ignores ``TQDM_DISABLE`` (the
console bar honours it), and without ipywidgets it warns on stderr, which fails the book
build. :func:`progress_bar` honours ``TQDM_DISABLE`` for both bars and imports
``tqdm.auto`` without that warning.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from typing import Any

__all__ = ["progress_bar", "progress_disabled"]


def progress_disabled() -> bool:
    """Return True when the environment variable ``TQDM_DISABLE`` switches bars off."""
    return os.environ.get("TQDM_DISABLE", "").strip().lower() not in ("", "0", "false", "no")


def progress_bar(iterable: Iterable | None = None, *, enabled: bool = True, **kwargs: Any):
    """Return a ``tqdm.auto`` bar, off when ``enabled`` is False or ``TQDM_DISABLE`` is set.

    Parameters
    ----------
    iterable
        What to iterate over (or None, with ``total=`` and manual ``update``).
    enabled
        The caller's own switch (a function's ``progress`` argument).
    **kwargs
        Passed to ``tqdm`` (``desc``, ``total``, ``unit``, ``leave`` …).

    Examples
    --------
    >>> from fractalnb._progress import progress_bar
    >>> sum(progress_bar(range(4), enabled=False))
    6
    """
    from tqdm import TqdmWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found", category=TqdmWarning)
        from tqdm.auto import tqdm
    disable = (not enabled) or progress_disabled() or bool(kwargs.pop("disable", False))
    return tqdm(iterable, disable=disable, **kwargs)
