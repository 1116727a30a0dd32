"""The package's shape: subpackages by part, lazy imports, one validation layer, small modules."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import fractalnb

PACKAGE = Path(fractalnb.__file__).resolve().parent
SUBPACKAGES = ["geometry", "symmetry", "training", "random_networks", "graphs", "plotting",
               "reference", "dynamics"]
MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def _imports_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize(
    "statement",
    ["import fractalnb", "import fractalnb.profiles", "from fractalnb import profiles",
     *[f"import fractalnb.{sub}" for sub in SUBPACKAGES]],
)
def test_importing_the_package_or_a_part_loads_no_heavy_library(statement):
    loaded = _imports_after(statement)
    heavy = {"torch", "numba", "networkx", "torchvision", "timm", "scipy", "pandas"} & loaded
    assert not heavy, f"{statement!r} imported {sorted(heavy)}"


def test_the_top_level_api_is_short_and_every_name_resolves():
    names = [n for n in fractalnb.__all__ if not n.startswith("__")]
    functions = [n for n in names if callable(getattr(fractalnb, n))
                 and not isinstance(getattr(fractalnb, n), type(fractalnb))]
    assert 15 <= len(functions) <= 25, functions
    for name in names:
        assert getattr(fractalnb, name) is not None


def _module_all(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    for node in tree.body:
        targets = getattr(node, "targets", None) or [getattr(node, "target", None)]
        if any(getattr(t, "id", None) == "__all__" for t in targets) and node.value is not None:
            return list(ast.literal_eval(node.value))
    return []


@pytest.mark.parametrize("sub", SUBPACKAGES)
def test_a_subpackage_exports_exactly_its_modules_public_names(sub):
    package = importlib.import_module(f"fractalnb.{sub}")
    modules = [p for p in (PACKAGE / sub).glob("*.py") if p.stem != "__init__"]
    expected = {name for p in modules if not p.stem.startswith("_") for name in _module_all(p)}
    submodules = {p.stem for p in modules if not p.stem.startswith("_")}
    exported = set(package.__all__) - submodules
    assert exported == expected
    # a name that is also a module's name would be shadowed (the module wins in lazy_loader)
    assert not expected & submodules, expected & submodules
    for name in expected:
        assert getattr(package, name) is not None


def test_no_name_is_exported_by_two_modules_of_a_part():
    for sub in SUBPACKAGES:
        seen: dict[str, str] = {}
        for path in sorted((PACKAGE / sub).glob("*.py")):
            for name in _module_all(path):
                assert name not in seen, f"{sub}: {name} in {seen.get(name)} and {path.name}"
                seen[name] = path.name


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_are_short_enough_to_read_in_one_sitting(path):
    assert len(path.read_text().splitlines()) <= 600


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_name_crosses_a_subpackage_boundary(path):
    """Private helpers stay in their part; what parts share lives in ``fractalnb._validate``."""
    part = path.relative_to(PACKAGE).parts[0] if path.parent != PACKAGE else None
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.ImportFrom):
            continue
        module = node.module or ""
        if node.level == 0 and not module.startswith("fractalnb"):
            continue
        if node.level == 1 and part is not None:
            continue  # within the same subpackage
        target = module.removeprefix("fractalnb.").split(".")[0] if node.level == 0 else module
        if target in ("_validate", "_progress") or target.startswith(("_validate", "_progress")):
            continue
        shared = ("_validate", "_progress")  # the package's shared private layers
        private = [a.name for a in node.names if a.name.startswith("_") and a.name not in shared
                   and not (a.name.startswith("__") and a.name.endswith("__"))]  # dunders: public
        assert not private, f"{path.name} imports private {private} from {module!r}"


def test_one_validation_layer_meanings():
    from fractalnb import _validate as v

    assert v.integer(3, "n") == 3
    import numpy as np

    assert v.integer(np.int64(3), "n") == 3
    for bad in (2.0, True, "2", None):
        with pytest.raises(TypeError, match="n must be an integer"):
            v.integer(bad, "n")
    with pytest.raises(ValueError, match="n must be an integer >= 1, got 0"):
        v.integer(0, "n", minimum=1)
    with pytest.raises(TypeError, match="seed"):
        v.seed(1.5)
    with pytest.raises(ValueError, match="seed"):
        v.seed(-1)
    with pytest.raises(TypeError, match="x must be a real number"):
        v.real(True, "x")
    with pytest.raises(ValueError, match="finite"):
        v.real(float("nan"), "x")
    with pytest.raises(ValueError, match="strictly increasing"):
        v.sizes([1, 2, 2], "scales")
    t, was_numpy = v.as_tensor(np.arange(6.0).reshape(2, 3)[:, ::-1], "x")
    assert was_numpy and t.tolist() == [[2.0, 1.0, 0.0], [5.0, 4.0, 3.0]]
