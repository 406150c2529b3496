"""The rule service the platform exposes as ``p.rules``: compile, check, load, evaluate.

It owns the catalog (built from the entity definitions it is given), the
cache of compiled expressions (keyed by the text, the entity and the
definitions it was checked against) and the loaded rule sets, each an
immutable version identified by the hash of its file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from engine.errors import RuleSyntaxError, RuleTypeError
from engine.rules import ast
from engine.rules.catalog import Catalog
from engine.rules.check import Checked, Checker
from engine.rules.check_rules import check_file
from engine.rules.compile_py import compile_expression
from engine.rules.compile_py_pass import Link, compile_chain, run_chain
from engine.rules.compile_rules import CompiledRuleSet, compile_ruleset
from engine.rules.parse import parse_expression, parse_file, suggest
from engine.rules.runtime import Context

#: The order a save runs rule sets in (RULES_DSL.md section 2).
EVALUATION_ORDER = ("scoring", "grading", "table", "routing", "validation")


class CompiledExpression:
    """A checked, compiled expression: call it on a record dict for True / False / None
    (or the value, for a computed field)."""

    def __init__(
        self,
        text: str,
        entity: str,
        checked: Checked,
        fn: Callable[..., Any],
        source: str,
        service: RuleService,
    ) -> None:
        self.text = text
        self.entity = entity
        self.checked = checked
        self.source = source
        self.type = checked.type_of(checked.node)
        self._fn = fn
        self._service = service

    def __call__(
        self,
        record: dict[str, Any],
        *,
        old: dict[str, Any] | None = None,
        user: dict[str, Any] | None = None,
        event: str | None = None,
    ) -> Any:
        return self._fn(record, old, user, self._service.context(event))

    def reads(self) -> list[str]:
        """The record paths this expression reads (for dependency tracking and traces)."""
        return self.checked.reads(self.checked.node)

    def sql(self, *, table: Any = None, user: dict[str, Any] | None = None) -> Any:
        """The condition as a SQLAlchemy WHERE clause (bound parameters only).

        ``table`` is the table (or alias) the clause filters, by default the
        entity's live table; ``user`` is the acting user's attributes, for
        conditions that read ``user.team``. Raises :class:`SqlNotSupported`
        (a rule error, located) for the parts that cannot run in a database.
        """
        from engine.rules.compile_sql import compile_condition

        return compile_condition(
            self.checked, self._service.context(), self._service.tables, user=user, table=table
        )

    def sql_value(self, *, table: Any = None, user: dict[str, Any] | None = None) -> Any:
        """The expression as a typed SQL column (any kind, not only conditions)."""
        from engine.rules.compile_sql import compile_value

        return compile_value(
            self.checked, self._service.context(), self._service.tables, user=user, table=table
        )

    def js(self) -> str:
        """JavaScript source of a function ``(r, old, user, ctx) => value`` for the browser.

        It needs the runtime from :func:`engine.rules.js.runtime_source` loaded first.
        Raises :class:`~engine.rules.compile_js.JsUnsupported` for a function with no
        JavaScript spelling.
        """
        from engine.rules.compile_js import compile_js

        return compile_js(self.checked, self._service.tz)

    def __repr__(self) -> str:
        return f"CompiledExpression({self.text!r}, entity={self.entity!r})"


@dataclass
class LoadedRuleSet:
    name: str
    entity: str
    kind: str
    version: Any
    path: str | None
    compiled: CompiledRuleSet
    #: the checker's findings for the whole file (schedules compile their ``where`` to SQL)
    checked: Checked | None = None


class RuleService:
    """Compile, check and run rules against entity definitions.

    ``definitions`` returns an entity's definition dict (or None); pass
    ``entities`` to list the names for "did you mean". ``loader(entity, id)``
    and ``users(name)`` resolve references and users for paths such as
    ``account.industry`` and ``owner.team``.
    """

    def __init__(
        self,
        definitions: Callable[[str], dict[str, Any] | None],
        *,
        entities: Iterable[str] | None = None,
        timezone: str = "UTC",
        clock: Callable[[], dt.datetime] | None = None,
        loader: Callable[[str, Any], dict[str, Any] | None] | None = None,
        users: Callable[[str], dict[str, Any] | None] | None = None,
        tables: Callable[[str], tuple[Any, Any]] | None = None,
        database: Any = None,
        history: Any = None,
        calendar: Any = None,
    ) -> None:
        self.definitions = definitions
        self.catalog = Catalog(definitions, entities)
        self.tz = ZoneInfo(timezone)
        self.clock = clock
        self.loader = loader
        self.users = users
        self._tables = tables
        self._database = database
        #: Replay and stamps over stored records (``engine.rules.history``), given by the platform.
        self.history = history
        #: The working calendar business-hours functions count on (None: the default week).
        self.calendar = calendar
        self._cache: dict[tuple[str, str], tuple[str, CompiledExpression]] = {}
        self._fingerprints: dict[str, tuple[tuple[tuple[str, Any], ...], str]] = {}
        self._rulesets: dict[str, LoadedRuleSet] = {}
        #: One-pass loops of evaluate_chain, by names and written names: the rule sets they
        #: were compiled from (a reload replaces them) and the loop (None: not fusable).
        self._chains: dict[tuple[Any, ...], tuple[tuple[Any, ...], Any]] = {}

    # ------------------------------------------------------------ plumbing

    def tables(self, entity: str) -> tuple[Any, Any]:
        """The model and table of an entity (``"lead.items"`` for a child table), for SQL."""
        if self._tables is None:
            raise RuleTypeError(
                "this rule service has no database: SQL needs a platform",
                [{"message": "use p.rules on a Platform to compile rules to SQL"}],
            )
        return self._tables(entity)

    def context(self, event: str | None = None) -> Context:
        return Context(
            tz=self.tz,
            clock=self.clock,
            loader=self.loader,
            users=self.users,
            event=event,
            calendar=self.calendar,
        )

    def _fingerprint(self, entities: Iterable[str]) -> str:
        blob = json.dumps(
            [self.definitions(e) for e in sorted(set(entities))], sort_keys=True, default=str
        )
        return hashlib.sha256(blob.encode()).hexdigest()

    def _fingerprint_of(self, entity: str) -> str:
        """The fingerprint of ``entity`` and the entities it references, remembered while
        none of their definitions is replaced (a new version is a new definition object,
        so an identity check per entity replaces hashing them all on every compile)."""
        memo = self._fingerprints.get(entity)
        if memo is not None and all(self.definitions(e) is d for e, d in memo[0]):
            return memo[1]
        related = self._related(entity)
        seen = tuple((e, self.definitions(e)) for e in sorted(set(related)))
        fingerprint = self._fingerprint(related)
        self._fingerprints[entity] = (seen, fingerprint)
        return fingerprint

    def _related(self, entity: str) -> list[str]:
        names = [entity]
        for info in self.catalog.fields(entity).values():
            if info.type.kind == "record" and info.type.entity and info.type.entity != "@user":
                names.append(info.type.entity)
        return names

    # ------------------------------------------------------------ expressions

    def compile(self, text: str, entity: str) -> CompiledExpression:
        """Parse, check and compile one expression over ``entity``; cached per version.

        Raises :class:`RuleSyntaxError` or :class:`RuleTypeError` (with every problem).
        """
        fingerprint = self._fingerprint_of(entity) if self.catalog.exists(entity) else ""
        key = (hashlib.sha256(text.encode()).hexdigest(), entity)
        cached = self._cache.get(key)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
        node = parse_expression(text)
        checked = Checker(self.catalog).check_expression(node, entity)
        if not checked.ok:
            raise RuleTypeError(
                checked.diagnostics[0]["message"], checked.diagnostics, sources={"": text}
            )
        fn, source = compile_expression(checked, self.tz)
        compiled = CompiledExpression(text, entity, checked, fn, source, self)
        if len(self._cache) > 5000:
            self._cache.clear()
        self._cache[key] = (fingerprint, compiled)
        return compiled

    def check(
        self, text: str, path: str | None = None, entity: str | None = None
    ) -> list[dict[str, Any]]:
        """Diagnostics ``{file, line, column, end, message, severity}`` for an expression
        (when ``entity`` is given) or a ``.rules`` file; never raises for bad rules."""
        try:
            if entity is not None:
                node = parse_expression(text, file=path)
                return Checker(self.catalog, file=path).check_expression(node, entity).diagnostics
            tree = parse_file(text, file=path)
        except RuleSyntaxError as exc:
            return [
                {
                    "file": e.get("file"),
                    "line": e.get("line"),
                    "column": e.get("column"),
                    "end": e.get("end"),
                    "message": e.get("message"),
                    "severity": "error",
                }
                for e in exc.errors
            ]
        checked = check_file(tree, Checker(self.catalog, file=path), existing=self._existing())
        diagnostics = checked.diagnostics
        if checked.ok and tree.examples:
            diagnostics = diagnostics + self._run_examples(tree, checked, path)
        return diagnostics

    def matching(
        self,
        condition: str,
        *,
        entity: str,
        limit: int = 10,
        user: dict[str, Any] | None = None,
        database: Any = None,
    ) -> dict[str, Any]:
        """Which records would this condition hit? ``{"count": n, "sample": [ids...]}``.

        Computed in SQL (a count and the first ``limit`` ids), so the editor can
        show it as the admin types, on a table of any size.
        """
        from sqlalchemy import func, select

        db = database if database is not None else self._database
        if db is None:
            raise RuleTypeError(
                "this rule service has no database",
                [{"message": "use p.rules on a Platform to count matching records"}],
            )
        compiled = self.compile(condition, entity)
        _, table = self.tables(entity)
        where = compiled.sql(table=table, user=user)
        with db.transaction(write=False) as conn:
            count = conn.execute(select(func.count()).select_from(table).where(where)).scalar_one()
            sample = (
                conn.execute(select(table.c.id).where(where).order_by(table.c.id).limit(limit))
                .scalars()
                .all()
            )
        return {"count": int(count), "sample": list(sample)}

    def run_schedule(
        self, name: str, now: dt.datetime | None = None, *, limit: int | None = None
    ) -> Any:
        """One tick of a schedule: claim its due records for this period, return their actions.

        The selection runs in SQL; each record is claimed at most once per
        period (see :mod:`engine.rules.schedules`).
        """
        from engine.rules.schedules import run_schedule

        if self._database is None or self.loader is None:
            raise RuleTypeError(
                "this rule service has no database",
                [{"message": "use p.rules on a Platform to run schedules"}],
            )
        moment = now or self.context().now()
        return run_schedule(self, self._database, name, moment, load=self.loader, limit=limit)

    def suggest(
        self, text: str, position: int | None = None, entity: str | None = None
    ) -> list[str]:
        """Completion: keywords and operators that fit at ``position``, with ``<name>``
        replaced by the entity's field names when ``entity`` is given."""
        words = suggest(text, position)
        if entity is not None and "<name>" in words:
            words = [w for w in words if w != "<name>"] + sorted(self.catalog.fields(entity))
        return words

    # ------------------------------------------------------------ rule sets

    def _existing(self) -> dict[str, ast.RuleSet]:
        return {name: r.compiled.node for name, r in self._rulesets.items()}

    def load_ruleset(self, text: str, path: str | None = None, *, version: Any = None) -> list[str]:
        """Check, test and compile every rule set of a ``.rules`` file, then keep them.

        All or nothing: any error (syntax, type, a failing example) raises and
        nothing is replaced. Returns the names loaded. ``version`` is the
        file's metadata version (the hash of its text when not given).
        """
        tree = parse_file(text, file=path)
        checked = check_file(tree, Checker(self.catalog, file=path), existing=self._existing())
        problems = [d for d in checked.diagnostics if d["severity"] == "error"]
        compiled = {} if problems else self._compile_all(tree, checked)
        if not problems and tree.examples:
            problems = self._run_examples(tree, checked, path, compiled)
        if problems:
            raise RuleTypeError(problems[0]["message"], problems, sources={path or "": text})
        if version is None:
            version = hashlib.sha256(text.encode()).hexdigest()[:16]
        for name, c in compiled.items():
            self._rulesets[name] = LoadedRuleSet(
                name, c.node.entity, c.kind, version, path, c, checked
            )
        return list(compiled)

    def _compile_all(self, tree: ast.RuleFile, checked: Checked) -> dict[str, CompiledRuleSet]:
        out = {}
        for rs in tree.rulesets:
            options = None
            if isinstance(rs, ast.DecisionTable) and len(rs.targets) == 1:
                info = self.catalog.lookup(rs.entity, rs.targets[0])
                options = info.type.options if info else None
            out[rs.name] = compile_ruleset(rs, checked, self.tz, options)
        return out

    def rulesets(self) -> dict[str, LoadedRuleSet]:
        return dict(self._rulesets)

    def evaluate(
        self,
        name: str,
        record: dict[str, Any],
        trace: bool = False,
        *,
        old: dict[str, Any] | None = None,
        user: dict[str, Any] | None = None,
        event: str | None = None,
    ) -> dict[str, Any]:
        """Run one loaded rule set on a record.

        Returns ``{ruleset, kind, version, target, value}`` and, with ``trace``,
        ``trace``: one entry per evaluated rule ``{rule, label, line, fired,
        value, reads}`` where ``reads`` maps each field path the rule reads to
        its value. Raises ``KeyError`` for an unknown rule set.
        """
        loaded = self._rulesets[name]
        return self._evaluate(loaded.compiled, record, trace, old, user, event, loaded.version)

    def _evaluate(
        self,
        c: CompiledRuleSet,
        record: dict[str, Any],
        trace: bool,
        old: dict[str, Any] | None,
        user: dict[str, Any] | None,
        event: str | None,
        version: str | None = None,
    ) -> dict[str, Any]:
        ctx = self.context(event)
        entries: list[tuple[int, bool, Any]] | None = [] if trace else None
        value = c.run(record, old, user, ctx, entries)
        result: dict[str, Any] = {
            "ruleset": c.node.name,
            "kind": c.kind,
            "version": version,
            "target": c.target,
            "value": value,
        }
        if entries is not None:
            values = {p: f(record, old, user, ctx) for p, f in c.readers.items()}
            result["trace"] = [
                {
                    "rule": i,
                    "label": c.labels[i],
                    "line": c.lines[i],
                    "fired": fired,
                    "value": v,
                    "reads": {p: values.get(p) for p in c.reads[i]},
                }
                for i, fired, v in entries
            ]
        return result

    def run_all(
        self,
        entity: str,
        record: dict[str, Any],
        compiled: dict[str, CompiledRuleSet] | None = None,
    ) -> dict[str, Any]:
        """What a save computes: scoring, grading, tables, routing in order, each seeing the
        values written before it. Returns the record with targets (and owner) filled in."""
        out = dict(record)
        sets = (
            compiled if compiled is not None else {k: v.compiled for k, v in self._rulesets.items()}
        )
        for kind in EVALUATION_ORDER[:4]:
            for c in sets.values():
                if c.kind != kind or c.node.entity != entity:
                    continue
                c.write_back(out, self._evaluate(c, out, False, None, None, None)["value"])
        return out

    def evaluate_many(
        self,
        name: str,
        records: list[dict[str, Any]],
        *,
        write: bool = False,
        user: dict[str, Any] | None = None,
        event: str | None = None,
    ) -> list[Any]:
        """Run one loaded rule set over many records: their values, in order.

        The batch form of :meth:`evaluate` (no trace): one context for the whole
        batch, so every record sees the same clock reading, and no result dict
        per record, which is most of what ``evaluate`` costs on a small rule
        set. With ``write``, each value is also written into its record as a
        save would (the target field; for routing the owner, team or set
        field), so a following rule set reads it. Raises ``KeyError`` for an
        unknown rule set.
        """
        c = self._rulesets[name].compiled
        run, ctx = c.run, self.context(event)
        if c.many is not None and (not write or c.kind != "routing"):
            # the compiled batch loop: it writes a scoring or grading target itself
            return c.many(records, None, user, ctx, write)
        if not write:
            return [run(r, None, user, ctx) for r in records]
        values = [run(r, None, user, ctx) for r in records]
        if isinstance(c.target, str) and c.kind != "routing":
            target = c.target  # the common case, written without a call per record
            for r, value in zip(records, values):
                r[target] = value
        else:
            for r, value in zip(records, values):
                c.write_back(r, value)
        return values

    def evaluate_chain(
        self,
        names: Sequence[str],
        records: list[dict[str, Any]],
        *,
        write: bool | Collection[str] = False,
        user: dict[str, Any] | None = None,
        event: str | None = None,
    ) -> list[list[Any]]:
        """Run several loaded rule sets in order over many records, as a save runs them on
        one: per rule set (in the order of ``names``), its values over the records in
        order, as ``evaluate_many`` gives them.

        Each set sees the values of the sets before it (a score for the grading
        after it), written into a copy of the record as a save writes them;
        the records themselves change only with ``write`` (True for every set,
        or the names to write), once every record is done, so a record that
        raises leaves them all as they were. One context for the whole batch,
        no trace. Scoring and grading sets, with at most a routing set last,
        run as one compiled pass (engine.rules.compile_py_pass): each record
        guarded and its fields read once for all the sets. Raises ``KeyError``
        for an unknown rule set.
        """
        names = tuple(names)
        if not names:
            raise ValueError("evaluate_chain needs at least one rule set name")
        written = frozenset(names if write is True else () if write is False else write)
        unknown = written - set(names)
        if unknown:
            raise ValueError(f"write names rule sets not in the chain: {sorted(unknown)}")
        links, chain = self._chain(names, written)
        ctx = self.context(event)
        if chain is not None:
            return chain(records, None, user, ctx)
        return run_chain(links, records, None, user, ctx)

    def _chain(self, names: tuple[str, ...], written: frozenset[str]) -> tuple[list[Link], Any]:
        """The links of a chain and its one-pass loop (None: run set by set), compiled once
        for the loaded versions of its rule sets."""
        loaded = [self._rulesets[n] for n in names]  # KeyError for an unknown name
        key = (names, written)
        sets = tuple(r.compiled for r in loaded)
        cached = self._chains.get(key)
        if cached is not None and all(a is b for a, b in zip(cached[0], sets, strict=True)):
            return cached[1]
        links = [Link(r.compiled, r.checked, r.name in written) for r in loaded]  # type: ignore[arg-type]
        chain = None
        if all(r.checked is not None for r in loaded):
            chain = compile_chain(links, self.tz)
        self._chains[key] = (sets, (links, chain))
        return links, chain

    def replay(
        self, ruleset: str, version: int | None = None, limit: int | None = None
    ) -> dict[str, Any]:
        """Dry run: what rule set ``ruleset`` at ``version`` (default: live) would change over
        the stored records; writes nothing. See ``engine.rules.history.replay``."""
        if self.history is None:
            raise NotImplementedError("replay needs a platform (p.rules.replay)")
        return self.history.replay(ruleset, version=version, limit=limit)

    def stamps(self, entity: str, record_id: int) -> dict[str, dict[str, Any]]:
        """Which version of each rule set last scored, graded or routed a record."""
        if self.history is None:
            raise NotImplementedError("stamps need a platform (p.rules.stamps)")
        return self.history.stamps(entity, record_id)

    def explain(self, entity: str, record: dict[str, Any]) -> list[dict[str, Any]]:
        """Why a stored record has the values its rule sets gave it (the "why" panel).
        See ``engine.rules.history.explain``."""
        if self.history is None:
            raise NotImplementedError("explain needs a platform (p.rules.explain)")
        return self.history.explain(entity, record)

    def _run_examples(
        self,
        tree: ast.RuleFile,
        checked: Checked,
        path: str | None,
        compiled: dict[str, CompiledRuleSet] | None = None,
    ) -> list[dict[str, Any]]:
        from engine.rules.check import diagnostic
        from engine.rules.compile_py import PyCompiler

        compiled = compiled if compiled is not None else self._compile_all(tree, checked)
        sets = {**{k: v.compiled for k, v in self._rulesets.items()}, **compiled}
        problems = []
        ctx = self.context()
        for example in tree.examples:
            if not example.given:
                continue
            given = example.given[0]
            pc = PyCompiler(checked, self.tz)
            record = {
                k: pc.build(f"def _v(ctx):\n    return {pc.expr(v)}\n", "_v")(ctx)
                for k, v in given.values
            }
            result = self.run_all(given.entity, record, sets)
            for expect in example.expect:
                pc = PyCompiler(checked, self.tz)
                fn = pc.build(f"def _e(r, old, user, ctx):\n    return {pc.expr(expect)}\n", "_e")
                if fn(result, None, None, ctx) is not True:
                    shown = {k: result.get(k) for k in checked.reads(expect)}
                    problems.append(
                        diagnostic(
                            expect,
                            f'The example "{example.label}" fails: after the rules ran, '
                            + ", ".join(f"{k} is {v!r}" for k, v in shown.items()),
                            file=path,
                        )
                    )
        return problems


__all__ = ["EVALUATION_ORDER", "CompiledExpression", "LoadedRuleSet", "RuleService"]
