"""Build the executed book: stage the sources, execute every toc notebook once, build HTML.

Notebooks are committed without outputs. This script copies the book's sources to
``_build/src``, executes each notebook listed in ``_toc.yml`` there with nbmake
(``pytest --nbmake --overwrite``, in parallel), then builds the HTML from the executed
copies with execution off, warnings as errors and nitpicky references, and checks that
every page of the table of contents was written and is linked from the landing page.

Usage: python tools/build_book.py [--jobs N] [--no-execute] [--build-dir DIR] [--only NB ...]

``--only`` builds a smaller book (the landing page, the named notebooks and the
bibliography): a quick check of one chapter while writing it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml
from sphinx_external_toc.api import FileItem, GlobItem
from sphinx_external_toc.parsing import create_toc_dict, parse_toc_yaml

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"  # not "_build": nbmake skips any path with a "_build" part
STAGE = BUILD / "src"
HTML = BUILD / "html"


def set_build_dir(path: Path) -> None:
    global BUILD, STAGE, HTML
    BUILD = path.resolve()
    STAGE = BUILD / "src"
    HTML = BUILD / "html"


SOURCES = ("_config.yml", "_toc.yml", "book", "notebooks")


def toc_entries(toc_path: Path = ROOT / "_toc.yml", key: str = "file") -> list[str]:
    """Return the ``key`` value (``"file"`` or ``"glob"``) of every toc entry, in reading order.

    The toc is read by ``sphinx_external_toc`` (the parser the book build itself uses), so
    every format it accepts (``jb-book``, ``jb-article``, nested ``sections``) is walked the
    way Sphinx sees it. For ``key="file"`` the root comes first.
    """
    site_map = parse_toc_yaml(toc_path)
    values: list[str] = []

    def walk(docname: str) -> None:
        if key == "file":
            values.append(docname)
        for tree in site_map[docname].subtrees:
            for item in tree.items:
                if isinstance(item, FileItem):
                    walk(str(item))
                elif isinstance(item, GlobItem) and key == "glob":
                    values.append(str(item))

    walk(site_map.root.docname)
    return values


def toc_files(toc_path: Path = ROOT / "_toc.yml") -> list[str]:
    """Return every file named in the table of contents, in reading order (no suffix)."""
    return toc_entries(toc_path, "file")


def toc_notebooks(toc_path: Path = ROOT / "_toc.yml") -> list[Path]:
    """Return the notebooks of the table of contents, as paths relative to the root."""
    notebooks = []
    for name in toc_files(toc_path):
        path = Path(name if name.endswith(".ipynb") else name + ".ipynb")
        if (ROOT / path).is_file():
            notebooks.append(path)
    return notebooks


def restrict_toc(keep: list[str]) -> None:
    """Keep in the staged toc the root, the book/ pages and the notebooks named in ``keep``."""
    path = STAGE / "_toc.yml"
    site_map = parse_toc_yaml(path)
    wanted = {Path(k).stem for k in keep}
    parts = []
    for tree in site_map.root.subtrees:
        tree.items = [item for item in tree.items if not isinstance(item, FileItem)
                      or item.startswith("book/") or Path(item).stem in wanted]
        if tree.items:
            parts.append(tree)
    site_map.root.subtrees = parts
    path.write_text(yaml.safe_dump(create_toc_dict(site_map), sort_keys=False))


def stage() -> None:
    if STAGE.exists():
        shutil.rmtree(STAGE)
    STAGE.mkdir(parents=True)
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, STAGE / name,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        else:
            shutil.copy2(source, STAGE / name)
    config = yaml.safe_load((STAGE / "_config.yml").read_text())
    config["execute"]["execute_notebooks"] = "off"   # executed once, by nbmake, below
    (STAGE / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    # pytest skips folders named _build by default; the staged copy brings its own settings
    (STAGE / "pytest.ini").write_text("[pytest]\nnorecursedirs = .git\n")


def execute(notebooks: list[Path], jobs: int) -> None:
    if not notebooks:
        sys.exit("no notebooks in _toc.yml: nothing to execute")
    env = dict(os.environ, TQDM_DISABLE="1", MPLBACKEND="module://matplotlib_inline.backend_inline")
    command = [sys.executable, "-m", "pytest", "--nbmake", "--overwrite",
               "--nbmake-timeout=1800", "-p", "no:cacheprovider", "-v", "--durations=0",
               "-c", str(STAGE / "pytest.ini"), "--rootdir", str(STAGE)]
    if jobs > 1 and len(notebooks) > 1:
        command += ["-n", str(min(jobs, len(notebooks)))]
    command += [str(STAGE / nb) for nb in notebooks]
    print("+", " ".join(command), flush=True)
    result = subprocess.run(command, cwd=STAGE, env=env)
    if result.returncode != 0:
        sys.exit(f"notebook execution failed (pytest exit {result.returncode})")


def build_html() -> None:
    if HTML.exists():
        shutil.rmtree(HTML)
    jb = Path(sys.executable).with_name("jupyter-book")
    command = [str(jb), "build", str(STAGE), "--path-output", str(BUILD / "jb"),
               "-W", "-n", "--keep-going", "--all"]
    print("+", " ".join(command), flush=True)
    result = subprocess.run(command, cwd=ROOT)
    if result.returncode != 0:
        sys.exit(f"the book build failed (jupyter-book exit {result.returncode})")
    shutil.copytree(BUILD / "jb" / "_build" / "html", HTML)


def check_html() -> None:
    index = HTML / "index.html"
    if not index.is_file():
        sys.exit(f"the book build wrote no {index}")
    missing = [name for name in toc_files(STAGE / "_toc.yml")
               if not (HTML / (name + ".html")).is_file()]
    if missing:
        sys.exit(f"pages missing from the built book: {missing}")
    landing = (HTML / (toc_files(STAGE / "_toc.yml")[0] + ".html")).read_text()
    unlinked = [name for name in toc_files(STAGE / "_toc.yml")[1:]
                if Path(name).name + ".html" not in landing]
    if unlinked:
        sys.exit(f"pages not linked from the landing page: {unlinked}")
    print(f"book OK: {index}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="notebooks executed in parallel")
    parser.add_argument("--no-execute", action="store_true",
                        help="build from the staged sources without executing them")
    parser.add_argument("--build-dir", type=Path, default=BUILD,
                        help="output folder (default: build/); the HTML lands in <dir>/html")
    parser.add_argument("--only", nargs="+", metavar="NOTEBOOK",
                        help="build only these notebooks (with the book/ pages)")
    args = parser.parse_args()
    start = time.perf_counter()
    set_build_dir(args.build_dir)
    stage()
    if args.only:
        restrict_toc(args.only)
    if not args.no_execute:
        execute(toc_notebooks(STAGE / "_toc.yml"), args.jobs)
    build_html()
    check_html()
    print(f"built in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
