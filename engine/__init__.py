"""Tessera's engine: the platform, importable without Flask.

The public surface is what ``__all__`` names; everything else may change.
"""

from __future__ import annotations

from engine.errors import (
    BundleError,
    ConflictError,
    FlowError,
    MigrationError,
    NotFound,
    PermissionDenied,
    PluginError,
    RuleSyntaxError,
    RuleTypeError,
    TesseraError,
    ValidationError,
)

__all__ = [
    "BundleError",
    "ConflictError",
    "FlowError",
    "MigrationError",
    "NotFound",
    "PermissionDenied",
    "Platform",
    "PluginError",
    "RuleSyntaxError",
    "RuleTypeError",
    "TesseraError",
    "ValidationError",
]


def __getattr__(name: str):
    # Platform pulls in SQLAlchemy and every service; import it only when asked.
    if name == "Platform":
        from engine.platform import Platform

        return Platform
    raise AttributeError(name)
