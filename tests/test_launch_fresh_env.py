"""A chapter launched where ``fractalnb`` is not installed: its set-up cell installs it.

A fresh virtual environment without ``fractalnb`` runs one chapter top to bottom on a
kernel of its own. The set-up cell of ``tools/setup_cell.py`` finds no ``fractalnb`` and
pip-installs ``$FRACTALNB_PIP_SPEC``, the code path of a launch from the book (where the
spec is ``git+<repository>@<branch>``), here pointed at a copy of the local checkout. To
stay fast and offline, the environment reaches the heavy dependencies (torch, numpy,
ipykernel, myst-nb, setuptools, pip) in ``.venv``'s site-packages through a ``.pth`` line:
a folder added by a ``.pth`` file is not searched for ``.pth`` files itself, so ``.venv``'s
editable ``fractalnb`` is not importable there (checked first), and the package is
installed with ``--no-deps --no-build-isolation --no-index``.
"""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import setup_cell  # noqa: E402

CHAPTER = "00_getting_started.ipynb"  # fast, trains nothing; reads the CIFAR-10 sample
SHARED_SAMPLE = ROOT.parent / "shared" / "data" / "cifar10-sample.npz"  # as .ci/run finds it


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX virtual environment layout")
def test_a_chapter_installs_fractalnb_and_runs_in_a_fresh_environment(tmp_path):
    env_dir = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig."
                                "get_paths()['purelib'])"], capture_output=True, text=True,
                               check=True).stdout.strip())
    (site / "_fractalnb_test_parent.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    work = tmp_path / "work"  # the kernel's folder: not the checkout, which holds fractalnb/
    work.mkdir()
    probe = subprocess.run([str(python), "-c", "import importlib.util as u; "
                            "print(u.find_spec('fractalnb') is None, "
                            "u.find_spec('torch') is not None)"],
                           capture_output=True, text=True, cwd=work, check=True)
    assert probe.stdout.split() == ["True", "True"], "fractalnb must not be importable yet"
    # the checkout, as pip would fetch it from the repository
    source = tmp_path / "checkout"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "fractalnb", source / "fractalnb",
                    ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    kernels = tmp_path / "jupyter" / "kernels" / "fresh"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "fresh", "language": "python"}))
    notebook = tmp_path / CHAPTER
    shutil.copy2(ROOT / "notebooks" / CHAPTER, notebook)
    setup_cell.update_file(notebook, setup_cell.repository_spec())
    nb = nbformat.read(notebook, as_version=4)
    spec = f"--no-deps --no-build-isolation --no-index {source}"
    saved = dict(os.environ)
    sample = os.environ.get("FRACTALNB_CIFAR10_SAMPLE") or str(SHARED_SAMPLE)
    if not Path(sample).is_file():
        pytest.skip("no CIFAR-10 sample (set FRACTALNB_CIFAR10_SAMPLE; see README.md)")
    os.environ["FRACTALNB_CIFAR10_SAMPLE"] = sample  # installed elsewhere: no ../shared
    os.environ.update(JUPYTER_PATH=str(tmp_path / "jupyter"), FRACTALNB_PROFILE="quick",
                      TQDM_DISABLE="1", **{setup_cell.PIP_ENV: spec},
                      MPLBACKEND="module://matplotlib_inline.backend_inline")
    try:
        NotebookClient(nb, kernel_name="fresh", timeout=120,
                       resources={"metadata": {"path": str(work)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    setup = next(c for c in nb.cells if setup_cell.is_setup_cell(c))
    said = "".join(o.get("text", "") for o in setup.outputs)
    assert f"fractalnb is not installed: pip install {spec}" in said
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error" or o.get("name") == "stderr"]
    assert errors == []
    assert all(c.execution_count for c in nb.cells if c.cell_type == "code")
    installed = subprocess.run([str(python), "-c", "import fractalnb; print(fractalnb.__file__)"],
                               capture_output=True, text=True, cwd=work, check=True).stdout
    assert Path(installed.strip()).is_relative_to(env_dir), installed
