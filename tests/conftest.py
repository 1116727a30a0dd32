import os

import pytest


# Tests never touch the user's caches.
@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory, monkeypatch):
    root = tmp_path_factory.mktemp("fractalnb-home")
    monkeypatch.setenv("FRACTALNB_DATA_DIR", str(root / "data"))
    if "FRACTALNB_CACHE_DIR" not in os.environ:
        monkeypatch.setenv("FRACTALNB_CACHE_DIR", str(root / "cache"))
