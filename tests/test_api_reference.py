"""The API reference (book/api/): a page per module, every public object documented.

The last test builds the API pages alone with Sphinx, warnings as errors and nitpicky
references (as the book build does), so a docstring that does not render or a broken
cross-reference shows up here with its module's name, without executing any notebook.
"""

import importlib
import inspect
import pkgutil
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import fractalnb

ROOT = Path(__file__).resolve().parent.parent
API = ROOT / "book" / "api"
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import fractalnb_book  # noqa: E402

MODULES = sorted(info.name for info in pkgutil.iter_modules(fractalnb.__path__)
                 if not info.name.startswith("_"))
PAGES = sorted(p.stem for p in API.glob("*.md") if p.stem != "index")


def public_objects(module):
    """Functions and classes defined in ``module`` whose names do not start with ``_``."""
    names = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
    for name in names:
        obj = getattr(module, name)
        if (inspect.isfunction(obj) or inspect.isclass(obj)) and \
                getattr(obj, "__module__", None) == module.__name__:
            yield name, obj


def test_package_modules_matches_the_files():
    assert fractalnb_book.package_modules() == [f"fractalnb.{m}" for m in MODULES]


@pytest.mark.parametrize("name", MODULES)
def test_every_module_has_an_api_page(name):
    page = API / f"{name}.md"
    assert page.is_file(), (f"fractalnb.{name} has no API page: add book/api/{name}.md "
                            "(copy book/api/profiles.md)")
    text = page.read_text()
    assert re.search(rf"^\.\. automodule:: fractalnb\.{name}\s*$", text, re.M), text
    assert ":members:" in text
    assert text.startswith(f"# `fractalnb.{name}`")


@pytest.mark.parametrize("name", PAGES)
def test_every_api_page_is_a_module(name):
    assert name in MODULES, f"book/api/{name}.md documents no module of fractalnb"


def test_the_toc_includes_the_api_pages():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())

    def entries(items):
        for item in items or []:
            yield item
            yield from entries(item.get("sections"))
            yield from entries(item.get("chapters"))

    listed = [e for part in toc.get("parts", []) for e in entries(part.get("chapters"))]
    assert any(e.get("file") == "book/api/index" for e in listed)
    assert any(e.get("glob") == "book/api/*" for e in listed) or all(
        any(e.get("file") == f"book/api/{name}" for e in listed) for name in PAGES)


@pytest.mark.parametrize("name", MODULES)
def test_every_public_object_has_a_docstring(name):
    module = importlib.import_module(f"fractalnb.{name}")
    assert (module.__doc__ or "").strip(), f"fractalnb.{name} has no module docstring"
    undocumented = [n for n, obj in public_objects(module) if not (inspect.getdoc(obj) or "")]
    assert not undocumented, f"fractalnb.{name}: no docstring for {undocumented}"


@pytest.mark.parametrize(("text", "expected"), [
    ("fractalnb.profiles.pick", "fractalnb.profiles.pick"),
    ("fractalnb.box_dimension", "fractalnb.geometry.box_dimension"),
    ("fractalnb.no_such_name", "fractalnb.no_such_name"),
])
def test_canonical_name_maps_re_exports_to_their_module(text, expected):
    if text == "fractalnb.box_dimension" and not hasattr(fractalnb, "box_dimension"):
        pytest.skip("fractalnb does not re-export box_dimension")
    assert fractalnb_book.canonical_name(text) == expected


def test_learning_goals_and_summary_lines_are_read_from_markdown():
    goals = fractalnb_book.learning_goals("Intro.\n\n**Learning goals**\n\n- one\n- two\n"
                                          "  continued\n\n## Next")
    assert goals == ["one", "two continued"]
    assert fractalnb_book.summary_line(":func:`f` and :math:`x^2`.\n\nMore.") == "`f` and $x^2$."


def test_the_api_pages_build_with_warnings_as_errors(tmp_path):
    """Build book/api alone (-W -n): every docstring renders, every reference resolves."""
    src = tmp_path / "src"
    (src / "book").mkdir(parents=True)
    shutil.copytree(API, src / "book" / "api")
    shutil.copytree(ROOT / "book" / "_ext", src / "book" / "_ext")
    shutil.copy2(ROOT / "book" / "references.bib", src / "book" / "references.bib")
    shutil.copy2(ROOT / "book" / "bibliography.md", src / "book" / "bibliography.md")
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["execute"]["execute_notebooks"] = "off"
    (src / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    # the bibliography page resolves the {cite} keys of docstrings, as in the book
    toc = {"format": "jb-book", "root": "book/api/index",
           "chapters": [{"glob": "book/api/*"}, {"file": "book/bibliography"}]}
    (src / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run([str(jupyter_book), "build", str(src), "--path-output",
                             str(tmp_path / "out"), "-W", "-n", "--keep-going"],
                            capture_output=True, text=True)
    log = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)
    problems = [line for line in log.splitlines() if "WARNING" in line or "ERROR" in line]
    assert result.returncode == 0 and not problems, "\n".join(problems) or log[-3000:]
    for name in MODULES:
        assert (tmp_path / "out" / "_build" / "html" / "book" / "api" / f"{name}.html").is_file()


def test_used_api_names_follows_imports_and_aliases():
    sources = [
        "import fractalnb\nimport fractalnb.geometry.boxcount as bc\nfrom fractalnb import profiles as pr\n"
        "from fractalnb.profiles import pick as choose",
        "x = bc.box_counts\ny = pr.current()\nz = choose(quick=1, full=2)\n"
        "w = fractalnb.training.load_cifar10\nprofiles = None\n%time nothing",
        "this is not python (",
    ]
    names = fractalnb_book.used_api_names(sources)
    assert names == ["fractalnb.geometry.box_counts", "fractalnb.profiles.current",
                     "fractalnb.profiles.pick", "fractalnb.training.load_cifar10"]


def test_used_api_names_ignores_private_names_and_other_packages():
    sources = ["import numpy as np\nfrom fractalnb import profiles\n"
               "np.zeros(3)\nprofiles._no_such_private\nprofiles.PROFILES"]
    assert fractalnb_book.used_api_names(sources) == []


NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_function_a_chapter_uses_is_documented(path):
    """Each chapter links the functions it calls; each must have an API entry."""
    import json

    cells = json.loads(path.read_text())["cells"]
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    for name in fractalnb_book.used_api_names(sources):
        module = importlib.import_module(".".join(name.split(".")[:2]))
        short = module.__name__.split(".")[1]
        assert (API / f"{short}.md").is_file(), f"{path.name} uses {name}: no API page"
        top = name.split(".")[2]
        exported = getattr(module, "__all__", None)
        assert exported is None or top in exported, (
            f"{path.name} uses {name}, which {module.__name__}.__all__ leaves out of the docs")
        obj = module
        for part in name.split(".")[2:]:
            obj = getattr(obj, part)
        assert (inspect.getdoc(obj) or "").strip(), f"{path.name} uses {name}: no docstring"
