"""The ports the engine's layers annotate with say only what their implementers have.

``engine.ports.PlatformPort``, ``engine.flows.runtime_port.RuntimePort``,
``engine.reports.two_stage.StagedQuery`` and
``engine.rules.compile_py_port.CompilerPort`` stand in for ``Platform``,
``Runtime``, ``PivotQuery`` and ``PyCompiler`` in annotations, so that the
modules below need not import the modules that import them (see
``tests/test_import_cycles.py``). Nothing at run time checks a Protocol, so
this test does: every member of a port exists on its implementer, a method
with the very same signature, a property as a property, a data attribute
among those the implementer's ``__init__`` sets.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest

from engine.flows.runtime import Runtime
from engine.flows.runtime_port import RuntimePort
from engine.platform import Platform
from engine.ports import PlatformPort
from engine.reports.pivot import PivotQuery
from engine.reports.two_stage import StagedQuery
from engine.rules.compile_py import PyCompiler
from engine.rules.compile_py_port import CompilerPort


def _members(port: type) -> dict[str, Any]:
    """The port's own members: annotated attributes (value None) and methods/properties."""
    found: dict[str, Any] = dict.fromkeys(inspect.get_annotations(port))
    for name, value in vars(port).items():
        if not name.startswith("_") and (callable(value) or isinstance(value, property)):
            found[name] = value
    return found


def _set_in_init(cls: type) -> set[str]:
    """The attributes ``cls.__init__`` assigns (``self.x = ...`` or ``self.x: T = ...``)."""
    return set(re.findall(r"self\.(\w+)\s*(?::[^=\n]*)?=", inspect.getsource(cls.__init__)))


@pytest.mark.parametrize(
    ("port", "implementer"),
    [
        (PlatformPort, Platform),
        (RuntimePort, Runtime),
        (StagedQuery, PivotQuery),
        (CompilerPort, PyCompiler),
    ],
)
def test_the_implementer_has_every_member_of_its_port(port: type, implementer: type) -> None:
    members = _members(port)
    assert len(members) > 5
    attributes = _set_in_init(implementer)
    for name, declared in members.items():
        found = inspect.getattr_static(implementer, name, None)
        if declared is None:
            assert name in attributes, f"{implementer.__name__} sets no attribute {name!r}"
        elif isinstance(declared, property):
            assert isinstance(found, property), f"{implementer.__name__}.{name} is no property"
        else:
            assert callable(found), f"{implementer.__name__} has no method {name!r}"
            assert str(inspect.signature(found)) == str(inspect.signature(declared)), name


def test_a_platform_is_a_platform_port(platform: Platform) -> None:
    assert isinstance(platform, PlatformPort)
