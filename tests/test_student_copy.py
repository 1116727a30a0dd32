"""tools/student_copy.py: solutions out, everything else kept, and the copy still runs.

The full copy (the committed notebooks) is executed completely by the book build
(``tools/build_book.py``: every toc notebook through nbmake); here the student copies of
cheap chapters are executed the same way.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import student_copy  # noqa: E402
from build_book import toc_notebooks  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: Chapters cheap enough to execute twice in CI (once in the book build, once here).
CHEAP = ["00_getting_started", "02_box_counting"]


def md(text):
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def code(text):
    return {"cell_type": "code", "metadata": {}, "source": text, "outputs": [],
            "execution_count": None}


def nb(cells):
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def texts(cells):
    return ["".join(c["source"]) for c in cells]


EXERCISE = "```{exercise}\n:label: ex-1\nWhat is 1 + 1?\n```"


def test_a_solution_directive_is_removed_with_its_content():
    cells = [md(f"## Exercises\n\n{EXERCISE}\n\n```{{solution}} ex-1\n:class: dropdown\n"
                "SECRET two.\n```\n\nAfter.")]
    out = student_copy.student_cells(cells)
    assert texts(out) == [f"## Exercises\n\n{EXERCISE}\n\nAfter."]


def test_nested_fences_and_colon_fences_go_with_the_solution():
    cells = [md(f"{EXERCISE}\n\n````{{solution}} ex-1\n:class: dropdown\n```python\n"
                "SECRET = 1\n```\n````\n\n:::{solution} ex-1\nSECRET too\n:::\nKept.")]
    out = student_copy.student_cells(cells)
    assert "SECRET" not in "".join(texts(out))
    assert texts(out)[0].endswith("Kept.")
    assert EXERCISE in texts(out)[0]


def test_solution_start_end_across_cells_leaves_one_answer_cell():
    cells = [
        code("x = 1"),
        md(f"{EXERCISE}\n\n```{{solution-start}} ex-1\n:class: dropdown\n```\nSECRET prose"),
        code("SECRET_CODE = 2"),
        md("SECRET more"),
        code("SECRET_CODE + 1"),
        md("```{solution-end}\n```\n\n## Summary\n\nDone."),
    ]
    out = student_copy.student_cells(cells)
    assert "SECRET" not in json.dumps(out)
    assert [c["cell_type"] for c in out] == ["code", "markdown", "code", "markdown"]
    assert texts(out)[0] == "x = 1"
    assert texts(out)[1] == EXERCISE
    assert texts(out)[2] == student_copy.ANSWER
    assert texts(out)[3] == "## Summary\n\nDone."


def test_a_prose_only_start_end_solution_leaves_no_answer_cell():
    cells = [md(f"{EXERCISE}\n\n```{{solution-start}} ex-1\n```\nSECRET\n"
                "```{solution-end}\n```\nTail.")]
    out = student_copy.student_cells(cells)
    assert texts(out) == [EXERCISE, "Tail."]


@pytest.mark.parametrize("cells", [
    [md("```{solution-start} ex-1\n```\nno end")],
    [md("```{solution-end}\n```")],
    [md("```{solution} ex-1\nnever closed")],
], ids=["start-without-end", "end-without-start", "unclosed-directive"])
def test_unbalanced_solutions_are_errors(cells):
    with pytest.raises(ValueError, match="solution"):
        student_copy.student_cells(cells)


def test_a_solution_shown_inside_a_code_block_is_kept():
    # markdown-it, as MyST: the fence inside the code block is text, not a directive
    text = "How to write one:\n\n````markdown\n```{solution} ex-1\nThe answer.\n```\n````"
    assert texts(student_copy.student_cells([md(text)])) == [text]


def test_a_solution_nested_in_a_directive_is_removed():
    cells = [md(":::{admonition} Try it\n```{solution} ex-1\nSECRET\n```\nKept.\n:::")]
    assert texts(student_copy.student_cells(cells)) == [":::{admonition} Try it\nKept.\n:::"]


def test_no_notebooks_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="notebooks"):
        student_copy.write_student_copy([], tmp_path)


line = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="`:\n"),
               max_size=30)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(line.map(md), line.map(code)), max_size=8))
def test_cells_without_solutions_are_kept_unchanged(cells):
    out = student_copy.student_cells(cells)
    kept = [c for c in cells if c["cell_type"] == "code" or c["source"].strip()]
    assert texts(out) == texts(kept)


@settings(max_examples=40, deadline=None)
@given(st.lists(line.filter(lambda s: s.strip()), min_size=1, max_size=5),
       st.integers(min_value=3, max_value=6))
def test_any_solution_content_is_removed(secret_lines, fence):
    ticks = "`" * fence
    body = "\n".join("SECRET " + s for s in secret_lines)
    cells = [md(f"Before.\n\n{ticks}{{solution}} ex-1\n:class: dropdown\n{body}\n{ticks}\n"
                "\nAfter.")]
    out = student_copy.student_cells(cells)
    assert texts(out) == ["Before.\n\nAfter."]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_student_copy_of_each_chapter_has_no_solution(path, tmp_path):
    (written,) = student_copy.write_student_copy([path], tmp_path)
    original = json.loads(path.read_text())
    student = json.loads(written.read_text())
    text = json.dumps(student)
    assert "{solution" not in text
    def exercises(notebook):
        return sum(len(re.findall(r"```\{exercise\}", "".join(c["source"])))
                   for c in notebook["cells"])

    assert exercises(student) == exercises(original) >= 2
    # every cell outside the solutions is still there, unchanged
    student_sources = texts(student["cells"])
    for cell in original["cells"]:
        source = "".join(cell["source"])
        if "solution" not in source and cell["cell_type"] == "markdown":
            assert source.strip() in student_sources
    # the cells of code solutions are gone
    solution_code = _solution_code_cells(original["cells"])
    for source in solution_code:
        assert source not in student_sources


def _solution_code_cells(cells):
    """Code cells between a {solution-start} and its {solution-end} (an independent parse)."""
    inside, found = False, []
    for cell in cells:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            if "{solution-start}" in source:
                inside = True
            if "{solution-end}" in source:
                inside = False
        elif inside and cell["cell_type"] == "code":
            found.append(source)
    return found


def test_the_command_writes_every_toc_chapter(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "student_copy.py"),
                             "--out", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in (tmp_path / "notebooks").glob("*.ipynb"))
    assert written == sorted(p.name for p in toc_notebooks())


@pytest.mark.parametrize("name", [n for n in CHEAP
                                  if (ROOT / "notebooks" / f"{n}.ipynb").is_file()])
def test_the_student_copy_runs_up_to_the_exercises(name, tmp_path):
    (written,) = student_copy.write_student_copy([ROOT / "notebooks" / f"{name}.ipynb"],
                                                 tmp_path)
    env = dict(os.environ, TQDM_DISABLE="1", MPLBACKEND="Agg")
    result = subprocess.run([sys.executable, "-m", "pytest", "--nbmake", "-q",
                             "-p", "no:cacheprovider", "--nbmake-timeout=900",
                             "--rootdir", str(tmp_path), str(written)],
                            cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:]
