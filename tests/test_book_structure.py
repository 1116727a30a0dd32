"""The book's own rules, checked on the committed sources."""

import ast
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import build_book  # noqa: E402
from build_book import toc_entries, toc_files, toc_notebooks  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _cells(path):
    return json.loads(path.read_text())["cells"]


def _markdown(path):
    return "\n".join("".join(c["source"]) for c in _cells(path) if c["cell_type"] == "markdown")


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks in notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_committed_without_outputs(path):
    for index, cell in enumerate(_cells(path)):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{path.name} cell {index} has outputs"
            assert cell.get("execution_count") is None, f"{path.name} cell {index} was executed"


def test_toc_lists_every_notebook_and_every_entry_exists():
    listed = {str(p) for p in toc_notebooks()}
    on_disk = {str(p.relative_to(ROOT)) for p in NOTEBOOKS}
    assert listed == on_disk, f"in toc only: {listed - on_disk}; on disk only: {on_disk - listed}"
    for name in toc_files():
        assert any((ROOT / (name + suffix)).is_file() for suffix in (".md", ".ipynb")), name


def test_the_toc_is_walked_in_reading_order(tmp_path):
    toc = tmp_path / "_toc.yml"
    toc.write_text("format: jb-book\nroot: intro\nparts:\n"
                   "  - caption: One\n    chapters:\n      - file: a\n        sections:\n"
                   "          - file: a/b\n          - glob: a/more/*\n      - file: c\n"
                   "  - caption: Two\n    chapters:\n      - file: d\n")
    assert toc_entries(toc) == ["intro", "a", "a/b", "c", "d"]
    assert toc_entries(toc, "glob") == ["a/more/*"]


def test_only_keeps_the_book_pages_and_the_named_notebooks(tmp_path, monkeypatch):
    monkeypatch.setattr(build_book, "STAGE", tmp_path)
    (tmp_path / "_toc.yml").write_text((ROOT / "_toc.yml").read_text())
    chapter = NOTEBOOKS[-1].stem
    build_book.restrict_toc([chapter])
    kept = toc_files(tmp_path / "_toc.yml")
    assert [name for name in kept if not name.startswith("book/")] == [f"notebooks/{chapter}"]
    assert [name for name in toc_files() if name.startswith("book/")] == \
        [name for name in kept if name.startswith("book/")]
    assert toc_entries(tmp_path / "_toc.yml", "glob") == toc_entries(key="glob")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_names_are_sequenced(path):
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_parameters_cell_reads_the_profile(path):
    # the hidden set-up cell of tools/setup_cell.py (tag fractalnb-setup) may come first
    code = [c for c in _cells(path) if c["cell_type"] == "code"
            and "fractalnb-setup" not in c.get("metadata", {}).get("tags", [])]
    tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{path.name} needs exactly one cell tagged 'parameters'"
    assert code[0] is tagged[0], f"{path.name}: the parameters cell must be the first code cell"
    source = "".join(tagged[0]["source"])
    assert "profiles.current()" in source
    tree = ast.parse(source)
    for node in tree.body:
        assert isinstance(node, (ast.Assign, ast.AnnAssign, ast.Import, ast.ImportFrom)), (
            f"{path.name}: the parameters cell holds only imports and assignments"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapter_skeleton(path):
    text = _markdown(path)
    cells = _cells(path)
    first = "".join(cells[0]["source"])
    assert cells[0]["cell_type"] == "markdown"
    number = re.match(r"(\d\d)_", path.name).group(1)
    if number == "00":  # not numbered: referred to with {doc}
        assert first.startswith("# "), f"{path.name}: starts with its title"
    else:  # the label {numref} refers to, then the title
        assert first.startswith(f"(ch{number})=\n# "), \
            f"{path.name}: starts with the label (ch{number})= and its title"
    assert "Learning goals" in text, f"{path.name}: learning goals"
    assert len(re.findall(r"```\{exercise\}", text)) >= 2, f"{path.name}: at least two exercises"
    solutions = len(re.findall(r"```\{solution(-start)?\}", text))
    assert solutions >= len(re.findall(r"```\{exercise\}", text)), f"{path.name}: a solution each"
    assert re.search(r"^## Summary", text, re.M), f"{path.name}: summary"
    assert re.search(r"^## References", text, re.M), f"{path.name}: references"
    assert "{cite" in text, f"{path.name}: cites the bibliography"
