"""The bad-input fuzz harness: every public function, fed bad arguments, must refuse them itself.

A *spec* lists, for one public function, a valid call and, per argument, the bad values to
try (a kind from :data:`BAD` or an explicit list). For every case the harness requires

- a :class:`ValueError` or :class:`TypeError` (nothing accepted silently),
- raised by a ``raise`` statement in ``fractalnb`` itself (not deep inside numpy, torch,
  scipy or numba: a *foreign* error),
- whose message names the argument (or one of the names the spec allows),
- within :data:`TIME_LIMIT` seconds (an oversize request is refused up front, not run).

The valid call of every spec runs too, so a case fails only because of its bad value.
"""

from __future__ import annotations

import math
import signal
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import fractalnb

PACKAGE = Path(fractalnb.__file__).resolve().parent
TIME_LIMIT = 20  # seconds; a refusal is immediate, a valid small call well under this

_NAN = np.array([1.0, np.nan, 2.0])
BAD: dict[str, list[Any]] = {
    # integers >= 1 (sizes, counts, levels)
    "positive_int": [0, -3, 1.5, 2.0, True, "2", None, math.nan],
    # integers >= 0
    "nonnegative_int": [-1, 1.5, 2.0, True, "0", None],
    "seed": [-1, 1.5, True, "0", None],
    # real numbers (finite)
    "real": [math.nan, math.inf, -math.inf, "1", None, True, 1j],
    "positive_real": [0.0, -1.0, math.nan, math.inf, "1", None, True],
    "probability": [-0.1, 1.5, math.nan, "0.5", None, True],
    "bool": ["yes", None, 2, 1.0],
    "choice": ["no-such-option", 3, None],
    # real arrays of any rank >= 1
    "array": [_NAN, np.array([np.inf, 1.0]), np.array([]), np.zeros(3, complex),
              np.array(["a", "b"]), "abc", None, 3.0, [[1.0, 2.0], [3.0]]],
    # 1-D increasing sizes / scales
    "sizes": [[1, 1, 2], [4, 2, 1], [0, 1, 2], [-1, 2], [1.5, 2.5], [], "abc", None,
              [1, np.nan]],
    "callable": [3, "relu?", None],
    "module": [3, "net", None, np.zeros(3)],
}


@dataclass
class Spec:
    """One public function, a valid call, and the bad values to try per argument."""

    func: Callable
    valid: dict[str, Any]
    bad: dict[str, str | list[Any]]
    args: tuple = ()
    names: dict[str, tuple[str, ...]] = field(default_factory=dict)  # extra accepted names
    id: str | None = None

    def label(self) -> str:
        module = self.func.__module__.removeprefix("fractalnb.")
        return self.id or f"{module}.{self.func.__qualname__}"


def _values(kind: str | list[Any]) -> list[Any]:
    return BAD[kind] if isinstance(kind, str) else list(kind)


def cases(specs: Iterable[Spec]) -> list:
    """Return pytest params ``(spec, argument, bad value)`` for every case of ``specs``."""
    params = []
    for spec in specs:
        for argument, kind in spec.bad.items():
            for i, value in enumerate(_values(kind)):
                params.append(pytest.param(spec, argument, value,
                                           id=f"{spec.label()}-{argument}-{i}"))
    return params


class _TimeLimit(Exception):
    pass


def _alarm(signum, frame):  # pragma: no cover - only on a runaway case
    raise _TimeLimit


def _call(spec: Spec, kwargs: dict[str, Any]):
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIME_LIMIT)
    try:
        return spec.func(*spec.args, **kwargs)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _raised_in_package(error: BaseException) -> bool:
    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and Path(frames[-1].filename).resolve().is_relative_to(PACKAGE)


def check_valid(spec: Spec) -> None:
    """The spec's valid call runs (so a failing case fails because of its bad value)."""
    _call(spec, dict(spec.valid))


def check_case(spec: Spec, argument: str, value: Any) -> None:
    """Require a clear refusal of ``value`` for ``argument``: see the module docstring."""
    kwargs = {**spec.valid, argument: value}
    try:
        _call(spec, kwargs)
    except _TimeLimit:
        pytest.fail(f"{spec.label()}({argument}={value!r}) ran for more than {TIME_LIMIT} s "
                    "instead of refusing up front")
    except (ValueError, TypeError) as error:
        if not _raised_in_package(error):
            where = traceback.extract_tb(error.__traceback__)[-1]
            pytest.fail(f"{spec.label()}({argument}={value!r}): a foreign "
                        f"{type(error).__name__} from {where.filename}:{where.lineno}: {error}")
        accepted = (argument, *spec.names.get(argument, ()))
        if not any(name in str(error) for name in accepted):
            pytest.fail(f"{spec.label()}({argument}={value!r}): the message does not name "
                        f"{argument!r}: {type(error).__name__}: {error}")
    except Exception as error:  # noqa: BLE001 - any other error is a foreign error
        pytest.fail(f"{spec.label()}({argument}={value!r}): {type(error).__name__} "
                    f"instead of ValueError/TypeError: {error}")
    else:
        pytest.fail(f"{spec.label()}({argument}={value!r}) was accepted silently")


def public_callables(module) -> set[str]:
    """The public functions and classes of a subpackage (its ``__all__``, callables only)."""
    return {name for name in module.__all__
            if callable(getattr(module, name)) and not isinstance(getattr(module, name), type(np))}


def check_coverage(module, specs: Iterable[Spec], exempt: dict[str, str]) -> None:
    """Every public callable of ``module`` has a spec or an exemption with its reason."""
    covered = {spec.func.__name__ for spec in specs}
    missing = public_callables(module) - covered - set(exempt)
    assert not missing, f"{module.__name__}: public functions with no fuzz spec: {sorted(missing)}"
    assert all(reason.strip() for reason in exempt.values())
