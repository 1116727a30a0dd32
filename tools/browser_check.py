"""Check the built book in a real browser: Debian's Chromium, driven by Selenium.

The HTML in ``build/html`` is served on localhost and every page of the table of contents
is opened in a fresh headless Chromium. A page passes when

- it loads with no error on the browser console (the server answers ``/favicon.ico``
  with an empty 204, so a missing icon is not counted);
- every image on it has loaded (``complete`` and ``naturalWidth > 0``);
- MathJax, where the page has math, has typeset all of it: every math element holds
  MathJax's output, no MathJax error box (``mjx-merror``) is shown, and no raw TeX
  delimiter (``$$``, ``\\(``, ``\\)``, ``\\[``, ``\\]``) is left in the text outside code;
- every solution of an exercise is hidden (a ``dropdown`` admonition): hidden at first,
  and open after a click on its title.

- it links the repository (the theme's repository, issue and edit buttons) at the URL and
  branch of ``_config.yml``'s ``repository:`` block; a chapter page has launch buttons,
  Binder (that repository, branch and notebook) and Colab (the chapter's Colab copy); it
  shows no placeholder text
  ("not set", as in Sphinx's "Project name not set");
- what a reader sees fits (``tools/page_checks.py``): no code cell or table wider than the
  content column, no figure shrunk under 60% of its width, no visible ``glue(`` line, no
  pandas repr in an output, no ``nan`` / ``inf`` table cell;
- its downloads are real files of the right type, fetched from the server: a chapter's
  download button gives its ``.ipynb``, a JSON notebook with outputs (the executed
  copy); the landing page links the whole book as a PDF (a ``%PDF`` file with pages) and a
  zip of every chapter (it opens, and holds one executed notebook per chapter of the toc).

Then the search page must find a word taken from a chapter and link that chapter, and
screenshots of the landing page and of one chapter are saved (``build/screenshots``).

Usage::

    python tools/browser_check.py [HTML_DIR] [--toc TOC] [--search-word WORD]
                                  [--screenshots DIR] [--chromium PATH] [--chromedriver PATH]

Kept in the project because no library does it: Sphinx's own checks (``-W -n``,
``linkcheck``) and Jupyter Book's work on the documents and never run a page's
JavaScript, so none of them sees math that MathJax did not typeset, an image the browser
could not load, a console error or a solution shown open.

Exit status 0 when every check passes, 1 otherwise (with one line per failure), 2 when
the browser cannot be started. Chromium comes from Debian's packages
(``apt-get install chromium chromium-driver``); nothing is downloaded.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_book import toc_entries  # noqa: E402  (the one toc walker of tools/)
from page_checks import check_page_layout  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--disable-dev-shm-usage", "--window-size=1280,1400")
NOTEBOOK_DIR = "notebooks/"
TIMEOUT_S = 240  # seconds a page may take to load and settle before the check fails
DOWNLOAD_SUFFIXES = (".ipynb", ".zip", ".pdf")

# What a page looks like once it has settled: run in the page by Selenium.
PAGE_STATE_JS = r"""
const done = arguments[arguments.length - 1];
const settle = async () => {
  // MathJax is loaded asynchronously: on a page with math, wait (up to 30 s) for it to appear
  // before judging whether it loaded at all
  const hasMath = document.querySelector('span.math, div.math') !== null;
  const mathDeadline = Date.now() + 30000;
  while (hasMath && !(window.MathJax && MathJax.startup && MathJax.startup.promise)
         && Date.now() < mathDeadline) {
    await new Promise(r => setTimeout(r, 50));
  }
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    try { await MathJax.startup.promise; } catch (e) { /* reported as untypeset math */ }
  }
  const images = Array.from(document.images);
  const deadline = Date.now() + 10000;
  while (images.some(img => !img.complete) && Date.now() < deadline) {
    await new Promise(r => setTimeout(r, 50));
  }
  const mathNodes = Array.from(document.querySelectorAll('span.math, div.math'));
  const untypeset = mathNodes.filter(m => !m.querySelector('mjx-container'))
                             .map(m => m.textContent.trim().slice(0, 60));
  const errors = Array.from(document.querySelectorAll('mjx-merror'))
                      .map(e => (e.getAttribute('data-mjx-error') || e.textContent).slice(0, 80));
  const clone = document.body.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, textarea, mjx-container, .highlight,'
                         + ' mjx-assistive-mml').forEach(e => e.remove());
  const text = clone.textContent;
  const raw = [];
  for (const token of ['$$', '\\(', '\\)', '\\[', '\\]']) {
    const at = text.indexOf(token);
    if (at >= 0) raw.push(text.slice(Math.max(0, at - 30), at + 30).replace(/\s+/g, ' '));
  }
  done({
    title: document.title,
    hasMathJax: !!window.MathJax && !!window.MathJax.startup,
    mathCount: mathNodes.length,
    untypeset: untypeset,
    mathErrors: errors,
    rawTex: raw,
    brokenImages: images.filter(img => !img.complete || img.naturalWidth === 0)
                        .map(img => img.getAttribute('src')),
    imageCount: images.length,
    dropdowns: document.querySelectorAll('.admonition.dropdown, details.dropdown').length,
    openSolutions: Array.from(document.querySelectorAll('.solution.admonition:not(.dropdown)'))
                        .map(e => (e.querySelector('.admonition-title') || e).textContent
                                  .trim().slice(0, 60)),
    links: Array.from(document.querySelectorAll('a[href]'))
                .map(a => [a.className, a.href]),
  });
};
settle();
"""


@dataclass
class PageReport:
    """What the browser saw on one page."""

    page: str
    problems: list[str] = field(default_factory=list)
    images: int = 0
    math: int = 0
    solutions: int = 0
    seconds: float = 0.0
    layout: dict = field(default_factory=dict)  # what tools/page_checks.py measured


def toc_pages(toc_path: Path) -> list[str]:
    """Return the HTML page of every entry of a Jupyter Book ``_toc.yml``, in reading order.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "_toc.yml"
    >>> _ = path.write_text("format: jb-book\\nroot: intro\\nchapters:\\n  - file: a/b\\n")
    >>> toc_pages(path)
    ['intro.html', 'a/b.html']
    """
    names = toc_entries(toc_path, "file")
    return [re.sub(r"\.(md|ipynb|rst)$", "", name) + ".html" for name in names]


def glob_pages(html_dir: Path, toc_path: Path) -> list[str]:
    """Add the pages that a ``glob`` entry of the toc puts in the book (they exist as HTML)."""
    pages = []
    for pattern in toc_entries(toc_path, "glob"):
        pages += sorted(str(p.relative_to(html_dir)) for p in html_dir.glob(pattern + ".html"))
    return pages


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass

    def do_GET(self):  # noqa: N802 (the base class's name)
        if self.path.split("?")[0] == "/favicon.ico" and not Path(self.translate_path(
                self.path)).is_file():
            self.send_response(204)
            self.end_headers()
            return
        super().do_GET()


@contextmanager
def serve(html_dir: Path) -> Iterator[str]:
    """Serve ``html_dir`` on an ephemeral localhost port; yield its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(html_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def chromium(chromium_path: str, chromedriver_path: str) -> Iterator[object]:
    """Start the system Chromium through chromedriver, with a fresh user-data dir."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    for name, path in (("chromium", chromium_path), ("chromedriver", chromedriver_path)):
        if not Path(path).is_file():
            raise FileNotFoundError(
                f"{name} not found at {path}: install Debian's packages with "
                "`apt-get install chromium chromium-driver` (or pass --{name})")
    profile = tempfile.mkdtemp(prefix="fractalnb-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium_path
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver_path))
    # generous: on a 2-core CI machine the unit tests run beside the browser (pytest -n 2),
    # and MathJax's first typesetting of a page has been seen to take over 60 s there
    driver.set_page_load_timeout(TIMEOUT_S)
    driver.set_script_timeout(TIMEOUT_S)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@dataclass
class Expectations:
    """What every page must link: the repository's URL and branch, and the book's chapters."""

    repository: str | None = None
    branch: str | None = None
    chapters: list[str] = field(default_factory=list)  # notebooks/NN_name.ipynb
    binder: str | None = None  # launch_buttons.binderhub_url
    colab: str | None = None  # launch_buttons.colab_url


def read_expectations(config_path: Path, toc_path: Path) -> Expectations:
    """Read the repository's URL and branch from ``_config.yml``, the chapters from the toc."""
    config = yaml.safe_load(config_path.read_text()) if config_path.is_file() else {}
    repository = (config or {}).get("repository") or {}
    chapters = [name if name.endswith(".ipynb") else name + ".ipynb"
                for name in toc_entries(toc_path, "file") if name.startswith(NOTEBOOK_DIR)]
    chapters = [name for name in chapters if (toc_path.parent / name).is_file()]
    launch = (config or {}).get("launch_buttons") or {}
    return Expectations(repository.get("url"), repository.get("branch"), chapters,
                        (launch.get("binderhub_url") or "").rstrip("/") or None,
                        (launch.get("colab_url") or "").rstrip("/") or None)


def launch_problems(links: list[str], notebook: str, expect: Expectations) -> list[str]:
    """Problems of a chapter page's launch buttons (Binder and Colab, from ``_config.yml``).

    Binder must open the chapter, ``notebooks/NN_name.ipynb``, in the configured repository
    and branch (``<binderhub>/v2/gh/<owner>/<repo>/<branch>?urlpath=...<notebook>``); Colab
    its Colab copy, on the branch of ``tools/colab_copy.py`` (``<colab>/github/<owner>/
    <repo>/blob/<branch>/<notebook>``).

    Examples
    --------
    >>> e = Expectations("https://github.com/o/r", "main", [], "https://mybinder.org",
    ...                  "https://colab.research.google.com")
    >>> launch_problems(["https://mybinder.org/v2/gh/o/r/main?urlpath=lab/tree/n/a.ipynb",
    ...     "https://colab.research.google.com/github/o/r/blob/colab/n/a.ipynb"], "n/a.ipynb", e)
    []
    >>> launch_problems([], "n/a.ipynb", e)[0]
    'no Binder button opening n/a.ipynb in https://github.com/o/r at main'
    """
    from colab_copy import COLAB_BRANCH

    problems = []
    owner_repo = (expect.repository or "").rstrip("/").removeprefix("https://github.com/")
    if expect.binder and expect.repository:
        prefix = f"{expect.binder}/v2/gh/{owner_repo}/{expect.branch or 'main'}?"
        if not any(href.startswith(prefix) and urllib.parse.unquote(href).rstrip("/")
                   .endswith(notebook) for href in links):
            problems.append(f"no Binder button opening {notebook} in {expect.repository} "
                            f"at {expect.branch or 'main'}")
    if expect.colab and expect.repository:
        url = f"{expect.colab}/github/{owner_repo}/blob/{COLAB_BRANCH}/{notebook}"
        if url not in links:
            problems.append(f"no Colab button opening {url}")
    return problems


def fetch(url: str) -> bytes:
    """Return the body of a local URL (the book's own server)."""
    with urllib.request.urlopen(url, timeout=60) as response:  # the book's own server, on localhost
        return response.read()


def notebook_problems(data: bytes, name: str) -> list[str]:
    """Problems of a downloaded notebook: not JSON, not nbformat 4, or no outputs at all."""
    try:
        notebook = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        return [f"{name} is not a JSON notebook ({error})"]
    if not isinstance(notebook, dict) or notebook.get("nbformat") != 4 \
            or not isinstance(notebook.get("cells"), list):
        return [f"{name} is not an nbformat-4 notebook"]
    code = [c for c in notebook["cells"] if c.get("cell_type") == "code"]
    if code and not any(c.get("outputs") for c in code):
        return [f"{name} has no outputs (not the executed copy)"]
    return []


def pdf_problems(data: bytes, name: str) -> list[str]:
    """Problems of a downloaded PDF: not a PDF, or (with poppler's pdfinfo) no pages."""
    if data[:5] != b"%PDF-":
        return [f"{name} is not a PDF file"]
    if shutil.which("pdfinfo"):
        result = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True)
        pages = re.search(rb"^Pages:\s+(\d+)", result.stdout, re.M)
        if result.returncode != 0 or not pages or int(pages.group(1)) < 1:
            return [f"{name} is not a readable PDF with pages (pdfinfo: "
                    f"{result.stderr.decode(errors='replace').strip()[:80]})"]
    return []


def zip_problems(data: bytes, name: str, chapters: list[str]) -> list[str]:
    """Problems of the chapters' zip: it must open and hold every chapter, executed."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        return [f"{name} is not a zip file ({error})"]
    with archive:
        members = archive.namelist()
        problems = [f"{name} lacks {chapter}" for chapter in chapters if chapter not in members]
        for member in members:
            if not member.endswith(".ipynb"):
                problems.append(f"{name} holds {member}, not a notebook")
                continue
            problems += notebook_problems(archive.read(member), f"{name}:{member}")
    if not members:
        problems.append(f"{name} is empty")
    return problems


def check_links(state: dict, page: str, expect: Expectations, landing: bool) -> list[str]:
    """Check a page's repository links and its downloads."""
    problems = []
    links = [(cls or "", href) for cls, href in state["links"]]
    if expect.repository:
        repo = expect.repository.rstrip("/")
        if not any(href.rstrip("/") == repo for _, href in links):
            problems.append(f"no repository button linking {repo}")
        if expect.branch:
            edits = [href for _, href in links if href.startswith(repo + "/edit/")]
            if page.startswith(NOTEBOOK_DIR) and not edits:
                problems.append(f"no edit button into {repo}/edit/{expect.branch}/")
            problems += [f"edit button on another branch: {href}" for href in edits
                         if not href.startswith(f"{repo}/edit/{expect.branch}/")]
    downloads: dict[str, str] = {}
    for _, href in links:
        path = urllib.parse.urlsplit(href).path
        if href.startswith("http://127.0.0.1") and path.endswith(DOWNLOAD_SUFFIXES):
            downloads.setdefault(href.split("#")[0], path)
    if (re.sub(r"\.html$", ".ipynb", page) in expect.chapters
            and not any(p.endswith(".ipynb") for p in downloads.values())):
        problems.append("no download button for the chapter's .ipynb")
    if re.sub(r"\.html$", ".ipynb", page) in expect.chapters:
        problems += launch_problems([href for _, href in links],
                                    re.sub(r"\.html$", ".ipynb", page), expect)
    if landing:
        for suffix, what in ((".pdf", "the whole book as a PDF"), (".zip", "the chapters' zip")):
            if not any(p.endswith(suffix) for p in downloads.values()):
                problems.append(f"the landing page links no {suffix} ({what})")
    for url, path in downloads.items():
        name = Path(path).name
        try:
            data = fetch(url)
        except OSError as error:  # urllib's HTTPError / URLError
            problems.append(f"download {path} does not load ({error})")
            continue
        if path.endswith(".ipynb"):
            problems += notebook_problems(data, name)
        elif path.endswith(".pdf"):
            problems += pdf_problems(data, name)
        else:
            problems += zip_problems(data, name, expect.chapters)
    return problems


def console_errors(driver) -> list[str]:
    """Return (and clear) the error messages on the browser console since the last call."""
    return [entry["message"] for entry in driver.get_log("browser")
            if entry.get("level") == "SEVERE"]


def check_solutions(driver) -> tuple[int, list[str]]:
    """Check that every hidden solution is hidden, and shown after a click on its title."""
    from selenium.webdriver.common.by import By

    problems = []
    boxes = driver.find_elements(By.CSS_SELECTOR, ".admonition.dropdown")
    for number, box in enumerate(boxes, 1):
        body = [e for e in box.find_elements(By.XPATH, "./*")
                if "admonition-title" not in (e.get_attribute("class") or "")]
        title = box.find_elements(By.CSS_SELECTOR, ".admonition-title")
        if not title or not body:
            problems.append(f"hidden solution {number} has no title or no content")
            continue
        if any(e.is_displayed() for e in body):
            problems.append(f"hidden solution {number} is shown before a click")
            continue
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", title[0])
        title[0].click()
        deadline = time.monotonic() + 5
        while not any(e.is_displayed() for e in body) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not any(e.is_displayed() for e in body):
            problems.append(f"hidden solution {number} does not open on a click")
    return len(boxes), problems


def check_page(driver, base: str, page: str, expect: Expectations | None = None,
               landing: bool = False) -> PageReport:
    """Open one page and run every check on it."""
    report = PageReport(page)
    start = time.perf_counter()
    console_errors(driver)  # drop what earlier pages left
    driver.get(base + page)
    state = driver.execute_async_script(PAGE_STATE_JS)
    report.images, report.math = state["imageCount"], state["mathCount"]
    if "404" in state["title"] or "Error response" in state["title"]:
        report.problems.append(f"the page did not load ({state['title']!r})")
    for src in state["brokenImages"]:
        report.problems.append(f"image not loaded: {src}")
    if state["mathCount"] and not state["hasMathJax"]:
        report.problems.append("the page has math but MathJax did not load")
    for text in state["untypeset"]:
        report.problems.append(f"math not typeset: {text!r}")
    for text in state["mathErrors"]:
        report.problems.append(f"MathJax error: {text!r}")
    for text in state["rawTex"]:
        report.problems.append(f"raw TeX left in the text: …{text}…")
    for title in state["openSolutions"]:
        report.problems.append(f"solution not hidden (give it :class: dropdown): {title!r}")
    report.problems += check_links(state, page, expect or Expectations(), landing)
    report.solutions, problems = check_solutions(driver)
    report.problems += problems
    report.layout, problems = check_page_layout(driver)  # after the solutions are opened
    report.problems += problems
    report.problems += [f"console error: {message}" for message in console_errors(driver)]
    report.problems = list(dict.fromkeys(report.problems))
    report.seconds = time.perf_counter() - start
    return report


def search_word(html_dir: Path, chapter: str) -> str:
    """Pick a word from a chapter's title: its longest word of letters only."""
    html = (html_dir / chapter).read_text(encoding="utf-8")
    match = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    if not match:
        raise ValueError(f"chapter {chapter} has no <h1> title to take a search word from")
    words = re.findall(r"[A-Za-z]{4,}", re.sub(r"<[^>]+>", " ", match.group(1)))
    if not words:
        raise ValueError(f"the title of {chapter} has no word to search for")
    return max(words, key=len).lower()


def check_search(driver, base: str, word: str, chapter: str) -> list[str]:
    """Search for ``word`` on the search page; the results must link ``chapter``."""
    from selenium.webdriver.common.by import By

    console_errors(driver)
    # Sphinx's search.js lists results one by one and writes the summary ("Search finished,
    # found N page(s)" or "did not match") only when done: read the links after the summary.
    # On a loaded machine a first attempt can run before the index has loaded, so the search
    # is repeated (a fresh page load) until it finds the chapter or the deadline passes.
    deadline = time.monotonic() + TIMEOUT_S
    links: list[str] = []
    while time.monotonic() < deadline:
        driver.get(f"{base}search.html?q={word}")
        attempt_ends = min(deadline, time.monotonic() + 20)  # then load the page again
        while time.monotonic() < attempt_ends:
            summary = driver.find_elements(By.CSS_SELECTOR, "#search-results p.search-summary")
            if summary and summary[0].text.strip():
                break
            time.sleep(0.1)
        links = [a.get_attribute("href") or "" for a in
                 driver.find_elements(By.CSS_SELECTOR, "#search-results a")]
        if any(chapter in link for link in links):
            break
        time.sleep(1.0)
    problems = [f"console error on the search page: {m}" for m in console_errors(driver)]
    if not any(chapter in link for link in links):
        problems.append(f"searching for {word!r} does not find {chapter} "
                        f"({len(links)} results)")
    return problems


def screenshot(driver, base: str, page: str, path: Path, figure: bool = False) -> None:
    """Save a screenshot of a page: its top 1280 x 1400 pixels, or around its first figure."""
    driver.get(base + page)
    driver.execute_async_script(PAGE_STATE_JS)
    if figure:
        driver.execute_script("const img = document.querySelector('article img');"
                              "if (img) img.scrollIntoView({block: 'center'});")
        time.sleep(0.3)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not driver.save_screenshot(str(path)):
        raise RuntimeError(f"could not save a screenshot to {path}")


def run(html_dir: Path, toc: Path, word: str | None, shots: Path, chromium_path: str,
        chromedriver_path: str, config: Path | None = None) -> int:
    """Run every check; print a report; return the exit status."""
    start = time.perf_counter()
    if not (html_dir / "index.html").is_file():
        print(f"browser check: no book at {html_dir} (build it first)", file=sys.stderr)
        return 1
    pages = toc_pages(toc)
    pages += [p for p in glob_pages(html_dir, toc) if p not in pages]
    chapters = [p for p in pages if p.startswith(NOTEBOOK_DIR)]
    chapter = chapters[0] if chapters else pages[-1]
    word = word or search_word(html_dir, chapter)
    expect = read_expectations(config or toc.parent / "_config.yml", toc)
    failures: list[str] = []
    images: dict[str, int] = {}
    try:
        with serve(html_dir) as base, chromium(chromium_path, chromedriver_path) as driver:
            for page in pages:
                if not (html_dir / page).is_file():
                    failures.append(f"{page}: not in the built book")
                    continue
                report = check_page(driver, base, page, expect, landing=page == pages[0])
                images[page] = report.images
                failures += [f"{page}: {p}" for p in report.problems]
                status = "ok" if not report.problems else f"{len(report.problems)} problem(s)"
                print(f"  {page:60s} {report.images:3d} img {report.math:4d} math "
                      f"{report.solutions:2d} sol {report.seconds:5.1f} s  {status}", flush=True)
            failures += check_search(driver, base, word, chapter)
            print(f"  search for {word!r} finds {chapter}: "
                  f"{'no' if failures and 'search' in failures[-1] else 'yes'}")
            screenshot(driver, base, pages[0], shots / "landing.png")
            # the chapter with the most figures, around its first figure
            shown = max(chapters or [chapter], key=lambda p: (images.get(p, 0), -pages.index(p)))
            screenshot(driver, base, shown, shots / "chapter.png", figure=True)
            print(f"  screenshots: {pages[0]} -> landing.png, {shown} -> chapter.png")
    except FileNotFoundError as error:
        print(f"browser check: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # the driver's own errors (or its HTTP link timing out)
        if type(error).__module__.startswith(("selenium", "urllib3")):
            print(f"browser check: the browser failed: {error}", file=sys.stderr)
            return 2
        raise
    elapsed = time.perf_counter() - start
    summary = {"pages": len(pages), "failures": len(failures), "seconds": round(elapsed, 1),
               "screenshots": [str(shots / "landing.png"), str(shots / "chapter.png")]}
    print("browser check:", json.dumps(summary))
    for failure in failures:
        print(f"FAIL {failure}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", type=Path, nargs="?", default=ROOT / "build" / "html",
                        help="the built book (default: build/html)")
    parser.add_argument("--toc", type=Path, default=None,
                        help="the table of contents that built it (default: the staged "
                             "<html>/../src/_toc.yml, else _toc.yml)")
    parser.add_argument("--search-word", default=None,
                        help="word to search for (default: the longest word of the first "
                             "chapter's title)")
    parser.add_argument("--screenshots", type=Path, default=None,
                        help="where to save landing.png and chapter.png "
                             "(default: <html>/../screenshots)")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--chromedriver",
                        default=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    args = parser.parse_args(argv)
    html = args.html.resolve()
    toc = args.toc
    if toc is None:
        staged = html.parent / "src" / "_toc.yml"
        toc = staged if staged.is_file() else ROOT / "_toc.yml"
    shots = args.screenshots or html.parent / "screenshots"
    status = run(html, toc, args.search_word, shots, args.chromium, args.chromedriver)
    if status == 2:  # headless Chromium itself stalled (seen once on a CI machine): a fresh
        # browser gets one more try; a page that fails the checks (status 1) is not retried
        print("browser check: the browser failed; once more with a fresh browser",
              file=sys.stderr)
        status = run(html, toc, args.search_word, shots, args.chromium, args.chromedriver)
    return status


if __name__ == "__main__":
    sys.exit(main())
