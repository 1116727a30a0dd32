"""Claims of chapter 12 (the self-similarity constraint) that its prose states in words.

The live-run paragraph describes the ``full`` profile, which the book never executes: its
seeds, width and epochs are typed there, so they are checked here against the chapter's
own ``parameters`` cell, and the epochs against the paper's 200 that the chapter quotes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CHAPTER = Path(__file__).resolve().parent.parent / "notebooks" / \
    "12_self_similarity_constraint.ipynb"
PAPER_EPOCHS = 200  # the paper trains for 200 epochs (quoted in the chapter)


def _cells() -> list[dict]:
    return json.loads(CHAPTER.read_text())["cells"]


def _markdown() -> str:
    return "\n".join("".join(c["source"]) for c in _cells() if c["cell_type"] == "markdown")


def _parameters(profile: str, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.setenv("FRACTALNB_PROFILE", profile)
    (cell,) = [c for c in _cells() if "parameters" in c.get("metadata", {}).get("tags", [])]
    namespace: dict = {}
    exec(compile("".join(cell["source"]), "parameters", "exec"), namespace)
    return namespace


def test_the_full_profile_is_described_as_it_is_set(monkeypatch):
    full = _parameters("full", monkeypatch)
    text = " ".join(_markdown().split())
    assert (f"{len(full['SEEDS'])} seeds" if len(full["SEEDS"]) != 10 else "ten seeds") in text
    assert f"width-{full['TOKEN_WIDTH']} models" in text
    assert f"{full['EPOCHS']} epochs on every batch" in text
    assert full["STEPS_PER_EPOCH"] is None  # "on every batch"
    # the full profile is not the paper's scale, and the chapter says so
    assert full["EPOCHS"] < PAPER_EPOCHS
    assert f"half the paper's {PAPER_EPOCHS} epochs" in text
    assert full["EPOCHS"] * 2 == PAPER_EPOCHS


def test_the_paper_regime_is_quoted_once_and_not_claimed_for_the_live_run():
    text = " ".join(_markdown().split())
    assert f"for {PAPER_EPOCHS} epochs at 224×224 pixels" in text
    assert "paper's scale" not in text
