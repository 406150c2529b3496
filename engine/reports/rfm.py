"""The RFM report type: recency, frequency and monetary value per customer, scored 1-5.

::

    type: rfm
    source: order
    customer: account        # a reference field: who bought
    date: ordered_on         # a date or date-time field
    amount: total            # a number field
    filters: ...             # optional
    segments:                # checked in order; the first that holds names the customer
      champions: "r >= 4 and f >= 4"
      at_risk: "r <= 2 and f >= 3"
    top: 20                  # customers listed, by monetary value (default 20)

Per customer, one GROUP BY gives the last order date, the number of orders and
their total; ``NTILE(5)`` window functions turn each into a score from 1 to 5
(5 = most recent, most orders, most spent; ties are split by customer id so a
run is repeatable). Segment conditions are rule-language expressions over the
numbers ``r``, ``f`` and ``m``. Since they only see the three scores, they are
evaluated once per score combination (at most 125) on the grouped counts, never
per customer; customers no segment takes are counted as ``other``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, literal, select

from engine.i18n import t as _t
from engine.reports.history import check_field, check_filters, column_of
from engine.reports.spec import measure_catalog

Path = tuple[Any, ...]
SCORES = ["r", "f", "m"]
OTHER = "other"


def segment_label(name: str, lang: str = "en") -> str:
    """The words a reader sees for a segment name, in ``lang``.

    The segments the CRM and the docs use are translated (their words live in
    the engine catalog so exports, written here, and the report page read the
    same ones); any other name a bundle picks reads as itself, underscores as spaces.
    """
    from engine.i18n import language

    with language(lang):
        words = {
            "champions": _t("Champions"),
            "loyal": _t("Loyal customers"),
            "at_risk": _t("At risk"),
            "new": _t("New customers"),
            "hibernating": _t("Hibernating"),
            OTHER: _t("Other customers"),
        }
    return words.get(name, str(name).replace("_", " "))


def _checked(text: str) -> tuple[Any, list[str]]:
    from engine.errors import RuleSyntaxError
    from engine.rules.check import Checker
    from engine.rules.parse import parse_expression

    try:
        node = parse_expression(text)
    except RuleSyntaxError as exc:
        return None, [str(exc).splitlines()[0]]
    checked = Checker(measure_catalog(SCORES)).check_expression(node, "_measures")
    errors = [
        d["message"].replace("_measures", "the scores")
        for d in checked.diagnostics
        if d["severity"] == "error"
    ]
    if not errors and checked.type_of(checked.node).kind not in ("boolean", "any"):
        errors.append(_t("{text!r} is not a condition (it should be true or false)", text=text))
    return checked, errors


def read_rfm(
    definition: dict[str, Any], catalog: Any, check_filter: Any = None
) -> tuple[dict[str, Any] | None, list[tuple[Path, str]]]:
    problems: list[tuple[Path, str]] = []
    source = definition.get("source")
    if not isinstance(source, str) or not catalog.exists(source):
        return None, [(("source",), _t("{source!r} is not an entity", source=source))]
    check_field(catalog, source, definition, "customer", ("record", "string"), _t("a reference"),
                problems)  # fmt: skip
    check_field(catalog, source, definition, "date", ("date", "datetime"), _t("a date"), problems)
    check_field(catalog, source, definition, "amount", ("number",), _t("a number"), problems)
    segments = definition.get("segments", {})
    if not isinstance(segments, dict):
        problems.append((("segments",), _t("segments maps a name to a condition over r, f and m")))
        segments = {}
    for name, text in segments.items():
        if not isinstance(text, str):
            problems.append((("segments", name), _t("a segment is a condition like 'r >= 4'")))
            continue
        if name == OTHER:
            problems.append(
                (("segments", name), _t("{other!r} names the customers left over", other=OTHER))
            )
        _, errors = _checked(text)
        problems.extend((("segments", name), e) for e in errors)
    top = definition.get("top", 20)
    if not isinstance(top, int) or isinstance(top, bool) or not 0 <= top <= 1000:
        problems.append((("top",), _t("top is a whole number from 0 to 1,000")))
    check_filters(definition, source, check_filter, problems)
    spec = {
        "type": "rfm",
        "name": definition.get("name"),
        "source": source,
        "customer": definition.get("customer"),
        "date": definition.get("date"),
        "amount": definition.get("amount"),
        "segments": dict(segments),
        "top": top,
        "filters": definition.get("filters"),
        "label": definition.get("label"),
    }
    return spec, problems


def run_rfm(service: Any, spec: dict[str, Any], where: list[Any]) -> dict[str, Any]:
    from engine.reports.pivot import _CTX
    from engine.rules.compile_py import compile_expression

    source = spec["source"]
    customer = column_of(service, source, spec["customer"])
    date = column_of(service, source, spec["date"])
    amount = column_of(service, source, spec["amount"])
    per = (
        select(
            customer.label("customer"),
            func.max(date).label("last"),
            func.count().label("frequency"),
            func.coalesce(func.sum(amount), literal(0)).label("monetary"),
        )
        .where(*where, customer.is_not(None))
        .group_by(customer)
        .subquery("per_customer")
    )

    def ntile(col: Any) -> Any:
        return func.ntile(5).over(order_by=(col, per.c.customer))

    scored = select(
        per,
        ntile(per.c.last).label("r"),
        ntile(per.c.frequency).label("f"),
        ntile(per.c.monetary).label("m"),
    ).subquery("scored")
    groups_q = select(
        scored.c.r, scored.c.f, scored.c.m, func.count(), func.sum(scored.c.monetary)
    ).group_by(scored.c.r, scored.c.f, scored.c.m)
    top_q = select(scored).order_by(scored.c.monetary.desc(), scored.c.customer).limit(spec["top"])
    with service.p.db.transaction(write=False) as conn:
        groups = conn.execute(groups_q).all()
        top = conn.execute(top_q).mappings().all() if spec["top"] else []
    tz = service.p.clock.timezone
    rules = [(name, compile_expression(_checked(text)[0], tz)[0])
             for name, text in spec["segments"].items()]  # fmt: skip

    def segment(r: int, f: int, m: int) -> str:
        values = {"r": Decimal(r), "f": Decimal(f), "m": Decimal(m)}
        for name, fn in rules:
            if fn(values, None, None, _CTX) is True:
                return name
        return OTHER

    names = [*spec["segments"], OTHER]
    seg_rows = {n: {"segment": n, "customers": 0, "monetary": Decimal(0)} for n in names}
    for r, f, m, n, total in groups:
        row = seg_rows[segment(r, f, m)]
        row["customers"] += n
        row["monetary"] += Decimal(str(total)) if total is not None else Decimal(0)
    customers = [
        {
            "customer": row["customer"],
            "last": row["last"],
            "frequency": row["frequency"],
            "monetary": Decimal(str(row["monetary"])),
            "r": row["r"],
            "f": row["f"],
            "m": row["m"],
            "segment": segment(row["r"], row["f"], row["m"]),
        }
        for row in top
    ]
    rows = [seg_rows[n] for n in names]
    return {
        "report": spec["name"],
        "type": "rfm",
        "rows": rows,
        "customers": customers,
        "chart": {
            "type": "bar",
            "categories": names,
            "series": [
                # counts are tiny beside amounts: their own axis keeps the bars visible
                {"name": "customers", "data": [r["customers"] for r in rows], "axis": 1},
                {"name": "monetary", "data": [r["monetary"] for r in rows]},
            ],
        },
    }


__all__ = ["read_rfm", "run_rfm", "segment_label"]
