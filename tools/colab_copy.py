"""Write the Colab copies of the chapters: the same notebooks, their Markdown plain CommonMark.

Colab renders CommonMark (with math), not MyST. A Colab copy keeps every code cell (the
hidden set-up cell of ``tools/setup_cell.py`` installs ``fractalnb`` and ``myst-nb`` there)
and rewrites the Markdown:

- ``{exercise}`` → a heading *Exercise N* and its text;
- ``{solution}`` → a collapsed ``<details>`` block, *Solution to Exercise N*;
- ``{solution-start}`` … ``{solution-end}`` (a solution with code cells) → a heading
  *Solution to Exercise N* starting a cell, listed in the notebook's
  ``metadata.colab.collapsed_sections``: Colab shows that section collapsed (a
  ``<details>`` element cannot hold cells);
- any other directive → a quoted paragraph with its name;
- ``{glue:text}`key``` → ``key`` in code: the number is shown under the cell that computes
  it (the set-up cell does that in Colab), as in JupyterLab;
- ``{cite}`` / ``{cite:t}`` / ``{cite:p}`` → *Author (year)* from ``book/references.bib``;
- ``{doc}`` / ``{ref}`` → links into the published book (GitHub Pages, from
  ``_config.yml``'s ``repository:`` URL); ``{numref}`` to a chapter (``chNN``) or an
  exercise → its number as the book prints it (*Chapter 4*, *Exercise 4.2*: chapter ``NN``
  is ``notebooks/NN_*.ipynb``, its exercises numbered in order), linking the chapter's
  page; other roles → their text.

A first Markdown cell says what the copy is and links the chapter's page in the book.
Outputs are cleared. The copies are derived from the sources alone, so they are the same
on every build.

Usage: python tools/colab_copy.py [--out DIR] [NOTEBOOK ...]
(default: the notebooks of ``_toc.yml``, written to ``<DIR>/notebooks/``).
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
import uuid
import warnings
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from build_book import toc_notebooks  # noqa: E402
from course import fenced_blocks  # noqa: E402
from myst_blocks import LITERAL_DIRECTIVES  # noqa: E402

COLAB_DIR = "_colab"  # the copies' folder in the built site (build/html/_colab/notebooks/)
#: the branch Colab opens the copies from: the publishing workflow pushes ``_colab`` there
COLAB_BRANCH = "colab"
ROLE = re.compile(r"\{([a-z][\w:+-]*)\}`([^`]*)`")
#: what no Colab copy may contain: a MyST directive fence or role
MYST_SYNTAX = re.compile(r"^\s*(```+|~~~+|:::+)\s*\{[\w:-]+\}|\{[a-z][\w:+-]*\}`", re.M)


def pages_url(config_path: Path = ROOT / "_config.yml") -> str:
    """The book's GitHub Pages address, from the ``repository:`` URL (``owner.github.io``)."""
    config = yaml.safe_load(config_path.read_text()) or {}
    url = ((config.get("repository") or {}).get("url") or "").rstrip("/")
    match = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+)", url)
    if not match:
        raise ValueError(f"{config_path}: repository.url {url!r} is not a GitHub repository")
    return f"https://{match.group(1)}.github.io/{match.group(2)}/"


def bibliography(bib_path: Path = ROOT / "book" / "references.bib") -> dict[str, tuple[str, str]]:
    """Return ``{key: (authors, year)}`` of a BibTeX file (surnames: *A*, *A and B*, *A et al.*)."""
    entries: dict[str, tuple[str, str]] = {}
    text = bib_path.read_text(encoding="utf-8") if bib_path.is_file() else ""
    for match in re.finditer(r"@\w+\{([^,\s]+),(.*?)\n\}", text, re.S):
        body = match.group(2)
        author = re.search(r"\bauthor\s*=\s*[{\"](.*?)[}\"],?\s*\n", body, re.S)
        year = re.search(r"\byear\s*=\s*[{\"]?(\d{4})", body)
        names = []
        for person in re.split(r"\s+and\s+", author.group(1)) if author else []:
            person = re.sub(r"[{}]", "", person).strip()
            names.append(person.split(",")[0].strip() if "," in person
                         else person.split()[-1] if person.split() else person)
        if len(names) > 2:
            authors = f"{names[0]} et al."
        else:
            authors = " and ".join(names) or match.group(1)
        entries[match.group(1)] = (authors, year.group(1) if year else "n.d.")
    return entries


EXERCISE_LABEL = re.compile(r"```\{exercise\}[^\n]*\n(?::[\w-]+:[^\n]*\n)*?:label:\s*(\S+)")
CHAPTER_LABEL = re.compile(r"^\((ch\d\d)\)=\s*$", re.M)


def chapter_number(chapter: str) -> int | None:
    """The number the book gives ``notebooks/NN_name`` (``NN``); ``None`` for chapter 00."""
    match = re.match(r"(\d\d)_", Path(chapter).name)
    return int(match.group(1)) or None if match else None


def book_numbers(notebooks: Path = ROOT / "notebooks") -> dict[str, tuple[str, str, str]]:
    """Return ``{label: (kind, number, chapter)}`` of the chapters' and exercises' labels.

    ``kind`` is ``"Chapter"`` or ``"Exercise"``, ``number`` as the numbered book prints it
    (``"4"``, ``"4.2"``), ``chapter`` the page (``notebooks/04_layer_dimension``).
    """
    numbers: dict[str, tuple[str, str, str]] = {}
    for path in sorted(notebooks.glob("[0-9][0-9]_*.ipynb")):
        chapter, n = f"notebooks/{path.stem}", chapter_number(path.stem)
        if n is None:
            continue
        cells = nbformat.read(path, as_version=4).cells
        text = "\n".join(c.source for c in cells if c.cell_type == "markdown")
        for label in CHAPTER_LABEL.findall(text):
            numbers[label] = ("Chapter", str(n), chapter)
        for k, label in enumerate(EXERCISE_LABEL.findall(text), 1):
            numbers[label] = ("Exercise", f"{n}.{k}", chapter)
    return numbers


class Converter:
    """MyST → CommonMark for one chapter (it numbers the chapter's exercises)."""

    def __init__(self, chapter: str, bib: dict[str, tuple[str, str]], site: str,
                 numbers: dict[str, tuple[str, str, str]] | None = None) -> None:
        self.chapter, self.bib, self.site = chapter, bib, site
        self.numbers: dict[str, int] = {}
        self.book_numbers = book_numbers() if numbers is None else numbers
        self.prefix = "" if chapter_number(chapter) is None else f"{chapter_number(chapter)}."

    def _number(self, label: str | None) -> int:
        if label and label in self.numbers:
            return self.numbers[label]
        number = len(self.numbers) + 1
        self.numbers[label or f"_{number}"] = number
        return number

    def _cite(self, keys: str, textual: bool) -> str:
        parts = []
        for key in [k.strip() for k in keys.split(",") if k.strip()]:
            authors, year = self.bib.get(key, (key, ""))
            parts.append(f"{authors} ({year})" if textual else f"{authors} {year}".strip())
        return ", ".join(parts) if textual else f"({'; '.join(parts)})"

    def _link(self, text: str, target: str) -> str:
        base = (Path("notebooks") / target) if not target.startswith("/") else Path(target[1:])
        parts: list[str] = []
        for part in base.parts:
            if part == "..":
                parts = parts[:-1]
            elif part != ".":
                parts.append(part)
        return f"[{text}]({self.site}{'/'.join(parts)}.html)"

    def role(self, match: re.Match) -> str:
        name, content = match.group(1), match.group(2)
        explicit = re.fullmatch(r"(.*?)\s*<(.+)>", content, re.S)
        text, target = (explicit.group(1), explicit.group(2)) if explicit else (content, content)
        if name.startswith("glue"):
            return f"`{content.split(':')[0]}`"
        if name.startswith("cite"):
            return self._cite(content, textual=name == "cite:t")
        if name == "doc":
            return self._link(text if explicit else Path(target).name.replace("_", " "), target)
        if name == "numref":
            if target not in self.book_numbers:
                raise ValueError(f"{self.chapter}: {{numref}} target {target!r} is not a "
                                 "chapter (chNN) or exercise label of the book")
            kind, number, page = self.book_numbers[target]
            shown = text.replace("%s", number) if explicit else f"{kind} {number}"
            return self._link(shown, "/" + page)
        if name in ("func", "class", "meth", "mod", "attr", "data", "obj", "py:func"):
            return f"`{text.lstrip('~')}`"
        return text

    def directive(self, name: str, info: str, body: str) -> tuple[str, bool]:
        """Return the CommonMark of one directive block, and whether it opens a section."""
        lines = body.split("\n")
        options: dict[str, str] = {}
        while lines and re.match(r"^:[\w-]+:", lines[0]):
            key, _, value = lines.pop(0)[1:].partition(":")
            options[key] = value.strip()
        text = self.markdown("\n".join(lines)).strip()
        argument = info.strip()
        if name == "exercise":
            number = self._number(options.get("label"))
            return f"#### Exercise {self.prefix}{number}\n\n{text}", False
        if name in ("solution", "solution-start"):
            number = self._number(argument.split()[0] if argument else None)
            if name == "solution-start":
                return f"#### Solution to Exercise {self.prefix}{number}\n\n{text}".strip(), True
            return (f"<details>\n<summary>Solution to Exercise {self.prefix}{number}</summary>"
                    f"\n\n{text}\n\n"
                    "</details>"), False
        if name == "solution-end":
            return "", False
        title = argument or name.replace("-", " ").capitalize()
        return "\n".join(f"> {line}" if line else ">"
                         for line in [f"**{title}**", "", *text.split("\n")]), False

    def markdown(self, text: str) -> str:
        """Return ``text`` with every directive and role rewritten (and no label lines)."""
        text = CHAPTER_LABEL.sub("", text).lstrip("\n") if CHAPTER_LABEL.search(text) else text
        return re.sub(r"\n{3,}", "\n\n", self._convert(text)[0]).strip("\n")

    def _convert(self, text: str) -> tuple[str, list[int]]:
        """Rewrite ``text``; also return the output line numbers where a section starts."""
        lines = text.split("\n")
        blocks = []
        for block in fenced_blocks(text):
            if block.name is None or (blocks and block.start < blocks[-1].end):
                continue  # a code block, or nested: converted with its parent
            blocks.append(block)
        out: list[str] = []
        sections: list[int] = []
        position = 0
        for block in blocks:
            out += [ROLE.sub(self.role, line) for line in lines[position:block.start]]
            opening = lines[block.start].strip()
            info = opening.lstrip("`~:")[len(block.name) + 2:]
            content = "\n".join(lines[block.start + 1:block.end - 1])
            if block.name in LITERAL_DIRECTIVES:
                out += ["```" + ("python" if block.name.startswith("code") else ""),
                        *content.split("\n"), "```"]
            else:
                converted, starts = self.directive(block.name, info, content)
                if starts:
                    sections.append(len(out))
                out += converted.split("\n") if converted else []
            position = block.end
        out += [ROLE.sub(self.role, line) for line in lines[position:]]
        return "\n".join(out), sections


def colab_notebook(notebook: nbformat.NotebookNode, chapter: str,
                   bib: dict[str, tuple[str, str]] | None = None,
                   site: str | None = None) -> nbformat.NotebookNode:
    """Return the Colab copy of one chapter (``chapter``: e.g. ``notebooks/05_x``)."""
    site = site or pages_url()
    converter = Converter(chapter, bibliography() if bib is None else bib, site)
    result = copy.deepcopy(notebook)
    cells = []
    collapsed = []
    note = (f"*This is the Colab copy of a chapter of the book "
            f"[Fractal Geometry of Deep Networks]({site}{chapter}.html), with its MyST "
            "markup turned into plain Markdown. Run the cells from the top: the first one "
            "installs `fractalnb`. A number written as `key` in the text is shown under the "
            "cell that computes it.*")
    cells.append(nbformat.v4.new_markdown_cell(note))
    for cell in result.cells:
        if cell.cell_type != "markdown":
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
            cells.append(cell)
            continue
        text, sections = converter._convert(cell.source)
        lines = text.split("\n")
        cuts = [0, *sections, len(lines)]
        for start, end in zip(cuts, cuts[1:]):
            piece = re.sub(r"\n{3,}", "\n\n", "\n".join(lines[start:end])).strip("\n")
            if not piece:
                continue
            new = copy.deepcopy(cell)
            new.source = piece
            new.id = uuid.uuid4().hex[:8] if start else cell.get("id", uuid.uuid4().hex[:8])
            if start in sections:
                new.metadata["id"] = new.id
                collapsed.append(new.id)
            cells.append(new)
    seen = set()
    for cell in cells:  # ids must be unique in nbformat 4.5
        if cell.get("id") in seen or "id" not in cell:
            cell.id = uuid.uuid4().hex[:8]
        seen.add(cell.id)
    result.cells = cells
    result.nbformat_minor = max(result.nbformat_minor, 5)
    result.metadata["colab"] = {"collapsed_sections": collapsed, "provenance": []}
    return result


def write_copies(out: Path, notebooks: list[Path] | None = None,
                 root: Path = ROOT) -> list[Path]:
    """Write the Colab copy of each notebook to ``out / <its path>``; return the paths.

    ``notebooks`` are paths relative to ``root`` (default: the toc's notebooks).
    """
    bib, site = bibliography(), pages_url()
    written = []
    for path in notebooks if notebooks is not None else toc_notebooks():
        source = path if path.is_absolute() else root / path
        relative = source.relative_to(root) if source.is_relative_to(root) else \
            Path("notebooks") / source.name
        with warnings.catch_warnings():  # a source without cell ids: the copy gets them
            warnings.simplefilter("ignore")
            notebook = nbformat.read(source, as_version=4)
        copy_ = colab_notebook(notebook,
                               relative.with_suffix("").as_posix(), bib, site)
        left = MYST_SYNTAX.findall("\n".join(c.source for c in copy_.cells
                                             if c.cell_type == "markdown"))
        if left:
            raise ValueError(f"{source}: MyST syntax left in the Colab copy: {left[:3]}")
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(copy_, target)
        written.append(target)
    return written


def colab_url(notebook: str, config_path: Path = ROOT / "_config.yml") -> str:
    """Colab's address of a chapter's copy: ``.../github/<owner>/<repo>/blob/colab/<path>``."""
    config = yaml.safe_load(config_path.read_text()) or {}
    url = ((config.get("repository") or {}).get("url") or "").rstrip("/")
    colab = ((config.get("launch_buttons") or {}).get("colab_url") or
             "https://colab.research.google.com").rstrip("/")
    owner_repo = url.removeprefix("https://github.com/")
    return f"{colab}/github/{owner_repo}/blob/{COLAB_BRANCH}/{notebook}"


def point_colab_buttons(html_dir: Path, notebooks: list[Path],
                        config_path: Path = ROOT / "_config.yml") -> int:
    """Make each chapter page's Colab button open its Colab copy; return how many changed.

    The theme links Colab to the source notebook on the book's branch, whose MyST Colab
    cannot render; the copies are published on the branch :data:`COLAB_BRANCH`.
    """
    changed = 0
    for notebook in notebooks:
        page = html_dir / notebook.with_suffix(".html")
        if not page.is_file():
            continue
        html = page.read_text(encoding="utf-8")
        new = re.sub(r'href="https://colab\.research\.google\.com/github/[^"]*"',
                     f'href="{colab_url(notebook.as_posix(), config_path)}"', html)
        if new != html:
            page.write_text(new, encoding="utf-8")
            changed += 1
    return changed


def publish(html_dir: Path, stage: Path, notebooks: list[Path]) -> list[Path]:
    """Write the Colab copies into ``<html>/_colab/`` and point the Colab buttons at them."""
    written = write_copies(html_dir / COLAB_DIR, notebooks, root=stage)
    buttons = point_colab_buttons(html_dir, notebooks, stage / "_config.yml")
    print(f"Colab copies: {len(written)} notebooks in {html_dir / COLAB_DIR}, {buttons} "
          f"Colab buttons pointed at the branch {COLAB_BRANCH!r}")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "colab")
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    written = write_copies(args.out, [p.resolve() for p in args.notebooks] or None)
    print(f"Colab copies: {len(written)} notebooks in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
