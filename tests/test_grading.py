"""tools/course.py: autograded exercises, student and instructor copies, grading a class.

The chapters are the single source: from them otter-grader's ``otter assign`` writes the
student copies and the autograder bundle, and ``tools/course.py grade`` grades a folder of
submissions offline (``make grade``). Here one ``grade`` call grades, for three cheap
chapters, the solutions copy (full marks), the untouched student copy (it runs to the end
and gets zero on every autograded question) and a copy with one wrong answer (it loses
exactly that question's points), along with a submission that raises and one that never
finishes (clear entries, the others graded all the same).
"""

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import course  # noqa: E402
from build_book import toc_notebooks  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: Cheap chapters graded here (each run a few times: about 20-40 s a run on 2 cores).
GRADED = ["00_getting_started", "03_fractal_transformation", "06_permutation_symmetry"]
#: Per graded chapter: a question and an answer to it of the right form but wrong value
#: (it passes the public tests and fails the hidden ones).
WRONG = {
    "00_getting_started": ("ex-00-classes", "fractions = 0 * fractions + 10.0"),
    "03_fractal_transformation": ("ex-03-max", "composes = 1.0"),
    "06_permutation_symmetry": ("ex-06-block", "respected_by_seed = {0: [1, 2, 4, 256]}"),
}
#: Seconds per submission in the grading test: well above a chapter's grading time here.
TIMEOUT = 150
#: Submissions graded at once (CI: 2 cores).
JOBS = os.environ.get("FRACTALNB_GRADE_JOBS", "2")
#: Chapters whose exercises are not autograded yet (the issue asks for one in each).
NOT_YET: set[str] = set()


def md(text):
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def code(text, metadata=None):
    return {"cell_type": "code", "metadata": metadata or {}, "source": text, "outputs": [],
            "execution_count": None}


def nb(cells):
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def source(cell):
    return "".join(cell["source"])


def grading_cell(label, answer, body):
    metadata = {"tags": ["remove-cell", "grading-tests"],
                "fractalnb": {"grading": {"exercise": label, "answer": answer}}}
    return code(body, metadata)


TESTS = ('def test_public_form(x):\n    """points: 1"""\n    assert isinstance(x, int)\n\n\n'
         'def test_hidden_value(x):\n    """points: 2"""\n    assert x == 2\n\n\n'
         "test_public_form(x)\ntest_hidden_value(x)\n")


def chapter():
    """A small chapter: a conceptual exercise and an autograded one."""
    return nb([
        code("base = 1"),
        md("## Exercises\n\n```{exercise}\n:label: ex-1\nWhy?\n```\n\n```{solution} ex-1\n"
           ":class: dropdown\nBecause MODEL-ANSWER.\n```\n\n```{exercise}\n:label: ex-2\n"
           "Set `x` to 1 + 1.\n```\n\n```{solution-start} ex-2\n:class: dropdown\n```\n"
           "SOLUTION-PROSE"),
        code("x = base + 1  # SOLUTION-CODE"),
        grading_cell("ex-2", "x", TESTS),
        md("```{solution-end}\n```\n\n## Summary\n\nDone."),
    ])


# --- the chapter's markup: pieces, tests, the master notebook -----------------------------


def test_segments_split_a_cell_at_its_solution_directives():
    text = ("Before.\n\n````{solution} ex-1\n:class: dropdown\n```python\nSECRET = 1\n```\n"
            "````\n\n```{solution-start} ex-2\n```\nAfter.")
    kinds = [(kind, label) for kind, label, _ in course.segments(text)]
    assert kinds == [("text", ""), ("solution", "ex-1"), ("start", "ex-2"), ("text", "")]
    assert "SECRET" in course.segments(text)[1][2]


def test_a_solution_shown_inside_a_code_block_is_text():
    text = "How to write one:\n\n````markdown\n```{solution} ex-1\nThe answer.\n```\n````"
    assert course.segments(text) == [("text", "", text)]


def test_a_solution_nested_in_a_directive_is_removed():
    text = ":::{admonition} Try it\n```{solution} ex-1\nSECRET\n```\nKept.\n:::"
    assert course.segments(text) == [("text", "", ":::{admonition} Try it\nKept.\n:::")]


def test_an_unclosed_solution_is_an_error():
    with pytest.raises(ValueError, match="not closed"):
        course.segments("```{solution} ex-1\nnever closed")


def test_test_functions_read_names_points_and_visibility():
    tests = course.grading_tests(TESTS)
    assert [(t.name, t.points, t.hidden) for t in tests] == [
        ("test_public_form", 1.0, False), ("test_hidden_value", 2.0, True)]
    assert all("test_public_form(x)\n" not in t.source for t in tests)  # the book's calls


@pytest.mark.parametrize("body", ["def check(x):\n    assert x\n", "x = 1\n"],
                         ids=["badly-named", "no-test"])
def test_a_grading_cell_needs_public_or_hidden_tests(body):
    with pytest.raises(ValueError, match="test"):
        course.grading_tests(body)


def test_the_master_notebook_makes_a_question_of_an_autograded_exercise():
    master = course.master_notebook(chapter(), "ch")
    raw = [source(c).splitlines()[0] for c in master["cells"] if c["cell_type"] == "raw"]
    assert raw == ["# ASSIGNMENT CONFIG", "# BEGIN QUESTION", "# BEGIN PROMPT", "# END PROMPT",
                   "# BEGIN SOLUTION", "# END SOLUTION", "# BEGIN TESTS", "# END TESTS",
                   "# END QUESTION"]
    config = source(master["cells"][0])
    assert "export_cell: false" in config and "ok_format: false" in config
    question = next(source(c) for c in master["cells"] if "BEGIN QUESTION" in source(c))
    assert "name: ex-2" in question and "points: 3" in question
    assert "all_or_nothing: true" in question
    tests = [source(c) for c in master["cells"] if "BEGIN TEST CONFIG" in source(c)]
    assert len(tests) == 2 and "hidden: true" in tests[1] and "points: 2" in tests[1]
    prompt = next(source(c) for c in master["cells"] if source(c).endswith("x = ..."))
    assert "SOLUTION-CODE" not in prompt
    solution = next(source(c) for c in master["cells"] if "SOLUTION-CODE" in source(c))
    assert solution.startswith("# BEGIN SOLUTION NO PROMPT\n")
    # the conceptual exercise's model answer is marked for removal from the student copy
    model = next(c for c in master["cells"] if "MODEL-ANSWER" in source(c))
    assert course.MODEL_ANSWER_TAG in model["metadata"]["tags"]
    assert course.MODEL_ANSWER_TAG not in course.student_copy(master)["cells"]


@pytest.mark.parametrize("cells, message", [
    ([md("```{solution-start} ex-1\n```\nno end")], "without a {solution-end}"),
    ([md("```{solution-end}\n```")], "without a {solution-start}"),
    ([grading_cell("ex-9", "x", TESTS)], "not inside its solution"),
], ids=["start-without-end", "end-without-start", "tests-outside-the-solution"])
def test_misplaced_solutions_and_tests_are_errors(cells, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        course.master_notebook(nb(cells), "ch")


def test_the_student_copy_drops_model_answers_and_emptied_solution_cells():
    notebook = nb([md("Kept."), md("MODEL") | {"metadata": {"tags": [course.MODEL_ANSWER_TAG]}},
                   code("", {"tags": ["otter_answer_cell"]}),
                   code("x = ...", {"tags": ["otter_answer_cell"]})])
    assert [source(c) for c in course.student_copy(notebook)["cells"]] == ["Kept.", "x = ..."]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_chapter_makes_a_master_notebook_without_loose_solutions(path):
    notebook = json.loads(path.read_text())
    master = course.master_notebook(notebook, path.stem)
    inside, loose = False, []
    for cell in master["cells"]:
        text = source(cell)
        if cell["cell_type"] == "raw" and text.startswith("# BEGIN QUESTION"):
            inside = True
        elif cell["cell_type"] == "raw" and text.startswith("# END QUESTION"):
            inside = False
        elif not inside and course.MODEL_ANSWER_TAG not in course._tags(cell):
            loose.append(text)
    # outside the questions only what students get: no solution, no grading test
    assert not [t for t in loose if "{solution" in t or "def test_hidden_" in t]
    # the grading cells are hidden in the book (remove-cell) and belong to an exercise
    for cell in notebook["cells"]:
        if course.grading_config(cell) is not None:
            assert "remove-cell" in cell["metadata"]["tags"]
    labels = re.findall(r":label: (ex-\S+)", "\n".join(source(c) for c in notebook["cells"]))
    assert [ex.label for ex in course.exercises(notebook)] == labels


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_chapter_has_an_autograded_exercise(path, request):
    if path.stem in NOT_YET:
        request.applymarker(pytest.mark.xfail(strict=True, reason="not autograded yet"))
    exercises = course.exercises(json.loads(path.read_text()))
    assert any(ex.tests for ex in exercises)


def test_the_instructors_page_lists_the_points_of_every_chapter():
    page = (ROOT / "book" / "instructors.md").read_text()
    table = course.points_per_chapter([ROOT / p for p in toc_notebooks()])
    for name, (count, autograded, points) in table.items():
        number = name[:2]
        row = re.search(rf"^\| {number} \|.*$", page, re.M)
        assert row, f"no row for chapter {number}"
        cells = [c.strip() for c in row.group(0).strip("|").split("|")]
        assert cells[-3:] == [str(count), str(autograded), f"{points:g}"], name


# --- student copies and grading, on three cheap chapters ----------------------------------


# session scope: a module-scoped fixture is torn down whenever xdist runs a test of another
# module in between, and the class would be graded twice
@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """otter assign on the graded chapters: student copies and the instructor bundle."""
    root = tmp_path_factory.mktemp("course")
    paths = [ROOT / "notebooks" / f"{name}.ipynb" for name in GRADED]
    written = course.write_course(paths, root / "student", root / "course")
    return root, written


GROUP_PROBE = """
import os
import pytest

GROUP = pytest.mark.xdist_group("probe")


@GROUP
@pytest.mark.parametrize("n", range(4))
def test_grouped(n):
    print("WORKER", os.environ["PYTEST_XDIST_WORKER"])


@pytest.mark.parametrize("n", range(8))
def test_free(n):
    pass
"""


def test_an_xdist_group_runs_on_one_worker(tmp_path):
    # the grading tests below rely on it: else each worker grades the class again (pytest
    # 9.2 with pytest-xdist 3.8 ignored the groups; constraints.txt pins pytest below 9.2)
    (tmp_path / "test_probe.py").write_text(GROUP_PROBE)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-v",
         "-p", "no:cacheprovider", "-c", os.devnull, "--rootdir", str(tmp_path),
         str(tmp_path / "test_probe.py")],
        capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:]
    grouped = re.findall(r"\[(gw\d)\].*PASSED.*test_grouped\[\d\](@probe)?", result.stdout)
    assert len(grouped) == 4, result.stdout[-2000:]
    assert {suffix for _, suffix in grouped} == {"@probe"}
    assert len({worker for worker, _ in grouped}) == 1, grouped


#: The tests that share the module's course and grades run in one xdist worker
#: (``make unit`` distributes with ``--dist loadgroup``), so each is built once.
GROUP = pytest.mark.xdist_group("grading")


@GROUP
def test_the_student_copies_have_public_checks_and_no_solutions(built):
    root, written = built
    for path in written:
        original = json.loads((ROOT / "notebooks" / path.name).read_text())
        exercises = course.exercises(original)
        student = json.loads(path.read_text())
        text = "\n".join(source(c) for c in student["cells"])
        assert "{solution" not in text
        assert "BEGIN SOLUTION" not in text and "# SOLUTION" not in text
        for cell in original["cells"]:  # no cell of a worked solution is left
            if course.grading_config(cell) is not None:
                assert source(cell) not in text
        graded = [ex for ex in exercises if ex.tests]
        assert len(re.findall(r'grader\.check\("(ex-[^"]+)"\)', text)) == len(graded)
        assert text.count("```{exercise}") == len(exercises)
        for exercise in graded:
            public = (path.parent / "tests" / f"{exercise.label}.py").read_text()
            assert "test_public_" in public and "test_hidden_" not in public
            hidden = (root / "course" / path.stem / "autograder" / "tests" /
                      f"{exercise.label}.py").read_text()
            assert "test_hidden_" in hidden and "OK_FORMAT = False" in hidden
        assert (root / "course" / "instructor" / f"{path.stem}.zip").is_file()


def _insert(notebook, index, text):
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": text}
    if notebook.get("nbformat_minor", 0) >= 5:
        cell["id"] = f"inserted-{index}"
    notebook["cells"].insert(index, cell)
    return notebook


def _check_index(notebook, label):
    return next(i for i, c in enumerate(notebook["cells"])
                if source(c).strip() == f'grader.check("{label}")')


def _save(path, notebook):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook))


@pytest.fixture(scope="session")
def graded(built, tmp_path_factory):
    """One ``grade`` call on a class: three kinds of submission per chapter, and two more."""
    root, written = built
    submissions = tmp_path_factory.mktemp("submissions")
    instructor = root / "course" / "instructor"
    for path in written:
        solutions = json.loads((instructor / path.name).read_text())
        untouched = json.loads(path.read_text())
        _save(submissions / "ben-solutions" / path.name, solutions)
        _save(submissions / "cleo-untouched" / path.name, untouched)
        label, answer = WRONG[path.stem]
        wrong = json.loads((instructor / path.name).read_text())
        _save(submissions / "dan-wrong" / path.name,
              _insert(wrong, _check_index(wrong, label), answer))
    first = json.loads((instructor / written[0].name).read_text())
    # the first code cell after otter's initialisation: raises, or never finishes
    raises = _insert(json.loads(json.dumps(first)), 2, 'raise RuntimeError("deliberate")')
    _save(submissions / "eve-raises" / written[0].name, raises)
    _save(submissions / "ana-loops" / written[0].name,
          _insert(json.loads(json.dumps(first)), 2,
                  "import time\n\nwhile True:  # never finishes (asleep: no core kept busy)\n"
                  "    time.sleep(1)"))
    out = root / "grades"
    env = dict(os.environ, TQDM_DISABLE="1", MPLBACKEND="Agg")
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "course.py"), "grade", str(submissions),
         "--out", str(out), "--autograders", str(instructor), "--timeout", str(TIMEOUT),
         "--jobs", JOBS], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with (out / "grades.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    return out, rows, {p.stem: course.exercises(json.loads(
        (ROOT / "notebooks" / p.name).read_text())) for p in written}


def _row(rows, student, chapter):
    (row,) = [r for r in rows if r["student"] == student and r["chapter"] == chapter]
    return row


@GROUP
@pytest.mark.parametrize("name", GRADED)
def test_the_solutions_copy_gets_full_marks(graded, name):
    _, rows, exercises = graded
    row = _row(rows, "ben-solutions", name)
    assert row["status"] == "graded", row["detail"]
    for exercise in (ex for ex in exercises[name] if ex.tests):
        assert float(row[exercise.label]) == exercise.points > 0
    assert float(row["total"]) == float(row["possible"]) == \
        sum(ex.points for ex in exercises[name])


@GROUP
@pytest.mark.parametrize("name", GRADED)
def test_the_untouched_student_copy_runs_and_gets_zero(graded, name):
    _, rows, exercises = graded
    row = _row(rows, "cleo-untouched", name)
    assert (row["status"], row["detail"]) == ("graded", "")  # ran to the end, no error
    labels = [ex.label for ex in exercises[name] if ex.tests]
    assert labels and all(float(row[label]) == 0 for label in labels)
    assert float(row["total"]) == 0 < float(row["possible"])


@GROUP
@pytest.mark.parametrize("name", GRADED)
def test_one_wrong_answer_loses_exactly_its_points(graded, name):
    _, rows, exercises = graded
    row = _row(rows, "dan-wrong", name)
    wrong = WRONG[name][0]
    assert row["status"] == "graded", row["detail"]
    for exercise in (ex for ex in exercises[name] if ex.tests):
        assert float(row[exercise.label]) == (0 if exercise.label == wrong else exercise.points)
    lost = next(ex.points for ex in exercises[name] if ex.label == wrong)
    assert float(row["total"]) == float(row["possible"]) - lost


@GROUP
def test_a_submission_that_raises_or_loops_gets_a_clear_entry(graded):
    out, rows, _ = graded
    raises = _row(rows, "eve-raises", GRADED[0])
    assert raises["status"] == "error"
    assert "raised RuntimeError: deliberate" in raises["detail"]
    assert 'raise RuntimeError("deliberate")' in raises["detail"]  # which cell
    loops = _row(rows, "ana-loops", GRADED[0])
    assert loops["status"] == "timeout"
    assert f"did not finish within {TIMEOUT} s" in loops["detail"]
    assert loops["total"] == "0"
    # every other submission was graded
    assert len(rows) == 3 * len(GRADED) + 2
    assert sum(r["status"] == "graded" for r in rows) == 3 * len(GRADED)
    feedback = (out / "feedback" / "ana-loops" / f"{GRADED[0]}.txt").read_text()
    assert "status: timeout" in feedback


@GROUP
def test_feedback_shows_points_and_public_messages_only(graded):
    out, _, exercises = graded
    text = (out / "feedback" / "dan-wrong" / f"{GRADED[0]}.txt").read_text()
    label = WRONG[GRADED[0]][0]
    points = next(ex.points for ex in exercises[GRADED[0]] if ex.label == label)
    assert f"{label}: 0 / {points:g}" in text
    assert "test_hidden_" not in text  # the hidden tests' code stays with the instructor
