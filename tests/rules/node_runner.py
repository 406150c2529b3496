"""Run compiled JavaScript in one Node process per test module, and compare values across runtimes.

A :class:`NodeSession` starts Node once with the runtime loaded; each
:meth:`NodeSession.run` sends one batch (compiled sources plus the records
they run on) as a JSON line and reads one JSON line back: an exact value (see
``TesseraRules.exact``) or an error per case. ``exact`` gives a Python value
the same form, so the two runtimes compare on meaning: ``Decimal("0.30")``
and ``0.3`` are the same number, a datetime is its UTC instant.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from decimal import Decimal
from typing import Any

from engine.rules.js import runtime_source

NODE = shutil.which("node")

_LOOP = """
const T = globalThis.TesseraRules;
const compiled = new Map();
const load = (src) => {
  if (!compiled.has(src)) compiled.set(src, (0, eval)(src));
  return compiled.get(src);
};
const run = (src, c) => {
  try {
    const ctx = T.context(c.ctx);
    const t = c.trace ? [] : undefined;
    const value = T.exact(load(src)(c.record, c.old, c.user, ctx, t));
    return t ? { value, trace: T.exact(t) } : { value };
  } catch (e) {
    return { error: String(e && e.message ? e.message : e) };
  }
};
require("readline").createInterface({ input: process.stdin }).on("line", (line) => {
  const batch = JSON.parse(line);
  const out = batch.sources.map((src, i) => run(src, batch.inputs[i]));
  process.stdout.write(JSON.stringify(out) + "\\n");
});
"""


class NodeSession:
    """One long-lived Node process that evaluates batches of compiled expressions."""

    def __init__(self) -> None:
        assert NODE is not None
        self.proc = subprocess.Popen(
            [NODE, "-e", runtime_source() + _LOOP],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def run(self, sources: list[str], inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Evaluate ``sources[i]`` on ``inputs[i]`` ({record, old, user, ctx, trace})."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        line = json.dumps({"sources": sources, "inputs": inputs}, default=_json_default)
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise RuntimeError(f"node stopped (exit code {self.proc.poll()})")
        return json.loads(answer)

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _number(value: Any) -> str:
    if isinstance(value, float):
        value = Decimal(repr(value))
    d = Decimal(value)
    return "0" if d == 0 else format(d.normalize(), "f")


def exact(value: Any) -> Any:
    """A Python value in the form TesseraRules.exact gives a JavaScript one."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float | Decimal):
        return {"n": _number(value)}
    if isinstance(value, dt.datetime):
        return {"datetime": value.astimezone(dt.UTC).replace(tzinfo=None).isoformat() + "Z"}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"duration": _number(Decimal(value // dt.timedelta(microseconds=1)).scaleb(-6))}
    if isinstance(value, list | tuple):
        return [exact(v) for v in value]
    if isinstance(value, dict):
        return {k: exact(v) for k, v in value.items()}
    raise TypeError(type(value).__name__)
