"""Write a student copy of the chapters: the same notebooks with every solution removed.

A chapter's exercises carry worked solutions in two forms (see CONTRIBUTING.md):

- a ``{solution}`` directive inside a markdown cell (backtick or colon fence), removed
  with its content;
- a ``{solution-start}`` ... ``{solution-end}`` pair around markdown and code cells,
  removed with everything between, across cells; its code cells are replaced by one
  empty answer cell, so the student has a place to work.

Everything else (the exercises, the prose, every other code cell, metadata and tags) is
kept as it is, so a student copy runs top to bottom like the original (the test suite
runs the student copies of cheap chapters). Outputs are cleared.

Usage: python tools/student_copy.py [--out build/student] [NOTEBOOK ...]
(default: every notebook of ``_toc.yml``; the copies land in ``<out>/notebooks/``).
"""

from __future__ import annotations

import argparse
import copy
import functools
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from myst_parser.config.main import MdParserConfig
from myst_parser.parsers.mdit import create_md_parser

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

ANSWER = "# Your answer to the exercise above.\n"
#: Directives whose content is literal text, not MyST: a fence inside them is not a directive.
LITERAL_DIRECTIVES = {"code", "code-block", "code-cell", "sourcecode", "eval-rst", "math",
                      "literalinclude", "raw"}


@dataclass(frozen=True)
class Block:
    """A fenced block of MyST markdown: lines ``start`` to ``end`` (exclusive) of the text."""

    name: str | None  # the directive ("solution"), None for a code block
    start: int
    end: int
    closed: bool


@functools.lru_cache(maxsize=1)
def myst_parser() -> MarkdownIt:
    """The markdown-it parser that MyST builds for the book (its ``myst_enable_extensions``)."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    extensions = config.get("parse", {}).get("myst_enable_extensions", [])
    return create_md_parser(MdParserConfig(enable_extensions=set(extensions)), RendererHTML)


def fenced_blocks(markdown: str, offset: int = 0) -> Iterator[Block]:
    """Yield every fenced block of ``markdown`` (backtick, tilde or colon fence), in order.

    The blocks are found by markdown-it-py with MyST's plugins, as the book build finds them;
    the content of a directive (other than a literal one) is searched for nested blocks too.
    """
    for token in myst_parser().parse(markdown):
        if token.type not in ("fence", "colon_fence") or not token.map:
            continue
        start, end = token.map
        # markdown-it ends an unclosed fence at the end of its container; its content then
        # takes every line after the opening one
        content = token.content
        content_lines = content.count("\n") + bool(content and not content.endswith("\n"))
        closed = end - start - content_lines == 2
        info = token.info.strip()
        name = info[1:info.index("}")] if info.startswith("{") and "}" in info else None
        yield Block(name, offset + start, offset + end, closed)
        if name is not None and name not in LITERAL_DIRECTIVES:
            yield from fenced_blocks(token.content, offset + start + 1)


def _directives(markdown: str, name: str) -> list[Block]:
    blocks = [block for block in fenced_blocks(markdown) if block.name == name]
    for block in blocks:
        if not block.closed:
            raise ValueError(f"markdown: the {{{name}}} block opened on line {block.start + 1} "
                             "is not closed")
    return blocks


def strip_solution_blocks(markdown: str) -> str:
    r"""Remove every ``{solution}`` directive (fence and content) from MyST markdown.

    Blocks are found as MyST finds them (:func:`fenced_blocks`): a block ends at the first
    fence of the same character, at least as long, with no info string, so nested code
    blocks and directives are removed with it. An unclosed block is an error.

    Raises
    ------
    ValueError
        If a ``{solution}`` block is not closed.

    Examples
    --------
    >>> strip_solution_blocks("Try it.\n\n```{solution} ex-1\nIt is 2.\n```\nNext.")
    'Try it.\n\nNext.'
    """
    blocks = _directives(markdown, "solution")
    if blocks:
        lines = _lines(markdown)
        drop = {i for block in blocks for i in range(block.start, block.end)}
        markdown = "\n".join(line for i, line in enumerate(lines) if i not in drop)
    return re.sub(r"\n{3,}", "\n\n", markdown).strip("\n")


def _lines(markdown: str) -> list[str]:
    """Split ``markdown`` into lines as markdown-it counts them (a lone CR is a break too)."""
    return markdown.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _split_at_directive(markdown: str, directive: str) -> tuple[str, str] | None:
    """Split ``markdown`` around the first ``{directive}`` fence block: (before, after)."""
    blocks = _directives(markdown, directive)
    if not blocks:
        return None
    lines = _lines(markdown)
    return "\n".join(lines[:blocks[0].start]), "\n".join(lines[blocks[0].end:])


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _markdown_cell(template: dict, text: str) -> dict:
    cell = copy.deepcopy(template)
    cell["source"] = text
    cell.pop("id", None)
    return cell


def student_cells(cells: list[dict]) -> list[dict]:
    """Return the cells of a student copy: every solution removed, exercises kept.

    Raises
    ------
    ValueError
        If a ``{solution-start}`` has no ``{solution-end}``, or the other way round.
    """
    result: list[dict] = []
    in_solution = False
    had_code = False
    pending: list[dict] = [copy.deepcopy(c) for c in cells]
    while pending:
        cell = pending.pop(0)
        if cell["cell_type"] != "markdown":
            if in_solution:
                had_code = had_code or cell["cell_type"] == "code"
                continue
            if cell["cell_type"] == "code":
                cell["outputs"], cell["execution_count"] = [], None
            result.append(cell)
            continue
        text = _source(cell)
        if in_solution:
            split = _split_at_directive(text, "solution-end")
            if split is None:
                continue  # markdown inside the solution
            in_solution = False
            if had_code:
                answer = {"cell_type": "code", "execution_count": None, "metadata": {},
                          "outputs": [], "source": ANSWER}
                result.append(answer)
            pending.insert(0, _markdown_cell(cell, split[1]))
            continue
        if _split_at_directive(text, "solution-end") is not None and \
                _split_at_directive(text, "solution-start") is None:
            raise ValueError("a {solution-end} without a {solution-start}")
        split = _split_at_directive(text, "solution-start")
        if split is not None:
            before, after = split
            before = strip_solution_blocks(before)
            if before.strip():
                result.append(_markdown_cell(cell, before))
            in_solution, had_code = True, False
            pending.insert(0, _markdown_cell(cell, after))
            continue
        text = strip_solution_blocks(text)
        if text.strip():
            cell["source"] = text
            result.append(cell)
    if in_solution:
        raise ValueError("a {solution-start} without a {solution-end}")
    return result


def student_notebook(notebook: dict) -> dict:
    """Return a student copy of a notebook (a ``nbformat`` JSON dict), solutions removed."""
    copy_ = copy.deepcopy(notebook)
    copy_["cells"] = student_cells(notebook["cells"])
    # cell ids must be unique; new cells get fresh ones
    for number, cell in enumerate(copy_["cells"]):
        if notebook.get("nbformat_minor", 0) >= 5 or notebook.get("nbformat", 4) > 4:
            cell.setdefault("id", f"student-{number}")
    return copy_


def write_student_copy(notebooks: list[Path], out: Path) -> list[Path]:
    """Write the student copy of each notebook to ``out/notebooks/``; return the paths."""
    if not notebooks:
        raise ValueError("notebooks: nothing to copy")
    target = out / "notebooks"
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        if path.suffix != ".ipynb":
            raise ValueError(f"notebooks: {path} is not a .ipynb file")
        notebook = json.loads(path.read_text(encoding="utf-8"))
        try:
            student = student_notebook(notebook)
        except ValueError as error:
            raise ValueError(f"{path.name}: {error}") from None
        destination = target / path.name
        destination.write_text(json.dumps(student, indent=1, ensure_ascii=False) + "\n",
                               encoding="utf-8")
        written.append(destination)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to copy (default: every notebook of _toc.yml)")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "student",
                        help="output folder (default: build/student)")
    args = parser.parse_args(argv)
    notebooks = args.notebooks
    if not notebooks:
        from build_book import toc_notebooks

        notebooks = [ROOT / path for path in toc_notebooks()]
    for path in write_student_copy(notebooks, args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
