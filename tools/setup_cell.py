"""Give every chapter the hidden set-up cell and the project's kernelspec (idempotent).

A chapter launched from the book (Binder, Colab, a JupyterHub) or opened in JupyterLab
starts with a small code cell, right after the title, that

- installs ``fractalnb`` when it is not importable: ``pip install`` of
  ``$FRACTALNB_PIP_SPEC`` if set (the tests point it at the local checkout), else of
  ``git+<repository url>@<branch>`` from ``_config.yml``'s ``repository:`` block, and
  ``myst-nb`` (the chapters' ``glue``) when that is missing;
- in a chapter that reads CIFAR-10, obtains it: the variant of ``FRACTALNB_CIFAR10``
  through the package's own loader, else the full set through torchvision (internet)
  and the sample derived from it, else a clear error saying how to get the data;
- in a kernel started by a Jupyter server (JupyterLab, Binder, a JupyterHub: the server
  sets ``JPY_SESSION_NAME``) or in Colab, shows each number glued with
  ``glue(..., display=False)`` under the cell that computes it (``key = value``):
  JupyterLab renders ``{glue:text}`key``` as the key only. Book builds (nbclient) set no
  ``JPY_SESSION_NAME``, so the book is unchanged.

The cell carries the tags ``remove-cell`` (not in the rendered book; it stays in the
downloaded ``.ipynb``) and :data:`TAG`. The tool also sets the notebook's kernelspec to the
one ``make`` installs (``python3``, *Python 3 (fractalnb)*) and marks the code cells of
every solution (between ``{solution-start}`` and ``{solution-end}``) with
``metadata.jupyter.source_hidden`` and ``outputs_hidden``, so JupyterLab shows them
collapsed, like the book's dropdowns.

Usage::

    python tools/setup_cell.py [NOTEBOOK ...]      # default: notebooks/*.ipynb
    python tools/setup_cell.py --check              # exit 1 when a notebook is not up to date

Running it twice changes nothing the second time.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
TAG = "fractalnb-setup"
TAGS = ["remove-cell", TAG]
KERNELSPEC = {"display_name": "Python 3 (fractalnb)", "language": "python", "name": "python3"}
PIP_ENV = "FRACTALNB_PIP_SPEC"
#: code that marks a chapter as one that reads CIFAR-10
CIFAR_PATTERN = re.compile(r"load_cifar10|cifar10_datasets|cifar10_loaders|trained_model")
SOLUTION_START = re.compile(r"```\{solution-start\}")
SOLUTION_END = re.compile(r"```\{solution-end\}")

_INSTALL = '''\
# Set-up for a copy opened outside a clone of the repository (Binder,
# Colab, a JupyterHub): installs fractalnb where it is missing{data_note}.
# In JupyterLab it shows each glued number under the cell computing it.
# Hidden in the book, where it does nothing (tools/setup_cell.py).
import importlib.util
import os
import shlex
import subprocess
import sys

PIP_SPEC = os.environ.get(
    "{env}",
    "{default}",
)
for module, spec in (("fractalnb", PIP_SPEC), ("myst_nb", "myst-nb")):
    if importlib.util.find_spec(module) is None:
        print(f"{{module}} is not installed: pip install {{spec}}")
        pip = [sys.executable, "-m", "pip", "install", "-q"]
        subprocess.run([*pip, *shlex.split(spec)], check=True)
        importlib.invalidate_caches()
'''

_DATA = '''
from fractalnb.training import load_cifar10, variant_from_env

try:
    load_cifar10(variant_from_env())
except FileNotFoundError as missing:
    print("CIFAR-10 is not here: downloading it (about 170 MB) ...")
    try:
        load_cifar10("full")
    except ConnectionError as offline:
        raise RuntimeError(
            f"This chapter needs CIFAR-10. {{missing}} Downloading the full "
            f"set failed too: {{offline}}"
        ) from None
    load_cifar10(variant_from_env())
'''

_GLUE = '''
if os.environ.get("JPY_SESSION_NAME") or "google.colab" in sys.modules:
    import myst_nb
    from IPython.display import Markdown
    from IPython.display import display as show

    _book_glue = myst_nb.glue

    def _glue_and_show(name, variable, display=True):
        """Glue as the book does; also show a hidden number here."""
        _book_glue(name, variable, display)
        number = isinstance(variable, (int, float, str)) or (
            type(variable).__module__ == "numpy"
        )
        if number and not display:
            show(Markdown(f"`{{name}}` = **{{variable}}**"))

    myst_nb.glue = _glue_and_show
'''


def repository_spec(config_path: Path = ROOT / "_config.yml") -> str:
    """Return ``git+<url>@<branch>`` from the ``repository:`` block of ``_config.yml``."""
    config = yaml.safe_load(config_path.read_text()) or {}
    repository = config.get("repository") or {}
    url, branch = repository.get("url"), repository.get("branch") or "main"
    if not url:
        raise ValueError(f"{config_path} has no repository.url to install fractalnb from")
    return f"git+{url.rstrip('/')}@{branch}"


def setup_source(needs_data: bool, default_spec: str) -> str:
    """Return the set-up cell's code (lines of at most 79 characters)."""
    source = _INSTALL.format(env=PIP_ENV, default=default_spec,
                             data_note=",\n# fetches CIFAR-10" if needs_data else "")
    if needs_data:
        source += _DATA.format()
    source += _GLUE.format()
    return source.rstrip("\n")


def needs_cifar10(notebook: nbformat.NotebookNode) -> bool:
    """Whether the chapter's code reads CIFAR-10 (or a model trained on it)."""
    return any(CIFAR_PATTERN.search(cell.source) for cell in notebook.cells
               if cell.cell_type == "code" and TAG not in cell.metadata.get("tags", []))


def is_setup_cell(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "code" and TAG in cell.metadata.get("tags", [])


def apply(notebook: nbformat.NotebookNode, default_spec: str) -> bool:
    """Add or update the set-up cell, kernelspec and hidden solutions; return whether changed."""
    before = nbformat.writes(notebook)
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    source = setup_source(needs_cifar10(notebook), default_spec)
    existing = [i for i, cell in enumerate(notebook.cells) if is_setup_cell(cell)]
    for index in reversed(existing[1:]):
        del notebook.cells[index]
    if existing:
        cell = notebook.cells[existing[0]]
        cell.source = source
        cell.metadata["tags"] = TAGS + [t for t in cell.metadata.get("tags", []) if t not in TAGS]
    else:
        cell = nbformat.v4.new_code_cell(source, metadata={"tags": list(TAGS)})
        position = 1 if notebook.cells and notebook.cells[0].cell_type == "markdown" else 0
        notebook.cells.insert(position, cell)
    inside = False
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            if SOLUTION_START.search(cell.source):
                inside = True
            if SOLUTION_END.search(cell.source):
                inside = False
        elif inside:
            cell.metadata.setdefault("jupyter", {}).update(
                {"source_hidden": True, "outputs_hidden": True})
    return nbformat.writes(notebook) != before


def update_file(path: Path, default_spec: str, check: bool = False) -> bool:
    """Apply :func:`apply` to one notebook file (load, modify, save); return whether changed."""
    notebook = nbformat.read(path, as_version=4)
    changed = apply(notebook, default_spec)
    if changed and not check:
        nbformat.write(notebook, path)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to update (default: notebooks/*.ipynb)")
    parser.add_argument("--config", type=Path, default=ROOT / "_config.yml",
                        help="the _config.yml whose repository: block names the install URL")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 when a notebook is not up to date")
    args = parser.parse_args(argv)
    spec = repository_spec(args.config)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    stale = [path for path in paths if update_file(path, spec, check=args.check)]
    for path in stale:
        print(f"{'not up to date' if args.check else 'updated'}: {path}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
