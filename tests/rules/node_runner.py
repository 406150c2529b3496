"""Run compiled JavaScript in one Node process per batch, and compare values across runtimes.

``run_js(cases)`` writes one script holding the runtime and every compiled
function, feeds the records in as JSON on stdin, and reads back one exact
value (see ``TesseraRules.exact``) or error per case. ``exact`` gives a
Python value the same form, so the two runtimes compare on meaning:
``Decimal("0.30")`` and ``0.3`` are the same number, a datetime is its UTC
instant.
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

_SCRIPT = """
const T = globalThis.TesseraRules;
const FNS = [%s];
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const cases = JSON.parse(input);
  const out = cases.map((c, i) => {
    try {
      const ctx = T.context(c.ctx);
      return { value: T.exact(FNS[i](c.record, c.old, c.user, ctx)) };
    } catch (e) {
      return { error: String(e && e.message ? e.message : e) };
    }
  });
  process.stdout.write(JSON.stringify(out));
});
"""


def run_js(sources: list[str], inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Evaluate ``sources[i]`` on ``inputs[i]`` ({record, old, user, ctx}) in one Node run."""
    assert NODE is not None
    script = runtime_source() + _SCRIPT % ",\n".join(sources)
    done = subprocess.run(
        [NODE, "-e", script],
        input=json.dumps(inputs, default=_json_default),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-4000:])
    return json.loads(done.stdout)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _number(value: Any) -> str:
    d = (
        value
        if isinstance(value, Decimal)
        else Decimal(repr(value) if isinstance(value, float) else value)
    )
    if d == 0:
        return "0"
    text = format(d.normalize(), "f")
    return text


def exact(value: Any) -> Any:
    """A Python value in the form TesseraRules.exact gives a JavaScript one."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float | Decimal):
        return {"n": _number(value)}
    if isinstance(value, dt.datetime):
        utc = value.astimezone(dt.UTC).replace(tzinfo=None)
        return {"datetime": utc.isoformat() + "Z"}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"duration": _number(Decimal(value // dt.timedelta(microseconds=1)).scaleb(-6))}
    if isinstance(value, list | tuple):
        return [exact(v) for v in value]
    if isinstance(value, dict):
        return {k: exact(v) for k, v in value.items()}
    raise TypeError(type(value).__name__)
