import pytest
import torch

from fractalnb import environment, profiles


def test_default_profile_is_quick(monkeypatch):
    monkeypatch.delenv(profiles.PROFILE_ENV, raising=False)
    assert profiles.current() == "quick"
    assert profiles.pick(quick=1, full=2) == 1


def test_full_profile(monkeypatch):
    monkeypatch.setenv(profiles.PROFILE_ENV, "full")
    assert profiles.current() == "full"
    assert profiles.pick(quick=1, full=2) == 2


def test_unknown_profile(monkeypatch):
    monkeypatch.setenv(profiles.PROFILE_ENV, "fast")
    with pytest.raises(ValueError, match="FRACTALNB_PROFILE must be one of .*got 'fast'"):
        profiles.current()
    with pytest.raises(ValueError, match="profile must be one of .*got 'medium'"):
        profiles.pick(quick=1, full=2, profile="medium")
    with pytest.raises(TypeError, match="profile must be one of .*got int 3"):
        profiles.pick(quick=1, full=2, profile=3)


def test_device_override(monkeypatch):
    monkeypatch.setenv(environment.DEVICE_ENV, "cpu")
    assert environment.default_device() == torch.device("cpu")
    monkeypatch.setenv(environment.DEVICE_ENV, "warp-drive")
    with pytest.raises(ValueError, match="FRACTALNB_DEVICE"):
        environment.default_device()


def test_environment_report_names_profile(monkeypatch):
    monkeypatch.setenv(profiles.PROFILE_ENV, "full")
    report = environment.environment_report().set_index("item")["value"]
    assert report["profile"] == "full"
    assert report["torch"] != "not installed"
