"""The ports the engine's layers annotate with say only what their implementers have.

``engine.ports.PlatformPort``, ``engine.flows.runtime_port.RuntimePort``,
``engine.reports.two_stage.StagedQuery``,
``engine.rules.compile_py_port.CompilerPort`` and
``engine.forms.model_port.ModelPort`` (with ``FieldPort``) stand in for
``Platform``, ``Runtime``, ``PivotQuery``, ``PyCompiler`` and ``EntityModel``
(with ``Field``) in annotations, so that the
modules below need not import the modules that import them (see
``tests/test_import_cycles.py``). Nothing at run time checks a Protocol, so
this test does: every member of a port exists on its implementer, a method
with the very same signature, a property as a property, a data attribute
among those the implementer's ``__init__`` sets.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from functools import cached_property
from typing import Any

import pytest

from engine.flows.runtime import Runtime
from engine.flows.runtime_port import RuntimePort
from engine.forms.entity import EntityModel, Field
from engine.forms.model_port import FieldPort, ModelPort
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
        dunder = name.startswith("__") and name.endswith("__")
        if not dunder and (inspect.isfunction(value) or isinstance(value, property)):
            found[name] = value
    return found


def _attributes(cls: type) -> set[str]:
    """The attributes an instance of ``cls`` holds: a dataclass's fields, or those
    ``cls.__init__`` assigns (``self.x = ...`` or ``self.x: T = ...``)."""
    if dataclasses.is_dataclass(cls):
        return {f.name for f in dataclasses.fields(cls)}
    return set(re.findall(r"self\.(\w+)\s*(?::[^=\n]*)?=", inspect.getsource(cls.__init__)))


def _shape(function: Any) -> str:
    """A signature without its annotations: a port names ports where its implementer
    names itself (``Sequence[FieldPort]`` for ``list[Field]``), the rest must agree."""
    signature = inspect.signature(function)
    parameters = [
        p.replace(annotation=inspect.Parameter.empty) for p in signature.parameters.values()
    ]
    return str(signature.replace(parameters=parameters, return_annotation=inspect.Signature.empty))


@pytest.mark.parametrize(
    ("port", "implementer"),
    [
        (PlatformPort, Platform),
        (RuntimePort, Runtime),
        (StagedQuery, PivotQuery),
        (CompilerPort, PyCompiler),
        (ModelPort, EntityModel),
        (FieldPort, Field),
    ],
)
def test_the_implementer_has_every_member_of_its_port(port: type, implementer: type) -> None:
    members = _members(port)
    assert len(members) > 5
    attributes = _attributes(implementer)
    for name, declared in members.items():
        found = inspect.getattr_static(implementer, name, None)
        where = f"{implementer.__name__}.{name}"
        if declared is None:
            assert name in attributes, f"{implementer.__name__} sets no attribute {name!r}"
        elif isinstance(declared, property):
            # read-only in the port: a property, a cached one or a plain attribute fits
            readable = isinstance(found, property | cached_property) or name in attributes
            assert readable, f"{where} cannot be read"
        else:
            assert inspect.isfunction(found), f"{where} is no method"
            assert _shape(found) == _shape(declared), where
            if port is not ModelPort:  # the others' annotations are the same words too
                assert str(inspect.signature(found)) == str(inspect.signature(declared)), where


def test_a_platform_is_a_platform_port(platform: Platform) -> None:
    assert isinstance(platform, PlatformPort)
