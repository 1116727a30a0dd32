"""Check a chapter in a real JupyterLab: Debian's Chromium, driven by Selenium.

JupyterLab is started as ``make lab`` starts it (``.venv/bin/jupyter lab
--notebook-dir=DIR``, ``--allow-root`` as root, then ``LAB_ARGS``: here ``--no-browser``, a
free port and a token), in its own process group, with empty user settings, workspaces
and runtime folders of its own (the one setting given: no cell windowing, so that every
cell is in the page). One notebook is opened, *Run → Run All Cells* is clicked, and once
the kernel is idle and every code cell has run, the check passes when

- no kernel dialog (*Select Kernel*) was shown: the notebook names the project's kernel;
- no cell printed an error or anything on stderr;
- every exercise is rendered by jupyterlab-myst as an exercise (not as a code block of
  MyST source) and the code of every solution is collapsed;
- every number glued with ``display=False`` is shown under the cell that computes it
  (``key = value``, by the set-up cell of ``tools/setup_cell.py``) and its key is in the
  rendered prose.

Kept in the project because no library does it: nbmake and nbclient execute a notebook
without JupyterLab, so none of them sees what Lab's renderers (jupyterlab-myst) show.

Usage: python tools/lab_check.py NOTEBOOK [--timeout S]   (exit 0 when every check passes)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--disable-dev-shm-usage", "--window-size=1280,1400")
#: JupyterLab settings of the check's own settings folder (nothing else is changed)
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
}

# What the notebook shows once it has run: collected in the page by Selenium.
STATE_JS = r"""
const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
if (!nb) return null;
const code = Array.from(nb.querySelectorAll('.jp-CodeCell'));
const prompts = code.map(c => (c.querySelector('.jp-InputPrompt') || {}).textContent || '');
const indicator = document.querySelector('.jp-Notebook-ExecutionIndicator');
const markdown = Array.from(nb.querySelectorAll('.jp-MarkdownCell'));
const errors = Array.from(nb.querySelectorAll(
    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'))
    .map(e => e.innerText.slice(0, 300));
const shown = Array.from(nb.querySelectorAll('.jp-OutputArea-output'))
    .map(e => e.innerText.trim()).filter(t => t);
const prose = markdown.map(c => (c.querySelector('.jp-MarkdownOutput') || c).innerText).join('\n');
const exercises = Array.from(nb.querySelectorAll('.jp-MarkdownOutput'))
    .filter(e => /```\{exercise\}|:label: ex-/.test(e.innerText)).length;
const solutionCode = code.filter(c => c.classList.contains('jp-mod-collapsed')
    || !!c.querySelector('.jp-InputPlaceholder')).length;
return {
  prompts: prompts,
  status: indicator ? indicator.getAttribute('data-status') : null,
  dialogs: Array.from(document.querySelectorAll('.jp-Dialog')).map(d => d.innerText.slice(0, 200)),
  errors: errors,
  shown: shown,
  prose: prose,
  rawExercises: exercises,
  exercises: nb.querySelectorAll('aside.myst-exercise').length,
  solutions: nb.querySelectorAll('details.myst-exercise').length,
  openSolutions: nb.querySelectorAll('details.myst-exercise[open]').length,
  hiddenInputs: Array.from(nb.querySelectorAll('.jp-CodeCell .jp-InputPlaceholder')).length,
  html: nb.innerHTML.length,
};
"""


@dataclass
class LabReport:
    """What the browser saw in JupyterLab."""

    notebook: str
    problems: list[str] = field(default_factory=list)
    cells: int = 0
    glued_shown: list[str] = field(default_factory=list)
    exercises: int = 0
    seconds: float = 0.0


def free_port() -> int:
    """Return a TCP port on localhost that is free now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def lab_command(notebook_dir: Path, port: int, token: str) -> list[str]:
    """The Makefile's ``lab`` command line, with ``LAB_ARGS`` for a headless check."""
    command = [str(VENV / "bin" / "jupyter"), "lab", f"--notebook-dir={notebook_dir}"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    return command + ["--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
                      f"--IdentityProvider.token={token}"]


@contextmanager
def jupyterlab(notebook_dir: Path, env: dict[str, str] | None = None,
               timeout: float = 60) -> Iterator[tuple[str, str]]:
    """Start JupyterLab on ``notebook_dir``; yield ``(base URL, token)``; stop what it started.

    The server runs in a process group of its own (``start_new_session``): on exit that
    group, and only it (the server and the kernels it started), is sent SIGTERM, then
    SIGKILL if it has not ended within 10 s.
    """
    home = Path(tempfile.mkdtemp(prefix="fractalnb-lab-"))
    settings = home / "settings"
    for name, value in LAB_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(value))
    port, token = free_port(), secrets.token_hex(16)
    environment = dict(os.environ, **(env or {}))
    environment.update(JUPYTER_CONFIG_DIR=str(home / "config"),
                       JUPYTERLAB_SETTINGS_DIR=str(settings),
                       JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
                       JUPYTER_RUNTIME_DIR=str(home / "runtime"))
    log = open(home / "server.log", "w")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(lab_command(notebook_dir, port, token), stdout=log,
                              stderr=subprocess.STDOUT, env=environment, cwd=notebook_dir,
                              start_new_session=True)
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"JupyterLab exited ({server.returncode}): "
                                   f"{(home / 'server.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{base}api/status?token={token}", timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not answer within {timeout} s") from None
                time.sleep(0.3)
        yield base, token
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        log.close()
        shutil.rmtree(home, ignore_errors=True)


@contextmanager
def chromium(chromium_path: str, chromedriver_path: str) -> Iterator[object]:
    """Start the system Chromium through chromedriver, with a fresh user-data dir."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="fractalnb-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium_path
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver_path))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def glued_keys(notebook: Path) -> list[str]:
    """Keys the notebook glues with ``display=False`` and its prose pastes (``{glue:text}``)."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    prose = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    pasted = set(re.findall(r"\{glue(?::\w+)?\}`([\w.-]+)", prose))
    glued = re.findall(r"""glue\(\s*["']([\w.-]+)["'][^)]*display\s*=\s*False""", code)
    return [key for key in dict.fromkeys(glued) if key in pasted]


def solution_code_cells(notebook: Path) -> int:
    """How many code cells lie between a ``{solution-start}`` and its ``{solution-end}``."""
    count, inside = 0, False
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            inside = (inside or "```{solution-start}" in text) and "```{solution-end}" not in text
        elif inside:
            count += 1
    return count


def _wait(driver, condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = driver.execute_script(STATE_JS)
        if state is not None and condition(state):
            return state
        time.sleep(0.25)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def run_all(driver) -> None:
    """Click *Run → Run All Cells* in JupyterLab's menu bar."""
    from selenium.webdriver.common.by import By

    menus = [m for m in driver.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-item")
             if m.text.strip() == "Run"]
    if not menus:
        raise RuntimeError("JupyterLab shows no Run menu")
    menus[0].click()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        items = [i for i in driver.find_elements(By.CSS_SELECTOR, ".lm-Menu-item")
                 if i.text.strip().startswith("Run All Cells")]
        if items:
            items[0].click()
            return
        time.sleep(0.1)
    raise RuntimeError("the Run menu has no 'Run All Cells'")


def check_notebook(notebook: Path, timeout: float = 50,
                   chromium_path: str | None = None,
                   chromedriver_path: str | None = None,
                   env: dict[str, str] | None = None) -> LabReport:
    """Open ``notebook`` in JupyterLab, run all its cells, and check what Lab shows."""
    chromium_path = chromium_path or shutil.which("chromium") or "/usr/bin/chromium"
    chromedriver_path = chromedriver_path or shutil.which("chromedriver") or \
        "/usr/bin/chromedriver"
    report = LabReport(notebook.name)
    start = time.perf_counter()
    with jupyterlab(notebook.parent, env) as (base, token), \
            chromium(chromium_path, chromedriver_path) as driver:
        driver.get(f"{base}lab/tree/{notebook.name}?token={token}&reset")
        cells = sum(c["cell_type"] == "code" for c in
                    json.loads(notebook.read_text(encoding="utf-8"))["cells"])
        state = _wait(driver, lambda s: s["dialogs"] or s["status"] == "idle"
                      and len(s["prompts"]) == cells, timeout,
                      "the notebook to open with an idle kernel")
        if state["dialogs"]:
            report.problems.append(f"a dialog was shown: {state['dialogs'][0]!r}")
            report.seconds = time.perf_counter() - start
            return report
        run_all(driver)
        # Run All runs the cells in order and stops at an error: done when the kernel is
        # idle and the last code cell with a visible prompt has its execution count (a
        # solution's collapsed cell shows no prompt), or an error is shown
        ran = re.compile(r"\[\d+\]")

        def finished(s):
            shown = [p for p in s["prompts"] if p.strip()]
            return s["dialogs"] or s["status"] == "idle" and (
                s["errors"] or shown and ran.search(shown[-1])
                and not any("*" in p for p in shown))

        state = _wait(driver, finished, timeout, "every cell to run")
    report.cells = len(state["prompts"])
    report.problems += [f"a dialog was shown: {text!r}" for text in state["dialogs"]]
    report.problems += [f"error output: {text!r}" for text in state["errors"]]
    source = notebook.read_text(encoding="utf-8")
    report.exercises = len(re.findall(r"```\{exercise\}", source))
    solutions = len(re.findall(r"```\{solution(-start)?\}", source))
    if state["rawExercises"]:
        report.problems.append(f"{state['rawExercises']} exercise(s) shown as MyST source")
    if state["exercises"] < report.exercises:
        report.problems.append(f"{state['exercises']} of {report.exercises} exercises "
                               "rendered as exercises")
    if state["solutions"] < solutions:
        report.problems.append(f"{state['solutions']} of {solutions} solutions rendered")
    if state["openSolutions"]:
        report.problems.append(f"{state['openSolutions']} solution(s) shown open")
    hidden = solution_code_cells(notebook)
    if state["hiddenInputs"] < hidden:
        report.problems.append(f"{state['hiddenInputs']} of the {hidden} code cells of the "
                               "solutions are collapsed")
    for key in glued_keys(notebook):
        if not any(re.fullmatch(rf"{re.escape(key)} = \S.*", text) for text in state["shown"]):
            report.problems.append(f"the glued number {key!r} is not shown by its cell")
        elif key not in state["prose"]:
            report.problems.append(f"the glued key {key!r} is not in the rendered prose")
        else:
            report.glued_shown.append(key)
    report.seconds = time.perf_counter() - start
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--timeout", type=float, default=50,
                        help="seconds to wait for the notebook to open, and to run")
    args = parser.parse_args(argv)
    report = check_notebook(args.notebook.resolve(), args.timeout)
    print(json.dumps(report.__dict__, indent=1))
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
