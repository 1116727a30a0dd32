"""Refresh JupyterLab's working copy of the chapters: ``make lab`` opens the copy, not notebooks/.

The chapters in ``notebooks/`` are committed without outputs. JupyterLab saves a notebook
with its outputs, so ``make lab`` never opens them there: it opens ``build/lab/notebooks/``
(ignored by git), which this script fills. A chapter is copied when its copy is missing or
older than the chapter; a copy the reader has saved since (with outputs) is kept until the
chapter itself changes. Nothing is ever written into ``notebooks/``.

Usage: python tools/lab_copy.py [SOURCE_DIR] [COPY_DIR]
(default: notebooks -> build/lab/notebooks)
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "notebooks"
COPY = ROOT / "build" / "lab" / "notebooks"


def refresh(source: Path = SOURCE, copy: Path = COPY) -> list[Path]:
    """Copy every ``source/*.ipynb`` missing from ``copy`` or newer than its copy."""
    copy.mkdir(parents=True, exist_ok=True)
    copied = []
    for path in sorted(source.glob("*.ipynb")):
        target = copy / path.name
        if not target.is_file() or target.stat().st_mtime < path.stat().st_mtime:
            shutil.copy2(path, target)
            copied.append(target)
    return copied


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    source = Path(args[0]) if args else SOURCE
    copy = Path(args[1]) if len(args) > 1 else COPY
    copied = refresh(source, copy)
    print(f"JupyterLab works on {copy} ({len(copied)} chapter(s) refreshed from {source}); "
          f"{source} is never written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
