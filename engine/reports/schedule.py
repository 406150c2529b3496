"""Scheduled delivery of a report by e-mail, through the outbox.

A schedule names a saved report, when to send it (``daily``, ``weekly`` on a
weekday or ``monthly`` on a day, at a time in the platform's zone), who gets
it (users and roles) and the attachment format (CSV, XLSX or PDF). Each
worker tick claims the schedules that are due (an UPDATE on the old due time,
so two workers never both claim one) and enqueues one ``report.mail`` outbox
message per recipient, keyed by schedule, period and recipient so a repeat
tick adds nothing. Delivering a message runs the report *as the recipient*
(their row scope, their field permissions: a recipient who may not read the
report gets nothing) and sends it with :mod:`smtplib` using the SMTP
settings of :mod:`engine.config`.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import orjson
from sqlalchemy import Boolean, Column, Integer, String, Table, Text, delete, insert, select, update

from engine.errors import NotFound, PermissionDenied, TesseraError, ValidationError, error_entry
from engine.store.outbox import Message, enqueue
from engine.store.system import system_metadata
from engine.store.types import IdType, UTCDateTime

KIND = "report.mail"
EVERY = ("daily", "weekly", "monthly")
FORMATS = ("csv", "xlsx", "pdf")
MIME = {
    "csv": ("text", "csv"),
    "xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pdf": ("application", "pdf"),
}

report_schedules = Table(
    "ts_report_schedule",
    system_metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("report", String(128), nullable=False, index=True),
    Column("owner", String(64), nullable=False),
    Column("every", String(16), nullable=False),
    Column("at", String(5), nullable=False),  # HH:MM in the platform's zone
    Column("weekday", Integer),  # 0 = Monday, for weekly
    Column("day", Integer),  # 1..28, for monthly
    Column("recipients", Text, nullable=False),  # {"users": [...], "roles": [...]}
    Column("format", String(8), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("next_due", UTCDateTime, nullable=False),
    Column("last_sent", UTCDateTime),
)


# ---------------------------------------------------------------- reading a schedule


def read_schedule(p: Any, values: dict[str, Any]) -> dict[str, Any]:
    """A schedule's stored values from the form or API input; every problem names its field."""
    errors = []
    every = values.get("every")
    if every not in EVERY:
        errors.append(error_entry(f"use one of {', '.join(EVERY)}", field="every"))
    at = str(values.get("at") or "")
    try:
        hour, minute = (int(x) for x in at.split(":"))
        if not (0 <= hour < 24 and 0 <= minute < 60) or len(at) != 5:
            raise ValueError
    except ValueError:
        errors.append(error_entry("a time of day as HH:MM, e.g. 08:00", field="at"))
    weekday = values.get("weekday")
    if every == "weekly" and not (isinstance(weekday, int) and 0 <= weekday <= 6):
        errors.append(error_entry("a weekday from 0 (Monday) to 6 (Sunday)", field="weekday"))
    day = values.get("day")
    if every == "monthly" and not (isinstance(day, int) and 1 <= day <= 28):
        errors.append(error_entry("a day of the month from 1 to 28", field="day"))
    fmt = values.get("format")
    if fmt not in FORMATS:
        errors.append(error_entry(f"use one of {', '.join(FORMATS)}", field="format"))
    users = values.get("users") or []
    roles = values.get("roles") or []
    if not isinstance(users, list) or not all(isinstance(u, str) for u in users):
        errors.append(error_entry("a list of user names", field="users"))
        users = []
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        errors.append(error_entry("a list of role names", field="roles"))
        roles = []
    for i, name in enumerate(users):
        if p.users.find(name) is None:
            errors.append(error_entry(f"no user named {name!r}", field=f"users[{i}]"))
    known_roles = set(_known_roles(p))
    for i, role in enumerate(roles):
        if role not in known_roles:
            errors.append(error_entry(f"no role named {role!r}", field=f"roles[{i}]"))
    if not users and not roles and not errors:
        errors.append(error_entry("name at least one user or role", field="users"))
    if errors:
        raise ValidationError(f"the schedule is invalid: {errors[0]['message']}", errors)
    return {
        "every": every,
        "at": at,
        "weekday": weekday if every == "weekly" else None,
        "day": day if every == "monthly" else None,
        "format": fmt,
        "recipients": {"users": sorted(set(users)), "roles": sorted(set(roles))},
    }


def _known_roles(p: Any) -> list[str]:
    from engine.security.permissions import ADMIN

    names = {ADMIN}
    with p.db.transaction(write=False) as conn:
        for definition, _v in p.repo.all_current(conn, "permissions").values():
            names |= set((definition.get("roles") or {}).keys())
    return sorted(names)


def next_due(schedule: dict[str, Any], after: dt.datetime, zone: Any) -> dt.datetime:
    """The first sending time strictly after ``after`` (UTC), computed in ``zone``."""
    hour, minute = (int(x) for x in schedule["at"].split(":"))
    local = after.astimezone(zone)
    for offset in range(0, 400):
        day = local.date() + dt.timedelta(days=offset)
        if schedule["every"] == "weekly" and day.weekday() != schedule["weekday"]:
            continue
        if schedule["every"] == "monthly" and day.day != schedule["day"]:
            continue
        moment = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)
        if moment > after:
            return moment.astimezone(dt.UTC)
    raise AssertionError("a schedule always falls within 400 days")


# ---------------------------------------------------------------- managing schedules


def create(p: Any, report: str, values: dict[str, Any], *, user: str) -> dict[str, Any]:
    """Schedule ``report`` for ``user``, who must be able to read it."""
    spec = p.reports.spec(report)
    p.reports._where(spec, user, None)  # refuses a viewer who may not read the report
    schedule = read_schedule(p, values)
    due = next_due(schedule, p.clock.now(), p.clock.timezone)
    row = {**schedule, "recipients": orjson.dumps(schedule["recipients"]).decode()}
    with p.db.transaction() as conn:
        new = conn.execute(
            insert(report_schedules).values(
                report=report, owner=user, active=True, next_due=due, **row
            )
        ).inserted_primary_key[0]
    return get(p, int(new), user=user)


def _view(row: Any) -> dict[str, Any]:
    return {
        "id": int(row.id),
        "report": row.report,
        "owner": row.owner,
        "every": row.every,
        "at": row.at,
        "weekday": row.weekday,
        "day": row.day,
        "format": row.format,
        **orjson.loads(row.recipients),
        "active": bool(row.active),
        "next_due": row.next_due,
        "last_sent": row.last_sent,
    }


def _mine(p: Any, owner: str, user: str | None) -> bool:
    return user is None or owner == user or p.access(user).admin


def get(p: Any, schedule: int, *, user: str | None) -> dict[str, Any]:
    with p.db.transaction(write=False) as conn:
        row = conn.execute(
            select(report_schedules).where(report_schedules.c.id == schedule)
        ).first()
    if row is None or not _mine(p, row.owner, user):
        raise NotFound(f"no schedule {schedule}", [error_entry("unknown schedule", field="id")])
    return _view(row)


def for_report(p: Any, report: str, *, user: str | None) -> list[dict[str, Any]]:
    """The schedules of ``report`` the user may manage (their own; an admin's: all)."""
    with p.db.transaction(write=False) as conn:
        rows = conn.execute(
            select(report_schedules)
            .where(report_schedules.c.report == report)
            .order_by(report_schedules.c.id)
        ).all()
    return [_view(r) for r in rows if _mine(p, r.owner, user)]


def remove(p: Any, schedule: int, *, user: str | None) -> None:
    get(p, schedule, user=user)  # NotFound for another user's schedule
    with p.db.transaction() as conn:
        conn.execute(delete(report_schedules).where(report_schedules.c.id == schedule))


# ---------------------------------------------------------------- the worker's side


def recipients(p: Any, wanted: dict[str, Any]) -> list[str]:
    """Active users named, plus active users holding one of the roles, by name."""
    from engine.security.users import users_table

    names = set(wanted.get("users") or [])
    roles = set(wanted.get("roles") or [])
    with p.db.transaction(write=False) as conn:
        rows = conn.execute(
            select(users_table.c.name, users_table.c.roles).where(users_table.c.active.is_(True))
        ).all()
    return sorted(
        r.name for r in rows if r.name in names or roles & set(orjson.loads(r.roles or "[]"))
    )


def enqueue_due(p: Any, now: dt.datetime) -> int:
    """Claim every schedule due at ``now`` and queue one message per recipient."""
    with p.db.transaction(write=False) as conn:
        due = conn.execute(
            select(report_schedules).where(
                report_schedules.c.active.is_(True), report_schedules.c.next_due <= now
            )
        ).all()
    queued = 0
    for row in due:
        view = _view(row)
        following = next_due(view, now, p.clock.timezone)
        period = row.next_due.isoformat()
        with p.db.transaction() as conn:
            claimed = conn.execute(
                update(report_schedules)
                .where(report_schedules.c.id == row.id, report_schedules.c.next_due == row.next_due)
                .values(next_due=following, last_sent=now)
            ).rowcount
            if claimed != 1:
                continue  # another worker took this period
            for name in recipients(p, view):
                payload = {"schedule": int(row.id), "period": period, "to": name}
                key = f"{KIND}:{row.id}:{period}:{name}"
                queued += enqueue(conn, KIND, payload, now=now, key=key) is not None
    return queued


def deliver(p: Any, message: Message) -> None:
    """Run the report as the recipient and mail it; raising leaves the message for a retry."""
    from engine.config import setting

    payload = message.payload
    with p.db.transaction(write=False) as conn:
        row = conn.execute(
            select(report_schedules).where(report_schedules.c.id == payload["schedule"])
        ).first()
    if row is None:
        return  # the schedule was removed since: nothing to send
    user = p.users.find(payload["to"])
    if user is None or not user.get("active") or not user.get("email"):
        return  # no one, or no address, to send to
    if not setting("smtp_host"):
        raise TesseraError("smtp_host is not set: report e-mails wait in the outbox")
    lang = p.users.settings.get(user["name"], "lang", "en") or "en"
    out: Any = io.StringIO() if row.format == "csv" else io.BytesIO()
    try:
        p.reports.export(row.report, row.format, out, user=user["name"], lang=lang)
    except PermissionDenied:
        return  # the recipient may not read this report (any more): send nothing
    data = out.getvalue()
    attachment = ("\ufeff" + data).encode("utf-8") if isinstance(data, str) else data
    send_mail(
        to=user["email"],
        subject=f"{_title(p, row.report, lang)} ({row.every})",
        body=f"{_title(p, row.report, lang)}: {payload['period'][:16].replace('T', ' ')} UTC",
        attachment=(f"{row.report}.{row.format}", attachment, MIME[row.format]),
    )


def _title(p: Any, report: str, lang: str) -> str:
    from engine.forms.entity import label_text

    definition = p.meta.get("report", report)["definition"]
    return label_text(definition.get("label"), lang, report)


def send_mail(
    *, to: str, subject: str, body: str, attachment: tuple[str, bytes, tuple[str, str]]
) -> None:
    """One message over SMTP with the configured server, login and STARTTLS."""
    import smtplib
    from email.message import EmailMessage

    from engine.config import setting

    message = EmailMessage()
    message["From"] = setting("smtp_from")
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    name, data, (main, sub) = attachment
    message.add_attachment(data, maintype=main, subtype=sub, filename=name)
    with smtplib.SMTP(setting("smtp_host"), setting("smtp_port"), timeout=30) as smtp:
        if setting("smtp_starttls"):
            smtp.starttls()
        if setting("smtp_user"):
            smtp.login(setting("smtp_user"), setting("smtp_password") or "")
        smtp.send_message(message)


__all__ = [
    "KIND",
    "create",
    "deliver",
    "enqueue_due",
    "for_report",
    "get",
    "next_due",
    "read_schedule",
    "recipients",
    "remove",
    "report_schedules",
    "send_mail",
]
