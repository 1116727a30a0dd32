"""The book's chapters in a real JupyterLab (Debian's Chromium through Selenium).

``tools/lab_check.py`` starts JupyterLab as ``make lab`` does, on a copy of one chapter
with the set-up cell of ``tools/setup_cell.py``, clicks *Run All Cells* and checks what
JupyterLab shows: no kernel dialog, no error, exercises rendered by jupyterlab-myst with
their solutions collapsed, and the glued numbers shown by the cells that compute them.
"""

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import lab_check  # noqa: E402
import setup_cell  # noqa: E402

CHAPTER = "00_getting_started.ipynb"  # trains nothing (fast on an empty cache), glues numbers
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
HAVE_BROWSER = Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()
HAVE_MYST = (ROOT / ".venv" / "share" / "jupyter" / "labextensions" / "jupyterlab-myst").is_dir()


@pytest.mark.skipif(not HAVE_BROWSER, reason="no chromium/chromedriver "
                    "(apt-get install chromium chromium-driver)")
@pytest.mark.skipif(not HAVE_MYST, reason="jupyterlab-myst is not installed in .venv "
                    "(make: the book extra)")
def test_a_chapter_runs_in_jupyterlab_and_reads_like_the_book(tmp_path):
    notebook = tmp_path / CHAPTER
    shutil.copy2(ROOT / "notebooks" / CHAPTER, notebook)
    setup_cell.update_file(notebook, setup_cell.repository_spec())
    report = lab_check.check_notebook(notebook, timeout=300, chromium_path=CHROMIUM,
                                      chromedriver_path=CHROMEDRIVER,
                                      env={"FRACTALNB_PROFILE": "quick"})
    assert report.problems == []
    assert report.cells > 5 and report.exercises >= 2
    assert report.glued_shown, "no glued number was shown in JupyterLab"
    print(f"JupyterLab check: {report.cells} cells, {len(report.glued_shown)} glued numbers "
          f"shown, {report.seconds:.0f} s")


def test_lab_command_is_the_makefiles():
    makefile = (ROOT / "Makefile").read_text()
    assert "$(VENV)/bin/jupyter lab --notebook-dir=$(LAB_NOTEBOOKS)" in makefile
    command = lab_check.lab_command(Path("/x"), 8888, "t")
    assert command[:3] == [str(ROOT / ".venv" / "bin" / "jupyter"), "lab", "--notebook-dir=/x"]
    assert "--no-browser" in command and "--port=8888" in command
