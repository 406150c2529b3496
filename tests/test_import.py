"""Importing CSV and XLSX files: mapping, cleansing, duplicates, rejects, batches and resume."""

from __future__ import annotations

import csv
import io

import pytest

from engine import PermissionDenied
from engine.errors import TesseraError
from engine.forms.cleansing import normalize_company, normalize_email, normalize_phone
from engine.store.importer import import_file, run_report
from tests.floor_defs import save

LEAD = {
    "name": "lead",
    "label": {"en": "Lead", "zh-CN": "线索"},
    "title_field": "company",
    "schema": {
        "type": "object",
        "required": ["company"],
        "properties": {
            "person_name": {"type": "string", "maxLength": 80,
                            "x-label": {"en": "Name", "zh-CN": "姓名"}},
            "company": {"type": "string", "maxLength": 200,
                        "x-label": {"en": "Company", "zh-CN": "公司"}},
            "phone": {"type": "string", "x-type": "phone", "x-label": {"en": "Phone", "zh-CN": "电话"}},
            "email": {"type": "string", "format": "email",
                      "x-label": {"en": "E-mail", "zh-CN": "邮箱"}},
            "industry": {"type": "string", "enum": ["manufacturing", "it"],
                         "x-label": {"en": "Industry", "zh-CN": "行业"},
                         "x-options-labels": {"manufacturing": {"en": "Manufacturing", "zh-CN": "制造业"},
                                              "it": {"en": "IT", "zh-CN": "信息技术"}}},
            "company_size": {"type": "integer", "minimum": 0,
                             "x-label": {"en": "Employees", "zh-CN": "员工人数"}},
            "duplicate_of": {"type": "integer", "x-ref": "lead"},
        },
    },
}  # fmt: skip

PERMISSIONS = {
    "roles": {"clerk": {"label": "Clerk"}, "rep": {"label": "Rep"}},
    "permissions": [
        {"role": "clerk", "entity": "lead", "create": True, "read": "all", "update": "all",
         "import": True},
        {"role": "rep", "entity": "lead", "create": True, "read": "all", "update": "own",
         "import": "none"},
    ],
}  # fmt: skip


@pytest.fixture
def p(platform):
    save(platform, LEAD)
    platform.meta.save("permissions", "imp", PERMISSIONS)
    platform.users.add("clara", password="clara-secret-1", roles=["clerk"], team="east")
    platform.users.add("rick", password="rick-secret-1", roles=["rep"], team="east")
    return platform


def write_csv(tmp_path, rows, name="in.csv", encoding="utf-8"):
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    path = tmp_path / name
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def leads(p):
    return sorted(p.records("lead").list(limit=None), key=lambda r: r["id"])


def test_normalisers():
    # the whole address lower-cased (CRM.md: one spelling per address on every write path)
    assert normalize_email("  Zhang.San@Example.COM ") == "zhang.san@example.com"
    assert normalize_phone(" +86 (21) 5555-0101 ") == "+862155550101"
    assert normalize_phone("１３８-0013 8000") == "+8613800138000"
    # one phone however it is written: area code with a dash, 0086, +86 with spaces
    same = {"021-5555 0101", "0086 21 55550101", "+86 21 5555 0101", "(021) 55550101"}
    assert {normalize_phone(n) for n in same} == {"+862155550101"}
    # the region says how a number without +country code is read
    assert normalize_phone("(415) 555-2671", region="US") == "+14155552671"
    # a number that is not valid keeps its digits (and its +): nothing typed is lost
    assert normalize_phone("0228888") == "0228888"
    assert normalize_phone("+12345") == "+12345"
    assert normalize_phone("n/a") == ""
    with pytest.raises(TesseraError, match="phone_region 'CNN'"):
        normalize_phone("021-5555 0101", region="CNN")
    same = {"上海星辰科技有限公司", "上海星辰科技公司", "上海星辰科技股份有限公司", "上海星辰科技"}
    assert {normalize_company(n) for n in same} == {"上海星辰科技"}
    latin = {"ACME Co., Ltd.", "Acme Ltd", "acme inc.", "ＡＣＭＥ Co.,Ltd", "Acme"}
    assert {normalize_company(n) for n in latin} == {"acme"}


def test_chinese_headers_gbk_cleansing_and_unknown_columns(p, tmp_path):
    path = write_csv(
        tmp_path,
        [
            ["姓名", "公司", "电话", "邮箱", "行业", "员工人数", "备注", "'; DROP TABLE t_lead; --"],
            [" 张三 ", " 上海星辰科技有限公司 ", "+86 (21) 5555-0101", "Zhang@Example.COM",
             "制造业", "120", "x", "y"],
        ],
        encoding="gbk",
    )  # fmt: skip
    result = import_file(p, "lead", path, "clara")
    assert result.created == 1 and result.rejected == 0
    assert result.mapping == {
        "姓名": "person_name", "公司": "company", "电话": "phone", "邮箱": "email",
        "行业": "industry", "员工人数": "company_size",
    }  # fmt: skip
    assert [e["column"] for e in result.unknown_columns] == [7, 8]
    (lead,) = leads(p)
    assert lead["person_name"] == "张三" and lead["company"] == "上海星辰科技有限公司"
    assert lead["phone"] == "+862155550101" and lead["email"] == "zhang@example.com"
    assert lead["industry"] == "manufacturing" and lead["company_size"] == 120
    assert p.records("lead").count() == 1  # the table is still there


def test_utf8_bom_english_labels_and_explicit_map(p, tmp_path):
    path = write_csv(
        tmp_path, [["Name", "Firm", "E-mail"], ["Ann", "ACME Inc.", "ann@acme.com"]],
        encoding="utf-8-sig",
    )  # fmt: skip
    result = import_file(p, "lead", path, "clara", mapping={"Firm": "company"})
    assert result.created == 1 and not result.unknown_columns
    assert leads(p)[0]["company"] == "ACME Inc."


def test_xlsx(p, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["公司", "员工人数", "邮箱"])
    ws.append(["深圳某某公司", 30, "a@b.cn"])
    ws.append(["广州某某公司", "many", "c@d.cn"])
    path = tmp_path / "in.xlsx"
    wb.save(path)
    result = import_file(p, "lead", path, "clara")
    assert result.created == 1 and result.rejected == 1
    assert result.errors[0]["row"] == 3 and result.errors[0]["field"] == "company_size"


def _dup_file(tmp_path):
    return write_csv(
        tmp_path,
        [
            ["姓名", "公司", "电话", "邮箱"],
            ["李四", "北京云帆有限公司", "010-1234 5678", "li@yunfan.cn"],  # same phone as existing
            ["王五", "天津海河公司", "", "WANG@haihe.cn"],  # new
            ["王五", "天津海河有限公司", "022-8888", ""],  # same company+name as row 3
            ["赵六", "重庆山城", "", "wang@HAIHE.CN"],  # same e-mail as row 3
        ],
    )


@pytest.mark.parametrize("policy", ["skip", "update", "flag", "create"])
def test_duplicates_under_each_policy(p, tmp_path, policy):
    existing = p.records("lead").create(
        {"company": "北京云帆科技", "person_name": "李", "phone": "01012345678"}
    )
    result = import_file(p, "lead", _dup_file(tmp_path), "clara", policy=policy)
    rows = leads(p)
    by_row = {d["row"]: d for d in result.duplicates}
    if policy == "skip":
        assert (result.created, result.skipped) == (1, 3)
        assert by_row[2]["record_id"] == existing["id"] and by_row[2]["match"] == "phone"
        assert by_row[4]["match"] == "company+person_name" and by_row[4]["file_row"] == 3
        assert by_row[5]["match"] == "email"
        assert len(rows) == 2
    elif policy == "update":
        assert (result.created, result.updated) == (1, 3)
        assert rows[0]["email"] == "li@yunfan.cn" and rows[0]["person_name"] == "李四"
        assert rows[1]["phone"] == "0228888" and rows[1]["person_name"] == "赵六"
        assert len(rows) == 2
    elif policy == "flag":
        assert (result.created, result.flagged) == (4, 3)
        assert rows[1]["duplicate_of"] == existing["id"]
        assert rows[3]["duplicate_of"] == rows[2]["id"] == rows[4]["duplicate_of"]
    else:
        assert result.created == 4 and not result.duplicates and len(rows) == 5


def test_rejected_rows_are_reported_with_row_numbers(p, tmp_path):
    path = write_csv(
        tmp_path,
        [
            ["公司", "邮箱", "员工人数", "行业"],
            ["好公司", "ok@x.cn", "5", "信息技术"],
            ["", "no-company@x.cn", "", ""],
            ["坏公司", "not-an-email", "-3", "mining"],
            ["另一家", "b@x.cn", "", ""],
        ],
    )
    result = import_file(p, "lead", path, "clara", batch_size=10)
    assert (result.created, result.rejected) == (2, 2)
    problems = {(e["row"], e["field"]) for e in result.errors}
    assert (3, "company") in problems
    assert {(4, "email"), (4, "company_size"), (4, "industry")} <= problems
    assert next(e for e in result.errors if e["field"] == "email")["column_name"] == "邮箱"
    out = io.StringIO()
    result.report_csv(out)
    lines = list(csv.reader(io.StringIO(out.getvalue())))
    assert lines[0] == ["row", "errors", "公司", "邮箱", "员工人数", "行业"]
    assert [line[0] for line in lines[1:]] == ["3", "4"]
    text, info = run_report(p, result.run_id, "clara")
    assert text == out.getvalue() and info["counts"]["rejected"] == 2


def test_all_or_nothing_rolls_back_on_one_bad_row(p, tmp_path):
    rows = [["公司", "员工人数"]] + [[f"公司{i}", str(i)] for i in range(30)]
    rows[25][1] = "minus"
    path = write_csv(tmp_path, rows)
    result = import_file(p, "lead", path, "clara", all_or_nothing=True, batch_size=10)
    assert result.committed is False and result.rejected == 1
    assert result.errors[0]["row"] == 26
    assert p.records("lead").count() == 0
    rows[25][1] = "25"
    result = import_file(p, "lead", write_csv(tmp_path, rows), "clara", all_or_nothing=True)
    assert result.committed and p.records("lead").count() == 30


def test_resume_after_an_interruption_does_not_duplicate(p, tmp_path):
    rows = [["公司", "邮箱"]] + [[f"公司{i}", f"u{i}@x.cn"] for i in range(25)]
    path = write_csv(tmp_path, rows)

    def boom(run_id):
        raise KeyboardInterrupt("simulated crash after the first batch")

    with pytest.raises(KeyboardInterrupt):
        import_file(p, "lead", path, "clara", batch_size=10, after_batch=boom)
    assert p.records("lead").count() == 10
    result = import_file(p, "lead", path, "clara", batch_size=10, policy="create")
    assert result.resumed_from == 12  # header is row 1, ten rows committed
    assert result.created == 25 and result.rows == 25
    assert p.records("lead").count() == 25
    names = [r["company"] for r in leads(p)]
    assert len(set(names)) == 25
    # A finished file is not resumed again: a new run, where every row is a duplicate.
    again = import_file(p, "lead", path, "clara", batch_size=10)
    assert again.resumed_from is None and again.skipped == 25 and again.created == 0


def test_import_needs_the_import_scope(p, tmp_path):
    path = write_csv(tmp_path, [["公司"], ["某公司"]])
    with pytest.raises(PermissionDenied, match="import"):
        import_file(p, "lead", path, "rick")
    assert p.records("lead").count() == 0


def test_update_policy_respects_the_update_scope(p, tmp_path):
    p.meta.save(
        "permissions",
        "imp",
        {**PERMISSIONS, "permissions": [
            {"role": "clerk", "entity": "lead", "create": True, "read": "all", "update": "own",
             "import": True}]},
    )  # fmt: skip
    theirs = p.records("lead").create({"company": "X", "email": "x@x.cn"})
    path = write_csv(tmp_path, [["公司", "邮箱", "姓名"], ["X", "x@x.cn", "new name"]])
    result = import_file(p, "lead", path, "clara", policy="update")
    assert result.rejected == 1 and result.updated == 0
    assert p.records("lead").get(theirs["id"])["person_name"] is None


def test_command_line_import_with_progress_and_report(p, tmp_path):
    from click.testing import CliRunner

    from engine.cli import main

    path = write_csv(
        tmp_path, [["Who", "公司", "员工人数"], ["A", "甲公司", "1"], ["B", "乙公司", "x"]]
    )
    report = tmp_path / "rejected.csv"
    args = ["import", "lead", str(path), "--map", "Who=person_name", "--user", "clara"]
    args += ["--report", str(report), "--db", p.url]
    outcome = CliRunner().invoke(main, args)
    assert outcome.exit_code == 2, outcome.output
    assert "1 created" in outcome.output and "1 rejected" in outcome.output
    assert "row 3: 员工人数" in outcome.output
    lines = list(csv.reader(io.StringIO(report.read_text(encoding="utf-8-sig"))))
    assert lines[1][0] == "3" and lines[1][2:] == ["B", "乙公司", "x"]
    assert [r["person_name"] for r in leads(p)] == ["A"]
    denied = CliRunner().invoke(
        main, ["import", "lead", str(path), "--user", "rick", "--db", p.url]
    )
    assert denied.exit_code == 1 and "may not import" in denied.output
