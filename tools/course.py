"""Coursework from the chapters: student copies, the autograder bundle, and grading a class.

The chapter notebook is the single source (see CONTRIBUTING.md, "Exercises and grading").
An autograded exercise asks for a named answer variable; its tests are code cells in the
chapter, inside the exercise's solution, tagged ``remove-cell`` (hidden in the book, but
executed by the book build, so the worked solution is checked against its own tests) and
``grading-tests``, with the exercise in the cell's metadata::

    "fractalnb": {"grading": {"exercise": "ex-00-classes", "answer": "fractions"}}

(``answer`` is the name, or a list of the names, the exercise asks the student to set).
The cell holds test functions ``def test_public_...(...)`` (the student sees them and runs
them in the notebook) and ``def test_hidden_...(...)`` (only the autograder runs them).
Their arguments are names from the notebook's namespace, as in otter-grader's
exception-based tests. Other top-level statements of the cell (the calls the book build
makes) are not part of the tests. A function's points come from a decorator-free
convention: a ``points: N`` line in its docstring (default 1).

From every chapter this tool writes an otter-grader master notebook (otter-grader's
notebook format v1: the assignment config, a question around each autograded exercise,
the worked solution as its solution, the test cells as its tests) and runs
``otter assign`` on it. Conceptual exercises keep their written model answer in the
instructor copy; the student copy has it removed. Commands::

    python tools/course.py student [--out build/student] [NOTEBOOK ...]
    python tools/course.py grade SUBMISSIONS [--out build/grades] [--timeout 900]

``student`` writes ``build/course/`` (the master notebooks, and per chapter otter's
``student/`` and ``autograder/`` folders), the student copies with their public tests in
``<out>/notebooks/`` and the instructor bundle (solution notebooks and one autograder zip
per chapter) in ``build/course/instructor/``. ``grade`` grades every notebook under
SUBMISSIONS with the chapter's autograder zip, each in its own process with a timeout,
and writes ``grades.csv`` (one row per submission, one column per question) and a
feedback file per submission.
"""

from __future__ import annotations

import argparse
import ast
import copy
import csv
import functools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import myst_blocks  # noqa: E402
from myst_blocks import FencedBlock  # noqa: E402

COURSE = ROOT / "build" / "course"
GRADING_TAG = "grading-tests"
#: Cells of a conceptual exercise's model answer: kept for the instructor, removed for students.
MODEL_ANSWER_TAG = "fractalnb-model-answer"
#: otter-grader's assignment config: exception-based tests in files, no PDF export cell.
ASSIGNMENT_CONFIG = {
    "init_cell": True,
    "check_all_cell": False,
    "export_cell": False,
    "solutions_pdf": False,
    "template_pdf": False,
    "run_tests": False,
    "generate": True,
    "tests": {"files": True, "ok_format": False},
}


# --- MyST: where the directives are -------------------------------------------------------


@functools.lru_cache(maxsize=1)
def myst_parser() -> MarkdownIt:
    """The markdown-it parser that MyST builds for the book (its ``myst_enable_extensions``)."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    extensions = config.get("parse", {}).get("myst_enable_extensions", [])
    return myst_blocks.myst_parser(tuple(sorted(extensions)))


def fenced_blocks(markdown: str, offset: int = 0, nested: bool = True) -> Iterator[FencedBlock]:
    """Yield every fenced block of ``markdown`` as the book build finds it (its extensions)."""
    return myst_blocks.fenced_blocks(markdown, myst_parser(), offset, nested)


SOLUTION_NAMES = ("solution", "solution-start", "solution-end")


def segments(markdown: str) -> list[tuple[str, str, str]]:
    """Split a markdown cell into ``(kind, label, text)`` pieces at its solution directives.

    ``kind`` is ``"text"`` (anything else), ``"solution"`` (a ``{solution}`` block, its
    label the directive's argument), ``"start"`` (a ``{solution-start}`` fence) or
    ``"end"`` (a ``{solution-end}`` fence). A ``{solution}`` nested in another directive
    is removed with its parent's content kept (as a text piece without it).

    Raises
    ------
    ValueError
        If a solution block is not closed.

    Examples
    --------
    >>> [kind for kind, _, _ in segments("Try.\\n\\n```{solution} ex-1\\nTwo.\\n```\\nNext.")]
    ['text', 'solution', 'text']
    """
    lines = myst_blocks.lines(markdown)
    blocks = [b for b in fenced_blocks(markdown) if b.name in SOLUTION_NAMES]
    for block in blocks:
        if not block.closed:
            raise ValueError(f"markdown: the {{{block.name}}} block opened on line "
                             f"{block.start + 1} is not closed")
    top = [b for b in fenced_blocks(markdown, nested=False)]
    nested = [b for b in blocks if not any(t.start == b.start for t in top)]
    if nested:  # drop nested {solution} blocks from the text
        drop = {i for b in nested for i in range(b.start, b.end)}
        kept = "\n".join(line for i, line in enumerate(lines) if i not in drop)
        return segments(re.sub(r"\n{3,}", "\n\n", kept))
    pieces: list[tuple[str, str, str]] = []
    position = 0
    for block in (b for b in top if b.name in SOLUTION_NAMES):
        before = "\n".join(lines[position:block.start]).strip("\n")
        if before.strip():
            pieces.append(("text", "", before))
        kind = {"solution": "solution", "solution-start": "start",
                "solution-end": "end"}[block.name]
        pieces.append((kind, block.argument.split()[0] if block.argument else "",
                       "\n".join(lines[block.start:block.end])))
        position = block.end
    after = "\n".join(lines[position:]).strip("\n")
    if after.strip():
        pieces.append(("text", "", after))
    return pieces


# --- the chapter's exercises ---------------------------------------------------------------


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _tags(cell: dict) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def grading_config(cell: dict) -> dict | None:
    """The ``fractalnb.grading`` metadata of a grading-tests cell, None for any other cell."""
    if cell["cell_type"] != "code" or GRADING_TAG not in _tags(cell):
        return None
    config = cell.get("metadata", {}).get("fractalnb", {}).get("grading")
    if not isinstance(config, dict) or not {"exercise", "answer"} <= set(config):
        raise ValueError(f"a {GRADING_TAG} cell needs metadata fractalnb.grading with "
                         "'exercise' and 'answer'")
    return config


@dataclass
class GradingTest:
    """One test of a question: its name, source, points and visibility."""

    name: str
    source: str
    points: float
    hidden: bool


def grading_tests(source: str) -> list[GradingTest]:
    """The test functions of a grading-tests cell (other top-level statements are left out).

    Raises
    ------
    ValueError
        If a function is neither ``test_public_*`` nor ``test_hidden_*``, or there is none.

    Examples
    --------
    >>> source = "def test_public_a(x):\\n    assert x\\n\\ntest_public_a(1)"
    >>> [t.name for t in grading_tests(source)]
    ['test_public_a']
    """
    tree = ast.parse(source)
    tests = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        if not re.match(r"test_(public|hidden)_", node.name):
            raise ValueError(f"{node.name}: a grading test is test_public_* or test_hidden_*")
        docstring = ast.get_docstring(node) or ""
        match = re.search(r"^points:\s*([0-9.]+)\s*$", docstring, re.M)
        tests.append(GradingTest(node.name, ast.get_source_segment(source, node) or "",
                                  float(match.group(1)) if match else 1.0,
                                  node.name.startswith("test_hidden_")))
    if not tests:
        raise ValueError("a grading-tests cell without test functions")
    return tests


@dataclass
class Exercise:
    """An exercise of a chapter, with its worked solution and, if autograded, its tests."""

    label: str
    answers: list[str] = field(default_factory=list)
    tests: list[GradingTest] = field(default_factory=list)

    @property
    def points(self) -> float:
        """The exercise's points: the sum over its tests (0 for a conceptual exercise)."""
        return sum(test.points for test in self.tests)


def _raw(text: str) -> dict:
    return {"cell_type": "raw", "metadata": {}, "source": text}


def _markdown(text: str, tags: list[str] | None = None) -> dict:
    return {"cell_type": "markdown", "metadata": {"tags": tags} if tags else {}, "source": text}


def _code(text: str, metadata: dict | None = None) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": metadata or {},
            "outputs": [], "source": text}


def _tag(cell: dict, tag: str) -> dict:
    cell = copy.deepcopy(cell)
    tags = cell.setdefault("metadata", {}).setdefault("tags", [])
    if tag not in tags:
        tags.append(tag)
    return cell


def _pieces(cells: list[dict]) -> list[tuple[str, str, dict]]:
    """The chapter as a stream: code/raw cells and markdown pieces (see :func:`segments`)."""
    stream: list[tuple[str, str, dict]] = []
    for cell in cells:
        if cell["cell_type"] != "markdown":
            stream.append(("cell", "", cell))
            continue
        for kind, label, text in segments(_source(cell)):
            piece = copy.deepcopy(cell)
            piece["source"] = text
            piece.pop("id", None)
            stream.append((kind, label, piece))
    return stream


def exercises(notebook: dict) -> list[Exercise]:
    """The exercises of a chapter that have a solution, in order, with their tests."""
    found: list[Exercise] = []
    current: Exercise | None = None
    for kind, label, piece in _pieces(notebook["cells"]):
        if kind == "solution":
            found.append(Exercise(label))
        elif kind == "start":
            current = Exercise(label)
            found.append(current)
        elif kind == "end":
            current = None
        elif kind == "cell" and (config := grading_config(piece)) is not None:
            if current is None or config["exercise"] != current.label:
                raise ValueError(f"the tests of {config['exercise']} are not inside its "
                                 "solution")
            answer = config["answer"]
            current.answers = [answer] if isinstance(answer, str) else list(answer)
            current.tests.extend(grading_tests(_source(piece)))
    return found


def _test_cell(test: GradingTest) -> dict:
    header = (f'""" # BEGIN TEST CONFIG\npoints: {test.points:g}\n'
              f'hidden: {"true" if test.hidden else "false"}\n""" # END TEST CONFIG\n')
    return _code(header + test.source + "\n")


def _wrap_solution(cell: dict) -> dict:
    cell = copy.deepcopy(cell)
    cell["source"] = f"# BEGIN SOLUTION NO PROMPT\n{_source(cell).rstrip()}\n# END SOLUTION"
    cell["outputs"], cell["execution_count"] = [], None
    return cell


def master_notebook(notebook: dict, name: str) -> dict:
    """Return the otter-grader master notebook (format v1) of a chapter.

    Every autograded exercise becomes a question (all or nothing, its points the sum of its
    tests): a prompt cell that sets the answer variable to ``...``, the worked solution as
    the solution, the test functions as its tests. A conceptual exercise's model answer is
    tagged :data:`MODEL_ANSWER_TAG` (removed from the student copy by :func:`student_copy`).

    Raises
    ------
    ValueError
        If a ``{solution-start}`` has no ``{solution-end}`` or the other way round, or an
        exercise's tests are outside its solution.
    """
    graded = {ex.label: ex for ex in exercises(notebook) if ex.tests}
    config = dict(ASSIGNMENT_CONFIG, name=name)
    cells: list[dict] = [_raw("# ASSIGNMENT CONFIG\n" + yaml.safe_dump(config, sort_keys=False))]
    current: Exercise | None = None
    conceptual = False
    for kind, label, piece in _pieces(notebook["cells"]):
        if kind == "solution":
            cells.append(_tag(piece, MODEL_ANSWER_TAG))
        elif kind == "start":
            if current is not None or conceptual:
                raise ValueError(f"{label}: a {{solution-start}} inside another solution")
            if label in graded:
                current = graded[label]
                points = int(current.points) if current.points.is_integer() else current.points
                question = {"name": label, "points": points, "all_or_nothing": True}
                cells += [
                    _raw("# BEGIN QUESTION\n" + yaml.safe_dump(question, sort_keys=False)),
                    _raw("# BEGIN PROMPT"),
                    _code(f"# Your answer to the exercise above: set "
                          f"{', '.join(current.answers)}.\n"
                          + "".join(f"{name} = ...\n" for name in current.answers).rstrip()),
                    _raw("# END PROMPT"),
                    _raw("# BEGIN SOLUTION"),
                    piece,
                ]
            else:
                conceptual = True
                cells.append(_tag(piece, MODEL_ANSWER_TAG))
        elif kind == "end":
            if current is None and not conceptual:
                raise ValueError("a {solution-end} without a {solution-start}")
            if current is not None:
                cells += [piece, _raw("# END SOLUTION"), _raw("# BEGIN TESTS"),
                          *[_test_cell(test) for test in current.tests],
                          _raw("# END TESTS"), _raw("# END QUESTION")]
                current = None
            else:
                cells.append(_tag(piece, MODEL_ANSWER_TAG))
                conceptual = False
        elif current is not None:
            if kind == "cell" and grading_config(piece) is not None:
                continue  # the tests, written after the solution
            if piece["cell_type"] == "code":
                cells.append(_wrap_solution(piece))
            else:
                cells.append(piece)
        elif conceptual:
            cells.append(_tag(piece, MODEL_ANSWER_TAG))
        else:
            if piece["cell_type"] == "code":
                piece = copy.deepcopy(piece)
                piece["outputs"], piece["execution_count"] = [], None
            cells.append(piece)
    if current is not None or conceptual:
        raise ValueError("a {solution-start} without a {solution-end}")
    master = copy.deepcopy(notebook)
    master["cells"] = [{k: v for k, v in cell.items() if k != "id"} for cell in cells]
    master["nbformat_minor"] = 4  # no cell ids: otter assign numbers the cells itself
    return master


def student_copy(notebook: dict) -> dict:
    """Tidy otter's student copy: model answers and empty answer cells out, outputs cleared."""
    result = copy.deepcopy(notebook)
    kept = []
    for cell in result["cells"]:
        if MODEL_ANSWER_TAG in _tags(cell):
            continue
        if cell["cell_type"] == "code":
            if "otter_answer_cell" in _tags(cell) and not _source(cell).strip():
                continue  # a worked solution's cell, emptied by otter assign
            cell["outputs"], cell["execution_count"] = [], None
        kept.append(cell)
    result["cells"] = kept
    return result


def _write(path: Path, notebook: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def assign(path: Path, course: Path = COURSE, run_tests: bool = False) -> Path:
    """Write a chapter's master notebook and run ``otter assign`` on it; return its folder.

    The folder ``course/<chapter>/`` holds ``student/`` and ``autograder/`` as otter writes
    them (the autograder zip in ``autograder/``). With ``run_tests`` otter executes the
    solution notebook and checks it passes every test (the book build checks this anyway).
    """
    notebook = json.loads(path.read_text(encoding="utf-8"))
    try:
        master = master_notebook(notebook, path.stem)
    except ValueError as error:
        raise ValueError(f"{path.name}: {error}") from None
    folder = course / path.stem
    shutil.rmtree(folder, ignore_errors=True)
    master_path = course / "master" / path.name
    _write(master_path, master)
    command = [sys.executable, "-m", "otter", "assign", str(master_path), str(folder)]
    if not run_tests:
        command.append("--no-run-tests")
    result = subprocess.run(command, capture_output=True, text=True, cwd=course / "master")
    if result.returncode != 0:
        raise RuntimeError(f"otter assign {path.name} failed:\n{result.stdout}\n{result.stderr}")
    return folder


def write_course(notebooks: list[Path], out: Path, course: Path = COURSE,
                 run_tests: bool = False) -> list[Path]:
    """Write the student copies to ``out/notebooks`` and the instructor bundle; return them.

    The student copies share one ``tests/`` folder (question names are the exercises'
    labels, unique in the book). The instructor bundle, ``course/instructor/``, holds the
    solution notebooks and ``<chapter>.zip``, the autograder of each chapter.
    """
    if not notebooks:
        raise ValueError("notebooks: nothing to copy")
    target, instructor = out / "notebooks", course / "instructor"
    written = []
    for path in notebooks:
        if path.suffix != ".ipynb":
            raise ValueError(f"notebooks: {path} is not a .ipynb file")
        folder = assign(path, course, run_tests)
        student = json.loads((folder / "student" / path.name).read_text(encoding="utf-8"))
        _write(target / path.name, student_copy(student))
        tests = folder / "student" / "tests"
        if tests.is_dir():
            shutil.copytree(tests, target / "tests", dirs_exist_ok=True)
        instructor.mkdir(parents=True, exist_ok=True)
        shutil.copy(folder / "autograder" / path.name, instructor / path.name)
        (zipfile,) = (folder / "autograder").glob("*.zip")
        shutil.copy(zipfile, instructor / f"{path.stem}.zip")
        written.append(target / path.name)
    return written


def points_per_chapter(notebooks: list[Path]) -> dict[str, tuple[int, int, float]]:
    """Per chapter: (exercises, autograded exercises, points), read from the chapters."""
    table = {}
    for path in notebooks:
        found = exercises(json.loads(path.read_text(encoding="utf-8")))
        graded = [ex for ex in found if ex.tests]
        table[path.stem] = (len(found), len(graded), sum(ex.points for ex in graded))
    return table


# --- grading a class -----------------------------------------------------------------------


@dataclass
class Grade:
    """The grade of one submission: points per question, and how the run went."""

    student: str
    chapter: str
    submission: str
    status: str  # "graded", "error" (a cell raised), "timeout", "crashed"
    detail: str = ""
    scores: dict[str, float] = field(default_factory=dict)
    possible: dict[str, float] = field(default_factory=dict)
    feedback: str = ""


def chapter_of(path: Path, chapters: list[str]) -> str | None:
    """The chapter a submitted notebook is a copy of: the longest chapter name in its name."""
    matches = [c for c in chapters if c in path.name]
    return max(matches, key=len) if matches else None


def student_of(path: Path, root: Path, chapter: str) -> str:
    """The student: the submission's folder under ``root``, else its name without the chapter."""
    relative = path.relative_to(root)
    if len(relative.parts) > 1:
        return relative.parts[0]
    name = path.stem.replace(chapter, "").strip("-_ .")
    return name or path.stem


def _first_error(notebook: dict) -> str:
    """The first exception an executed cell raised, with the cell's first line."""
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                first = next((line.strip() for line in _source(cell).splitlines()
                              if line.strip()), "")
                return (f"a cell raised {output.get('ename')}: {output.get('evalue')} "
                        f"(the cell starting {first[:60]!r})")
    return ""


def grade_one(submission: Path, autograder: Path, result: Path) -> None:
    """Grade one submission with otter's Python API (``otter run`` without Docker).

    Writes ``result`` (JSON): the score and possible points of each question, the first
    error a cell raised (errors do not stop the run: later cells still execute) and the
    feedback text.
    """
    from otter.api import grade_submission

    results = grade_submission(str(submission), str(autograder), quiet=True)
    notebook = results.notebook or {}
    summary = {
        "scores": {name: float(tf.score) for name, tf in results.results.items()},
        "possible": {name: float(tf.possible) for name, tf in results.results.items()},
        "error": _first_error(notebook),
        "catastrophic": str(results.catastrophic_error or ""),
        # the points of every question, the messages of the public tests only
        "feedback": results.summary(public_only=True),
    }
    result.write_text(json.dumps(summary, indent=1), encoding="utf-8")


def _kill_tree(pid: int) -> None:
    """Kill a process and every process it started (Jupyter starts a kernel in its own
    session, out of reach of a process-group kill)."""
    import psutil

    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    for child in children:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _run_one(submission: Path, autograder: Path, work: Path, timeout: float) -> dict:
    """Grade in a separate process group, killed with its kernel past ``timeout`` seconds."""
    work.mkdir(parents=True, exist_ok=True)
    result = work / "result.json"
    result.unlink(missing_ok=True)
    command = [sys.executable, str(Path(__file__).resolve()), "grade-one", str(submission),
               str(autograder), str(result)]
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True, cwd=work)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_tree(process.pid)
        process.communicate()
        return {"status": "timeout",
                "detail": f"did not finish within {timeout:g} s: stopped "
                          f"(after {time.monotonic() - started:.0f} s)"}
    if process.returncode != 0 or not result.is_file():
        tail = " | ".join(output.strip().splitlines()[-3:])
        return {"status": "crashed", "detail": f"the grader exited with {process.returncode}: "
                                               f"{tail}"}
    summary = json.loads(result.read_text(encoding="utf-8"))
    if summary["catastrophic"]:
        return {"status": "crashed", "detail": summary["catastrophic"], **summary}
    status = "error" if summary["error"] else "graded"
    return {"status": status, "detail": summary["error"], **summary}


def grade(submissions: Path, out: Path, autograders: Path, timeout: float = 900,
          jobs: int = 1) -> list[Grade]:
    """Grade every notebook under ``submissions``; write ``out/grades.csv`` and feedback.

    Each submission is graded in its own process (:func:`grade_one`), with ``timeout``
    seconds; a submission that raises, never finishes or crashes the grader gets a clear
    status and detail in its row, and the others are graded all the same.
    """
    chapters = sorted(p.stem for p in autograders.glob("*.zip"))
    if not chapters:
        raise ValueError(f"{autograders}: no autograder zips (run make student first)")
    paths = sorted(p for p in submissions.rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts)
    if not paths:
        raise ValueError(f"{submissions}: no submitted notebooks")
    out.mkdir(parents=True, exist_ok=True)

    def one(path: Path) -> Grade:
        chapter = chapter_of(path, chapters)
        if chapter is None:
            return Grade(path.stem, "", str(path.relative_to(submissions)), "unknown",
                         f"no chapter's name in the file name (one of {', '.join(chapters)})")
        grade_ = Grade(student_of(path, submissions, chapter), chapter,
                       str(path.relative_to(submissions)), "graded")
        work = out / "work" / re.sub(r"[^A-Za-z0-9_.-]", "_", grade_.submission)
        summary = _run_one(path.resolve(), (autograders / f"{chapter}.zip").resolve(),
                           work, timeout)
        grade_.status, grade_.detail = summary["status"], summary["detail"]
        grade_.scores = summary.get("scores", {})
        grade_.possible = summary.get("possible", {})
        grade_.feedback = summary.get("feedback", "")
        return grade_

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        grades = list(pool.map(one, paths))
    write_grades(grades, out)
    shutil.rmtree(out / "work", ignore_errors=True)
    return grades


def write_grades(grades: list[Grade], out: Path) -> None:
    """``out/grades.csv`` (student × question points) and ``out/feedback/<student>/``."""
    questions = sorted({q for g in grades for q in g.possible})
    with (out / "grades.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "chapter", "submission", "status", "detail", *questions,
                         "total", "possible"])
        for g in grades:
            cells = [f"{g.scores[q]:g}" if q in g.scores else "" for q in questions]
            writer.writerow([g.student, g.chapter, g.submission, g.status, g.detail, *cells,
                             f"{sum(g.scores.values()):g}", f"{sum(g.possible.values()):g}"])
    for g in grades:
        folder = out / "feedback" / g.student
        folder.mkdir(parents=True, exist_ok=True)
        lines = [f"{g.student}: {g.chapter or g.submission}", f"status: {g.status}"]
        if g.detail:
            lines.append(f"detail: {g.detail}")
        lines.append(f"points: {sum(g.scores.values()):g} / {sum(g.possible.values()):g}")
        lines += [f"  {q}: {g.scores[q]:g} / {g.possible[q]:g}" for q in sorted(g.possible)]
        if g.feedback:
            lines += ["", g.feedback]
        (folder / f"{g.chapter or Path(g.submission).stem}.txt").write_text(
            "\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    student = commands.add_parser("student", help="student copies and the instructor bundle")
    student.add_argument("notebooks", nargs="*", type=Path,
                         help="chapters (default: every notebook of _toc.yml)")
    student.add_argument("--out", type=Path, default=ROOT / "build" / "student")
    student.add_argument("--course", type=Path, default=COURSE)
    student.add_argument("--run-tests", action="store_true",
                         help="otter assign executes each solution notebook against its tests")
    graded = commands.add_parser("grade", help="grade a folder of submitted notebooks")
    graded.add_argument("submissions", type=Path)
    graded.add_argument("--out", type=Path, default=ROOT / "build" / "grades")
    graded.add_argument("--autograders", type=Path, default=COURSE / "instructor")
    graded.add_argument("--timeout", type=float, default=900,
                        help="seconds per submission (default 900)")
    graded.add_argument("--jobs", type=int, default=1)
    one = commands.add_parser("grade-one", help=argparse.SUPPRESS)
    one.add_argument("submission", type=Path)
    one.add_argument("autograder", type=Path)
    one.add_argument("result", type=Path)
    points = commands.add_parser("points", help="exercises and points per chapter")
    points.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)

    def chapters(given: list[Path]) -> list[Path]:
        if given:
            return given
        from build_book import toc_notebooks

        return [ROOT / path for path in toc_notebooks()]

    if args.command == "student":
        for path in write_course(chapters(args.notebooks), args.out, args.course,
                                 args.run_tests):
            print(f"wrote {path}")
        print(f"instructor bundle: {args.course / 'instructor'}")
    elif args.command == "grade":
        grades = grade(args.submissions, args.out, args.autograders, args.timeout, args.jobs)
        for g in grades:
            print(f"{g.student:20} {g.chapter:40} {g.status:8} "
                  f"{sum(g.scores.values()):g}/{sum(g.possible.values()):g} {g.detail}")
        print(f"wrote {args.out / 'grades.csv'}")
    elif args.command == "grade-one":
        grade_one(args.submission, args.autograder, args.result)
    else:  # the table of book/instructors.md
        paths = chapters(args.notebooks)
        print("| Chapter | Title | Exercises | Autograded | Points |\n|---|---|---|---|---|")
        for path, (count, autograded, total) in zip(paths, points_per_chapter(paths).values()):
            first = _source(json.loads(path.read_text(encoding="utf-8"))["cells"][0])
            title = re.search(r"^# (.+)$", first, re.M)
            title = title.group(1).split(":")[0] if title else path.stem
            print(f"| {path.stem[:2]} | {title} | {count} | {autograded} | {total:g} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
