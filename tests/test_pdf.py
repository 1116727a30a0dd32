"""The whole book as one PDF (``make pdf``): tools/build_book.py's LaTeX + latexmk step.

A tiny book made with the project's ``_config.yml`` and Sphinx extension is built into a
PDF the way ``make pdf`` builds the book (the staged, executed notebook is not executed
again); the PDF must have pages, every page title, the book's Unicode (Greek letters,
≥, →, ×) and the figure. Needs Debian's TeX Live (``.ci/run`` installs it): skipped
without it, except on CI. The book's own PDF, where a build left one, is checked too.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import build_book  # noqa: E402

HAVE_TEX = all(shutil.which(tool) for tool in ("xelatex", "latexmk", "pdftotext", "pdfinfo"))
if not HAVE_TEX and os.environ.get("CI"):
    pytest.fail("CI needs TeX Live for the PDF: apt-get install "
                + " ".join(build_book.TEX_PACKAGES), pytrace=False)
needs_tex = pytest.mark.skipif(not HAVE_TEX, reason="TeX Live (xelatex, latexmk) not installed")

TITLE = "Zebrafish: a chapter with γ ≥ 1, κ → 0 and 3 × 3"
INTRO = """# Fractal Geometry of Deep Networks

Greek letters and symbols in the text: γ ≥ 0, κ → ∞, 3 × 3, λ, Ω; and math
$\\gamma \\geq \\kappa'(1)$:

$$
N(r) \\sim r^{-D}, \\qquad \\int_0^1 x \\, dx = \\tfrac{1}{2}
$$

## Downloads

```{book-downloads}
```

```{book-version}
```
"""


def _png_output() -> dict:
    import base64
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([1, 2, 3], [1, 4, 9])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return {"output_type": "display_data", "metadata": {},
            "data": {"image/png": base64.b64encode(buffer.getvalue()).decode(),
                     "text/plain": ["<Figure>"]}}


@pytest.fixture(scope="module")
def tiny_pdf(tmp_path_factory) -> Path:
    """Stage a one-chapter book (its notebook already executed) and build its PDF."""
    root = tmp_path_factory.mktemp("pdfbook")
    (root / "book").mkdir()
    (root / "notebooks").mkdir()
    shutil.copytree(ROOT / "book" / "_ext", root / "book" / "_ext")
    shutil.copy2(ROOT / "book" / "references.bib", root / "book" / "references.bib")
    shutil.copy2(ROOT / "CITATION.cff", root / "CITATION.cff")
    shutil.copy2(ROOT / "_config.yml", root / "_config.yml")
    toc = {"format": "jb-book", "root": "book/intro",
           "chapters": [{"file": "notebooks/00_zebrafish"}]}
    (root / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))
    (root / "book" / "intro.md").write_text(INTRO)
    cells = [{"cell_type": "markdown", "id": "a", "metadata": {},
              "source": f"# {TITLE}\n\nText: γ ≥ 1."},
             {"cell_type": "code", "id": "b", "metadata": {}, "execution_count": 1,
              "source": "print('γ ≥ 1, κ → 0, 3 × 3')",
              "outputs": [{"output_type": "stream", "name": "stdout",
                           "text": "γ ≥ 1, κ → 0, 3 × 3\n"}, _png_output()]}]
    notebook = {"cells": cells, "nbformat": 4, "nbformat_minor": 5, "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}}
    (root / "notebooks" / "00_zebrafish.ipynb").write_text(json.dumps(notebook))
    saved = (build_book.ROOT, build_book.BUILD, build_book.STAGE, build_book.HTML)
    try:
        build_book.ROOT = root
        build_book.set_build_dir(root / "build")
        build_book.stage()
        pdf = build_book.build_pdf()
    finally:
        build_book.ROOT, build_book.BUILD, build_book.STAGE, build_book.HTML = saved
    return pdf


def _text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


@needs_tex
def test_the_pdf_has_pages_titles_unicode_and_the_figure(tiny_pdf):
    assert tiny_pdf.name == build_book.PDF_NAME
    pages = build_book.check_pdf(tiny_pdf, ["Fractal Geometry of Deep Networks", TITLE],
                                 min_pages=2)
    assert 2 <= pages < 40
    text = _text(tiny_pdf)
    for symbol in ("γ", "≥", "→", "×", "κ", "λ", "Ω"):
        assert symbol in text, f"{symbol} is missing from the PDF"
    assert re.search(r"Version \d+\.\d+\.\d+ of the book", text)
    images = subprocess.run(["pdfimages", "-list", str(tiny_pdf)], capture_output=True,
                            text=True, check=True).stdout
    assert re.search(r"^\s*\d+\s+\d+\s+image\s", images, re.M), "the figure is not in the PDF"
    log = (tiny_pdf.parent / "jb" / "_build" / "latex" / "fractalnb.log").read_text(
        errors="replace")
    assert "Missing character" not in log, "a character has no glyph in the PDF's fonts"


@needs_tex
def test_check_pdf_fails_on_a_missing_title_or_too_few_pages(tiny_pdf):
    with pytest.raises(SystemExit, match="lacks these page titles"):
        build_book.check_pdf(tiny_pdf, ["A title that is nowhere"])
    with pytest.raises(SystemExit, match="fewer than"):
        build_book.check_pdf(tiny_pdf, [], min_pages=10_000)


def test_check_pdf_rejects_what_is_not_a_pdf(tmp_path):
    fake = tmp_path / "fractalnb.pdf"
    fake.write_text("<html>not found</html>")
    with pytest.raises(SystemExit, match="not a PDF"):
        build_book.check_pdf(fake, [])


BOOK_PDF = ROOT / "build" / build_book.PDF_NAME


@needs_tex
@pytest.mark.skipif(not BOOK_PDF.is_file(), reason="no build/fractalnb.pdf (make pdf)")
def test_the_book_pdf_has_every_chapter():
    toc = ROOT / "build" / "src" / "_toc.yml"
    toc = toc if toc.is_file() else ROOT / "_toc.yml"
    titles = build_book.page_titles(toc)
    assert len(titles) == len(build_book.toc_files(toc))
    pages = build_book.check_pdf(BOOK_PDF, titles, min_pages=len(titles))
    assert pages >= 100  # a whole book, not a title page
