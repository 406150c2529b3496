"""How fast is record validation? The compiled validator against jsonschema, fastjsonschema
and a checker written by hand for the lead schema (the limit).

Run: ``python bench/bench_validation.py [--n 100000] [--invalid 0.02]``. Every record
is also checked for agreement with jsonschema (the oracle); the run fails when
the compiled validator disagrees on any record.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import fastjsonschema
import orjson
from jsonschema import Draft202012Validator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from leads import LEAD_DEFINITION, SOURCES, STATUSES, TAGS, generate_leads

from engine.forms.entity import build_model
from engine.forms.validator import compile_validator, oracle_entry
from engine.store.values import to_json_form

CHECKER = Draft202012Validator.FORMAT_CHECKER


def _decimal(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(type(value).__name__)


def json_form(model: Any, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the HTTP API would receive: the JSON form, through a real JSON round trip."""
    return [orjson.loads(orjson.dumps(to_json_form(model, r), default=_decimal)) for r in records]


def _format(name: str) -> Callable[[Any], bool]:
    func, raises = CHECKER.checkers[name]

    def check(value: Any) -> bool:
        try:
            return bool(func(value))
        except raises:
            return False

    return check


def fastjsonschema_validator(schema: dict[str, Any]) -> Callable[[Any], bool]:
    """fastjsonschema with the oracle's own format functions, so all sides check the same."""
    formats = {name: _format(name) for name in ("email", "date", "date-time")}
    validate = fastjsonschema.compile(schema, formats=formats)

    def is_valid(doc: Any) -> bool:
        try:
            validate(doc)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    return is_valid


# -- the limit: a checker written by hand for this one schema --------------------------

_KEYS = frozenset(LEAD_DEFINITION["schema"]["properties"])
_SOURCES = frozenset(SOURCES)
_STATUSES = frozenset(STATUSES)
_INDUSTRIES = frozenset(LEAD_DEFINITION["schema"]["properties"]["industry"]["enum"])
_TAGS = frozenset(TAGS)
_COUNTRY = re.compile("^[A-Z]{2}$")
_is_date, _is_datetime, _is_email = _format("date"), _format("date-time"), _format("email")


def _int(v: Any) -> bool:
    return v.__class__ is int or (v.__class__ is float and v.is_integer())


def _num(v: Any) -> bool:
    return v.__class__ is int or v.__class__ is float


def hand_written(d: Any) -> bool:
    """The lead schema as straight-line code: no generality, no indirection."""
    if d.__class__ is not dict or not _KEYS.issuperset(d):
        return False
    g = d.get
    v = g("company")
    if v.__class__ is not str or len(v) > 200:
        return False
    if g("status") not in _STATUSES or g("status").__class__ is not str:
        return False
    for key, limit in (("contact_name", 100), ("phone", 40)):
        v = g(key)
        if v is not None and (v.__class__ is not str or len(v) > limit):
            return False
    v = g("email")
    if v is not None and (v.__class__ is not str or len(v) > 320 or "@" not in v):
        return False
    v = g("country")
    if v is not None and (v.__class__ is not str or not _COUNTRY.search(v)):
        return False
    for key, allowed in (("source", _SOURCES), ("industry", _INDUSTRIES)):
        v = g(key)
        if v is not None and (v.__class__ is not str or v not in allowed):
            return False
    v = g("company_size")
    if v is not None and (not _int(v) or v < 0):
        return False
    v = g("rating")
    if v is not None and (not _int(v) or v < 1 or v > 5):
        return False
    v = g("budget")
    if v is not None and (not _num(v) or v < 0):
        return False
    for key in ("is_qualified", "do_not_contact"):
        v = g(key)
        if v is not None and v is not True and v is not False:
            return False
    v = g("created_at")
    if v is not None and (v.__class__ is not str or not _is_datetime(v)):
        return False
    v = g("close_date")
    if v is not None and (v.__class__ is not str or not _is_date(v)):
        return False
    v = g("tags")
    if v is not None:
        if v.__class__ is not list or len(set(v)) != len(v):
            return False
        for t in v:
            if t.__class__ is not str or t not in _TAGS:
                return False
    return True


# -- timing ---------------------------------------------------------------------------


def best_of(runs: int, func: Callable[[Any], Any], docs: list[Any]) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        for doc in docs:
            func(doc)
        best = min(best, time.perf_counter() - start)
    return best


def _pairs(entries: list[dict[str, Any]]) -> Counter:
    return Counter((e["field"], e["code"]) for e in entries)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="records (default 100000)")
    parser.add_argument("--invalid", type=float, default=0.02, help="share of broken records")
    parser.add_argument("--runs", type=int, default=3, help="best of this many runs")
    args = parser.parse_args(argv)

    model = build_model(LEAD_DEFINITION)
    schema = model.validation_schema()
    docs = json_form(model, generate_leads(args.n, seed=42, invalid_ratio=args.invalid))

    compiled = compile_validator(schema)
    oracle = Draft202012Validator(schema, format_checker=CHECKER)
    fast = fastjsonschema_validator(schema)

    verdicts = [oracle.is_valid(d) for d in docs]
    disagree = errors_disagree = 0
    others = Counter()
    for doc, ok in zip(docs, verdicts):
        if compiled.is_valid(doc) != ok:
            disagree += 1
        if not ok and _pairs(compiled.errors(doc)) != _pairs(
            [oracle_entry(e) for e in oracle.iter_errors(doc)]
        ):
            errors_disagree += 1
        others["fastjsonschema"] += fast(doc) != ok
        others["hand-written"] += hand_written(doc) != ok
    invalid_docs = [d for d, ok in zip(docs, verdicts) if not ok]

    rows = [
        ("compiled is_valid", compiled.is_valid, docs),
        ("jsonschema is_valid", oracle.is_valid, docs),
        ("fastjsonschema", fast, docs),
        ("hand-written (limit)", hand_written, docs),
        ("compiled errors (invalid)", compiled.errors, invalid_docs),
        ("jsonschema iter_errors (invalid)", lambda d: list(oracle.iter_errors(d)), invalid_docs),
    ]
    times = {name: best_of(args.runs, func, data) for name, func, data in rows}
    base = times["jsonschema is_valid"]
    base_errors = times["jsonschema iter_errors (invalid)"]

    print(
        f"validation bench, {dt.date.today().isoformat()}, Python {sys.version.split()[0]}, "
        f"{args.n} lead records ({len(invalid_docs)} invalid), {len(schema['properties'])} "
        f"fields, best of {args.runs}"
    )
    print(f"{'validator':34} {'records':>8} {'seconds':>9} {'records/s':>12} {'vs jsonschema':>14}")
    for name, _, data in rows:
        seconds = times[name]
        ref = base_errors if "invalid" in name else base
        rate = len(data) / seconds if seconds else float("inf")
        print(f"{name:34} {len(data):>8} {seconds:>9.3f} {rate:>12,.0f} {ref / seconds:>13.1f}x")
    print(
        f"compiled vs jsonschema disagreements: {disagree} (is_valid), {errors_disagree} (errors)"
    )
    print(
        f"peers vs jsonschema disagreements: fastjsonschema {others['fastjsonschema']}, "
        f"hand-written {others['hand-written']}"
    )
    return 1 if disagree or errors_disagree else 0


if __name__ == "__main__":
    sys.exit(main())
