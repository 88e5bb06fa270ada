"""Every exception class openpit defines derives from ``OpenpitError``."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import openpit
from openpit.core.errors import OpenpitError


def _exception_classes() -> list[type[BaseException]]:
    found: list[type[BaseException]] = []
    for info in pkgutil.walk_packages(openpit.__path__, "openpit."):
        module = importlib.import_module(info.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseException) and obj.__module__ == info.name:
                found.append(obj)
    return found


def test_errors_every_openpit_exception_derives_from_openpit_error():
    classes = _exception_classes()
    assert len(classes) >= 15  # the walk really found the package's exceptions
    stray = [f"{c.__module__}.{c.__qualname__}" for c in classes if not issubclass(c, OpenpitError)]
    assert stray == []


def test_errors_value_errors_stay_value_errors():
    from openpit.config.loader import ConfigError
    from openpit.core.instrument import NotAMultiple

    assert issubclass(ConfigError, ValueError) and issubclass(NotAMultiple, ValueError)
