"""Sphinx helpers for the book, loaded by ``_config.yml`` (``sphinx.local_extensions``).

Everything here works from what the build already has (the table of contents, the
notebooks, ``references.bib``, the package), so the pages that use it never drift:

- **Offline MathJax.** The Sphinx extension ``sphinx-mathjax-offline`` (PyPI, installed
  with the ``book`` extra) copies MathJax 3 to ``_static/mathjax``; this one checks that
  ``mathjax_path`` names a file it ships, so the rendered book needs no CDN.
- **API reference.** ``sphinx.ext.autosummary`` generates a page per module into
  ``book/api/generated/`` (template: ``book/_ext/templates/autosummary/module.rst``);
  this extension starts each build from an empty folder and leaves placing the pages to
  ``_toc.yml`` (see :class:`DropAutosummaryToctrees`).
- **API links.** Inline code that names a documented object, such as
  ```fractalnb.profiles.pick``` or ```fractalnb.profiles.current()```, becomes a link to
  its API page; a name that does not exist is a warning, so the ``-W`` build fails.
  Set ``fractalnb_api_links = False`` in the Sphinx config to turn it off.
- **The API each chapter uses.** Every chapter notebook ends with links to the
  ``fractalnb`` functions and classes its code cells call (read from the code itself).
- **A figure glued in a chapter, on another page**: ``glued-figure`` (landing page).
- **Directives** ``book-map``, ``book-version`` and ``book-downloads`` (landing page),
  ``chapter-plan`` (instructors' page), ``book-citation`` (generated from ``CITATION.cff``)
  and ``bibtex-entries`` (how to cite).
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import math
import os
import re
import shutil
import sys
import types
import typing
from binascii import a2b_base64
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from markdown_it import MarkdownIt
from myst_blocks import MYST_EXTENSIONS, fenced_blocks, myst_parser
from myst_blocks import lines as markdown_lines
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.ext.autosummary import autosummary_toc
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx_external_toc.api import FileItem

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------
# Offline MathJax: the files come from sphinx-mathjax-offline
# --------------------------------------------------------------------------------------

#: The Sphinx extension that ships MathJax 3 (3.2.2, the last 3.x) and copies it to
#: ``_static/mathjax`` when the build finishes. Its module is named with hyphens.
MATHJAX_EXTENSION = "sphinx-mathjax-offline"


STATIC = Path(__file__).resolve().parent / "static"  #: the book's own CSS (page layout)


def _add_static_files(app: Sphinx, config) -> None:
    """Serve ``static/`` with the book and link its style sheet from every page."""
    config.html_static_path = [*config.html_static_path, str(STATIC)]
    app.add_css_file("fractalnb.css")


def _check_mathjax_path(app: Sphinx, config) -> None:
    """Fail early unless ``mathjax_path`` names a file that ``sphinx-mathjax-offline`` ships.

    The package sets ``mathjax_path`` itself (to ``mathjax/tex-chtml.js``) when it is set up;
    Sphinx's default is a CDN address, which the book must never load.
    """
    path = config.mathjax_path
    if path.startswith(("http:", "https:", "//")):
        raise ExtensionError(
            f"mathjax_path is {path!r}: the book serves MathJax itself (no CDN) through "
            f"{MATHJAX_EXTENSION}, which sets it to 'mathjax/tex-chtml.js'"
        )
    if MATHJAX_EXTENSION not in app.extensions:
        raise ExtensionError(
            f"the book serves MathJax itself through the Sphinx extension {MATHJAX_EXTENSION}: "
            f"list it in sphinx.extra_extensions and pip install {MATHJAX_EXTENSION} "
            "(the book extra of fractalnb installs it; `make book` does it for you)"
        )
    shipped = Path(sys.modules[MATHJAX_EXTENSION].__file__).parent / "static" / path
    if not shipped.is_file():
        raise ExtensionError(f"mathjax_path is {path!r}, but {MATHJAX_EXTENSION} has no {shipped}")


# --------------------------------------------------------------------------------------
# Inline code that names a fractalnb object becomes a cross-reference
# --------------------------------------------------------------------------------------

API_NAME = re.compile(r"(fractalnb(?:\.[A-Za-z_][A-Za-z0-9_]*)+)(\(\))?")


def canonical_name(dotted: str) -> str:
    """Return the documented name of ``dotted``: re-exports map to where they are defined.

    ``fractalnb.box_dimension`` (a re-export) becomes ``fractalnb.boxcount.box_dimension``.
    A name that cannot be imported is returned unchanged (its link will be reported broken).

    Examples
    --------
    >>> canonical_name("fractalnb.profiles.pick")
    'fractalnb.profiles.pick'
    """
    resolved = _resolve(dotted)
    if resolved is None:
        return dotted
    obj, is_module = resolved
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if (not is_module and isinstance(module, str) and module.startswith("fractalnb")
            and isinstance(qualname, str) and "<" not in qualname):
        return f"{module}.{qualname}"
    return dotted


def _resolve(dotted: str) -> tuple[object, bool] | None:
    """Import ``dotted``: its longest importable module prefix, then the rest as attributes.

    Returns the object and whether it is that module itself, or None when it does not exist.
    """
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for attribute in parts[split:]:
                obj = getattr(obj, attribute)
        except (AttributeError, ImportError):  # a lazy package imports a name on first use
            return None
        return obj, split == len(parts)
    return None


class ApiLinks(SphinxTransform):
    """Turn inline code ```fractalnb.x.y``` (optionally followed by ``()``) into a py:obj link."""

    default_priority = 500

    def apply(self, **kwargs) -> None:  # noqa: D102
        if not self.config.fractalnb_api_links:
            return
        for node in list(self.document.findall(nodes.literal)):
            parent = node.parent
            if isinstance(parent, (nodes.reference, addnodes.pending_xref, nodes.title,
                                   addnodes.desc_signature)) or "xref" in node["classes"]:
                continue
            text = node.astext()
            match = API_NAME.fullmatch(text)
            if not match:
                continue
            xref = addnodes.pending_xref(
                "", refdomain="py", reftype="obj", reftarget=canonical_name(match.group(1)),
                refexplicit=True, refwarn=True, refdoc=self.env.docname,
            )
            xref += nodes.literal(text, text, classes=["xref", "py", "py-obj"])
            xref.source, xref.line = node.source, node.line
            node.replace_self(xref)


def used_api_names(sources: list[str]) -> list[str]:
    r"""Return the documented ``fractalnb`` functions and classes that code cells use.

    Imports of ``fractalnb`` (any form, with aliases) are collected from all cells, then
    every name and attribute chain that starts with an imported name is resolved to the
    object it denotes; functions and classes defined in ``fractalnb`` (names without a
    leading underscore) are returned by their documented name, in order of first use.
    Cells that are not Python (magics aside) are skipped.

    Examples
    --------
    >>> used_api_names(["from fractalnb import profiles\nP = profiles.pick(quick=1, full=2)"])
    ['fractalnb.profiles.pick']
    """
    import ast

    trees = []
    for source in sources:
        lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        try:
            trees.append(ast.parse("\n".join(lines)))
        except SyntaxError:
            continue
    aliases: dict[str, str] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "fractalnb":
                        if alias.asname:
                            aliases[alias.asname] = alias.name
                        else:
                            aliases["fractalnb"] = "fractalnb"
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and \
                    node.module.split(".")[0] == "fractalnb":
                for alias in node.names:
                    if alias.name != "*":
                        aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    def chain(node) -> str | None:
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name) and node.id in aliases:
            return ".".join([aliases[node.id], *reversed(parts)])
        return None

    uses: list[tuple[int, int, int, str]] = []
    for number, tree in enumerate(trees):
        for node in ast.walk(tree):
            if isinstance(node, (ast.Attribute, ast.Name)) and isinstance(
                    getattr(node, "ctx", None), ast.Load):
                dotted = chain(node)
                name = _documented_callable(dotted) if dotted else None
                if name:
                    uses.append((number, node.lineno, node.col_offset, name))
    found: list[str] = []
    for *_, name in sorted(uses):  # in reading order: cell, line, column
        if name not in found:
            found.append(name)
    return found


def _documented_callable(dotted: str) -> str | None:
    """Return the documented name of a public ``fractalnb`` function or class, else None."""
    resolved = _resolve(dotted)
    if resolved is None:
        return None
    obj = resolved[0]
    if not (inspect.isfunction(obj) or inspect.isclass(obj)):
        return None
    module, qualname = getattr(obj, "__module__", ""), getattr(obj, "__qualname__", "")
    if not module.startswith("fractalnb") or any(p.startswith("_") for p in qualname.split(".")):
        return None
    if "<" in qualname:
        return None
    return f"{module}.{qualname}"


class ChapterApiIndex(SphinxTransform):
    """End each chapter notebook with links to the ``fractalnb`` functions its code uses.

    The links are ordinary (nitpicky) cross-references: a function a chapter uses that the
    API reference does not document fails the ``-n`` build.
    """

    default_priority = 500

    def apply(self, **kwargs) -> None:  # noqa: D102
        path = Path(self.env.doc2path(self.env.docname))
        if path.suffix != ".ipynb" or not path.is_file():
            return
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        sources = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                   for c in cells if c.get("cell_type") == "code"]
        names = used_api_names(sources)
        sections = list(self.document.findall(nodes.section))
        if not names or not sections:
            return
        paragraph = nodes.paragraph()
        for number, name in enumerate(names):
            if number:
                paragraph += nodes.Text(" · ")
            short = name.removeprefix("fractalnb.")
            xref = addnodes.pending_xref("", refdomain="py", reftype="obj", reftarget=name,
                                         refexplicit=True, refwarn=True,
                                         refdoc=self.env.docname)
            xref += nodes.literal(short, short, classes=["xref", "py", "py-obj"])
            xref.source, xref.line = str(path), 1
            paragraph += xref
        rubric = nodes.rubric(text="fractalnb in this chapter")
        note = nodes.paragraph(text="The functions and classes of the package that the code "
                                    "of this chapter calls, linked to the API reference:")
        container = nodes.container(classes=["fractalnb-api-index"])
        container += [rubric, note, paragraph]
        last = sections[-1]
        while True:  # the deepest last section: body elements may not follow subsections
            children = [c for c in last.children if isinstance(c, nodes.section)]
            if not children or children[-1] is not last.children[-1]:
                break
            last = children[-1]
        last += container


def _resolve_fractalnb_names(app: Sphinx, env, node, contnode):
    """Resolve the ``fractalnb`` names that the API pages cannot hold as targets.

    Sphinx's Python domain looks a name up among the documented objects only; it does not
    follow imports. So here a name is looked up as Python would, in the module the text
    belongs to (a short name; failing that in its part, ``fractalnb.geometry``, and then in
    the top-level short list, as a reader of the part would import it) or from the top
    (``fractalnb.…``):

    - an imported name or a re-export (``fractalnb.geometry.box_dimension``, imported
      lazily from ``fractalnb.geometry.boxcount``; a docstring's short ``box_dimension``
      shown in a package's summary table) links to the entry of the object it names:
      autodoc documents each object once, where it is defined;
    - a type variable (``T``, ``ArrayT``) or type alias in a signature is shown as plain text:
      it is not a documented object.

    Every other unresolved ``fractalnb`` name stays an error of the nitpicky build.
    """
    if node.get("refdomain") != "py":
        return None
    target, module = node.get("reftarget", ""), node.get("py:module") or ""
    if target.startswith("fractalnb."):
        candidates = [target]
    elif module.startswith("fractalnb") and target and not target.startswith("."):
        # a short name: in the docstring's own module, else in its part (the namespace a
        # reader imports from, ``fractalnb.geometry``), else in the top-level short list
        parts = module.split(".")
        candidates = [f"{module}.{target}", *(f"{'.'.join(parts[:k])}.{target}"
                                              for k in range(len(parts) - 1, 0, -1))]
    else:
        return None
    for dotted in candidates:
        resolved = _resolve(dotted)
        if resolved is not None:
            break
    else:
        return None
    canonical = canonical_name(dotted)
    if canonical != dotted:
        return env.get_domain("py").resolve_xref(env, node.get("refdoc", env.docname),
                                                 app.builder, node["reftype"], canonical,
                                                 node, contnode)
    value = resolved[0]
    is_alias = typing.get_origin(value) is not None or isinstance(value, types.UnionType)
    if isinstance(value, typing.TypeVar) or is_alias:
        return contnode
    return None


# --------------------------------------------------------------------------------------
# API reference: generated by sphinx.ext.autosummary
# --------------------------------------------------------------------------------------


#: Where autosummary writes the API pages (the ``:toctree:`` of ``book/api/index.md``, placed
#: by the ``glob`` of ``_toc.yml``); config value ``fractalnb_api_generated``.
API_GENERATED = "book/api/generated"


class DropAutosummaryToctrees(SphinxTransform):
    """Remove the hidden toctree that autosummary's ``:toctree:`` option adds to a page.

    autosummary generates a page only for an entry with ``:toctree:``, and that option
    always puts a hidden toctree in the page. The book's one table of contents is
    ``_toc.yml`` (sphinx_external_toc): a second toctree is its warning "toctree directive
    not expected with external-toc" and would give each page two parents. So the generated
    pages are placed by the ``glob`` entry of ``_toc.yml`` and the hidden toctree goes.
    Runs before sphinx_external_toc's ``InsertToctrees`` (priority 100).
    """

    default_priority = 50

    def apply(self, **kwargs) -> None:  # noqa: D102
        for node in list(self.document.findall(autosummary_toc)):
            node.parent.remove(node)


def _clear_generated_api(app: Sphinx) -> None:
    """Empty the folder of generated API pages before autosummary writes it.

    autosummary overwrites the pages it generates but never deletes one: the page of a
    module that was renamed or removed would stay, be built, and fail importing it.
    """
    folder = Path(app.srcdir) / app.config.fractalnb_api_generated
    if folder.is_dir():
        shutil.rmtree(folder)


def _drop_duplicate_scripts(app: Sphinx, pagename: str, templatename: str, context: dict,
                            doctree) -> None:
    """Keep one copy of each script of a page.

    jupyter-book 1.0 registers sphinx-thebe's inline ``const THEBE_JS_URL = ...`` twice
    (once with the file name ``None``, once ``""``), and the second copy is a
    ``SyntaxError`` on the browser console of every page.
    """
    scripts = context.get("script_files")
    if not scripts:
        return
    unique, seen = [], set()
    for script in scripts:
        if isinstance(script, str):
            key = (script,)
        else:  # an inline script is registered once with filename None, once with ""
            key = (script.filename or "", script.priority,
                   tuple(sorted(script.attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique  # in place: extensions that run later add to this same list


# --------------------------------------------------------------------------------------
# A figure glued in one chapter, shown on another page (the landing page)
# --------------------------------------------------------------------------------------


class glued_image(nodes.General, nodes.Element):  # noqa: N801 (docutils node naming)
    """Placeholder for an image glued in another document; resolved after reading."""


class GluedFigure(SphinxDirective):
    """A figure whose image is a ``myst_nb.glue`` output of another notebook.

    Kept here because myst-nb cannot: its ``glue:figure`` pastes only from the page's own
    notebook; ``{glue}`` with ``:doc:`` pastes across pages but without a caption and, for
    a figure glued with ``display=False``, without copying its image. This directive does
    both::

        ```{glued-figure} landing_segmentation
        :doc: ../notebooks/03_fractal_transformation.ipynb
        :alt: What the figure shows
        :name: fig-landing

        The caption.
        ```

    A key the notebook did not glue is a warning (an error in the ``-W`` build). A
    notebook that exists but is left out of the table of contents (a partial build with
    ``tools/build_book.py --only``) gives a visible placeholder and an info message; a
    notebook that does not exist is a warning.
    """

    required_arguments = 1
    has_content = True
    option_spec = {"doc": directives.unchanged_required, "alt": directives.unchanged,
                   "name": directives.unchanged,
                   "width": directives.length_or_percentage_or_unitless,
                   "class": directives.class_option}

    def run(self) -> list[nodes.Node]:  # noqa: D102
        key = self.arguments[0]
        if "doc" not in self.options:
            raise self.error("glued-figure needs the option :doc: (the notebook that glues it)")
        _, filepath = self.env.relfn2path(self.options["doc"], self.env.docname)
        refdoc = self.env.path2doc(filepath)
        if refdoc is None or refdoc not in self.env.found_docs:
            if Path(filepath).is_file():
                logger.info(f"glued-figure: {self.options['doc']} is not part of this build; "
                            f"{key!r} is shown as a placeholder",
                            location=(self.env.docname, self.lineno))
                note = nodes.note()
                note += nodes.paragraph(
                    text=f"The figure {key!r} is computed by {Path(filepath).name}, which is "
                         "not part of this (partial) build.")
                return [note]
            logger.warning(f"glued-figure: no document {self.options['doc']!r} (for {key!r})",
                           location=(self.env.docname, self.lineno))
            return []
        image = glued_image(refdoc=refdoc, key=key, alt=self.options.get("alt", key))
        if "width" in self.options:
            image["width"] = self.options["width"]
        image.source, image.line = self.get_source_info()
        figure = nodes.figure("", image, classes=self.options.get("class", []))
        self.set_source_info(figure)
        self.add_name(figure)
        if self.content:
            container = nodes.Element()
            self.state.nested_parse(self.content, self.content_offset, container)
            first = container[0]
            if not isinstance(first, nodes.paragraph):
                raise self.error("the caption of a glued-figure must be a paragraph")
            caption = nodes.caption(first.rawsource, "", *first.children)
            caption.source, caption.line = first.source, first.line
            figure += caption
            if len(container) > 1:
                figure += nodes.legend("", *container[1:])
        return [figure]


def part_numbering(toc_path: Path) -> dict[str, bool]:
    """Return ``{first document of a part: whether the part is numbered}`` of a ``_toc.yml``.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "_toc.yml"
    >>> import yaml
    >>> parts = [{"caption": "A", "chapters": [{"file": "a.md"}]},
    ...          {"caption": "B", "numbered": True, "chapters": [{"file": "b"}, {"file": "c"}]}]
    >>> _ = path.write_text(yaml.safe_dump({"format": "jb-book", "root": "i", "parts": parts}))
    >>> part_numbering(path)
    {'a': False, 'b': True}
    """
    import yaml

    toc = yaml.safe_load(toc_path.read_text()) if toc_path.is_file() else {}
    starts = {}
    for part in (toc or {}).get("parts") or []:
        chapters = part.get("chapters") or []
        if chapters and "file" in chapters[0]:
            name = re.sub(r"\.(md|ipynb|rst)$", "", chapters[0]["file"])
            starts[name] = bool(part.get("numbered"))
    return starts


class LatexChapterNumbering(SphinxPostTransform):
    """Number the PDF's chapters as the HTML book does: only those of the toc's numbered parts.

    LaTeX numbers every chapter; Sphinx numbers only the numbered parts of the toc. At
    the start of each part's first document this sets LaTeX's ``secnumdepth`` to -1 (no
    numbers, and the chapter counter does not advance) or back to its value, so chapter 4 and
    Exercise 4.2 of the PDF are chapter 4 and Exercise 4.2 of the web page.

    A reference to an exercise of another document ({numref}) would be written as
    a reference to a label that LaTeX numbers by its chapter; it becomes a link with the
    number Sphinx gave it, as on the web page.
    """

    default_priority = 20  # after the references are resolved (10)
    formats = ("latex",)

    def apply(self, **kwargs) -> None:  # noqa: D102
        starts = part_numbering(Path(self.env.srcdir) / "_toc.yml")
        off = (r"\ifnum\value{secnumdepth}>-1\edef\fnbsecnumdepth{\the\value"
               r"{secnumdepth}}\fi\setcounter{secnumdepth}{-1}")
        # the landing page (the root document, whose sections LaTeX makes chapters) is not
        # numbered on the web either
        self.document.insert(0, nodes.raw("", off + "\n", format="latex"))
        for node in list(self.document.findall(addnodes.start_of_file)):
            if node["docname"] not in starts:
                continue
            if starts[node["docname"]]:
                tex = r"\ifdefined\fnbsecnumdepth\setcounter{secnumdepth}{\fnbsecnumdepth}\fi"
            else:
                tex = off
            node.insert(0, nodes.raw("", tex + "\n", format="latex"))
        for node in list(self.document.findall(addnodes.number_reference)):
            if node.astext().startswith("Exercise "):
                link = nodes.reference("", "", nodes.Text(node.astext()), internal=True,
                                       **{k: node[k] for k in ("refid", "refuri") if k in node})
                node.replace_self(link)


class ResolveGluedImages(SphinxPostTransform):
    """Replace each :class:`glued_image` by the image its notebook glued, written to ``_images``."""

    default_priority = 5

    def apply(self, **kwargs) -> None:  # noqa: D102
        folder = Path(self.env.mystnb_config.output_folder)
        for node in list(self.document.findall(glued_image)):
            refdoc, key = node["refdoc"], node["key"]
            path = folder.joinpath(*refdoc.split("/")).with_name(
                refdoc.split("/")[-1] + ".glue.json")
            glued = json.loads(path.read_text()) if path.is_file() else {}
            data = glued.get(key, {}).get("data", {})
            mime = next((m for m in ("image/png", "image/jpeg", "image/svg+xml") if m in data),
                        None)
            if mime is None:
                why = (f"has no image (mime types: {sorted(data)})" if key in glued
                       else "was not glued")
                logger.warning(f"glued-figure: {key!r} {why} in {refdoc}", location=node)
                node.parent.remove(node)
                continue
            if mime == "image/svg+xml":
                content = data[mime].encode() if isinstance(data[mime], str) else data[mime]
            else:
                content = a2b_base64(data[mime])
            suffix = {"image/png": ".png", "image/jpeg": ".jpeg", "image/svg+xml": ".svg"}[mime]
            name = hashlib.sha256(content).hexdigest() + suffix
            outdir = Path(self.app.builder.outdir)
            target = outdir / self.app.builder.imagedir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            # HTML pages link images relative to their own folder; the LaTeX builder writes
            # one document at the output root and copies images there, so its paths are
            # relative to the root
            page = outdir if self.app.builder.format == "latex" else (
                outdir / self.env.docname).parent
            uri = os.path.relpath(target, page)
            image = nodes.image(uri=uri, alt=node["alt"], candidates={"*": uri})
            if "width" in node:
                image["width"] = node["width"]
            image.source, image.line = node.source, node.line
            node.replace_self(image)


# --------------------------------------------------------------------------------------
# The table of contents and the chapters, as the build sees them
# --------------------------------------------------------------------------------------

WORDS_PER_MINUTE = 120
"""Reading speed assumed for the book's prose (technical text with formulas)."""
MINUTES_PER_EXERCISE = 15
"""Time budgeted per exercise on the instructors' page."""

@dataclass
class Chapter:
    """What the instructors' page and the landing page need to know about one chapter."""

    docname: str
    title: str = ""
    goals: list[str] = field(default_factory=list)
    exercises: int = 0
    words: int = 0
    run_seconds: float | None = None

    @property
    def reading_minutes(self) -> int:
        """Reading time of the prose, rounded up to 5 minutes."""
        return max(5, 5 * math.ceil(self.words / WORDS_PER_MINUTE / 5))

    @property
    def exercise_minutes(self) -> int:
        """Time budgeted for the exercises."""
        return MINUTES_PER_EXERCISE * self.exercises


def toc_parts(app: Sphinx) -> list[tuple[str, list[str]]]:
    """Return ``(caption, [docname, ...])`` for each part of the table of contents."""
    site_map = getattr(app.env, "external_site_map", None)
    if site_map is None:
        raise ExtensionError("fractalnb_book needs the external table of contents (_toc.yml)")
    parts = []
    for tree in site_map[site_map.root.docname].subtrees:
        docnames = [_strip_suffix(str(item)) for item in tree.items
                    if isinstance(item, FileItem)]
        parts.append((tree.caption or "", docnames))
    return parts


def _strip_suffix(name: str) -> str:
    for suffix in (".ipynb", ".md", ".rst"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def learning_goals(markdown: str, parser: MarkdownIt | None = None) -> list[str]:
    r"""Return the items of the list that follows the words "Learning goals" in a chapter.

    Examples
    --------
    >>> learning_goals("**Learning goals**\n\n- one\n- two\n  continued\n\nText.")
    ['one', 'two continued']
    """
    tokens = (parser or myst_parser()).parse(markdown)
    at = next((i for i, token in enumerate(tokens)
               if token.type == "inline" and "learning goals" in token.content.lower()), None)
    if at is None or at + 2 >= len(tokens):
        return []
    opening = tokens[at + 2]  # after the paragraph or heading that names the goals
    if opening.type not in ("bullet_list_open", "ordered_list_open"):
        return []
    goals: list[str] = []
    for token in tokens[at + 3:]:
        if token.level <= opening.level:
            break
        if token.type == "list_item_open" and token.level == opening.level + 1:
            goals.append("")
        elif token.type == "inline" and goals and not goals[-1]:
            goals[-1] = " ".join(line.strip() for line in token.content.splitlines())
    return [goal for goal in goals if goal]


def _prose_words(markdown: str, parser: MarkdownIt | None = None) -> int:
    """Count the words a reader reads: prose and exercises, not code, options or solutions."""
    lines = markdown_lines(markdown)
    keep = [True] * len(lines)
    blocks = list(fenced_blocks(markdown, parser))
    opened = None  # a {solution-start} ... {solution-end} span, across cells
    for block in blocks:
        if block.name == "solution-start" and opened is None:
            opened = block.start
        elif block.name == "solution-end" and opened is not None:
            keep[opened:block.end] = [False] * (block.end - opened)
            opened = None
    if opened is not None:
        keep[opened:] = [False] * (len(lines) - opened)
    for block in blocks:
        if block.name is None or block.name.startswith("solution"):
            keep[block.start:block.end] = [False] * (block.end - block.start)
        else:  # a directive: keep its content, drop the fences and :option: lines
            keep[block.start] = False
            if block.closed:
                keep[block.end - 1] = False
            for i in range(block.start + 1, block.end - block.closed):
                if lines[i].lstrip().startswith(":"):
                    keep[i] = False
    text = " ".join(line for line, k in zip(lines, keep) if k)
    return len(re.findall(r"[A-Za-z][A-Za-z'’-]*", text))


def _run_seconds(cells: list[dict]) -> float | None:
    total, timed = 0.0, False
    for cell in cells:
        execution = cell.get("metadata", {}).get("execution", {})
        start, end = execution.get("iopub.execute_input"), execution.get("shell.execute_reply")
        if start and end:
            parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
            total += (parse(end) - parse(start)).total_seconds()
            timed = True
    return total if timed else None


def read_chapter(path: Path, docname: str,
                 extensions: tuple[str, ...] = MYST_EXTENSIONS) -> Chapter:
    """Read a chapter notebook: title, learning goals, exercises, words, measured run time.

    ``extensions`` are the ``myst_enable_extensions`` the markdown is parsed with.
    """
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    markdown = "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    title = next((line[2:].strip() for line in markdown.splitlines() if line.startswith("# ")),
                 docname)
    parser = myst_parser(tuple(extensions))
    exercises = sum(block.name == "exercise" for block in fenced_blocks(markdown, parser))
    return Chapter(docname=docname, title=title, goals=learning_goals(markdown, parser),
                   exercises=exercises, words=_prose_words(markdown, parser),
                   run_seconds=_run_seconds(cells))


def _format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "not run in this build"
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min"


class _MarkdownDirective(SphinxDirective):
    """A directive that writes MyST Markdown and parses it in place."""

    def parse_markdown(self, text: str) -> list[nodes.Node]:
        if not str(self.env.doc2path(self.env.docname)).endswith(".md"):
            raise self.error(f"{self.name} is meant for MyST Markdown pages")
        container = nodes.container()
        self.state.nested_parse(StringList(text.splitlines(), source=self.env.docname),
                                self.content_offset, container)
        return container.children

    def notebook_chapters(self) -> list[tuple[str, list[Chapter]]]:
        parts = []
        for caption, docnames in toc_parts(self.env.app):
            chapters = []
            for docname in docnames:
                path = Path(self.env.srcdir) / (docname + ".ipynb")
                if path.is_file():
                    self.env.note_dependency(str(path))
                    chapters.append(read_chapter(
                        path, docname, tuple(sorted(self.config.myst_enable_extensions))))
            if chapters:
                parts.append((caption, chapters))
        return parts


class BookMap(_MarkdownDirective):
    """A table of the book's parts: one line of content per part, ``Caption: description``.

    Chapters are linked from the table of contents as they land; a part named here but not
    yet in ``_toc.yml`` reads "in preparation". A part of the table of contents that the
    directive does not describe is a warning (and so an error in the ``-W`` build).
    """

    has_content = True

    def run(self) -> list[nodes.Node]:  # noqa: D102
        described = []
        for line in self.content:
            if not line.strip():
                continue
            if ":" not in line:
                raise self.error(f"book-map lines read 'Caption: description', got {line!r}")
            caption, description = line.split(":", 1)
            described.append((caption.strip(), description.strip()))
        parts = dict(toc_parts(self.env.app))
        missing = [caption for caption in parts if caption not in dict(described)]
        if missing:
            logger.warning(f"book-map: describe these parts of _toc.yml too: {missing}",
                           location=(self.env.docname, self.lineno))
        rows = ["| Part | What it covers | Chapters |", "|---|---|---|"]
        for caption, description in described:
            docnames = parts.get(caption)
            links = (" · ".join(f"{{doc}}`/{name}`" for name in docnames) if docnames
                     else "*in preparation*")
            rows.append(f"| **{caption}** | {description} | {links} |")
        return self.parse_markdown("\n".join(rows))


class ChapterPlan(_MarkdownDirective):
    """The instructors' plan: per chapter its learning goals, exercises and time estimates.

    Kept here because no extension does it: myst-parser counts words only for the page
    being read (the ``wordcount-minutes`` substitution, code and solutions included), and
    nothing reads the learning goals, the exercises or the run time of other pages.
    """

    has_content = False

    def run(self) -> list[nodes.Node]:  # noqa: D102
        parts = self.notebook_chapters()
        if not parts:
            logger.warning("chapter-plan: no chapter notebooks in the table of contents",
                           location=(self.env.docname, self.lineno))
            return []
        lines = ["| Chapter | Reading | Exercises | Session | Run time (this build) |",
                 "|---|--:|--:|--:|--:|"]
        for _, chapters in parts:
            for chapter in chapters:
                session = chapter.reading_minutes + chapter.exercise_minutes
                lines.append(
                    f"| {{doc}}`/{chapter.docname}` | {chapter.reading_minutes} min "
                    f"| {chapter.exercises} ({chapter.exercise_minutes} min) | {session} min "
                    f"| {_format_seconds(chapter.run_seconds)} |")
        lines.append("")
        for caption, chapters in parts:
            lines += ["", f"**{caption}**", ""]
            for chapter in chapters:
                if not chapter.goals:
                    logger.warning(f"chapter-plan: {chapter.docname} lists no learning goals",
                                   location=(self.env.docname, self.lineno))
                lines += [f"- {{doc}}`/{chapter.docname}`", ""]
                lines += [f"  {n}. {goal}" for n, goal in enumerate(chapter.goals, 1)]
                lines.append("")
        return self.parse_markdown("\n".join(lines))


def bibtex_entry(bib: str, key: str) -> str:
    r"""Return the BibTeX source of entry ``key`` in ``bib``.

    Raises
    ------
    KeyError
        If there is no entry ``key``.

    Examples
    --------
    >>> bibtex_entry("@misc{a, title = {x {y}}}\n@misc{b, title={z}}", "a")
    '@misc{a, title = {x {y}}}'
    """
    match = re.search(r"@\w+\s*\{\s*" + re.escape(key) + r"\s*,", bib)
    if not match:
        raise KeyError(f"no BibTeX entry {key!r}")
    depth = 0
    for index in range(bib.index("{", match.start()), len(bib)):
        depth += {"{": 1, "}": -1}.get(bib[index], 0)
        if depth == 0:
            return bib[match.start(): index + 1]
    raise KeyError(f"BibTeX entry {key!r} is not closed")


class BibtexEntries(SphinxDirective):
    """Show the BibTeX source of the named entries of the book's ``references.bib``."""

    required_arguments = 1
    final_argument_whitespace = True

    def run(self) -> list[nodes.Node]:  # noqa: D102
        texts = []
        for bibfile in self.config.bibtex_bibfiles:
            path = Path(self.env.srcdir) / bibfile
            self.env.note_dependency(str(path))
            texts.append(path.read_text(encoding="utf-8"))
        bib = "\n".join(texts)
        entries = []
        for key in self.arguments[0].split():
            try:
                entries.append(bibtex_entry(bib, key))
            except KeyError as error:
                raise self.error(str(error)) from None
        block = nodes.literal_block("\n\n".join(entries), "\n\n".join(entries))
        block["language"] = "bibtex"
        return [block]


CITATION_FILE = "CITATION.cff"
"""The book's citation, in Citation File Format 1.2.0, at the root of the repository."""

#: Where the book's downloads lie in the HTML output (written by ``tools/build_book.py``).
DOWNLOADS = {
    "pdf": ("_downloads/fractalnb.pdf", "The whole book as one PDF"),
    "zip": ("_downloads/fractalnb-notebooks.zip",
            "Every chapter as a Jupyter notebook, executed, with its outputs (one zip)"),
}


def find_citation_file(srcdir: Path) -> Path:
    """Return ``CITATION.cff`` of the book in ``srcdir`` (or a folder above it).

    Raises
    ------
    FileNotFoundError
        If there is none.
    """
    for folder in (srcdir, *srcdir.parents):
        if (folder / CITATION_FILE).is_file():
            return folder / CITATION_FILE
    raise FileNotFoundError(f"no {CITATION_FILE} in {srcdir} or a folder above it")


def read_citation(path: Path) -> dict:
    """Read a ``CITATION.cff`` (YAML) and check the fields the book's citation uses.

    Raises
    ------
    ValueError
        If a field the citation needs is missing.
    """
    import yaml

    cff = yaml.safe_load(path.read_text(encoding="utf-8"))
    missing = [key for key in ("cff-version", "title", "authors", "version", "date-released",
                               "repository-code") if not cff.get(key)]
    if missing:
        raise ValueError(f"{path} lacks {missing}")
    return cff


def cff_author_names(cff: dict) -> list[str]:
    """Return the authors of a CFF record as BibTeX names (``Family, Given`` or an entity)."""
    names = []
    for author in cff["authors"]:
        if author.get("family-names"):
            family = " ".join(filter(None, [author.get("name-particle"),
                                            author["family-names"]]))
            given = author.get("given-names", "")
            names.append(f"{family}, {given}" if given else family)
        else:
            names.append("{" + author["name"] + "}")  # an entity: braces keep it whole
    return names


def cff_bibtex(cff: dict, key: str | None = None) -> str:
    r"""Return a BibTeX entry for a CFF record.

    Examples
    --------
    >>> print(cff_bibtex({"title": "T", "authors": [{"name": "The T authors"}],
    ...                   "version": "1.0", "date-released": "2026-01-02",
    ...                   "repository-code": "https://example.org/t"}, key="t2026"))
    @misc{t2026,
      title        = {T},
      author       = {{The T authors}},
      year         = {2026},
      version      = {1.0},
      howpublished = {\url{https://example.org/t}},
      note         = {Version 1.0}
    }
    """
    year = str(cff["date-released"])[:4]
    key = key or f"fractalnb{year}"
    return "\n".join([
        f"@misc{{{key},",
        f"  title        = {{{cff['title']}}},",
        f"  author       = {{{' and '.join(cff_author_names(cff))}}},",
        f"  year         = {{{year}}},",
        f"  version      = {{{cff['version']}}},",
        f"  howpublished = {{\\url{{{cff['repository-code']}}}}},",
        f"  note         = {{Version {cff['version']}}}",
        "}",
    ])


def cff_text(cff: dict) -> str:
    """Return a one-line citation of a CFF record (authors, year, title, version, address).

    Examples
    --------
    >>> cff_text({"title": "T", "authors": [{"given-names": "Ada", "family-names": "Lovelace"}],
    ...           "version": "1.0", "date-released": "2026-01-02",
    ...           "repository-code": "https://example.org/t"})
    'Lovelace, Ada (2026). T (version 1.0). https://example.org/t'
    """
    authors = "; ".join(name.strip("{}") for name in cff_author_names(cff))
    return (f"{authors} ({str(cff['date-released'])[:4]}). {cff['title']} "
            f"(version {cff['version']}). {cff['repository-code']}")


class BookCitation(SphinxDirective):
    """The book's citation, generated from ``CITATION.cff``: a sentence and a BibTeX entry.

    The file's ``version`` must be ``fractalnb.__version__`` and its ``title`` the book's
    title: a citation that disagrees with the book it cites is an error.
    """

    option_spec = {"key": directives.unchanged}

    def run(self) -> list[nodes.Node]:  # noqa: D102
        import fractalnb

        try:
            path = find_citation_file(Path(self.env.srcdir))
            cff = read_citation(path)
        except (FileNotFoundError, ValueError) as error:
            raise self.error(str(error)) from None
        self.env.note_dependency(str(path))
        title = self.config.html_title or self.config.project
        if str(cff["version"]) != fractalnb.__version__:
            raise self.error(f"{path}: version {cff['version']} is not fractalnb.__version__ "
                             f"({fractalnb.__version__}): update one of them")
        if cff["title"] != title:
            raise self.error(f"{path}: title {cff['title']!r} is not the book's ({title!r})")
        text = cff_bibtex(cff, self.options.get("key"))
        sentence = nodes.paragraph()
        sentence += nodes.Text(cff_text(cff).removesuffix(str(cff["repository-code"])))
        sentence += nodes.reference(cff["repository-code"], cff["repository-code"],
                                    refuri=cff["repository-code"])
        block = nodes.literal_block(text, text)
        block["language"] = "bibtex"
        return [sentence, block]


def build_date() -> str:
    """Return the build's date, ``YYYY-MM-DD`` (UTC): ``$SOURCE_DATE_EPOCH`` if set, else today."""
    from datetime import timezone

    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = (datetime.fromtimestamp(int(epoch), tz=timezone.utc) if epoch
            else datetime.now(tz=timezone.utc))
    return when.strftime("%Y-%m-%d")


class BookVersion(SphinxDirective):
    """One sentence: the version of ``fractalnb`` (and of the book) and the date it was built."""

    def run(self) -> list[nodes.Node]:  # noqa: D102
        import fractalnb

        paragraph = nodes.paragraph(classes=["book-version"])
        paragraph += nodes.Text(f"Version {fractalnb.__version__} of the book and of the "
                                f"package fractalnb, built on {build_date()}.")
        return [paragraph]


class BookDownloads(SphinxDirective):
    """Links to the book's downloads: the whole book as a PDF and every chapter in one zip.

    The files are written into the HTML output by ``tools/build_book.py`` (see
    :data:`DOWNLOADS`); the links are relative to the page. The PDF itself gets a sentence
    instead (a relative link means nothing there).
    """

    def run(self) -> list[nodes.Node]:  # noqa: D102
        up = "../" * self.env.docname.count("/")
        items = nodes.bullet_list()
        for kind, (target, label) in DOWNLOADS.items():
            item = nodes.list_item()
            paragraph = nodes.paragraph()
            paragraph += nodes.reference(label, label, refuri=up + target,
                                         classes=[f"book-download-{kind}"])
            item += paragraph
            items += item
        item = nodes.list_item()
        item += nodes.paragraph(text="One chapter: the download button at the top of its page "
                                     "gives its notebook (.ipynb), executed, with its outputs.")
        items += item
        html = addnodes.only(expr="html")
        html += items
        other = addnodes.only(expr="not html")
        other += nodes.paragraph(text="The HTML edition of this book links its downloads: "
                                      "this PDF, and every chapter as an executed notebook.")
        return [html, other]


def setup(app: Sphinx) -> dict:
    """Register the book's helpers with Sphinx."""
    app.add_config_value("fractalnb_api_links", True, "env", [bool])
    app.add_config_value("fractalnb_api_generated", API_GENERATED, "env", [str])
    app.connect("config-inited", _check_mathjax_path)
    app.connect("config-inited", _add_static_files)
    app.connect("builder-inited", _clear_generated_api, priority=400)  # autosummary: 500
    app.add_transform(DropAutosummaryToctrees)
    app.connect("html-page-context", _drop_duplicate_scripts, priority=100)
    app.add_transform(ApiLinks)
    app.add_transform(ChapterApiIndex)
    app.add_node(glued_image)
    app.add_directive("glued-figure", GluedFigure)
    app.add_post_transform(ResolveGluedImages)
    app.add_post_transform(LatexChapterNumbering)
    app.connect("missing-reference", _resolve_fractalnb_names)
    app.add_directive("book-map", BookMap)
    app.add_directive("chapter-plan", ChapterPlan)
    app.add_directive("bibtex-entries", BibtexEntries)
    app.add_directive("book-citation", BookCitation)
    app.add_directive("book-version", BookVersion)
    app.add_directive("book-downloads", BookDownloads)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
