import os

import pytest

# pytest-xdist's workers share the cores: a thread per core in each (torch's and OpenMP's
# default) oversubscribes them, and small ops then wait on each other. Set before torch is
# imported; notebooks executed by a test inherit it.
_workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _workers > 1:
    _cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(_name, str(max(1, (_cores or 1) // _workers)))


# Tests never touch the user's caches.
@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory, monkeypatch):
    root = tmp_path_factory.mktemp("fractalnb-home")
    monkeypatch.setenv("FRACTALNB_DATA_DIR", str(root / "data"))
    if "FRACTALNB_CACHE_DIR" not in os.environ:
        monkeypatch.setenv("FRACTALNB_CACHE_DIR", str(root / "cache"))
