"""Validate the flow files of a bundle (and flows saved through the metadata API).

Registered with ``engine.meta.install.register_checker("flow", ...)`` by the
platform, so ``tessera check``, installs and ``p.meta.save("flow", ...)`` all
refuse a flow that ``validate`` refuses, each entry located at the file, line
and column of the node or edge at fault.
"""

from __future__ import annotations

from typing import Any

from engine.flows.spec import parse_flow
from engine.flows.validate import validate_spec
from engine.rules.service import RuleService


def check_flow_files(source: Any, entities: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Located entries for every problem of every flow file of ``source``."""
    files = [f for f in source.items("flow") if isinstance(f.data, dict)]
    if not files:
        return []
    service = RuleService(entities.get, entities=sorted(entities))
    errors = []
    for f in files:
        spec, problems = parse_flow(f.data, f.marks, f.relpath)
        errors += validate_spec(spec, problems, service)
    return errors


__all__ = ["check_flow_files"]
