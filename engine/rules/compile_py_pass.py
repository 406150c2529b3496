"""Several rule sets in one pass over the records: each record guarded and read once.

``RuleService.evaluate_chain(["lead_score", "lead_grade", "lead_routing"], leads)``
runs rule sets in order over many records as a save runs them on one: each
set sees the values the sets before it gave (:func:`run_chain` is the
definition). Run set by set, every set would loop over the records, test the
record's class, read its fields and check its guard again, and a later set
would read back through the record what an earlier one wrote. The loop
compiled here does each of those once per record:

- the specialised bodies (compile_py_special) of every set, one after the
  other, behind one subscript read per field (a field two sets read is read
  once) and one guard, the union of theirs;
- a field an earlier set gives is not read from the record: the later set
  takes the earlier set's value, a local, and its guard on that field is
  tested once the value is known;
- a first-match body (grading, routing) sits in ``while True: ... break`` so
  that its early exits go on to the next set (CPython compiles the loop to
  plain jumps).
- when every value of the last set is a copy of a constant dict (a routing
  whose actions are constants), the loop keeps the constant and one
  ``map(dict.copy, ...)`` after it makes the fresh dicts, in C.

A record that is not a plain dict, lacks a key or fails a guard takes
:func:`run_chain`'s steps: each set's own function in order, on a copy of the
record holding the values the sets before it gave. Values are written into
the records (when asked) only after the loop, so a record that raises leaves
every record as it was. tests/rules/test_rules_pass.py holds the fused loop
to the rule sets' general bodies, record by record.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from engine.rules import ast
from engine.rules.check import Checked
from engine.rules.compile_py import PyCompiler
from engine.rules.compile_rules import BATCHED, CompiledRuleSet, localised, special_body


@dataclass(frozen=True)
class Link:
    """One rule set of a chain: compiled, the checker's answers for its file, and whether
    its values are written into the records (``write``)."""

    compiled: CompiledRuleSet
    checked: Checked
    write: bool


def compile_chain(links: Sequence[Link], tz: Any) -> Callable[..., list[list[Any]]] | None:
    """``chain(records, old, user, ctx)``: per link, the list of its values over the records
    (what :func:`run_chain` gives), the written ones written into the records
    after the loop. None when the chain can't be fused exactly (then the caller runs
    :func:`run_chain`): a rule set that is not scoring, grading or routing, reads a path
    through a reference, or comes after a routing set (whose values may set any field)."""
    if not links or not all(_fusable(link) for link in links):
        return None
    if any(link.compiled.kind == "routing" for link in links[:-1]):
        return None
    c = PyCompiler(links[0].checked, tz)
    c.record_getter = "rg"
    #: the local holding each field's value for the sets still to come
    current: dict[str, str] = {}
    #: the guard tests the values of earlier sets are known to pass (a whole score)
    proven: set[str] = set()
    reads: list[str] = []
    upfront: list[str] = []
    stages: list[tuple[list[str], list[str], bool]] = []  # (late guards, lines, first-match)
    for n, link in enumerate(links):
        rs = link.compiled.node
        c.checked = link.checked
        first_match = not isinstance(rs, ast.Scoring)
        value = f"_val{n}"
        # the last set's values, when each is a copy of a constant dict (a routing whose
        # actions are constants), are copied after the loop, in one C loop (map)
        strip = n == len(links) - 1 and isinstance(rs, ast.Routing)
        copied: list[bool] = []
        emit = _emitter(value, first_match, strip, copied)
        c.reads = {}
        ask = link.compiled.whole is None
        part = special_body(c, rs, None, link.checked, emit, prefix=f"_c{n}_", whole=ask)
        if ask:
            link.compiled.whole = bool(part.whole)
        if strip and not all(copied):  # some value is built, not copied: as it is
            strip = False
            c.reads = {}
            emit = _emitter(value, first_match, False, [])
            part = special_body(c, rs, None, link.checked, emit, prefix=f"_c{n}_")
        if any("." in path for path in c.reads):
            return None
        renames: dict[str, str] = {}
        late: set[str] = set()
        for local, key in part.keys:
            known = current.get(key)
            if known is None:
                current[key] = local
                reads.append(f"{local} = r[{c.const(key)}]")
            else:
                renames[local] = known
            if known is not None and known.startswith("_val"):
                late.add(local)
        late_guards: list[str] = []
        for local, test in part.known.items():
            renamed = _rename(test, renames)
            into = late_guards if local in late else upfront
            if renamed not in into and renamed not in upfront and renamed not in proven:
                into.append(renamed)
        stages.append((late_guards, [_rename(line, renames) for line in part.lines], first_match))
        if isinstance(link.compiled.target, str):  # scoring, grading: a save writes it
            current[link.compiled.target] = value  # the sets after this one read the value
            # a whole score: the guard a later set asks of it, as compile_py_special writes it
            if link.compiled.whole:
                proven.add(f"_type({value}) is {c.const(int)}")
    count = range(len(links))
    last = len(links) - 1
    # the copies of the last set's constant dicts (every value of that set is a dict then:
    # its otherwise too; a value the general path gave is copied again, still a fresh one)
    copies = [f"_out{last} = {c.const(list)}({c.const(map)}({c.const(dict.copy)}, _out{last}))"]
    copies = copies if strip else []
    row = "; ".join(f"_out{n}.append(_val{n})" for n in count)
    fused = _nest(stages, [row, "continue"])
    if upfront:
        fused = [f"if {' and '.join(upfront)}:", *_pad(fused)]
    # context lines (today, the zone) run once, before the loop
    context = {line.strip() for line in c.context_lines}
    once = sorted({line.strip() for line in fused if line.strip() in context})
    fused = [line for line in fused if line.strip() not in context]
    each = [
        "if _type(r) is _dict:",
        "    try:",
        *_pad(reads, 2),
        "    except _KeyError:",
        "        pass",
        "    else:",
        *_pad(fused, 2),
        *_general(c, links),
        row,
    ]
    aliases, each = localised(each)
    outs = [f"_out{n} = []" for n in count]
    source = (
        "def _chain(recs, old, user, ctx):\n"
        + _indent([*outs, *once, *aliases, "for r in recs:"])
        + _indent(_pad(each))
        + _indent([*copies, *_writes(c, links), f"return [{', '.join(f'_out{n}' for n in count)}]"])
    )
    chain = c.build(source, "_chain")
    chain.source = source  # type: ignore[attr-defined]
    return chain


def run_chain(
    links: Sequence[Link], records: list[Any], old: Any, user: Any, ctx: Any
) -> list[list[Any]]:
    """What a chain gives, rule set by rule set: each record copied, each set run on the
    copy and its value written into it as a save writes it, for the sets after it; the
    written sets' values written into the records once every record is done."""
    out: list[list[Any]] = [[] for _ in links]
    last = len(links) - 1
    for record in records:
        copy = dict(record)
        for n, link in enumerate(links):
            value = link.compiled.run(copy, old, user, ctx)
            out[n].append(value)
            if n < last:
                link.compiled.write_back(copy, value)
    written = [(link.compiled, out[n]) for n, link in enumerate(links) if link.write]
    if written:
        for i, record in enumerate(records):
            for compiled, values in written:
                compiled.write_back(record, values[i])
    return out


def _emitter(value: str, first_match: bool, strip: bool, copied: list[bool]) -> Any:
    """What a set's body does with its value in the loop: into ``value``, then on to the
    next set (``break`` out of a first-match body's ``while True``). With ``strip``, a
    copy of a constant dict is left uncopied (``copied`` says whether each was one)."""

    def emit(source: str) -> list[str]:
        template = _TEMPLATE.fullmatch(source) if strip else None
        copied.append(template is not None)
        source = template.group(1) if template else source
        return [f"{value} = {source}", *(["break"] if first_match else [])]

    return emit


def _fusable(link: Link) -> bool:
    return isinstance(link.compiled.node, BATCHED) and link.compiled.many is not None


def _general(c: PyCompiler, links: Sequence[Link]) -> list[str]:
    """A record the fused body can't take: :func:`run_chain`'s steps for one record."""

    out = ["_o = _dict(r)"]
    for n, link in enumerate(links):
        out.append(f"_val{n} = {c.const(link.compiled.run)}(_o, old, user, ctx)")
        if n < len(links) - 1:  # scoring or grading (a routing set comes last)
            out.append(f"_o[{c.const(link.compiled.target)}] = _val{n}")
    return out


def _writes(c: PyCompiler, links: Sequence[Link]) -> list[str]:
    """After the loop: the written sets' values into their records, as a save writes them."""
    lines = []
    for n, link in enumerate(links):
        if not link.write:
            continue
        target = link.compiled.target
        if isinstance(target, str) and link.compiled.kind != "routing":
            lines.append(f"r[{c.const(target)}] = _val{n}")  # what write_back does with it
        else:
            write = c.const(link.compiled.write_back)
            lines.append(f"{write}(r, _val{n})")
    if not lines:
        return []
    values = ", ".join(f"_val{n}" for n in range(len(links)))
    outs = ", ".join(f"_out{n}" for n in range(len(links)))
    return [f"for r, {values} in _zip(recs, {outs}):", *_pad(lines)]


def _nest(stages: list[tuple[list[str], list[str], bool]], tail: list[str]) -> list[str]:
    """The stages' bodies in order, each behind its late guards, then ``tail``."""
    out: list[str] = []
    for late, lines, first_match in reversed(stages):
        body = ["while True:", *_pad(lines)] if first_match else list(lines)
        rest = body + (out or tail)
        out = [f"if {' and '.join(late)}:", *_pad(rest)] if late else rest
    return out


_NAME = re.compile(r"\b_c\d+_\d+\b")
#: A value that is a copy of a constant dict (compile_rules._route_value).
_TEMPLATE = re.compile(r"(_k\d+)\.copy\(\)")


def _rename(line: str, renames: dict[str, str]) -> str:
    if not renames:
        return line
    return _NAME.sub(lambda m: renames.get(m.group(0), m.group(0)), line)


def _pad(lines: list[str], levels: int = 1) -> list[str]:
    pad = "    " * levels
    return [f"{pad}{line}" for line in lines]


def _indent(lines: list[str]) -> str:
    return "".join(f"    {line}\n" for line in lines)


__all__ = ["Link", "compile_chain", "run_chain"]
