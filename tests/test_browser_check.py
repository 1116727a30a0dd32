"""tools/browser_check.py on a tiny book built with the book's own configuration.

The check must pass on the intact book and fail when a figure is removed, when a math
block is broken (a TeX error, or delimiters left raw), when a solution is not hidden and
when a script logs an error. Its layout and text checks (tools/page_checks.py) run on the
tiny book's chapter page with a fragment of tests/browser_fixtures/ in its article (the
book's theme, in the check's 1280-px window): good.html must pass, each other fragment
must fail exactly one check. Needs Debian's Chromium (``apt-get install chromium
chromium-driver``, done by ``.ci/run``): skipped without it, except on CI.
"""

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
import browser_check  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
HAVE_BROWSER = Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()

if not HAVE_BROWSER and os.environ.get("CI"):
    pytest.fail("CI needs Chromium for the browser check: apt-get install chromium "
                "chromium-driver", pytrace=False)
pytestmark = pytest.mark.skipif(not HAVE_BROWSER, reason="Chromium/chromedriver not installed")

INTRO = """# Tiny book

A page with inline math $x^2 + y^2$ and a figure.

$$
\\int_0^1 x \\, dx = \\tfrac{1}{2}
$$

```{image} square.png
:alt: a grey square
```

```{book-downloads}
```
"""

CHAPTER = """# Zebrafish chapter

The word zebrafish is here so that the search page finds this chapter.

```{exercise}
:label: ex-tiny
What is $1 + 1$?
```

```{solution} ex-tiny
:class: dropdown
It is $2$.
```
"""


def _png(path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1, 1))
    ax.imshow([[0.5]], cmap="gray", vmin=0, vmax=1)
    ax.axis("off")
    fig.savefig(path)
    plt.close(fig)


@pytest.fixture(scope="module")
def tiny_book(tmp_path_factory) -> Path:
    """Build a two-page book with the project's _config.yml and Sphinx extension."""
    src = tmp_path_factory.mktemp("tiny") / "src"
    (src / "book").mkdir(parents=True)
    shutil.copytree(ROOT / "book" / "_ext", src / "book" / "_ext")
    shutil.copy2(ROOT / "book" / "references.bib", src / "book" / "references.bib")
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["title"] = "Tiny book"
    config["execute"]["execute_notebooks"] = "off"
    (src / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    toc = {"format": "jb-book", "root": "book/intro",
           "chapters": [{"file": "notebooks/zebrafish"}]}
    (src / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))
    (src / "book" / "intro.md").write_text(INTRO)
    _png(src / "book" / "square.png")
    (src / "notebooks").mkdir()
    (src / "notebooks" / "zebrafish.md").write_text(CHAPTER)
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run([str(jupyter_book), "build", str(src), "--path-output",
                             str(src.parent / "out"), "-W", "-n", "--keep-going"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    html = src.parent / "out" / "_build" / "html"
    _downloads(html)
    return html


def _downloads(html: Path) -> None:
    """What tools/build_book.py writes beside the HTML: the chapters' zip and the PDF."""
    import json
    import zipfile

    import matplotlib.pyplot as plt

    downloads = html / "_downloads"
    downloads.mkdir()
    notebook = {"cells": [{"cell_type": "code", "metadata": {}, "source": "1", "outputs": [
        {"output_type": "execute_result", "data": {"text/plain": "1"}, "metadata": {},
         "execution_count": 1}], "execution_count": 1}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    with zipfile.ZipFile(downloads / "fractalnb-notebooks.zip", "w") as archive:
        archive.writestr("notebooks/zebrafish.ipynb", json.dumps(notebook))
    fig = plt.figure()
    fig.savefig(downloads / "fractalnb.pdf")
    plt.close(fig)


def _check(html: Path, tmp_path: Path, capsys) -> tuple[int, str]:
    status = browser_check.main([str(html), "--toc", str(html.parent.parent.parent / "src"
                                                          / "_toc.yml"),
                                 "--screenshots", str(tmp_path / "shots"),
                                 "--chromium", CHROMIUM, "--chromedriver", CHROMEDRIVER])
    captured = capsys.readouterr()
    # the browser itself failing (status 2: e.g. a driver timeout) is not the verdict a test
    # asks about: show what it said instead of a bare "assert 2 == 1"
    assert status != 2, f"the browser check could not run: {captured.err}{captured.out}"
    return status, captured.out


def _copy(html: Path, tmp_path: Path) -> Path:
    """A copy of the built site, beside a copy of its sources (the check reads the toc)."""
    target = tmp_path / "out" / "_build" / "html"
    shutil.copytree(html, target)
    shutil.copytree(html.parent.parent.parent / "src", tmp_path / "src")
    return target


def test_toc_pages_reads_parts_and_chapters(tmp_path):
    toc = tmp_path / "_toc.yml"
    toc.write_text(yaml.safe_dump({"format": "jb-book", "root": "book/intro", "parts": [
        {"caption": "A", "chapters": [{"file": "notebooks/01_a.ipynb"},
                                      {"file": "book/x", "sections": [{"file": "book/y"}]}]}]}))
    assert browser_check.toc_pages(toc) == ["book/intro.html", "notebooks/01_a.html",
                                            "book/x.html", "book/y.html"]


def test_the_intact_book_passes_and_screenshots_are_saved(tiny_book, tmp_path, capsys):
    html = _copy(tiny_book, tmp_path)
    status, out = _check(html, tmp_path, capsys)
    assert status == 0, out
    assert "FAIL" not in out
    assert re.search(r"book/intro.html\s+1 img\s+\d+ math", out), out
    assert re.search(r"notebooks/zebrafish.html\s+0 img\s+\d+ math\s+1 sol", out), out
    for name in ("landing.png", "chapter.png"):
        shot = tmp_path / "shots" / name
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert shot.stat().st_size > 10_000  # a rendered page, not an empty picture


def test_a_removed_figure_fails(tiny_book, tmp_path, capsys):
    html = _copy(tiny_book, tmp_path)
    images = list((html / "_images").glob("*.png"))
    assert images
    for image in images:
        image.unlink()
    status, out = _check(html, tmp_path, capsys)
    assert status == 1
    assert "FAIL book/intro.html: image not loaded" in out


@pytest.mark.parametrize(("broken", "message"), [
    ("\\int_0^{1", "math not typeset"),     # an unclosed brace: MathJax leaves it raw
    ("\\notamacro_0^1", "MathJax error"),  # an undefined macro: an error box
])
def test_a_broken_math_block_fails(tiny_book, tmp_path, capsys, broken, message):
    html = _copy(tiny_book, tmp_path)
    page = html / "book" / "intro.html"
    text = page.read_text()
    assert "\\int_0^1" in text
    page.write_text(text.replace("\\int_0^1", broken, 1))
    status, out = _check(html, tmp_path, capsys)
    assert status == 1
    assert f"FAIL book/intro.html: {message}" in out, out


def test_raw_tex_left_in_the_text_fails(tiny_book, tmp_path, capsys):
    html = _copy(tiny_book, tmp_path)
    page = html / "book" / "intro.html"
    text = page.read_text()
    # what a display-math block that the parser missed looks like on the page
    text = text.replace("A page with inline math", "A page with $$ a_{broken} math", 1)
    page.write_text(text)
    status, out = _check(html, tmp_path, capsys)
    assert status == 1
    assert "FAIL book/intro.html: raw TeX left in the text" in out


def test_a_solution_that_does_not_hide_fails(tiny_book, tmp_path, capsys):
    html = _copy(tiny_book, tmp_path)
    page = html / "notebooks" / "zebrafish.html"
    text = page.read_text()
    assert "solution dropdown" in text
    # without sphinx-togglebutton's script the solution is shown from the start
    text, removed = re.subn(r'<script src="[^"]*togglebutton\.js[^"]*"></script>', "", text)
    assert removed == 1
    page.write_text(text)
    status, out = _check(html, tmp_path, capsys)
    assert status == 1
    assert "FAIL notebooks/zebrafish.html: hidden solution 1 is shown before a click" in out


def test_a_solution_left_open_fails(tiny_book, tmp_path, capsys):
    html = _copy(tiny_book, tmp_path)
    page = html / "notebooks" / "zebrafish.html"
    text = page.read_text()
    page.write_text(text.replace("solution dropdown", "solution", 1))  # no :class: dropdown
    status, out = _check(html, tmp_path, capsys)
    assert status == 1
    assert "FAIL notebooks/zebrafish.html: solution not hidden" in out


def test_a_console_error_fails(tiny_book, tmp_path, capsys):
    html = _copy(tiny_book, tmp_path)
    page = html / "notebooks" / "zebrafish.html"
    page.write_text(page.read_text().replace(
        "</body>", "<script>console.error('tiny book: boom')</script></body>", 1))
    status, out = _check(html, tmp_path, capsys)
    assert status == 1
    assert "console error" in out and "boom" in out


def test_the_repository_button_links_the_configured_repository(tiny_book):
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    page = (tiny_book / "notebooks" / "zebrafish.html").read_text()
    assert f'href="{config["url"]}"' in page
    assert f'{config["url"]}/edit/{config["branch"]}/notebooks/zebrafish.md' in page
    assert "Project name not set" not in page


def test_a_download_that_is_not_what_it_claims_fails(tiny_book, tmp_path, capsys):
    html = _copy(tiny_book, tmp_path)
    (html / "_downloads" / "fractalnb.pdf").write_text("<html>not a pdf</html>")
    (html / "_downloads" / "fractalnb-notebooks.zip").unlink()
    status, out = _check(html, tmp_path, capsys)
    assert status == 1
    assert "FAIL book/intro.html: fractalnb.pdf is not a PDF file" in out, out
    assert "FAIL book/intro.html: download /_downloads/fractalnb-notebooks.zip does not load" \
        in out, out


def test_a_landing_page_without_downloads_fails(tiny_book, tmp_path, capsys):
    html = _copy(tiny_book, tmp_path)
    page = html / "book" / "intro.html"
    page.write_text(re.sub(r'href="[^"]*_downloads/[^"]*"', 'href="#"', page.read_text()))
    status, out = _check(html, tmp_path, capsys)
    assert status == 1
    assert "FAIL book/intro.html: the landing page links no .pdf" in out, out


FIXTURES = Path(__file__).resolve().parent / "browser_fixtures"


def _picture(path: Path, width: int, height: int) -> None:
    """A PNG of exactly ``width`` x ``height`` pixels, with an axis's text on it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width / 100, height / 100), dpi=100)
    ax.plot([0, 1], [0, 1])
    ax.set_xlabel("width")
    fig.savefig(path, dpi=100)
    plt.close(fig)


@pytest.fixture(scope="module")
def fixture_page(tiny_book, tmp_path_factory):
    """Check a fixture page: the tiny book's chapter page with a fragment of FIXTURES in it.

    Returns a function of the fragment's name giving check_page's report. One server and
    one browser serve every test of the module's layout checks.
    """
    site = tmp_path_factory.mktemp("fixtures") / "html"
    shutil.copytree(tiny_book, site)
    chapter = (site / "notebooks" / "zebrafish.html").read_text()
    mark = "finds this chapter.</p>"  # CHAPTER's first paragraph, in the page's article
    assert chapter.count(mark) == 1
    for fragment in FIXTURES.glob("*.html"):
        (site / "notebooks" / f"fixture_{fragment.stem}.html").write_text(
            chapter.replace(mark, mark + "\n" + fragment.read_text(), 1))
    for width in (200, 600, 1600):
        _picture(site / "_images" / f"fixture_{width}.png", width, 300)
    with browser_check.serve(site) as base, \
            browser_check.chromium(CHROMIUM, CHROMEDRIVER) as driver:
        yield lambda name: browser_check.check_page(driver, base, f"notebooks/fixture_{name}.html")


def _one_problem(report) -> str:
    assert len(report.problems) == 1, report.problems
    return report.problems[0]


def test_the_good_fixture_page_passes_the_layout_checks(fixture_page):
    report = fixture_page("good")
    assert report.problems == []
    layout = report.layout
    assert 500 < layout["column"] < 1000, layout["column"]  # the content column, in px
    # the 600-px figure (in an output and glued) is measured at its full width; the 200-px
    # icon shown at 40 px is not (under MIN_NATURAL_PX)
    assert [i["natural"] for i in layout["images"]] == [600, 600]
    assert all(i["shown"] == 600 for i in layout["images"]), layout["images"]
    assert layout["wide"] and all(w["over"] <= 2 for w in layout["wide"])  # measured, fits
    assert layout["glue"] == []  # the glue( line is in a collapsed (hide-input) cell


@pytest.mark.parametrize(("fixture", "kind", "start"), [
    ("wide_code", "code cell", "result = fractalnb.analyze("),
    ("wide_output", "cell output", "layer=conv1 dimension=1.8231"),
    ("wide_hidden_code", "code cell", "fig, axes = plt.subplots("),  # opened to measure
])
def test_a_code_cell_wider_than_the_column_fails(fixture_page, fixture, kind, start):
    problem = _one_problem(fixture_page(fixture))
    match = re.fullmatch(rf"{kind} wider than the column by (\d+) px \((\d+) px in (\d+) px; "
                         rf"its longest line has (\d+) characters\): '{re.escape(start)}.*",
                         problem)
    assert match, problem
    over, width, room, longest = map(int, match.groups())
    assert over > 100 and abs(width - room - over) <= 1 and longest > 100, problem


def test_a_table_wider_than_the_column_fails(fixture_page):
    problem = _one_problem(fixture_page("wide_table"))
    match = re.fullmatch(r"table wider than the column by (\d+) px \((\d+) px in (\d+) px\): "
                         r"'layer spectral_dimension box_counting_dimension .*' "
                         r"\(output of the cell 'frame.style'\)",
                         problem)
    assert match, problem
    over, width, room = map(int, match.groups())
    assert over > 300 and abs(width - room - over) <= 1, problem


@pytest.mark.parametrize(("fixture", "where"), [
    ("shrunk_figure", "output of the cell 'fig, axes = plt.subplots(1, 5, figsize=(16, 3))'"),
    ("shrunk_glued_figure", "figure 'Fig. 1 Five panels drawn for a wide screen.'"),
])
def test_a_shrunk_figure_fails(fixture_page, fixture, where):
    report = fixture_page(fixture)
    problem = _one_problem(report)
    match = re.fullmatch(r"figure shown at (\d+)% of its natural width \((\d+) of 1600 px\): "
                         r"its text is under ~9 px; draw it narrower: "
                         rf"\.\./_images/fixture_1600\.png \({re.escape(where)}\)", problem)
    assert match, problem
    percent, shown = map(int, match.groups())
    # the browser fitted it to the column (a figure's margins apart)
    assert report.layout["column"] - 20 < shown <= report.layout["column"], shown
    assert percent == round(100 * shown / 1600), problem


def test_a_visible_glue_line_fails(fixture_page):
    assert _one_problem(fixture_page("visible_glue")) == (
        "visible code cell with a glue( line: 'glue(\"n_layers\", n_layers, display=False)' "
        "in the cell 'n_layers = len(result.layers) glue(\"n_layers\", n_l…'; "
        "move it to a remove-cell cell")


@pytest.mark.parametrize(("fixture", "line", "cell"), [
    ("pandas_series", "Name: loss, dtype: float64", "history[\"loss\"].tail(3)"),
    ("pandas_dtypes", "dtype: object", "frame.dtypes"),
])
def test_a_pandas_repr_in_an_output_fails(fixture_page, fixture, line, cell):
    assert _one_problem(fixture_page(fixture)) == (
        f"pandas repr in a cell output: {line!r} (output of the cell {cell!r})")


def test_nan_and_inf_table_cells_fail(fixture_page):
    assert _one_problem(fixture_page("nan_table")) == (
        "4 table cell(s) showing 'nan', 'NaN', 'inf', '-inf' in the table "
        "'layer dimension slope 0 conv1 nan 1.2 1 conv2 NaN …' "
        "(output of the cell 'frame'); the first at row '0', column 'dimension'")


def test_a_nan_cell_is_named_by_its_row_and_column_under_a_two_level_index(fixture_page):
    # the index's first level spans two rows: the column is counted from the row's end
    assert _one_problem(fixture_page("nan_multiindex")) == (
        "1 table cell(s) showing 'NaN' in the table 'D_mean D_std z layer role conv1 rows "
        "2.02 0.04 1.1…' (output of the cell 'spread'); the first at row "
        "'columns', column 'z'")


def test_not_set_text_fails(fixture_page):
    assert _one_problem(fixture_page("not_set")) == (
        "placeholder text on the page: …as: The fractalnb authors. Project name not set. "
        "2026. Exercise…")
