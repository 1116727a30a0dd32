"""The package's progress bar: one switch (TQDM_DISABLE) for console and notebook bars."""

from fractalnb._progress import progress_bar, progress_disabled


def test_tqdm_disable_switches_bars_off(monkeypatch):
    monkeypatch.setenv("TQDM_DISABLE", "1")
    assert progress_disabled()
    assert progress_bar(range(3)).disable
    assert list(progress_bar(range(3))) == [0, 1, 2]


def test_bars_on_by_default_and_off_on_request(monkeypatch):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    assert not progress_disabled()
    assert not progress_bar(range(3), file=open("/dev/null", "w")).disable
    assert progress_bar(range(3), enabled=False).disable
    for value in ("0", "false", ""):
        monkeypatch.setenv("TQDM_DISABLE", value)
        assert not progress_disabled()
