"""A ``.rules`` file as a structured model for the grid editors, and back to text.

The rule editor lets an admin edit the common rule sets (scoring, grading,
routing, decision tables, validations) as grids. :func:`to_model` reads a file into a list
of blocks: structured ones with their rows (conditions and values kept as the
admin's expression text), and ``text`` blocks holding everything else
verbatim (triggers, schedules, tests, comments between blocks).
:func:`to_text` prints the model back, the structured blocks in a canonical
layout (aligned columns). The round trip keeps the meaning exactly:
``parse_file(to_text(to_model(t))) == parse_file(t)`` (positions aside), and
printing is idempotent.

Comment lines inside a structured block stay attached to the row they precede. A
structured block carries its ``original`` text: printed unchanged when the grid did not
change it, so an edit in one grid does not reformat the rest of the file.
"""

from __future__ import annotations

import itertools
from typing import Any

from engine.errors import RuleSyntaxError
from engine.rules import ast
from engine.rules.parse import parse_file

STRUCTURED = ("scoring", "grading", "routing", "table", "validation")
INDENT = "    "


# ---------------------------------------------------------------- scanning


def _scan(s: str) -> list[tuple[int, str]]:
    """(index, char) of the characters of ``s`` outside strings, backticks and brackets,
    stopping at a top-level comment."""
    out: list[tuple[int, str]] = []
    depth = 0
    quote = ""
    i = 0
    while i < len(s):
        ch = s[i]
        if quote:
            if ch == "\\" and quote != "`":
                i += 2
                continue
            if ch == quote:
                quote = ""
            i += 1
            continue
        if ch in "\"'`":
            if depth == 0:
                out.append((i, ch))
            quote = ch
        elif ch in "([{":
            if depth == 0:
                out.append((i, ch))
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "#" and depth == 0:
            break
        elif depth == 0:
            out.append((i, ch))
        i += 1
    return out


def _strip_comment(s: str) -> str:
    cut = _top_hash(s)
    return (s if cut is None else s[:cut]).rstrip()


def _top_hash(s: str) -> int | None:
    depth = 0
    quote = ""
    i = 0
    while i < len(s):
        ch = s[i]
        if quote:
            if ch == "\\" and quote != "`":
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "\"'`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "#" and depth == 0:
            return i
        i += 1
    return None


def _keyword(s: str, word: str, start: int = 0) -> int | None:
    """Index of ``word`` as a top-level whole word in ``s`` at or after ``start``."""
    top = {i for i, _ in _scan(s)}
    n = len(word)
    for i in range(start, len(s) - n + 1):
        if i in top and s[i : i + n] == word:
            before = s[i - 1] if i > 0 else " "
            after = s[i + n] if i + n < len(s) else " "
            bounded = not (before.isalnum() or before == "_") and not (
                after.isalnum() or after == "_"
            )
            if bounded and all(j in top for j in range(i, i + n)):
                return i
    return None


def _first_string(s: str) -> tuple[int, int] | None:
    """(start, end) of the first top-level string literal in ``s``."""
    for i, ch in _scan(s):
        if ch in "\"'":
            j = i + 1
            while j < len(s):
                if s[j] == "\\":
                    j += 2
                    continue
                if s[j] == ch:
                    return i, j + 1
                j += 1
            return None
    return None


def _cells(line: str) -> list[str]:
    """The cells of a table line ``| a | b |``."""
    s = line.strip()
    cut = _top_hash(s)
    if cut is not None:
        s = s[:cut].rstrip()
    bars = [i for i, ch in _scan(s) if ch == "|"]
    return [s[a + 1 : b].strip() for a, b in itertools.pairwise(bars)]


def quote(text: str) -> str:
    """A rule-language string literal for ``text``."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


# ---------------------------------------------------------------- reading


def to_model(text: str) -> dict[str, Any]:
    """``{"blocks": [...]}``; raises RuleSyntaxError for text that does not parse."""
    tree = parse_file(text)
    lines = text.split("\n")
    spans = []
    for rs in tree.rulesets:
        kind = _kind(rs)
        if kind is None:
            continue
        rows = _rule_lines(rs)
        spans.append((rs.line, max(rows) if rows else rs.line, kind, rs))
    spans.sort(key=lambda x: x[0])
    blocks: list[dict[str, Any]] = []
    cursor = 1
    for first, last, kind, rs in spans:
        if first > cursor:
            blocks.append({"kind": "text", "text": "\n".join(lines[cursor - 1 : first - 1])})
        block_lines = lines[first - 1 : last]
        block = _READERS[kind](rs, block_lines)
        block["original"] = "\n".join(block_lines)
        blocks.append(block)
        cursor = last + 1
    if cursor <= len(lines):
        blocks.append({"kind": "text", "text": "\n".join(lines[cursor - 1 :])})
    return {"blocks": blocks}


def _kind(rs: ast.Node) -> str | None:
    if isinstance(rs, ast.Scoring):
        return "scoring"
    if isinstance(rs, ast.Grading):
        return "grading"
    if isinstance(rs, ast.Routing):
        return "routing"
    if isinstance(rs, ast.DecisionTable):
        return "table"
    if isinstance(rs, ast.Validation):
        return "validation"
    return None


def _rule_lines(rs: Any) -> list[int]:
    if isinstance(rs, ast.Scoring):
        out = []
        for item in rs.items:
            if isinstance(item, ast.ScoreGroup):
                out += [item.line] + [r.line for r in item.rules]
            else:
                out.append(item.line)
        return out
    if isinstance(rs, ast.DecisionTable):
        return [rs.line + 1] + [r.line for r in rs.rows]
    return [r.line for r in rs.rules]


def _body(block_lines: list[str]) -> list[tuple[list[str], str]]:
    """(comments before, stripped line) for each rule line after the header."""
    return [(c, s) for c, s, _ in _body_indented(block_lines)]


def _body_indented(block_lines: list[str]) -> list[tuple[list[str], str, int]]:
    out = []
    comments: list[str] = []
    for raw in block_lines[1:]:
        s = raw.strip()
        if not s:
            continue
        if s.startswith("#"):
            comments.append(s[1:].strip())
            continue
        out.append((comments, s, len(raw) - len(raw.lstrip())))
        comments = []
    return out


def _cap(value: Any) -> str:
    return "" if value is None else str(value)


def _read_scoring(rs: ast.Scoring, block_lines: list[str]) -> dict[str, Any]:
    rows = []
    groups = []
    group: str | None = None
    group_indent = 0
    for comments, s, indent in _body_indented(block_lines):
        if s.startswith("group ") and _strip_comment(s).endswith(":"):
            words = _strip_comment(s)[:-1].split()
            group, group_indent = words[1], indent
            groups.append({"name": group, "cap": words[3] if len(words) > 3 else ""})
            continue
        if indent <= group_indent:
            group = None
        body = _strip_comment(s)
        found = _first_string(body)
        assert found is not None
        a, b = found
        rest = body[b:].strip()
        when = rest[len("when") :].strip() if rest.startswith("when") else ""
        rows.append(
            {
                "points": body[:a].strip(),
                "label": _label(body[a:b]),
                "when": when,
                "group": group or "",
                "comments": comments,
            }
        )
    return {
        "kind": "scoring",
        "name": rs.name,
        "entity": rs.entity,
        "target": rs.target,
        "cap": _cap(rs.cap),
        "groups": groups,
        "rows": rows,
    }


def _label(literal: str) -> str:
    from engine.rules.parse import unescape

    return unescape(literal)


def _read_grading(rs: ast.Grading, block_lines: list[str]) -> dict[str, Any]:
    rows = []
    for comments, s in _body(block_lines):
        body = _strip_comment(s)
        at = _keyword(body, "when")
        if at is not None:
            rows.append(
                {"value": body[:at].strip(), "when": body[at + 4 :].strip(), "comments": comments}
            )
        else:
            value = body[: len(body) - len("otherwise")].strip()
            rows.append({"value": value, "when": "", "comments": comments})
    return {
        "kind": "grading",
        "name": rs.name,
        "entity": rs.entity,
        "source": rs.source or "",
        "target": rs.target,
        "rows": rows,
    }


def _read_routing(rs: ast.Routing, block_lines: list[str]) -> dict[str, Any]:
    rows = []
    for (comments, s), rule in zip(_body(block_lines), rs.rules, strict=True):
        body = _strip_comment(s)
        label = ""
        rest = body
        if body[:1] in "\"'":
            found = _first_string(body)
            assert found is not None
            label = _label(body[found[0] : found[1]])
            rest = body[found[1] :].strip()
        if rest.startswith("otherwise"):
            when = ""
            action = rest[len("otherwise") :].strip()
        else:
            rest = rest[len("when") :].strip()
            line_text = block_lines[rule.line - rs.line]
            action_text = line_text[rule.action.column - 1 : rule.action.end_column - 1]
            at = rest.rfind(action_text)
            when = rest[:at].strip()
            action = action_text.strip()
        row: dict[str, Any] = {"label": label, "when": when, "comments": comments}
        row.update(_assignment(action, rule.action))
        rows.append(row)
    return {"kind": "routing", "name": rs.name, "entity": rs.entity, "rows": rows}


def _assignment(action: str, node: ast.Action) -> dict[str, Any]:
    """``{to, target, strategy}`` for an assign action, else ``{action}`` (the text)."""
    if isinstance(node, ast.AssignAction):
        words = action.split(None, 2)
        target = words[2] if len(words) > 2 else ""
        strategy = ""
        for suffix, key in (("round robin", "round_robin"), ("least loaded", "least_loaded")):
            if node.strategy == key and target.endswith(suffix):
                target = target[: -len(suffix)].strip()
                strategy = key
        return {"to": node.kind, "target": target, "strategy": strategy, "action": ""}
    return {"to": "", "target": "", "strategy": "", "action": action}


def _read_table(rs: ast.DecisionTable, block_lines: list[str]) -> dict[str, Any]:
    body = _body(block_lines)
    head_comments, head = body[0]
    columns = _cells(head)
    n_in = len(rs.inputs)
    rows = [
        {"cells": _cells(s)[:n_in], "outputs": _cells(s)[n_in:], "comments": comments}
        for comments, s in body[1:]
    ]
    return {
        "kind": "table",
        "name": rs.name,
        "entity": rs.entity,
        "policy": rs.policy,
        "targets": list(rs.targets),
        "inputs": columns[:n_in],
        "outputs": [c[2:].strip() for c in columns[n_in:]],
        "head_comments": head_comments,
        "rows": rows,
    }


def _read_validation(rs: ast.Validation, block_lines: list[str]) -> dict[str, Any]:
    """Rows of severity, message (English and Chinese halves of the ``"en / zh"`` text),
    the field it is shown on (``on FIELD``, may be empty) and the condition."""
    rows = []
    for (comments, s), rule in zip(_body(block_lines), rs.rules, strict=True):
        body = _strip_comment(s)
        found = _first_string(body)
        assert found is not None
        rest = body[found[1] :].strip()
        if rule.field is not None:
            rest = rest[len("on") :].strip()[len(rule.field) :].strip()
        en, zh = split_message(rule.message)
        rows.append(
            {
                "severity": rule.severity,
                "message": en,
                "message_zh": zh,
                "field": rule.field or "",
                "when": rest[len("when") :].strip(),
                "comments": comments,
            }
        )
    return {"kind": "validation", "name": rs.name, "entity": rs.entity, "rows": rows}


def split_message(message: str) -> tuple[str, str]:
    """``"English / 中文"`` → ``("English", "中文")``: the bundles write both languages in one
    message, the Chinese after the last ``" / "``; a message without it is all English."""
    en, sep, zh = message.rpartition(" / ")
    return (en, zh) if sep else (message, "")


_READERS = {
    "scoring": _read_scoring,
    "grading": _read_grading,
    "routing": _read_routing,
    "table": _read_table,
    "validation": _read_validation,
}


# ---------------------------------------------------------------- printing


def to_text(model: dict[str, Any]) -> str:
    """The ``.rules`` text of a model (structured blocks in the canonical layout)."""
    parts = []
    for block in model.get("blocks", []):
        kind = block.get("kind")
        if kind == "text":
            parts.append(str(block.get("text", "")))
        elif kind in _PRINTERS:
            parts.append(_unchanged(block) or "\n".join(_PRINTERS[kind](block)))
        else:
            raise ValueError(f"unknown block kind {kind!r}")
    return "\n".join(parts)


def _unchanged(block: dict[str, Any]) -> str | None:
    """The block's source text when the grid left it as it was read (keeps the admin's layout)."""
    source = block.get("original")
    if not isinstance(source, str) or not source:
        return None
    try:
        read = [b for b in to_model(source)["blocks"] if b["kind"] != "text"]
    except RuleSyntaxError:
        return None
    mine = {k: v for k, v in block.items() if k != "original"}
    if len(read) == 1 and {k: v for k, v in read[0].items() if k != "original"} == mine:
        return source
    return None


def _comments(row: dict[str, Any], indent: str) -> list[str]:
    return [f"{indent}# {c}".rstrip() for c in row.get("comments") or []]


def _print_scoring(b: dict[str, Any]) -> list[str]:
    cap = f" cap {b['cap']}" if str(b.get("cap") or "").strip() else ""
    out = [f"scoring {b['name']} on {b['entity']} into {b['target']}{cap}:"]
    caps = {g["name"]: str(g.get("cap") or "").strip() for g in b.get("groups") or []}
    rows = b.get("rows") or []
    width_p = max((len(_points(r)) for r in rows), default=0)
    width_l = max((len(quote(r["label"])) for r in rows), default=0)
    group = ""
    for r in rows:
        g = str(r.get("group") or "").strip()
        indent = INDENT * (2 if g else 1)
        if g != group and g:
            out += _comments({"comments": []}, INDENT)
            gcap = f" cap {caps[g]}" if caps.get(g) else ""
            out.append(f"{INDENT}group {g}{gcap}:")
        group = g
        out += _comments(r, indent)
        line = f"{indent}{_points(r).ljust(width_p)} {quote(r['label']).ljust(width_l)}"
        when = str(r.get("when") or "").strip()
        out.append((f"{line} when {when}" if when else line).rstrip())
    return out


def _points(r: dict[str, Any]) -> str:
    p = str(r.get("points") or "").strip() or "+0"
    return p if p[:1] in "+-" else "+" + p


def _print_grading(b: dict[str, Any]) -> list[str]:
    source = f" from {b['source']}" if str(b.get("source") or "").strip() else ""
    out = [f"grading {b['name']} on {b['entity']}{source} into {b['target']}:"]
    rows = b.get("rows") or []
    width = max((len(str(r["value"]).strip()) for r in rows), default=0)
    for r in rows:
        out += _comments(r, INDENT)
        when = str(r.get("when") or "").strip()
        value = str(r["value"]).strip().ljust(width)
        out.append(f"{INDENT}{value} " + (f"when {when}" if when else "otherwise"))
    return out


def _action(r: dict[str, Any]) -> str:
    if r.get("to"):
        strategy = {"round_robin": " round robin", "least_loaded": " least loaded"}.get(
            r.get("strategy") or "", ""
        )
        return f"assign {r['to']} {str(r['target']).strip()}{strategy}"
    return str(r.get("action") or "").strip()


def _print_routing(b: dict[str, Any]) -> list[str]:
    out = [f"routing {b['name']} on {b['entity']}:"]
    rows = b.get("rows") or []

    def head(r: dict[str, Any]) -> str:
        label = quote(r["label"]) if r.get("label") else ""
        when = str(r.get("when") or "").strip()
        return f"{label} when {when}" if when else f"{label} otherwise".strip()

    width = max((len(head(r)) for r in rows), default=0)
    for r in rows:
        out += _comments(r, INDENT)
        out.append(f"{INDENT}{head(r).ljust(width)} {_action(r)}")
    return out


def _print_table(b: dict[str, Any]) -> list[str]:
    targets = ", ".join(b["targets"])
    out = [f"table {b['name']} on {b['entity']} ({b['policy']}) into {targets}:"]
    head = [str(c).strip() for c in b["inputs"]] + [f"=> {str(c).strip()}" for c in b["outputs"]]
    body = [
        [str(c).strip() or "-" for c in r["cells"]] + [str(c).strip() or "-" for c in r["outputs"]]
        for r in b.get("rows") or []
    ]
    widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        return (
            INDENT
            + "| "
            + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))
            + " |"
        )

    out += _comments({"comments": b.get("head_comments")}, INDENT)
    out.append(line(head))
    for r, cells in zip(b.get("rows") or [], body, strict=True):
        out += _comments(r, INDENT)
        out.append(line(cells))
    return out


def _print_validation(b: dict[str, Any]) -> list[str]:
    out = [f"validation {b['name']} on {b['entity']}:"]
    rows = b.get("rows") or []

    def head(r: dict[str, Any]) -> str:
        en, zh = str(r.get("message") or "").strip(), str(r.get("message_zh") or "").strip()
        severity = "warning" if r.get("severity") == "warning" else "error"
        field = str(r.get("field") or "").strip()
        on = f" on {field}" if field else ""
        return f"{severity.ljust(7)} {quote(f'{en} / {zh}' if zh else en)}{on}"

    width = max((len(head(r)) for r in rows), default=0)
    for r in rows:
        out += _comments(r, INDENT)
        when = str(r.get("when") or "").strip() or "false"
        out.append(f"{INDENT}{head(r).ljust(width)} when {when}")
    return out


_PRINTERS = {
    "scoring": _print_scoring,
    "grading": _print_grading,
    "routing": _print_routing,
    "table": _print_table,
    "validation": _print_validation,
}


def _split_tests(cell: str) -> list[str]:
    commas = [i for i, ch in _scan(cell) if ch == ","]
    bounds = [-1, *commas, len(cell)]
    return [cell[a + 1 : b].strip() for a, b in itertools.pairwise(bounds)]


def _test_condition(subject: str, test: str) -> str:
    for op in ("==", "!=", "<=", ">=", "<", ">"):
        if test.startswith(op):
            return f"{subject} {op} {test[len(op) :].strip()}"
    if test.startswith("[") and test.endswith("]") and ".." in test:
        low, high = test[1:-1].split("..", 1)
        return f"{subject} between {low.strip()} and {high.strip()}"
    return f"{subject} == {test}"


def row_condition(inputs: list[str], cells: list[str]) -> str:
    """The condition a decision-table row's input cells stand for, in the rule language
    (so the editor can count the records a row hits): ``-`` is any value, tests in a cell
    are joined with ``or``, ``not(...)`` negates, cells are joined with ``and``."""
    parts = []
    for column, cell in zip(inputs, cells, strict=False):
        cell = str(cell).strip()
        if not cell or cell == "-":
            continue
        subject = f"({column.strip()})" if not column.strip().isidentifier() else column.strip()
        negated = cell.startswith("not(") and cell.endswith(")")
        body = cell[4:-1] if negated else cell
        tests = [_test_condition(subject, t) for t in _split_tests(body) if t]
        joined = tests[0] if len(tests) == 1 else "(" + " or ".join(tests) + ")"
        parts.append(f"not ({joined})" if negated else joined)
    return " and ".join(parts) if parts else "true"


def canonical(text: str) -> str:
    """The text with its structured blocks printed canonically."""
    return to_text(to_model(text))


__all__ = [
    "STRUCTURED",
    "RuleSyntaxError",
    "canonical",
    "quote",
    "row_condition",
    "split_message",
    "to_model",
    "to_text",
]
