"""The JavaScript runtime compiled rules call, shipped as package data.

The runtime is split by meaning into files that each add to one global
namespace, ``TesseraRules`` (``T`` inside generated code); :func:`runtime_source`
joins them in load order so a page or a test loads a single script.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

#: Load order: numbers and time first, then what uses them.
FILES = ("decimal.js", "time.js", "runtime.js", "text.js", "functions.js")


@cache
def runtime_source() -> str:
    """The whole browser runtime as one script (defines ``globalThis.TesseraRules``)."""
    here = files(__name__)
    return "\n".join(here.joinpath(name).read_text(encoding="utf-8") for name in FILES)


__all__ = ["FILES", "runtime_source"]
