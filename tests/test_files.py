"""Uploaded files in the engine: limits checked on the content, permissions through the record."""

from __future__ import annotations

import datetime as dt

import pytest

from engine import NotFound, PermissionDenied, Platform, ValidationError
from engine.forms.richtext import sanitize_html
from engine.store.backup import backup, restore
from engine.store.files import FileTooLarge, FileTypeRefused, files_table
from tests.floor_defs import save

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200)

DOC = {
    "name": "doc",
    "label": "Document",
    "title_field": "title",
    "schema": {
        "type": "object",
        "properties": {
            "title": {"type": "string", "maxLength": 100},
            "scan": {"type": "string", "x-type": "file", "x-accept": ["image/*", ".pdf"],
                     "x-max-size": 1000},
            "secret": {"type": "string", "x-type": "file"},
            "extras": {"type": "array", "x-type": "file"},
            "body": {"type": "string", "x-type": "rich_text"},
        },
    },
}  # fmt: skip

PERMISSIONS = {
    "roles": {"rep": {"label": "Rep"}},
    "permissions": [
        {"role": "rep", "entity": "doc", "create": True, "read": "team", "update": "own",
         "fields": {"secret": "hidden"}},
    ],
}  # fmt: skip


@pytest.fixture
def p(platform):
    save(platform, DOC)
    platform.meta.save("permissions", "docs", PERMISSIONS)
    platform.users.add("ann", roles=["rep"], team="east")
    platform.users.add("bob", roles=["rep"], team="east")
    platform.users.add("cat", roles=["rep"], team="west")
    return platform


def test_a_file_is_uploaded_attached_by_a_save_and_read_back(p):
    up = p.files.upload(PNG, "scan.png", "ann", entity="doc", field="scan")
    assert up["size"] == len(PNG) and up["type"] == "image/png" and len(up["id"]) == 32
    doc = p.records("doc", "ann").create({"title": "A", "scan": up["id"]})
    assert doc["scan"] == up["id"]
    info, data = p.files.read(up["id"], "ann")
    assert data == PNG and info["entity"] == "doc" and info["record_id"] == doc["id"]
    # a teammate reads the record, so the file; another team does not
    assert p.files.read(up["id"], "bob")[1] == PNG
    with pytest.raises(NotFound):
        p.files.read(up["id"], "cat")


def test_an_unattached_file_is_only_its_uploaders(p):
    up = p.files.upload(PDF, "note.pdf", "ann")
    assert p.files.info(up["id"], "ann")["name"] == "note.pdf"
    with pytest.raises(NotFound):
        p.files.read(up["id"], "bob")
    # and bob cannot take it by naming its id in his record
    with pytest.raises(ValidationError) as info:
        p.records("doc", "bob").create({"title": "B", "scan": up["id"]})
    assert info.value.errors[0]["field"] == "scan"


def test_size_and_type_are_refused_on_the_content(p):
    with pytest.raises(FileTooLarge):
        p.files.upload(PNG + bytes(2000), "big.png", "ann", entity="doc", field="scan")
    with pytest.raises(FileTypeRefused):
        p.files.upload(b"hello", "note.txt", "ann", entity="doc", field="scan")
    # a program renamed as a picture is still a program
    with pytest.raises(FileTypeRefused):
        p.files.upload(EXE, "cat.png", "ann", entity="doc", field="scan")
    with pytest.raises(FileTypeRefused):
        p.files.upload(EXE, "cat.png", "ann")
    # a text file called .png is not a picture either
    with pytest.raises(FileTypeRefused):
        p.files.upload(b"just text", "fake.png", "ann")
    # a program is refused even where any type goes
    with pytest.raises(FileTypeRefused):
        p.files.upload(EXE, "setup.exe", "ann", entity="doc", field="extras")


def test_a_file_uploaded_for_a_loose_field_is_checked_again_where_it_is_attached(p):
    up = p.files.upload(b"plain words", "words.txt", "ann")
    with pytest.raises(ValidationError) as info:
        p.records("doc", "ann").create({"title": "C", "scan": up["id"]})
    assert info.value.errors[0]["field"] == "scan"
    with p.db.transaction(write=False) as conn:
        row = conn.execute(files_table.select().where(files_table.c.id == up["id"])).first()
    assert row.entity is None  # the refused save attached nothing


def test_a_hidden_field_hides_its_file(p):
    up = p.files.upload(PDF, "secret.pdf", None)
    doc = p.records("doc").create({"title": "S", "secret": up["id"], "owner": "ann"})
    assert "secret" not in p.records("doc", "ann").get(doc["id"])
    with pytest.raises(NotFound):
        p.files.read(up["id"], "ann")
    assert p.files.read(up["id"])[1] == PDF  # the system reads everything
    with pytest.raises(PermissionDenied):
        p.files.upload(PDF, "x.pdf", "ann", entity="doc", field="secret")


def test_replacing_and_deleting_remove_the_old_files(p):
    records = p.records("doc", "ann")
    first = p.files.upload(PNG, "one.png", "ann")
    second = p.files.upload(PDF, "two.pdf", "ann")
    doc = records.create({"title": "R", "scan": first["id"], "extras": [second["id"]]})
    assert doc["extras"] == [second["id"]]
    third = p.files.upload(PNG, "three.png", "ann")
    records.update(doc["id"], {"scan": third["id"]})
    with pytest.raises(NotFound):
        p.files.info(first["id"])
    records.update(doc["id"], {"title": "R2"})  # untouched files stay attached
    assert p.files.read(third["id"], "ann")[1] == PNG
    p.records("doc").delete(doc["id"])
    for f in (second, third):
        with pytest.raises(NotFound):
            p.files.info(f["id"])


def test_a_file_field_definition_is_checked(p):
    bad = {**DOC, "schema": {"type": "object", "properties": {
        "scan": {"type": "string", "x-type": "file", "x-max-size": -1}}}}  # fmt: skip
    with pytest.raises(Exception) as info:
        save(p, bad)
    assert "x-max-size" in str(info.value)


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        '<a href="javascript:alert(1)">x</a>',
        '<a href="JaVaScRiPt:alert(1)">x</a>',
        '<a href="&#106;avascript:alert(1)">x</a>',
        '<svg onload="alert(1)"><circle/></svg>',
        '<p onclick="alert(1)" style="background:url(javascript:alert(1))">x</p>',
        '<iframe src="https://evil.example"></iframe>',
        "<scr<script>ipt>alert(1)</script>",
        '<math><mtext><table><mglyph><style><img src=x onerror="alert(1)">',
        '<form action="https://evil.example"><input name="x"></form>',
    ],
)
def test_rich_text_loses_every_script(payload):
    clean = sanitize_html("<b>kept</b>" + payload).lower()
    assert "<b>kept</b>" in clean
    for bad in ("<script", "onerror", "onload", "onclick", "javascript:", "<iframe", "<svg",
                "<img", "<form", "<input", "style="):  # fmt: skip
        assert bad not in clean


def test_rich_text_is_sanitised_when_saved(p):
    doc = p.records("doc", "ann").create(
        {"title": "H", "body": '<p><b>Bold</b> <a href="https://x.example" onclick="y()">l</a>'
                               "<script>alert(1)</script></p><ul><li>one</li></ul>"}
    )  # fmt: skip
    body = p.records("doc", "ann").get(doc["id"])["body"]
    assert "<b>Bold</b>" in body and "<li>one</li>" in body and 'href="https://x.example"' in body
    assert "script" not in body and "onclick" not in body


def test_a_backup_carries_the_files(p, tmp_path):
    up = p.files.upload(PNG, "kept.png", "ann")
    doc = p.records("doc", "ann").create({"title": "B", "scan": up["id"]})
    path = tmp_path / "backup.zip"
    manifest = backup(p, path)
    assert manifest["members"]["system/ts_file.jsonl"]["rows"] == 1
    target = Platform(f"sqlite:///{tmp_path / 'restored.db'}")
    try:
        restore(target, path)
        info, data = target.files.read(up["id"], "ann")
        assert data == PNG and info["sha256"] == up["sha256"] and info["record_id"] == doc["id"]
    finally:
        target.close()


def test_uploads_no_save_attached_are_purged_after_a_day(p):
    loose = p.files.upload(PDF, "loose.pdf", "ann")
    kept = p.files.upload(PDF, "kept.pdf", "ann")
    p.records("doc", "ann").create({"title": "K", "scan": kept["id"]})
    p.jobs.run_due(p.clock.now() + dt.timedelta(hours=2))
    assert p.files.info(loose["id"])["name"] == "loose.pdf"
    p.jobs.run_due(p.clock.now() + dt.timedelta(days=2))
    with pytest.raises(NotFound):
        p.files.info(loose["id"])
    assert p.files.info(kept["id"])["record_id"] is not None
