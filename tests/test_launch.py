"""Launching a chapter: set-up cell, Colab copies, Binder, launch buttons, Lab's copy."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import browser_check  # noqa: E402
import colab_copy  # noqa: E402
import lab_copy  # noqa: E402
import setup_cell  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())


def _copies(tmp_path):
    for path in NOTEBOOKS:
        shutil.copy2(path, tmp_path / path.name)
    return sorted(tmp_path.glob("*.ipynb"))


def _setup_cells(notebook):
    return [c for c in notebook.cells if setup_cell.is_setup_cell(c)]


def test_setup_cell_is_added_once_and_the_tool_is_idempotent(tmp_path):
    paths = _copies(tmp_path)
    spec = setup_cell.repository_spec()
    assert spec == f"git+{CONFIG['repository']['url']}@{CONFIG['repository']['branch']}"
    assert all(setup_cell.update_file(p, spec) for p in paths if not _setup_cells(
        nbformat.read(p, as_version=4)))
    first = {p: p.read_bytes() for p in paths}
    assert not any(setup_cell.update_file(p, spec) for p in paths)  # a second run: no change
    assert {p: p.read_bytes() for p in paths} == first
    assert setup_cell.main([str(p) for p in paths] + ["--check"]) == 0
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        cells = _setup_cells(notebook)
        assert len(cells) == 1 and notebook.cells[1] is cells[0], path.name
        assert notebook.cells[0].cell_type == "markdown"
        assert cells[0].metadata["tags"][:2] == ["remove-cell", setup_cell.TAG]
        assert notebook.metadata["kernelspec"] == setup_cell.KERNELSPEC
        source = cells[0].source
        assert max(len(line) for line in source.splitlines()) <= 79
        compile(source, path.name, "exec")
        assert spec in source and setup_cell.PIP_ENV in source
        assert ("load_cifar10" in source) == setup_cell.needs_cifar10(notebook)
        assert not any(c.get("outputs") for c in notebook.cells if c.cell_type == "code")


def test_solution_code_cells_are_collapsed_for_jupyterlab(tmp_path):
    path = _copies(tmp_path)[0]
    setup_cell.update_file(path, setup_cell.repository_spec())
    inside, seen = False, 0
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "markdown":
            inside = (inside or "```{solution-start}" in cell.source) and \
                "```{solution-end}" not in cell.source
        elif cell.cell_type == "code":
            hidden = cell.metadata.get("jupyter", {})
            assert bool(hidden.get("source_hidden")) == inside
            seen += inside
    assert seen, "the chapter has no solution with code to collapse"


def test_the_tool_accepts_the_book_structure_checks(tmp_path):
    """The set-up cell is allowed before the parameters cell (tests/test_book_structure.py)."""
    import test_book_structure as structure

    path = _copies(tmp_path)[-1]
    setup_cell.update_file(path, setup_cell.repository_spec())
    structure.test_parameters_cell_reads_the_profile(path)
    structure.test_chapter_skeleton(path)
    structure.test_notebook_committed_without_outputs(path)


def test_every_chapter_has_the_current_setup_cell():
    """Run ``python tools/setup_cell.py`` after changing the set-up cell or adding a chapter."""
    assert setup_cell.main(["--check"]) == 0


def test_colab_copies_are_plain_markdown(tmp_path):
    written = colab_copy.write_copies(tmp_path)
    assert len(written) == len(NOTEBOOKS)
    site = colab_copy.pages_url()
    for path in written:
        source = json.loads((ROOT / path.relative_to(tmp_path)).read_text())
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        text = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
        assert not colab_copy.MYST_SYNTAX.search(text), path.name
        assert not re.search(r"^:(label|class):", text, re.M), path.name
        original = "\n".join("".join(c["source"]) for c in source["cells"]
                             if c["cell_type"] == "markdown")
        exercises = len(re.findall(r"```\{exercise\}", original))
        number = colab_copy.chapter_number(path.stem)
        heading = rf"^#### Exercise {number}\.\d+$" if number else r"^#### Exercise \d+$"
        assert len(re.findall(heading, text, re.M)) == exercises
        singles = len(re.findall(r"```\{solution\}", original))
        assert text.count("<details>") == text.count("</details>") == singles
        gated = len(re.findall(r"```\{solution-start\}", original))
        headings = [c for c in notebook.cells if c.cell_type == "markdown"
                    and c.source.startswith("#### Solution to Exercise")]
        assert len(headings) == gated
        assert notebook.metadata["colab"]["collapsed_sections"] == [c.id for c in headings]
        assert site + path.relative_to(tmp_path).with_suffix(".html").as_posix() in text
        code = [c for c in notebook.cells if c.cell_type == "code"]
        assert len(code) == sum(c["cell_type"] == "code" for c in source["cells"])
        assert not any(c.outputs for c in code)


def test_colab_roles_become_text_and_links():
    convert = colab_copy.Converter("notebooks/05_x", {"a2020b": ("Ada et al.", "2020")},
                                   "https://o.github.io/r/")
    text = convert.markdown("N = {glue:text}`n_points:.2f` as {cite:t}`a2020b` says "
                            "{cite:p}`a2020b`; see {doc}`the list <../book/bibliography>`, "
                            "{doc}`03_fractal_transformation` and {func}`fractalnb.box`.")
    assert text == ("N = `n_points` as Ada et al. (2020) says (Ada et al. 2020); see "
                    "[the list](https://o.github.io/r/book/bibliography.html), "
                    "[03 fractal transformation](https://o.github.io/r/notebooks/"
                    "03_fractal_transformation.html) and `fractalnb.box`.")
    assert convert.markdown("```{note}\nCheck {glue:text}`k`.\n```") == \
        "> **Note**\n>\n> Check `k`."


def test_colab_numrefs_are_the_book_numbers():
    numbers = {"ch04": ("Chapter", "4", "notebooks/04_x"),
               "ex-04-a": ("Exercise", "4.2", "notebooks/04_x")}
    convert = colab_copy.Converter("notebooks/05_x", {}, "https://o.github.io/r/", numbers)
    assert convert.markdown("As {numref}`chapter %s <ch04>` showed ({numref}`ex-04-a`).") == (
        "As [chapter 4](https://o.github.io/r/notebooks/04_x.html) showed "
        "([Exercise 4.2](https://o.github.io/r/notebooks/04_x.html)).")
    assert convert.markdown("```{exercise}\n:label: ex-05-a\nDo.\n```") == \
        "#### Exercise 5.1\n\nDo."
    with pytest.raises(ValueError, match="numref.*'ch99'"):
        convert.markdown("{numref}`Chapter %s <ch99>`")


def test_the_book_numbers_are_read_from_the_chapters():
    numbers = colab_copy.book_numbers()
    exercises = {label: number for label, (kind, number, _) in numbers.items()
                 if kind == "Exercise"}
    assert exercises and all(re.fullmatch(r"\d+\.\d+", n) for n in exercises.values())
    firsts = [label for label, n in exercises.items() if n.endswith(".1")]
    assert len(firsts) == len({n.split(".")[0] for n in exercises.values()})


def test_colab_buttons_point_at_the_copies(tmp_path):
    page = tmp_path / "notebooks" / "05_x.html"
    page.parent.mkdir()
    theme = "https://colab.research.google.com/github/o/r/blob/main/notebooks/05_x.ipynb"
    page.write_text(f'<a href="{theme}" class="btn">Colab</a>')
    assert colab_copy.point_colab_buttons(tmp_path, [Path("notebooks/05_x.ipynb")]) == 1
    url = colab_copy.colab_url("notebooks/05_x.ipynb")
    assert f'href="{url}"' in page.read_text()
    repo = CONFIG["repository"]["url"].removeprefix("https://github.com/")
    assert url == (f"{CONFIG['launch_buttons']['colab_url']}/github/{repo}/blob/"
                   f"{colab_copy.COLAB_BRANCH}/notebooks/05_x.ipynb")


def test_launch_buttons_are_configured_and_checked():
    launch = CONFIG["launch_buttons"]
    assert launch["binderhub_url"].startswith("https://") and launch["colab_url"]
    assert "jupyterhub_url" in launch
    expect = browser_check.read_expectations(ROOT / "_config.yml", ROOT / "_toc.yml")
    chapter = expect.chapters[0]
    repo = expect.repository.removeprefix("https://github.com/")
    good = [f"{expect.binder}/v2/gh/{repo}/{expect.branch}?urlpath=lab/tree/{chapter}",
            colab_copy.colab_url(chapter)]
    assert browser_check.launch_problems(good, chapter, expect) == []
    wrong_branch = [good[0].replace(f"/{expect.branch}?", "/other?"), good[1]]
    assert "no Binder button" in browser_check.launch_problems(wrong_branch, chapter,
                                                               expect)[0]
    theme_colab = [good[0], good[1].replace(f"/blob/{colab_copy.COLAB_BRANCH}/",
                                            f"/blob/{expect.branch}/")]
    assert "no Colab button" in browser_check.launch_problems(theme_colab, chapter,
                                                              expect)[0]


def test_binder_installs_the_pinned_pair_the_package_and_the_kernel():
    requirements = (ROOT / "binder" / "requirements.txt").read_text()
    constraint = re.search(r"^-c\s+(\S+)$", requirements, re.M)
    assert constraint and (ROOT / "binder" / constraint.group(1)).resolve() == \
        ROOT / "constraints.txt"
    pins = dict(re.findall(r"^(torch|torchvision)==(\S+)$",
                           (ROOT / "constraints.txt").read_text(), re.M))
    assert set(pins) == {"torch", "torchvision"}
    assert {"torch", "torchvision"} <= set(re.findall(r"^([a-z]+)\s*$", requirements, re.M))
    post = ROOT / "binder" / "postBuild"
    assert post.stat().st_mode & 0o111, "binder/postBuild must be executable"
    text = post.read_text()
    assert '-c constraints.txt -e ".[book,course]"' in text
    assert '--name python3 --display-name "Python 3 (fractalnb)"' in text
    assert "load_cifar10('full')" in text
    makefile = (ROOT / "Makefile").read_text()
    assert '--name python3 --display-name "Python 3 (fractalnb)"' in makefile


def _git(repo, *args, **kwargs):
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True, **kwargs).stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_saving_in_lab_leaves_git_status_clean(tmp_path):
    """``make lab`` works on build/lab/notebooks: a save with outputs never reaches git."""
    makefile = (ROOT / "Makefile").read_text()
    assert "LAB_NOTEBOOKS ?= build/lab/notebooks" in makefile
    assert "tools/lab_copy.py notebooks build/lab/notebooks" in makefile
    assert "--notebook-dir=$(LAB_NOTEBOOKS)" in makefile
    repo = tmp_path / "repo"
    (repo / "notebooks").mkdir(parents=True)
    shutil.copy2(ROOT / ".gitignore", repo / ".gitignore")
    chapter = repo / "notebooks" / NOTEBOOKS[0].name
    shutil.copy2(NOTEBOOKS[0], chapter)
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "clean")
    committed = chapter.read_bytes()
    copy_dir = repo / "build" / "lab" / "notebooks"
    assert lab_copy.refresh(repo / "notebooks", copy_dir) == [copy_dir / chapter.name]
    # JupyterLab saves the copy with outputs and execution counts
    saved = copy_dir / chapter.name
    notebook = nbformat.read(saved, as_version=4)
    for count, cell in enumerate((c for c in notebook.cells if c.cell_type == "code"), 1):
        cell.execution_count = count
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"{count}\n")]
    nbformat.write(notebook, saved)
    assert _git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert chapter.read_bytes() == committed
    # the next `make lab` keeps the reader's saved copy; a changed chapter replaces it
    assert lab_copy.refresh(repo / "notebooks", copy_dir) == []
    assert '"execution_count": 1' in saved.read_text()
    os.utime(chapter, (saved.stat().st_mtime + 10,) * 2)
    assert lab_copy.refresh(repo / "notebooks", copy_dir) == [saved]
    assert saved.read_bytes() == committed


class _Stop(Exception):
    pass


@pytest.mark.parametrize("disabled", [False, True])
def test_a_run_not_in_the_cache_is_announced_before_training(monkeypatch, capsys, disabled):
    from fractalnb.training import cache

    def stop(*args, **kwargs):
        print("TRAINING STARTS")
        raise _Stop

    monkeypatch.setattr(cache, "train_model", stop)
    if disabled:
        monkeypatch.setenv("TQDM_DISABLE", "1")  # as the book build sets it
    else:
        monkeypatch.delenv("TQDM_DISABLE", raising=False)
    with pytest.raises(_Stop):
        cache.trained_model("custom_cnn", seed=0, profile="quick", variant="sample",
                            width=4, progress=False)
    out = capsys.readouterr().out
    if disabled:
        assert out == "TRAINING STARTS\n"
    else:
        announcement, start = out.splitlines()
        assert start == "TRAINING STARTS"
        assert announcement.startswith("custom_cnn (quick profile, CIFAR-10 sample) is not "
                                       "in the cache yet: training it now")
        assert re.search(r"expected about \d+ (s|min)", announcement)
