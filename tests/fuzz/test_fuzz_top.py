"""Bad input to the top-level modules (profiles, paths, environment) is refused clearly."""

from __future__ import annotations

import pytest

from fractalnb import environment, paths, profiles

from .harness import Spec, cases, check_case, check_valid

SPECS = [
    Spec(profiles.pick, valid={"quick": 1, "full": 2, "profile": "quick"},
         bad={"profile": ["medium", "", 3, True, 1.5, b"quick"]}),
]

# functions of no arguments: the valid call is their whole contract
NO_ARGUMENTS = [profiles.current, paths.repo_root, paths.data_dir, paths.cache_dir,
                environment.default_device]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.label())
def test_valid_call_runs(spec):
    check_valid(spec)


@pytest.mark.parametrize(("spec", "argument", "value"), cases(SPECS))
def test_bad_input_is_refused_clearly(spec, argument, value):
    check_case(spec, argument, value)


@pytest.mark.parametrize("func", NO_ARGUMENTS, ids=lambda f: f.__qualname__)
def test_functions_of_no_arguments_refuse_any(func):
    func()
    with pytest.raises(TypeError):
        func(1)
