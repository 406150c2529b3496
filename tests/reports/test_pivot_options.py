"""Top N with Others, percent measures, and exports of a pivot."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from click.testing import CliRunner
from openpyxl import load_workbook

from engine.cli import main
from tests.reports.test_pivot import _records, p  # noqa: F401  (the shared fixture)

TOP = {
    "name": "top_titles",
    "source": "deal",
    "rows": [{"field": "account.name", "top": 2, "by": "amount"}],
    "measures": [
        {"name": "amount", "agg": "sum", "field": "amount"},
        {"name": "deals", "agg": "count"},
        {"name": "share", "percent_of": "amount", "of": "total"},
    ],
}


def test_top_n_keeps_the_best_and_groups_the_rest(p):  # noqa: F811
    result = p.reports.run(TOP)
    rows = _records(p)
    names = {a["id"]: a["name"] for a in p.records("account").list(limit=None)}
    totals: dict = {}
    for r in rows:
        name = names.get(r["account"])
        if name is not None:
            totals[name] = totals.get(name, 0) + (r["amount"] or 0)
    best = sorted(totals, key=lambda n: -totals[n])[:2]
    labels = [row["labels"][0] for row in result["rows"]]
    assert labels[:2] == sorted(best) and labels[2] == "Others" and labels[3] == ""
    others = next(row for row in result["rows"] if row["labels"][0] == "Others")
    rest = [n for n in totals if n not in best]
    assert others["cells"][0][1] == sum(1 for r in rows if names.get(r["account"]) in rest)
    # the shares add up to 100 and the grand total is untouched by the grouping
    shares = [row["cells"][0][2] for row in result["rows"] if row["cells"][0][2] is not None]
    assert abs(sum(shares) - Decimal(100)) <= Decimal("0.05")
    assert result["totals"]["total"][1] == len(rows)
    drilled = p.reports.drill(TOP, [others["key"][0]])
    assert drilled["count"] == others["cells"][0][1]


def test_percent_of_row_and_column(p):  # noqa: F811
    definition = {
        "name": "shares",
        "source": "deal",
        "rows": ["region"],
        "columns": [{"field": "closes_on", "bucket": "quarter"}],
        "measures": [
            {"name": "deals", "agg": "count"},
            {"name": "of_row", "percent_of": "deals", "of": "row"},
            {"name": "of_column", "percent_of": "deals", "of": "column"},
        ],
    }
    result = p.reports.run(definition)
    for row in result["rows"]:
        assert abs(sum(c[1] for c in row["cells"] if c[1] is not None) - 100) <= Decimal("0.05")
        assert row["total"][1] == 100
    for i in range(len(result["columns"])):
        column = [row["cells"][i][2] for row in result["rows"] if row["cells"][i][2] is not None]
        assert abs(sum(column) - 100) <= Decimal("0.05")


def test_bad_top_and_percent_are_refused(p):  # noqa: F811
    problems = p.reports.problems(
        {
            "name": "bad",
            "source": "deal",
            "rows": [{"field": "qty", "top": 3}, {"field": "region", "top": 0}],
            "measures": [
                {"name": "n", "agg": "count"},
                {"name": "share", "percent_of": "nope", "of": "page"},
            ],
        }
    )
    fields = {e["field"]: e["message"] for e in problems}
    assert "not text" in fields["rows[0]"]
    assert "whole number" in fields["rows[1].top"]
    assert "row, column or total" in fields["measures[1].of"]
    assert "'nope'" in fields["measures[1].percent_of"]


def test_csv_and_xlsx_exports(p, tmp_path):  # noqa: F811
    from tests.reports.test_pivot import DEFINITION

    out = io.StringIO()
    result = p.reports.export(DEFINITION, "csv", out)
    lines = list(csv.reader(io.StringIO(out.getvalue())))
    assert lines[0][:2] == ["region", "account.industry"]
    assert lines[-1][0] == "Total"
    assert len(lines) == 1 + len(result["rows"]) + 1
    binary = io.BytesIO()
    p.reports.export(DEFINITION, "xlsx", binary)
    sheet = load_workbook(io.BytesIO(binary.getvalue())).active
    assert sheet.freeze_panes == "C2"
    assert sheet["A1"].font.bold and sheet.cell(row=sheet.max_row, column=1).font.bold
    assert sheet.cell(row=sheet.max_row, column=1).value == "Total"
    amount_cell = sheet.cell(row=2, column=3)
    assert amount_cell.value is None or amount_cell.number_format == "#,##0.00"


def test_export_command(p, tmp_path):  # noqa: F811
    p.meta.save(
        "report",
        "by_region",
        {
            "name": "by_region",
            "label": "By region",
            **{k: v for k, v in TOP.items() if k != "name"},
        },
    )
    out = tmp_path / "r.csv"
    url = str(p.db.engine.url.render_as_string(hide_password=False))
    runner = CliRunner()
    done = runner.invoke(main, ["export", "by_region", "--out", str(out), "--db", url])
    assert done.exit_code == 0, done.output
    assert out.read_text(encoding="utf-8-sig").splitlines()[0].startswith("account.name")
    bad = runner.invoke(main, ["export", "nope", "--out", str(out), "--db", url])
    assert bad.exit_code == 1 and "no report named 'nope'" in bad.output
