"""Build the executed book: stage the sources, execute every toc notebook once, build HTML.

Notebooks are committed without outputs. This script copies the book's sources to
``_build/src``, executes each notebook listed in ``_toc.yml`` there with nbmake
(``pytest --nbmake --overwrite``, in parallel), then builds the HTML from the executed
copies with execution off, warnings as errors and nitpicky references, and checks that
every page of the table of contents was written and is linked from the landing page.

It also writes the book's downloads into ``<build>/html/_downloads/``: a zip of every
executed chapter notebook (:data:`ZIP_NAME`; each chapter page's own download button
gives its executed ``.ipynb``) and, with ``--pdf``, the whole book as one PDF
(:data:`PDF_NAME`): Sphinx's LaTeX builder (through Jupyter Book, on the same staged,
executed sources, so nothing is executed twice) and ``latexmk`` with XeLaTeX, from
Debian's TeX Live packages (see :data:`TEX_PACKAGES`).

Usage: python tools/build_book.py [--jobs N] [--no-execute] [--build-dir DIR] [--only NB ...]
                                  [--pdf | --pdf-only]

``--only`` builds a smaller book (the landing page, the named notebooks and the
bibliography): a quick check of one chapter while writing it, without ``-W -n`` (its
references into the chapters left out cannot resolve). ``--pdf`` builds the PDF
after the HTML; ``--pdf-only`` builds only the PDF, from the staged sources of an earlier
build when they are still those of the repository (else it stages and executes first).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
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


SOURCES = ("_config.yml", "_toc.yml", "CITATION.cff", "book", "notebooks")
DOWNLOADS = "_downloads"  # folder of the HTML output that holds the book's downloads
ZIP_NAME = "fractalnb-notebooks.zip"  # every chapter, executed, with its outputs
PDF_NAME = "fractalnb.pdf"  # the whole book
STAMP = ".executed"  # written into the stage once its notebooks ran: the sources' fingerprint
#: Debian's packages the PDF needs (``.ci/run`` installs them; nothing comes from elsewhere)
TEX_PACKAGES = ("texlive-xetex", "texlive-latex-extra", "texlive-fonts-recommended",
                "latexmk", "fonts-freefont-otf", "fonts-lmodern", "fonts-dejavu-core",
                "poppler-utils")


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


def sources_fingerprint() -> str:
    """Return a SHA-256 over the book's sources (names and bytes): what a stage was made from."""
    digest = hashlib.sha256()
    for name in SOURCES:
        source = ROOT / name
        files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
        for path in files:
            parts = path.relative_to(ROOT).parts
            if ".ipynb_checkpoints" in parts or "__pycache__" in parts or "generated" in parts:
                continue
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def stage_is_current() -> bool:
    """Whether the stage holds executed notebooks made from the sources as they are now."""
    stamp = STAGE / STAMP
    return stamp.is_file() and stamp.read_text().strip() == sources_fingerprint()


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
    # set by a Jupyter server for its kernels: the chapters' set-up cell then shows glued
    # numbers under their cells (tools/setup_cell.py), which the book must not
    env.pop("JPY_SESSION_NAME", None)
    workers = min(jobs, len(notebooks)) if jobs > 1 else 1
    # one kernel per core: torch's and OpenMP's default of a thread per core in each of
    # several kernels oversubscribes the cores, and small ops then wait on each other
    # (chapter 13's maps took five times as long beside a second kernel)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    threads = str(max(1, (cores or 1) // workers))
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env.setdefault(name, threads)
    command = [sys.executable, "-m", "pytest", "--nbmake", "--overwrite",
               "--nbmake-timeout=1800", "-p", "no:cacheprovider", "-v", "--durations=0",
               "-c", str(STAGE / "pytest.ini"), "--rootdir", str(STAGE)]
    if workers > 1:
        command += ["-n", str(workers)]
    command += [str(STAGE / nb) for nb in notebooks]
    print("+", " ".join(command), flush=True)
    result = subprocess.run(command, cwd=STAGE, env=env)
    if result.returncode != 0:
        sys.exit(f"notebook execution failed (pytest exit {result.returncode})")
    (STAGE / STAMP).write_text(sources_fingerprint() + "\n")


def build_html(strict: bool = True) -> None:
    """Build the HTML from the stage; ``strict``: warnings are errors, references nitpicky.

    A smaller book (``--only``) is built without ``-W -n``: its references into chapters it
    leaves out cannot resolve, so its warnings are printed for the reader to look through.
    """
    if HTML.exists():
        shutil.rmtree(HTML)
    jb = Path(sys.executable).with_name("jupyter-book")
    command = [str(jb), "build", str(STAGE), "--path-output", str(BUILD / "jb"),
               "--keep-going", "--all"] + (["-W", "-n"] if strict else [])
    print("+", " ".join(command), flush=True)
    result = subprocess.run(command, cwd=ROOT)
    if result.returncode != 0:
        sys.exit(f"the book build failed (jupyter-book exit {result.returncode})")
    shutil.copytree(BUILD / "jb" / "_build" / "html", HTML)


def write_notebook_zip(notebooks: list[Path]) -> Path:
    """Zip the staged (executed) chapter notebooks into the HTML output's downloads.

    The members are ``notebooks/NN_name.ipynb``, as in the repository, so the zip unpacks
    into a folder that the package's notebooks expect.
    """
    target = HTML / DOWNLOADS / ZIP_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for notebook in notebooks:
            archive.write(STAGE / notebook, notebook.as_posix())
    print(f"downloads: {target} ({len(notebooks)} notebooks, {target.stat().st_size} bytes)")
    return target


def write_colab_copies(notebooks: list[Path]) -> None:
    """The chapters' Colab copies in ``<html>/_colab/``, and the Colab buttons pointed there."""
    sys.path.insert(0, str(ROOT / "tools"))
    import colab_copy  # tools/colab_copy.py (imports this module: imported here, not on top)

    colab_copy.publish(HTML, STAGE, notebooks)


def page_titles(toc_path: Path) -> list[str]:
    """Return the title (first ``#`` heading) of every page of the staged toc, in order."""
    titles = []
    for name in toc_files(toc_path):
        base = toc_path.parent / name
        if base.with_suffix(".ipynb").is_file() or (toc_path.parent / name).suffix == ".ipynb":
            path = base if base.suffix == ".ipynb" else base.with_suffix(".ipynb")
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        elif base.with_suffix(".md").is_file():
            text = base.with_suffix(".md").read_text(encoding="utf-8")
        else:
            continue
        match = re.search(r"^# (.+)$", text, re.M)
        if match:
            titles.append(match.group(1).strip())
    return titles


def _words(text: str) -> str:
    """Letters and digits only, lower case, single-spaced: a title as PDF text can match it."""
    return " ".join(re.findall(r"[^\W_]+", text.lower()))


def check_pdf(pdf: Path, titles: list[str], min_pages: int = 1) -> int:
    """Check a PDF with poppler's ``pdfinfo`` / ``pdftotext``; return its page count.

    Parameters
    ----------
    pdf
        The PDF file.
    titles
        Texts that must be in it (compared on their words: case, punctuation, math
        markup and line breaks aside).
    min_pages
        The fewest pages it may have.

    Returns
    -------
    int
        The number of pages.

    Raises
    ------
    SystemExit
        If it is not a PDF, has too few pages or lacks a title.
    """
    if not pdf.is_file() or pdf.read_bytes()[:5] != b"%PDF-":
        sys.exit(f"{pdf} is not a PDF file")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    pages = int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))
    if pages < min_pages:
        sys.exit(f"{pdf} has {pages} pages, fewer than {min_pages}")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    # words broken across lines by hyphenation are joined again
    flat = _words(re.sub(r"-\n\s*", "", text))
    missing = [t for t in titles if _words(re.sub(r"\$[^$]*\$", " ", t)) not in flat]
    if missing:
        sys.exit(f"{pdf} lacks these page titles: {missing}")
    return pages


def build_pdf(toc_path: Path | None = None) -> Path:
    """Build the whole book as one PDF from the staged sources: LaTeX, then ``latexmk``.

    Sphinx's LaTeX builder (through Jupyter Book:
    XeLaTeX, Sphinx's LaTeX theme, see ``latex:`` in ``_config.yml``) writes
    ``<build>/jb/_build/latex``;
    ``latexmk`` (the Makefile Sphinx writes there) makes the PDF, which is checked
    (:func:`check_pdf`) and copied to ``<build>/html/_downloads/`` when the HTML is there.

    Returns
    -------
    pathlib.Path
        The PDF, ``<build>/fractalnb.pdf``.
    """
    missing = [tool for tool in ("xelatex", "latexmk", "pdftotext", "pdfinfo")
               if shutil.which(tool) is None]
    if missing:
        sys.exit(f"the PDF needs {', '.join(missing)}: apt-get install {' '.join(TEX_PACKAGES)}")
    start = time.perf_counter()
    latex = BUILD / "jb" / "_build" / "latex"
    if latex.exists():
        shutil.rmtree(latex)
    jb = Path(sys.executable).with_name("jupyter-book")
    # no -W here: the HTML build of the same sources has failed on every warning already;
    # what only LaTeX warns about is printed, and the PDF itself is checked below
    command = [str(jb), "build", str(STAGE), "--path-output", str(BUILD / "jb"),
               "--builder", "latex", "-n", "--keep-going"]
    print("+", " ".join(command), flush=True)
    result = subprocess.run(command, cwd=ROOT)
    if result.returncode != 0:
        sys.exit(f"the LaTeX build failed (jupyter-book exit {result.returncode})")
    tex = latex / (Path(PDF_NAME).stem + ".tex")
    if not tex.is_file():
        sys.exit(f"the LaTeX build wrote no {tex} (see latex.latex_documents in _config.yml)")
    command = ["make", "-C", str(latex), "all-pdf",
               "LATEXMKOPTS=-interaction=nonstopmode -halt-on-error -file-line-error"]
    print("+", " ".join(command), flush=True)
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        log = tex.with_suffix(".log")
        tail = log.read_text(errors="replace")[-4000:] if log.is_file() else result.stdout[-4000:]
        sys.exit(f"latexmk failed (exit {result.returncode}); the end of {log}:\n{tail}")
    pdf = BUILD / PDF_NAME
    shutil.copy2(tex.with_suffix(".pdf"), pdf)
    toc_path = toc_path or STAGE / "_toc.yml"
    pages = check_pdf(pdf, page_titles(toc_path), min_pages=len(toc_files(toc_path)))
    if HTML.is_dir():
        (HTML / DOWNLOADS).mkdir(exist_ok=True)
        shutil.copy2(pdf, HTML / DOWNLOADS / PDF_NAME)
    print(f"PDF OK: {pdf} ({pages} pages, {pdf.stat().st_size / 1e6:.1f} MB, "
          f"built in {time.perf_counter() - start:.0f} s)")
    return pdf


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
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--pdf", action="store_true",
                      help=f"also build the whole book as one PDF ({PDF_NAME})")
    what.add_argument("--pdf-only", action="store_true",
                      help="build only the PDF, reusing the staged executed sources when they "
                           "are current")
    args = parser.parse_args()
    start = time.perf_counter()
    set_build_dir(args.build_dir)
    if args.pdf_only and not args.only and (args.no_execute or stage_is_current()):
        print(f"PDF from the staged sources in {STAGE} (already executed)")
        build_pdf()
        return
    stage()
    if args.only:
        restrict_toc(args.only)
    notebooks = toc_notebooks(STAGE / "_toc.yml")
    if not args.no_execute:
        execute(notebooks, args.jobs)
    if not args.pdf_only:
        build_html(strict=not args.only)
        write_notebook_zip(notebooks)
        write_colab_copies(notebooks)
        check_html()
    if args.pdf or args.pdf_only:
        build_pdf()
    print(f"built in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
