"""What a reader sees on a page of the book: the layout and text checks of the browser check.

:func:`page_problems` runs :data:`PAGE_CHECKS_JS` in a page that ``tools/browser_check.py``
has opened (and settled: MathJax typeset, images loaded, hidden solutions opened) in its
1280-px-wide headless Chromium, and turns what the page measured into one line per problem:

- **too wide**: a code cell, a code block or a cell's text output (``div.cell_input pre``,
  ``div.highlight pre``) or a table (``table``: pandas and Styler tables of
  ``div.cell_output`` too) wider than the content column: its ``scrollWidth`` beyond its
  container's ``clientWidth``, or beyond the right edge of the article's content box
  (``article.bd-article``, else ``main``), by more than :data:`SLACK_PX`; a reader has to
  scroll it sideways (or it runs under the margin). Collapsed content (``hide-input`` /
  ``hide-output`` cells, a ``<details>``) is opened for the measurement;
- **shrunk figure**: an image of the article at least :data:`MIN_NATURAL_PX` wide shown
  at under :data:`MIN_SCALE` of its natural width: the browser scaled a figure drawn too
  wide down to the column, and its text with it (10-pt text at 100 dpi is ~14 px: under
  ~9 px at that scale);
- **glue on the page**: a visible code cell (not collapsed, not removed) with a ``glue(``
  line: bookkeeping belongs in a ``remove-cell`` cell;
- **pandas repr**: a cell output with ``dtype:`` or a line starting ``Name: `` (a
  Series / ``.dtypes`` printed as text);
- **nan in a table**: a table cell whose whole text is ``nan``, ``NaN``, ``inf`` or ``-inf``;
- **placeholder**: the text ``not set`` (as words, any case) in the page's title or text,
  hidden text included: Sphinx's "Project name not set" and the like; not where a form of
  *to be* precedes it, as in a sentence ("if ``RANK`` is not set", an API docstring).

Kept beside ``tools/browser_check.py`` (which imports it) for the length of each module.
"""

from __future__ import annotations

SLACK_PX = 2  # a box may overrun its container by this much (sub-pixel rounding, borders)
MIN_SCALE = 0.6  # an image shown at less than this share of its natural width fails...
MIN_NATURAL_PX = 300  # ...when it is at least this wide (icons and small pictures are not)
NAN_TEXTS = ("nan", "NaN", "inf", "-inf")  # a table cell showing exactly one of these fails
PLACEHOLDERS = ("not set",)  # Sphinx's defaults ("Project name not set") and the like
SNIPPET = 50  # characters of an element's text that name it in a message

# Run in the settled page by Selenium (``execute_script``): arguments are NAN_TEXTS,
# PLACEHOLDERS and MIN_NATURAL_PX; it returns the raw measurements (the thresholds but the
# image size are applied in Python, by page_problems).
PAGE_CHECKS_JS = r"""
const [nanTexts, placeholders, minNatural] = arguments;
const article = document.querySelector('article.bd-article') || document.querySelector('main')
                || document.body;
// a string cut where it may split a surrogate pair (a math letter such as U+1D45F) must be
// made whole again: WebDriver cannot return a lone surrogate
const whole = s => (s.toWellFormed ? s.toWellFormed() : s);
// an element's text as shown (table cells apart), without the copy button's label
const snippet = e => {
  const pre = e.tagName === 'PRE' ? e : e.querySelector('pre');
  return whole(((pre || e).innerText || (pre || e).textContent).replace(/\s+/g, ' ').trim()
               .slice(0, 60));
};
// rendered, and not inside a collapsed <details> (Chromium lays out its hidden content)
const shown = e => e.getClientRects().length > 0 && !e.closest('details:not([open])')
                   && (!e.checkVisibility || e.checkVisibility());
// the cell an element belongs to, named by the first characters of its source
const where = e => {
  const figure = e.closest('figure');
  const caption = figure && figure.querySelector('figcaption');
  if (caption) return ['figure', snippet(caption)];
  const cell = e.closest('div.cell');
  const source = cell && cell.querySelector('div.cell_input');
  return source ? ['output of the cell', snippet(source)] : ['', ''];
};
// visible glue( lines: judged before anything collapsed is opened below
const glue = [];
for (const cell of article.querySelectorAll('div.cell_input')) {
  const lines = cell.textContent.split('\n').filter(l => l.includes('glue('));
  if (lines.length && shown(cell)) {
    glue.push({cell: snippet(cell), line: lines[0].trim(), count: lines.length});
  }
}
// open what is collapsed (hide-input / hide-output cells): a reader who opens it sees it
const closed = Array.from(article.querySelectorAll('details:not([open])'));
closed.forEach(d => { d.open = true; });
const style = getComputedStyle(article);
const box = article.getBoundingClientRect();
const columnLeft = box.left + parseFloat(style.borderLeftWidth) + parseFloat(style.paddingLeft);
const columnRight = box.right - parseFloat(style.borderRightWidth)
                    - parseFloat(style.paddingRight);
const wide = [];
const seen = new Set();
for (const e of article.querySelectorAll('div.cell_input pre, div.highlight pre, table')) {
  if (seen.has(e) || !shown(e)) continue;
  seen.add(e);
  const r = e.getBoundingClientRect();
  const room = Math.min(e.parentElement.clientWidth, columnRight - r.left);
  const over = Math.max(e.scrollWidth - room, r.right - columnRight);
  const lines = e.tagName === 'PRE' ? e.textContent.split('\n') : [];
  const longest = lines.reduce((a, l) => (l.length > a.length ? l : a), '');
  const caption = e.tagName === 'TABLE' && e.querySelector('caption');
  wide.push({
    kind: e.tagName === 'TABLE' ? 'table'
          : e.closest('div.cell_input') ? 'code cell'
          : e.closest('div.cell_output') ? 'cell output' : 'code block',
    over: over, width: e.scrollWidth, room: room,
    text: caption ? snippet(caption) : snippet(e),
    longest: longest.length, where: e.closest('div.cell_output') ? where(e) : ['', ''],
  });
}
const images = [];
for (const img of article.querySelectorAll('img')) {
  if (!shown(img) || !img.complete || img.naturalWidth < minNatural) continue;
  images.push({src: img.getAttribute('src'), shown: img.clientWidth,
               natural: img.naturalWidth, where: where(img)});
}
const reprs = [];
for (const out of article.querySelectorAll('div.cell_output')) {
  const line = out.textContent.split('\n').find(l => l.includes('dtype:')
                                                     || l.startsWith('Name: '));
  if (line !== undefined) reprs.push({line: line.trim(), where: where(out)});
}
const nans = [];
for (const table of article.querySelectorAll('table')) {
  // typeset math is not a value: its assistive MathML reads "inf" for \inf
  const cells = Array.from(table.querySelectorAll('td, th'))
                     .filter(c => nanTexts.includes(c.textContent.trim())
                                  && !c.querySelector('mjx-container'));
  if (!cells.length) continue;
  const first = cells[0];
  // the row's name: its header cells before the value (a pandas index, levels and all)
  const names = [];
  for (const c of first.parentElement.cells) {
    if (c === first || c.tagName !== 'TH') break;
    names.push(snippet(c));
  }
  // the column's name: pandas' header rows are aligned on the right (the index's cells
  // span rows on the left), so count from the row's end, colspans spread out
  const fromEnd = first.parentElement.cells.length - 1 - first.cellIndex;
  let column = '';
  for (const head of Array.from(table.tHead ? table.tHead.rows : []).reverse()) {
    const slots = Array.from(head.cells).flatMap(c => Array(c.colSpan || 1).fill(c));
    const name = slots[slots.length - 1 - fromEnd];
    if (name && name !== first && snippet(name)) { column = snippet(name); break; }
  }
  const caption = table.querySelector('caption');
  nans.push({table: caption ? snippet(caption) : snippet(table), count: cells.length,
             values: Array.from(new Set(cells.map(c => c.textContent.trim()))),
             row: names.join(' / '), column: column, where: where(table)});
}
closed.forEach(d => { d.open = false; });
const body = document.body.cloneNode(true);
body.querySelectorAll('script, style, noscript, template').forEach(e => e.remove());
const all = document.title + '\n' + body.textContent;
const found = [];
for (const word of placeholders) {
  const pattern = new RegExp('\\b' + word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '\\b',
                             'gi');
  for (const m of all.matchAll(pattern)) {
    // a sentence that says something is not set ("if RANK is not set") is no placeholder
    if (/\b(is|are|was|were|be|been|being)\s+$/i.test(all.slice(Math.max(0, m.index - 12),
                                                               m.index))) continue;
    found.push(whole(all.slice(Math.max(0, m.index - 40), m.index + m[0].length + 20)
                        .replace(/\s+/g, ' ').trim()));
  }
}
return {column: columnRight - columnLeft, wide: wide, images: images, glue: glue,
        reprs: reprs, nans: nans, placeholders: found};
"""


def _quote(text: str) -> str:
    """Quote an element's first characters for a message.

    Examples
    --------
    >>> _quote("x = 1")
    "'x = 1'"
    >>> _quote("a" * 60)
    "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…'"
    """
    return repr(text[:SNIPPET] + ("…" if len(text) > SNIPPET else ""))


def _at(where: list[str]) -> str:
    """Say where an element is: ``[what, text]`` from the page (``["", ""]``: nowhere)."""
    return f" ({where[0]} {_quote(where[1])})" if where[0] else ""


def page_problems(state: dict) -> list[str]:
    """Turn :data:`PAGE_CHECKS_JS`'s measurements into one message per problem.

    Examples
    --------
    >>> for line in page_problems({"column": 680.0, "wide": [{"kind": "code cell",
    ...         "over": 212.4, "width": 892, "room": 680, "text": "x = 1", "longest": 105,
    ...         "where": ["", ""]}], "images": [{"src": "a.png", "shown": 680, "natural": 1600,
    ...         "where": ["", ""]}], "glue": [], "reprs": [], "nans": [], "placeholders": []}):
    ...     print(line)  # doctest: +NORMALIZE_WHITESPACE
    code cell wider than the column by 212 px (892 px in 680 px; its longest line has 105
    characters): 'x = 1'
    figure shown at 42% of its natural width (680 of 1600 px): its text is under ~9 px;
    draw it narrower: a.png
    """
    problems = []
    for item in state["wide"]:
        if item["over"] <= SLACK_PX:
            continue
        line = f"; its longest line has {item['longest']} characters" if item["longest"] else ""
        problems.append(f"{item['kind']} wider than the column by {round(item['over'])} px "
                        f"({round(item['width'])} px in {round(item['room'])} px{line}): "
                        f"{_quote(item['text'])}{_at(item['where'])}")
    for image in state["images"]:
        if image["shown"] >= MIN_SCALE * image["natural"]:
            continue
        problems.append(f"figure shown at {100 * image['shown'] / image['natural']:.0f}% of its "
                        f"natural width ({image['shown']} of {image['natural']} px): its text "
                        f"is under ~9 px; draw it narrower: {image['src']}{_at(image['where'])}")
    for cell in state["glue"]:
        more = f" (and {cell['count'] - 1} more)" if cell["count"] > 1 else ""
        problems.append(f"visible code cell with a glue( line{more}: {_quote(cell['line'])} "
                        f"in the cell {_quote(cell['cell'])}; move it to a remove-cell cell")
    for repr_ in state["reprs"]:
        problems.append(f"pandas repr in a cell output: {_quote(repr_['line'])}"
                        f"{_at(repr_['where'])}")
    for table in state["nans"]:
        values = ", ".join(repr(v) for v in table["values"])
        first = ", ".join(f"{name} {_quote(text)}" for name, text in
                          (("row", table["row"]), ("column", table["column"])) if text)
        problems.append(f"{table['count']} table cell(s) showing {values} in the table "
                        f"{_quote(table['table'])}{_at(table['where'])}"
                        + (f"; the first at {first}" if first else ""))
    for text in dict.fromkeys(state["placeholders"]):
        problems.append(f"placeholder text on the page: …{text}…")
    return problems


def check_page_layout(driver) -> tuple[dict, list[str]]:
    """Measure the open page (:data:`PAGE_CHECKS_JS`); return the measurements and problems."""
    state = driver.execute_script(PAGE_CHECKS_JS, list(NAN_TEXTS), list(PLACEHOLDERS),
                                  MIN_NATURAL_PX)
    return state, page_problems(state)
