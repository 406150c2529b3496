"""``POST /api/v1/import/<entity>`` over real HTTP: upload, options, report, limits, permissions."""

from __future__ import annotations

import csv
import io
import threading
import uuid

import pytest
from werkzeug.serving import make_server

from tests.floor_defs import save
from tests.test_import import LEAD, PERMISSIONS
from web.app import create_app

LIMIT = 64 * 1024


@pytest.fixture
def server(platform):
    app = create_app(
        platform, config={"SECRET_KEY": "test-secret", "TESSERA_IMPORT_MAX_BYTES": LIMIT}
    )
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()
        thread.join(5)


@pytest.fixture
def p(platform):
    save(platform, LEAD)
    platform.meta.save("permissions", "imp", PERMISSIONS)
    platform.users.add("clara", password="clara-secret-1", roles=["clerk"], team="east")
    platform.users.add("rick", password="rick-secret-1", roles=["rep"], team="east")
    return platform


def csv_bytes(rows, encoding="utf-8"):
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode(encoding)


def multipart(filename, content, fields=()):
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), {"Content-Type": f"multipart/form-data; boundary={boundary}"}


ROWS = [
    ["姓名", "公司", "电话", "邮箱", "1; DROP TABLE t_lead"],
    ["张三", "上海星辰科技有限公司", "021-5555 0101", "zs@XINGCHEN.cn", "x"],
    ["张三", "上海星辰科技公司", "", "", "x"],
    ["李四", "", "", "li@x.cn", "x"],
]


def test_multipart_upload_maps_labels_reports_and_downloads_the_rejects(p, client):
    client.token = p.users.create_token("clara")["token"]
    body, headers = multipart("线索.csv", csv_bytes(ROWS, "gbk"), [("policy", "skip")])
    status, answer, _ = client.post("/api/v1/import/lead", raw=body, headers=headers)
    assert status == 200, answer
    assert (answer["created"], answer["skipped"], answer["rejected"]) == (1, 1, 1)
    assert answer["unknown_columns"][0]["column"] == 5
    assert answer["errors"][0]["row"] == 4 and answer["errors"][0]["field"] == "company"
    status, listed, _ = client.get("/api/v1/records/lead")
    assert listed["total"] == 1 and listed["items"][0]["phone"] == "+862155550101"
    status, report, hdrs = client.get(answer["report_url"])
    assert status == 200 and hdrs["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(report.decode("utf-8-sig"))))
    assert lines[0][:3] == ["row", "errors", "姓名"] and lines[1][0] == "4"
    client.token = p.users.create_token("rick")["token"]
    status, _, _ = client.get(answer["report_url"])
    assert status == 404


def test_raw_body_with_query_options(p, client):
    client.token = p.users.create_token("clara")["token"]
    p.records("lead").create({"company": "上海星辰科技", "person_name": "张三"})
    raw = csv_bytes(
        [["Person", "Company", "E-mail"], ["张三", "上海星辰科技股份有限公司", "a@b.cn"]]
    )
    status, answer, _ = client.post(
        "/api/v1/import/lead?policy=update&map=Person%3Dperson_name",
        raw=raw,
        headers={"Content-Type": "text/csv"},
    )
    assert status == 200, answer
    assert answer["updated"] == 1 and answer["created"] == 0
    assert p.records("lead").list()[0]["email"] == "a@b.cn"


def test_all_or_nothing_over_http(p, client):
    client.token = p.users.create_token("clara")["token"]
    raw = csv_bytes([["公司", "员工人数"], ["A", "1"], ["B", "two"]])
    status, answer, _ = client.post(
        "/api/v1/import/lead?all_or_nothing=1", raw=raw, headers={"Content-Type": "text/csv"}
    )
    assert status == 200 and answer["committed"] is False and answer["errors"][0]["row"] == 3
    assert p.records("lead").count() == 0


def test_without_the_import_scope_refused(p, client):
    client.token = p.users.create_token("rick")["token"]
    status, answer, _ = client.post(
        "/api/v1/import/lead", raw=csv_bytes(ROWS), headers={"Content-Type": "text/csv"}
    )
    assert status == 403 and answer["errors"][0]["field"] == "import"
    assert p.records("lead").count() == 0


def test_oversized_upload_is_413(p, client):
    client.token = p.users.create_token("clara")["token"]
    big = csv_bytes([["公司"]] + [[f"公司{i:08d}"] for i in range(LIMIT // 10)])
    assert len(big) > LIMIT
    status, _, _ = client.post("/api/v1/import/lead", raw=big, headers={"Content-Type": "text/csv"})
    assert status == 413
    body, headers = multipart("big.csv", big)
    status, _, _ = client.post("/api/v1/import/lead", raw=body, headers=headers)
    assert status == 413
    assert p.records("lead").count() == 0


def test_bad_options_and_unknown_entity(p, client):
    client.token = p.users.create_token("clara")["token"]
    raw = csv_bytes(ROWS)
    h = {"Content-Type": "text/csv"}
    assert client.post("/api/v1/import/lead?policy=merge", raw=raw, headers=h)[0] == 422
    assert client.post("/api/v1/import/lead?map=x%3Dnope", raw=raw, headers=h)[0] == 422
    assert client.post("/api/v1/import/nope", raw=raw, headers=h)[0] == 404
