"""Text to tree: Lark (LALR, positions kept) reads grammar.lark and this module builds the AST.

Lark's own errors never leave this module: a failure becomes a
:class:`~engine.errors.RuleSyntaxError` whose entry says, in words an admin
reads, where it went wrong and what could have come there instead.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)
from lark.lark import PostLex
from lark.lexer import PatternStr

from engine.errors import RuleSyntaxError, error_entry
from engine.i18n import t as _t
from engine.rules import ast

#: The longest expression accepted (characters), and the deepest nesting.
MAX_EXPRESSION_LENGTH = 10_000
MAX_DEPTH = 64
#: A whole ``.rules`` file may hold many rule sets.
MAX_FILE_LENGTH = 1_000_000

HIT_POLICIES = ("first", "unique", "collect", "sum", "priority")

_GRAMMAR = Path(__file__).with_name("grammar.lark")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class _Problem(Exception):
    """A located problem found while building the tree (turned into RuleSyntaxError)."""

    def __init__(self, message: str, line: int, column: int, end_column: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.end_column = end_column


class BlockIndenter(PostLex):
    """Turns line breaks into ``_INDENT`` / ``_DEDENT`` the way Python reads blocks.

    Written for this grammar rather than reusing Lark's indenter so that a
    stray closing bracket or a bad dedent becomes a located message instead
    of an assertion, and so that completion can stop before the final dedents.
    """

    always_accept = ("_NL",)
    OPEN = frozenset({"LPAR", "LSQB", "LBRACE"})
    CLOSE = frozenset({"RPAR", "RSQB", "RBRACE"})

    def __init__(self, close_at_end: bool = True) -> None:
        self.close_at_end = close_at_end

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        levels = [0]
        parens = 0
        last: Token | None = None
        for token in stream:
            last = token
            if token.type == "_NL":
                if parens > 0:
                    continue
                yield token
                if "\n" not in token:
                    continue
                indent_text = token.rsplit("\n", 1)[1]
                indent = len(indent_text.expandtabs(4))
                if indent > levels[-1]:
                    levels.append(indent)
                    yield Token.new_borrow_pos("_INDENT", indent_text, token)
                    continue
                while indent < levels[-1]:
                    levels.pop()
                    yield Token.new_borrow_pos("_DEDENT", indent_text, token)
                if indent != levels[-1]:
                    line = token.end_line or token.line or 1
                    raise _Problem(
                        "This line is not lined up with any line above it; indent it "
                        "exactly like the other lines of its block.",
                        line,
                        1,
                    )
                continue
            if token.type in self.OPEN:
                parens += 1
            elif token.type in self.CLOSE:
                parens = max(0, parens - 1)
            yield token
        if self.close_at_end:
            while len(levels) > 1:
                levels.pop()
                if last is not None:
                    yield Token.new_borrow_pos("_DEDENT", "", last)
                else:
                    yield Token("_DEDENT", "", 0, 1, 1)


class DropNewlines(PostLex):
    """A single expression may span lines: line breaks (and comments) are just space."""

    always_accept = ("_NL",)

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        return (t for t in stream if t.type != "_NL")


@functools.cache
def _lark(start: str, close_at_end: bool = True) -> Lark:
    postlex = BlockIndenter(close_at_end) if start == "file" else DropNewlines()
    return Lark(
        _GRAMMAR.read_text(encoding="utf-8"),
        parser="lalr",
        start=start,
        postlex=postlex,
        propagate_positions=True,
        maybe_placeholders=True,
    )


# ---------------------------------------------------------------- tree → AST


def _pos(meta: Any) -> dict[str, int]:
    if meta is None or getattr(meta, "empty", True):
        return {}
    return {
        "line": meta.line,
        "column": meta.column,
        "end_line": meta.end_line,
        "end_column": meta.end_column,
    }


def _tok_pos(tok: Token) -> dict[str, int]:
    return {
        "line": tok.line or 0,
        "column": tok.column or 0,
        "end_line": tok.end_line or 0,
        "end_column": tok.end_column or 0,
    }


def unescape(raw: str) -> str:
    """The value of a quoted string token (quotes removed, ``\\n`` ``\\"`` ``\\\\`` read)."""
    body = raw[1:-1]
    return re.sub(
        r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m.group(1), m.group(1)), body
    )


#: The most digits a number literal may have (more is a typo or an attack, never a business value).
MAX_DIGITS = 30


def _number(tok: Token) -> int | Decimal:
    text = tok.replace("_", "")
    digits = sum(ch.isdigit() for ch in text)
    if digits > MAX_DIGITS:
        raise _Problem(
            f"This number has {digits} digits; numbers may have at most {MAX_DIGITS}.",
            tok.line or 0,
            tok.column or 0,
            tok.end_column,
        )
    return Decimal(text) if "." in text else int(text)


def _duration(tok: Token) -> dt.timedelta:
    _number(Token("NUMBER", tok[:-1], line=tok.line, column=tok.column, end_column=tok.end_column))
    amount = Decimal(tok[:-1].replace("_", ""))
    try:
        return dt.timedelta(**{_UNITS[tok[-1]]: float(amount)})
    except OverflowError:
        raise _Problem(
            f"{tok} is too long a duration; durations may be at most 999,999,999 days.",
            tok.line or 0,
            tok.column or 0,
            tok.end_column,
        ) from None


def _temporal(tok: Token) -> ast.Literal:
    text = tok[1:]
    try:
        if "T" not in text:
            return ast.Literal(dt.date.fromisoformat(text), "date", **_tok_pos(tok))
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _Problem(
            f"{tok} is not a real date or time; write it like @2025-03-01 or @2025-03-01T09:30.",
            tok.line or 0,
            tok.column or 0,
            tok.end_column,
        ) from None
    return ast.Literal(value, "datetime", **_tok_pos(tok))


def _exprs(items: list[Any]) -> tuple[ast.Expr, ...]:
    return tuple(i for i in items if isinstance(i, ast.Expr))


@v_args(meta=True)
class _Builder(Transformer):
    """One method per grammar alias; each returns an AST node (or a tagged part)."""

    # ------------------------------------------------------------ expressions

    def expression(self, meta, c):
        return c[0]

    def number(self, meta, c):
        return ast.Literal(_number(c[0]), "number", **_pos(meta))

    def string(self, meta, c):
        return ast.Literal(unescape(c[0]), "string", **_pos(meta))

    def temporal(self, meta, c):
        return _temporal(c[0])

    def duration(self, meta, c):
        return ast.Literal(_duration(c[0]), "duration", **_pos(meta))

    def null(self, meta, c):
        return ast.Literal(None, "null", **_pos(meta))

    def true(self, meta, c):
        return ast.Literal(True, "boolean", **_pos(meta))

    def false(self, meta, c):
        return ast.Literal(False, "boolean", **_pos(meta))

    def name(self, meta, c):
        return ast.Name(str(c[0]), **_pos(meta))

    def quoted_name(self, meta, c):
        return ast.Name(str(c[0])[1:-1].strip(), quoted=True, **_pos(meta))

    def list(self, meta, c):
        return ast.ListLiteral(_exprs(c), **_pos(meta))

    def attr(self, meta, c):
        tok = c[1]
        quoted = tok.type == "BQNAME"
        name = str(tok)[1:-1].strip() if quoted else str(tok)
        return ast.Attr(c[0], name, quoted, **_pos(meta))

    def index(self, meta, c):
        return ast.Index(c[0], c[1], **_pos(meta))

    def call(self, meta, c):
        callee = c[0]
        if not isinstance(callee, ast.Name) or callee.quoted:
            raise _Problem(
                "Only a function name can be followed by '(' here.", meta.line, meta.column
            )
        return ast.Call(callee.name, _exprs(c[1:]), **_pos(meta))

    def neg(self, meta, c):
        operand = c[1]
        if isinstance(operand, ast.Literal) and operand.kind in ("number", "duration"):
            return ast.Literal(-operand.value, operand.kind, **_pos(meta))
        return ast.Unary("-", operand, **_pos(meta))

    def arith(self, meta, c):
        # Fold a flat chain ``a + b - c`` to the left without recursion.
        left = c[0]
        for op, right in zip(c[1::2], c[2::2]):
            left = ast.Binary(
                str(op),
                left,
                right,
                line=left.line,
                column=left.column,
                end_line=right.end_line,
                end_column=right.end_column,
            )
        return left

    def not_(self, meta, c):
        return ast.Unary("not", c[0], **_pos(meta))

    def or_(self, meta, c):
        return ast.BoolOp("or", tuple(c), **_pos(meta))

    def and_(self, meta, c):
        return ast.BoolOp("and", tuple(c), **_pos(meta))

    def if_(self, meta, c):
        return ast.If(c[0], c[1], c[2], **_pos(meta))

    def compare(self, meta, c):
        return ast.Binary(str(c[1]), c[0], c[2], **_pos(meta))

    def _binary(op):
        def method(self, meta, c):
            return ast.Binary(op, c[0], c[1], **_pos(meta))

        return method

    in_ = _binary("in")
    not_in = _binary("not in")
    contains = _binary("contains")
    starts_with = _binary("starts with")
    ends_with = _binary("ends with")
    matches = _binary("matches")

    def between(self, meta, c):
        return ast.Between(c[0], c[1], c[2], **_pos(meta))

    def is_null(self, meta, c):
        return ast.IsTest(c[0], "null", False, **_pos(meta))

    def is_not_null(self, meta, c):
        return ast.IsTest(c[0], "null", True, **_pos(meta))

    def is_empty(self, meta, c):
        return ast.IsTest(c[0], "empty", False, **_pos(meta))

    def is_not_empty(self, meta, c):
        return ast.IsTest(c[0], "empty", True, **_pos(meta))

    def changed(self, meta, c):
        return ast.Changed(c[0], **_pos(meta))

    def changed_to(self, meta, c):
        return ast.Changed(c[0], to=c[1], **_pos(meta))

    def changed_from_to(self, meta, c):
        return ast.Changed(c[0], to=c[2], from_=c[1], **_pos(meta))

    # ------------------------------------------------------------ pieces

    def target(self, meta, c):
        return ".".join(str(t) for t in c)

    def cap(self, meta, c):
        return ("cap", _number(c[0]))

    def when(self, meta, c):
        return ("when", c[0])

    def where(self, meta, c):
        return ("where", c[0])

    def grade_source(self, meta, c):
        return ("source", c[0])

    def due(self, meta, c):
        return ("due", c[0])

    def round_robin(self, meta, c):
        return ("strategy", "round_robin")

    def least_loaded(self, meta, c):
        return ("strategy", "least_loaded")

    def points(self, meta, c):
        return (1 if c[0] == "+" else -1, c[1])

    # ------------------------------------------------------------ actions

    def action_line(self, meta, c):
        return c[0]

    def act_set(self, meta, c):
        return ast.SetAction(c[0], c[1], **_pos(meta))

    def _assign(kind):
        def method(self, meta, c):
            strategy = next((v for k, v in _tagged(c) if k == "strategy"), None)
            return ast.AssignAction(kind, c[0], strategy, **_pos(meta))

        return method

    assign_user = _assign("user")
    assign_team = _assign("team")
    assign_queue = _assign("queue")
    assign_field = _assign("field")

    def act_task(self, meta, c):
        due = next((v for k, v in _tagged(c) if k == "due"), None)
        return ast.TaskAction(unescape(c[0]), c[1], due, **_pos(meta))

    def act_notify(self, meta, c):
        return ast.NotifyAction(c[0], unescape(c[1]), **_pos(meta))

    def _simple(kind):
        def method(self, meta, c):
            return ast.SimpleAction(kind, unescape(c[0]), **_pos(meta))

        return method

    act_flow = _simple("flow")
    act_tag = _simple("tag")
    act_webhook = _simple("webhook")

    def act_custom(self, meta, c):
        return ast.CustomAction(unescape(c[0]), tuple(c[1:]), **_pos(meta))

    def action_arg(self, meta, c):
        return (str(c[0]), c[1])

    # ------------------------------------------------------------ rule sets

    def file(self, meta, c):
        rulesets = tuple(x for x in c if isinstance(x, ast.RuleSet))
        examples = tuple(x for x in c if isinstance(x, ast.Example))
        return ast.RuleFile(rulesets, examples, **_pos(meta))

    def score_rule(self, meta, c):
        sign, points = c[0]
        when = next((v for k, v in _tagged(c) if k == "when"), None)
        return ast.ScoreRule(sign, points, unescape(c[1]), when, **_pos(meta))

    def score_group(self, meta, c):
        cap = next((v for k, v in _tagged(c) if k == "cap"), None)
        rules = tuple(x for x in c if isinstance(x, ast.ScoreRule))
        return ast.ScoreGroup(str(c[0]), cap, rules, **_pos(meta))

    def scoring(self, meta, c):
        cap = next((v for k, v in _tagged(c) if k == "cap"), None)
        items = tuple(x for x in c if isinstance(x, ast.ScoreRule | ast.ScoreGroup))
        return ast.Scoring(str(c[0]), str(c[1]), c[2], cap, items, **_pos(meta))

    def grade_when(self, meta, c):
        return ast.GradeRule(c[0], c[1], **_pos(meta))

    def grade_otherwise(self, meta, c):
        return ast.GradeRule(c[0], None, **_pos(meta))

    def grading(self, meta, c):
        source = next((v for k, v in _tagged(c) if k == "source"), None)
        target = next(x for x in c[2:] if isinstance(x, str) and not isinstance(x, Token))
        rules = tuple(x for x in c if isinstance(x, ast.GradeRule))
        return ast.Grading(str(c[0]), str(c[1]), source, target, rules, **_pos(meta))

    def route_when(self, meta, c):
        return ast.RouteRule(unescape(c[0]), c[1], c[2], **_pos(meta))

    def route_otherwise(self, meta, c):
        label = unescape(c[0]) if isinstance(c[0], Token) else "otherwise"
        return ast.RouteRule(label, None, c[-1], **_pos(meta))

    def routing(self, meta, c):
        rules = tuple(x for x in c if isinstance(x, ast.RouteRule))
        return ast.Routing(str(c[0]), str(c[1]), rules, **_pos(meta))

    def trigger(self, meta, c):
        when = next((v for k, v in _tagged(c) if k == "when"), None)
        actions = tuple(x for x in c if isinstance(x, ast.Action))
        return ast.Trigger(str(c[0]), str(c[1]), when, actions, **_pos(meta))

    def schedule(self, meta, c):
        where = next((v for k, v in _tagged(c) if k == "where"), None)
        actions = tuple(x for x in c if isinstance(x, ast.Action))
        every = ast.Literal(_duration(c[2]), "duration", **_tok_pos(c[2]))
        return ast.Schedule(str(c[0]), str(c[1]), every, where, actions, **_pos(meta))

    def check_error(self, meta, c):
        return _check_rule("error", meta, c)

    def check_warning(self, meta, c):
        return _check_rule("warning", meta, c)

    def check_on(self, meta, c):
        return ("on", str(c[0]))

    def validation(self, meta, c):
        rules = tuple(x for x in c if isinstance(x, ast.CheckRule))
        return ast.Validation(str(c[0]), str(c[1]), rules, **_pos(meta))

    def test_compare(self, meta, c):
        return ast.UnaryTest(str(c[0]), c[1], **_pos(meta))

    def test_range(self, meta, c):
        return ast.UnaryTest("range", c[0], c[1], **_pos(meta))

    def test_equal(self, meta, c):
        return ast.UnaryTest("==", c[0], **_pos(meta))

    def cell_any(self, meta, c):
        return ast.Cell((), any=True, **_pos(meta))

    def cell_tests(self, meta, c):
        return ast.Cell(tuple(c), **_pos(meta))

    def cell_not(self, meta, c):
        return ast.Cell(tuple(c), negated=True, **_pos(meta))

    def head_input(self, meta, c):
        return ("in", c[0])

    def head_output(self, meta, c):
        return ("out", c[0])

    def table_head(self, meta, c):
        return ("head", tuple(c))

    def table_row(self, meta, c):
        return ("row", (tuple(c), meta))

    def table(self, meta, c):
        name, entity, policy = c[0], c[1], c[2]
        if str(policy) not in HIT_POLICIES:
            hint = difflib.get_close_matches(str(policy), HIT_POLICIES, 1)
            raise _Problem(
                f"'{policy}' is not a hit policy; use one of {', '.join(HIT_POLICIES)}"
                + (f" (did you mean '{hint[0]}'?)" if hint else "")
                + ".",
                policy.line or 0,
                policy.column or 0,
                policy.end_column,
            )
        targets = tuple(x for x in c[3:] if isinstance(x, str) and not isinstance(x, Token))
        head = next(v for k, v in _tagged(c) if k == "head")
        inputs = tuple(v for k, v in head if k == "in")
        outputs = tuple(v for k, v in head if k == "out")
        if [k for k, _ in head] != ["in"] * len(inputs) + ["out"] * len(outputs) or not outputs:
            raise _Problem(
                "The first row of a table names the input columns, then the output "
                "columns marked with =>, like | amount | => approver |.",
                meta.line + 1,
                1,
            )
        rows = []
        for cells, row_meta in (v for k, v in _tagged(c) if k == "row"):
            if len(cells) != len(head):
                raise _Problem(
                    f"This row has {len(cells)} cells but the table has {len(head)} columns.",
                    row_meta.line,
                    row_meta.column,
                    row_meta.end_column,
                )
            outs = []
            for cell in cells[len(inputs) :]:
                if cell.any:
                    outs.append(ast.Literal(None, "null", **cell.span()))
                elif cell.negated or len(cell.tests) != 1 or cell.tests[0].op != "==":
                    raise _Problem(
                        "An output cell holds one value or expression, not a test.",
                        cell.line,
                        cell.column,
                        cell.end_column,
                    )
                else:
                    outs.append(cell.tests[0].value)
            rows.append(ast.TableRow(tuple(cells[: len(inputs)]), tuple(outs), **_pos(row_meta)))
        return ast.DecisionTable(
            str(name),
            str(entity),
            str(policy),
            targets,
            inputs,
            outputs,
            tuple(rows),
            **_pos(meta),
        )

    def pair(self, meta, c):
        key = c[0]
        if key.type == "STRING":
            name = unescape(key)
        elif key.type == "BQNAME":
            name = str(key)[1:-1].strip()
        else:
            name = str(key)
        return ("pair", (name, c[1]))

    def record_literal(self, meta, c):
        return ("record", tuple(v for k, v in _tagged(c) if k == "pair"), meta)

    def given(self, meta, c):
        _, values, _ = c[1]
        return ("given", ast.RecordLiteral(str(c[0]), values, **_pos(meta)))

    def expect(self, meta, c):
        return ("expect", c[0])

    def test(self, meta, c):
        given = tuple(v for k, v in _tagged(c) if k == "given")
        expect = tuple(v for k, v in _tagged(c) if k == "expect")
        return ast.Example(unescape(c[0]), given, expect, **_pos(meta))


def _check_rule(severity: str, meta: Any, c: list[Any]) -> ast.CheckRule:
    """A validation line; ``c`` is the message, an optional ``("on", field)`` and the condition."""
    field = next((v for k, v in _tagged(c) if k == "on"), None)
    return ast.CheckRule(severity, unescape(c[0]), c[-1], field, **_pos(meta))


def _tagged(children: list[Any]) -> Iterator[tuple[str, Any]]:
    for child in children:
        if isinstance(child, tuple) and len(child) >= 2 and isinstance(child[0], str):
            yield child[0], child[1]


_BUILDER = _Builder()


# ---------------------------------------------------------------- errors in words

_WORDS = {
    "NAME": "a field name",
    "BQNAME": "a `quoted field name`",
    "NUMBER": "a number",
    "STRING": "a text in quotes",
    "TEMPORAL": "a date such as @2025-03-01",
    "DURATION": "a duration such as 24h",
    "CMP_OP": "a comparison such as == or >",
    "_NL": "the end of the line",
    "_INDENT": "an indented line",
    "_DEDENT": "the end of the block",
    "$END": "the end of the text",
}
_VALUE_START = {"NAME", "NUMBER", "STRING", "TEMPORAL", "DURATION", "BQNAME", "LSQB", "LPAR"}
_OPERATORS = {"CMP_OP", "PLUS", "STAR", "SLASH", "PERCENT", "DOT"}


def _terminal_word(parser: Lark, name: str) -> str:
    if name in _WORDS:
        return _WORDS[name]
    try:
        pattern = parser.get_terminal(name).pattern
    except KeyError:
        return name.lower()
    if isinstance(pattern, PatternStr):
        return f"'{pattern.value}'"
    return name.lower()


def _expected_words(parser: Lark, expected: set[str]) -> list[str]:
    names = set(expected)
    words: list[str] = []
    if len(names & _VALUE_START) >= 3:
        names -= _VALUE_START | {"MINUS", "NOT", "IF", "NULL", "TRUE", "FALSE", "BQNAME"}
        words.append("a field name or a value")
    if "CMP_OP" in names and len(names & _OPERATORS) >= 2:
        names -= _OPERATORS | {
            "MINUS", "IN", "NOT", "BETWEEN", "CONTAINS", "STARTS", "ENDS", "MATCHES",
            "IS", "CHANGED", "LSQB", "LPAR",
        }  # fmt: skip
        words.append("an operator such as == or and")
    rest = sorted(
        (_terminal_word(parser, n) for n in names),
        key=lambda w: (not w[1:2].isalpha(), not w.startswith("'"), w),
    )
    words.extend(rest)
    if len(words) > 5:
        words = [*words[:4], "..."]
    return words


def _join_or(words: list[str]) -> str:
    """The expected words in the current language, joined with a final "or"."""
    said = [w if w.startswith("'") or w == "..." else _t(w) for w in words]
    if len(said) <= 1:
        return "".join(said)
    return _t("{first} or {last}", first=", ".join(said[:-1]), last=said[-1])


def _found(token: Token) -> str:
    if token.type == "$END":
        return _t("The text ends too early")
    if token.type == "_NL":
        return _t("The line ends too early")
    if token.type == "_INDENT":
        return _t("Unexpected indented line")
    if token.type == "_DEDENT":
        return _t("The block ends too early")
    if token.type == "NAME":
        return _t("Unexpected name '{token}'", token=str(token))
    if token.type == "STRING":
        return _t("Unexpected text {token}", token=str(token))
    if token.type == "NUMBER":
        return _t("Unexpected number {token}", token=str(token))
    return _t("Unexpected '{token}'", token=str(token))


def _sentence(message: str) -> str:
    """``message`` ended with the reader's full stop ("." in English, "。" in Chinese)."""
    return _t("{sentence}.", sentence=message)


def _syntax_error(
    message: str,
    text: str,
    file: str | None,
    line: int,
    column: int,
    end_column: int | None = None,
) -> RuleSyntaxError:
    entry = error_entry(
        message,
        file=file,
        line=line,
        column=column,
        end={"line": line, "column": end_column or column + 1},
        severity="error",
    )
    return RuleSyntaxError(message, [entry], sources={file or "": text})


def _from_lark(exc: UnexpectedInput, parser: Lark, text: str, file: str | None) -> RuleSyntaxError:
    line = getattr(exc, "line", None) or 1
    column = getattr(exc, "column", None) or 1
    if isinstance(exc, UnexpectedCharacters):
        char = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
        if char in "\"'":
            message = _t("This text has no closing quote; end it with {quote}.", quote=char)
        elif char == "=":
            message = _t("A single '=' does not compare; write '==' (or '!=', '<=', '>=').")
        elif char == "`":
            message = _t("This backtick name has no closing backtick.")
        elif char == "@":
            message = _t("A date is written like @2025-03-01 (year-month-day).")
        else:
            message = _t("The character '{char}' is not part of the rule language here.", char=char)
        return _syntax_error(message, text, file, line, column)
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        if token.type == "$END":
            line, column = _end_position(text)
        elif token.type in ("_NL", "_DEDENT", "_INDENT"):
            line = token.line or line
            column = token.column or column
        words = _expected_words(parser, set(exc.expected))
        message = _found(token)
        if words:
            message = _t("{problem}; expected {words}", problem=message, words=_join_or(words))
        if token.type == "CMP_OP" and "CMP_OP" not in exc.expected:
            message = _t(
                "{sentence}. {next}",
                sentence=message,
                next=_t("Comparisons cannot be chained; join them with 'and'"),
            )
        return _syntax_error(_sentence(message), text, file, line, column, token.end_column)
    if isinstance(exc, UnexpectedEOF):
        line, column = _end_position(text)
        words = _expected_words(parser, set(exc.expected))
        message = _t("The text ends too early")
        if words:
            message = _t("{problem}; expected {words}", problem=message, words=_join_or(words))
        return _syntax_error(_sentence(message), text, file, line, column)
    return _syntax_error(str(exc), text, file, line, column)


def _end_position(text: str) -> tuple[int, int]:
    stripped = text.rstrip("\n")
    lines = stripped.split("\n")
    return len(lines), len(lines[-1]) + 1


# ---------------------------------------------------------------- entry points


def _depth_problem(root: ast.Node) -> ast.Node | None:
    """The first node nested deeper than MAX_DEPTH (iterative: deep input cannot crash it)."""
    stack: list[tuple[ast.Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return node
        for child in node.children():
            stack.append((child, depth + (1 if isinstance(child, ast.Expr) else 0)))
    return None


def _run(text: str, start: str, file: str | None, limit: int) -> Any:
    if not isinstance(text, str):
        raise TypeError("rule text must be a string")
    if len(text) > limit:
        raise _syntax_error(
            f"This is {len(text):,} characters long; the limit is {limit:,}.",
            text,
            file,
            1,
            1,
        )
    parser = _lark(start)
    source = text if start != "file" or text.endswith("\n") else text + "\n"
    try:
        tree = parser.parse(source)
        result = _BUILDER.transform(tree)
    except UnexpectedInput as exc:
        raise _from_lark(exc, parser, text, file) from None
    except _Problem as exc:
        raise _syntax_error(exc.message, text, file, exc.line, exc.column, exc.end_column) from None
    except VisitError as exc:
        inner = exc.orig_exc
        if isinstance(inner, _Problem):
            raise _syntax_error(
                inner.message, text, file, inner.line, inner.column, inner.end_column
            ) from None
        if isinstance(inner, RecursionError):
            raise _syntax_error(
                f"This is nested too deeply; the limit is {MAX_DEPTH} levels.", text, file, 1, 1
            ) from None
        raise
    except RecursionError:
        raise _syntax_error(
            f"This is nested too deeply; the limit is {MAX_DEPTH} levels.", text, file, 1, 1
        ) from None
    deep = _depth_problem(result)
    if deep is not None:
        raise _syntax_error(
            f"This is nested more than {MAX_DEPTH} levels deep; split it into simpler parts.",
            text,
            file,
            deep.line or 1,
            deep.column or 1,
        )
    return result


def parse_expression(text: str, *, file: str | None = None) -> ast.Expr:
    """Parse one expression (a computed field, a filter, a condition).

    Raises :class:`RuleSyntaxError` with one located entry and a caret excerpt.
    """
    return _run(text, "expression", file, MAX_EXPRESSION_LENGTH)


def parse_file(text: str, *, file: str | None = None) -> ast.RuleFile:
    """Parse a ``.rules`` file into its rule sets and examples.

    Raises :class:`RuleSyntaxError`; ``file`` is only used to name the place.
    """
    return _run(text, "file", file, MAX_FILE_LENGTH)


_PARTIAL_WORD = re.compile(r"(?:\w+|`[^`\n]*)$")


def suggest(text: str, position: int | None = None, *, start: str = "expression") -> list[str]:
    """What may be typed at ``position`` (default: the end): keywords and operators by
    their text, and placeholders ``<name>``, ``<number>``, ``<text>``, ``<date>``,
    ``<duration>`` for open classes. Editors call this as the admin types, so it
    never raises: text that is already wrong before the cursor gives ``[]``.
    """
    prefix = text[: len(text) if position is None else position]
    prefix = _PARTIAL_WORD.sub("", prefix)
    parser = _lark(start, close_at_end=False)
    try:
        interactive = parser.parse_interactive(prefix)
        for _ in interactive.iter_parse():
            pass
        accepted = interactive.accepts()
    except (UnexpectedInput, _Problem):
        return []
    except Exception:  # pragma: no cover - completion must never break typing
        return []
    out: set[str] = set()
    placeholders = {
        "NAME": "<name>",
        "BQNAME": "<name>",
        "NUMBER": "<number>",
        "STRING": "<text>",
        "TEMPORAL": "<date>",
        "DURATION": "<duration>",
    }
    for name in accepted:
        if name in placeholders:
            out.add(placeholders[name])
        elif name == "CMP_OP":
            out.update(["==", "!=", "<", "<=", ">", ">="])
        elif name.startswith("_") or name == "$END":
            continue
        else:
            try:
                pattern = parser.get_terminal(name).pattern
            except KeyError:
                continue
            if isinstance(pattern, PatternStr):
                out.add(pattern.value)
    return sorted(out)


__all__ = [
    "HIT_POLICIES",
    "MAX_DEPTH",
    "MAX_EXPRESSION_LENGTH",
    "parse_expression",
    "parse_file",
    "suggest",
    "unescape",
]
