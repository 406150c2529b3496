"""Interleaved A/B of ``create_many``: an older commit's record service against this tree's.

Run: ``python bench/ab_create_rows.py --old <commit> [--rounds 12] [--batch 5000] [--ids]``,
or ``python bench/ab_create_rows.py --audit-rows [--rounds 12] [--batch 5000] [--ids]``.

One process, two platforms on fresh SQLite files; the two versions take turns,
batch by batch (the order alternates every round), and each batch's CPU time
(``time.process_time``) is divided by its records. The first round warms up
and is not counted. Medians and minimums per version, in µs per record.

The old version is ``RecordService._create_many`` and ``_with_system_fields``
of ``engine/store/records.py`` at ``--old``, compiled in this tree's module
(so the rest of the engine is shared), and the old platform's lead model
takes the ``RecordCodec`` of ``engine/forms/record_codec.py`` at ``--old``:
the code this session's cuts replaced.

``--audit-rows`` (instead of ``--old``) compares this tree's code with itself:
A writes one audit row per created record (``engine.store.audit.BATCH_ROWS``
off, the format before session 10), B the ``create_batch`` rows (on).
"""

from __future__ import annotations

import argparse
import ast
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from leads import LEAD_DEFINITION, generate_leads

from engine import Platform
from engine.store import audit, records

ROOT = Path(__file__).resolve().parent.parent
METHODS = ("_create_many", "_with_system_fields")


def _source(commit: str, path: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{commit}:{path}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def old_codec(commit: str) -> Any:
    """``RecordCodec`` as ``commit`` wrote it (its own module; the engine is shared)."""
    namespace: dict[str, Any] = {"__name__": "record_codec_at_" + commit.replace("~", "_")}
    source = _source(commit, "engine/forms/record_codec.py")
    exec(compile(source, f"<record_codec.py at {commit}>", "exec"), namespace)
    return namespace["RecordCodec"]


def old_methods(commit: str) -> dict[str, Callable[..., Any]]:
    """The record service's methods as ``commit`` wrote them, in this tree's module."""
    source = _source(commit, "engine/store/records.py")
    tree = ast.parse(source)
    service = next(
        n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "RecordService"
    )
    wanted = [n for n in service.body if isinstance(n, ast.FunctionDef) and n.name in METHODS]
    module = ast.Module(body=wanted, type_ignores=[])
    namespace = dict(vars(records))
    exec(compile(module, f"<records.py at {commit}>", "exec"), namespace)
    return {name: namespace[name] for name in METHODS}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--old", help="the commit whose record service is A")
    what.add_argument(
        "--audit-rows",
        action="store_true",
        help="A: one audit row per record, B: create_batch rows (this tree's code both)",
    )
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--ids", action="store_true", help="returning='ids' instead of records")
    args = parser.parse_args()
    new = {name: getattr(records.RecordService, name) for name in METHODS}
    old = new if args.audit_rows else old_methods(args.old)
    leads = generate_leads(args.batch, seed=1)
    returning = "ids" if args.ids else "records"
    folder = Path(tempfile.mkdtemp())
    services = {}
    for name in ("old", "new"):
        p = Platform(f"sqlite:///{folder / name}.db")
        p.meta.save("entity", "lead", LEAD_DEFINITION)
        p.users.add("bench", roles=["admin"])
        services[name] = p.records("lead", user="bench")
    if not args.audit_rows:
        model = services["old"].model
        model.__dict__["codec"] = old_codec(args.old)(model)  # the cached property's slot
    kept = audit.BATCH_ROWS
    spent: dict[str, list[float]] = {"old": [], "new": []}
    for round_ in range(args.rounds + 1):
        for name in ("old", "new") if round_ % 2 == 0 else ("new", "old"):
            for method, fn in (old if name == "old" else new).items():
                setattr(records.RecordService, method, fn)
            if args.audit_rows:
                audit.BATCH_ROWS = name == "new"
            start = time.process_time()
            out = services[name].create_many(leads, returning=returning)  # type: ignore[call-overload]
            del out
            seconds = time.process_time() - start
            if round_:
                spent[name].append(seconds / args.batch * 1e6)
    for method, fn in new.items():
        setattr(records.RecordService, method, fn)
    audit.BATCH_ROWS = kept
    if args.audit_rows:
        print("A (old): one audit row per record; B (new): create_batch rows")
    print(f"create_many A/B, {args.rounds} rounds of {args.batch} leads, returning {returning}")
    print("CPU µs per record")
    for name, values in spent.items():
        print(f"  {name:<4} median {statistics.median(values):5.1f}  min {min(values):5.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
