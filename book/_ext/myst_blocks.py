"""Where the fenced blocks of MyST markdown are, found as the book build finds them.

One finder for the book's extension (reading time, exercise counts), the coursework tools
(``tools/course.py``: solutions, grading cells) and the Colab copies (``tools/colab_copy.py``):
the ``fence`` and ``colon_fence`` tokens of markdown-it-py with MyST's plugins. It imports
neither Sphinx nor docutils, so the tools can use it outside a build.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from myst_parser.config.main import MdParserConfig
from myst_parser.parsers.mdit import create_md_parser

#: What MyST enables when a chapter is parsed outside a build (the book's _config.yml adds
#: more; a build, or a tool that reads _config.yml, passes its own).
MYST_EXTENSIONS = ("colon_fence", "dollarmath", "amsmath")
#: Directives whose content is literal text, not MyST: a fence inside them is not a directive.
LITERAL_DIRECTIVES = {"code", "code-block", "code-cell", "sourcecode", "eval-rst", "math",
                      "literalinclude", "raw"}


@functools.lru_cache(maxsize=4)
def myst_parser(extensions: tuple[str, ...] = MYST_EXTENSIONS) -> MarkdownIt:
    """Return the markdown-it parser that MyST builds with these ``myst_enable_extensions``."""
    return create_md_parser(MdParserConfig(enable_extensions=set(extensions)), RendererHTML)


@dataclass(frozen=True)
class FencedBlock:
    """A fenced block of MyST markdown: lines ``start`` to ``end`` (exclusive) of the text."""

    name: str | None  # the directive ("exercise"), None for a code block
    argument: str  # what follows the directive's name on its first line ("ex-02-lags")
    start: int
    end: int
    closed: bool


def fenced_blocks(markdown: str, parser: MarkdownIt | None = None, offset: int = 0,
                  nested: bool = True) -> Iterator[FencedBlock]:
    r"""Yield every fenced block (backtick, tilde or colon fence) of MyST ``markdown``, in order.

    With ``nested`` the content of a directive (other than a literal one) is searched for
    nested blocks too.

    Examples
    --------
    >>> [b.name for b in fenced_blocks("```{exercise}\nQ\n```\n\n```python\nx = 1\n```")]
    ['exercise', None]
    >>> next(fenced_blocks("```{solution} ex-1\nA\n```")).argument
    'ex-1'
    """
    parser = parser or myst_parser()
    for token in parser.parse(markdown):
        if token.type not in ("fence", "colon_fence") or not token.map:
            continue
        start, end = token.map
        # markdown-it ends an unclosed fence at the end of its container; its content then
        # takes every line after the opening one
        content = token.content
        content_lines = content.count("\n") + bool(content and not content.endswith("\n"))
        info = token.info.strip()
        name, argument = None, ""
        if info.startswith("{") and "}" in info:
            name = info[1:info.index("}")]
            argument = info[info.index("}") + 1:].strip()
        yield FencedBlock(name, argument, offset + start, offset + end,
                          end - start - content_lines == 2)
        if nested and name is not None and name not in LITERAL_DIRECTIVES:
            yield from fenced_blocks(content, parser, offset + start + 1)


def lines(markdown: str) -> list[str]:
    """Split ``markdown`` into lines as markdown-it counts them (a lone CR is a break too)."""
    return markdown.replace("\r\n", "\n").replace("\r", "\n").split("\n")
