"""Web forms at run time: the published definitions, a visitor's submission, the rate limit.

``p.webforms.submit(name, values, client=...)`` turns the text a visitor typed
into field values, refuses too many submissions from one client address
(counted in the database, so the limit holds across server processes), drops a
submission whose honeypot is filled without saying so, and saves the record
through the ordinary record service, so the entity's rules (scoring, grading,
routing, triggers) act on it at once. What comes back is for the caller, not
the visitor: the page shows the thank-you text only.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Index, String, Table, delete, func, insert, select

from engine.errors import NotFound, TesseraError, ValidationError, error_entry
from engine.store.system import system_metadata
from engine.store.types import IdType, UTCDateTime
from engine.webforms import links
from engine.webforms.definition import (
    DEFAULT_RATE_LIMIT,
    HONEYPOT,
    FormField,
    form_fields,
)

if TYPE_CHECKING:
    from engine.ports import PlatformPort

#: One row per submission attempt (client address, form, when), for the rate limit.
webform_hits = Table(
    "ts_webform_hit",
    system_metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("form", String(63), nullable=False),
    Column("client", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_ts_webform_hit_client", "client", "at"),
)

WINDOW = dt.timedelta(minutes=1)
MAX_TEXT = 5000  # longest value accepted for one field
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


class TooManySubmissions(TesseraError):
    """The client address sent more submissions than the form allows in a minute."""


@dataclass
class Submission:
    """What became of a submission: ``saved`` (False for a silently dropped bot) and the record."""

    saved: bool
    record: dict[str, Any] | None = field(default=None, repr=False)


class WebformService:
    """``p.webforms``: list, read, save and disable web forms; take a visitor's submission."""

    def __init__(self, platform: PlatformPort) -> None:
        self.platform = platform

    # -- definitions -----------------------------------------------------------

    def all(self) -> dict[str, dict[str, Any]]:
        """Every web form by name (enabled or not)."""
        with self.platform.db.transaction(write=False) as conn:
            stored = self.platform.repo.all_current(conn, "webform")
        return {name: d for name, (d, _v) in stored.items()}

    def published(self, name: str) -> dict[str, Any]:
        """The enabled form ``name``; NotFound for an unknown or disabled one (the same answer)."""
        with self.platform.db.transaction(write=False) as conn:
            found = self.platform.repo.current(conn, "webform", name)
        if found is None or not found[0].get("enabled", True):
            raise NotFound(f"no web form {name!r}", [error_entry("no such form", field="name")])
        return found[0]

    def save(self, name: str, definition: dict[str, Any], *, user: str | None = None) -> int:
        """Check and store ``definition`` as the live version (BundleError names each problem)."""
        submit_as = definition.get("submit_as")
        if isinstance(submit_as, str):
            found = self.platform.users.find(submit_as)
            if found is None or not found.get("active", True):
                from engine.errors import BundleError

                raise BundleError(
                    f"the webform definition {name!r} is invalid",
                    [
                        error_entry(
                            f"submit_as names {submit_as!r}, no active user", field="submit_as"
                        )
                    ],
                )
        return self.platform.meta.save("webform", name, definition, user=user)

    def disable(self, name: str, *, user: str | None = None) -> int:
        definition = dict(self.platform.meta.get("webform", name)["definition"])
        definition["enabled"] = False
        return self.platform.meta.save("webform", name, definition, user=user)

    # -- a visitor's submission --------------------------------------------------

    def fields(self, definition: dict[str, Any]) -> list[tuple[FormField, Any]]:
        """The form's fields with the entity's field each shows (for rendering)."""
        model = self.platform.entities.get(definition["entity"]).model
        return [(ff, model.fields[ff.key]) for ff in form_fields(definition)]

    def submit(self, name: str, values: dict[str, str], *, client: str) -> Submission:
        """Take one submission of the form ``name`` from ``client`` (an address).

        Raises NotFound (unknown or disabled form), TooManySubmissions, or
        ValidationError whose entries name the form's fields.
        """
        definition = self.published(name)
        if isinstance(definition.get("answers"), dict):  # answered through links only
            raise NotFound(f"web form {name!r} takes answers through links only", [])
        self._count(name, client, int(definition.get("rate_limit") or DEFAULT_RATE_LIMIT))
        if str(values.get(HONEYPOT) or "").strip():
            return Submission(saved=False)
        data, errors = self._convert(definition, values)
        data.update(definition.get("fixed") or {})
        if errors:
            # Report the other fields' problems too, so the visitor fixes all at once.
            seen = {e["field"] for e in errors}
            shown = {ff.key for ff in form_fields(definition)} - seen
            errors += [e for e in self._check(definition["entity"], data) if e["field"] in shown]
            raise ValidationError("the form has errors", errors)
        user = definition.get("submit_as") or None
        service = self.platform.records(definition["entity"], user)
        try:
            record = service.create(data)
        except ValidationError as exc:
            shown = {ff.key for ff in form_fields(definition)}
            entries = [e if e.get("field") in shown else {**e, "field": None} for e in exc.errors]
            raise ValidationError("the form has errors", entries) from exc
        return Submission(saved=True, record=record)

    # -- answer links: a form that fills in one existing record -------------------

    def answer_form(self, name: str) -> dict[str, Any]:
        """The enabled form ``name`` that takes answers; NotFound for any other."""
        definition = self.published(name)
        if not isinstance(definition.get("answers"), dict):
            raise NotFound(
                f"web form {name!r} takes no answers", [error_entry("no such form", field="name")]
            )
        return definition

    def issue_link(self, name: str, record_id: int) -> links.AnswerLink:
        """A one-time link that lets someone outside answer record ``record_id`` on ``name``."""
        definition = self.answer_form(name)
        self.platform.records(definition["entity"]).get(record_id)  # NotFound for no record
        with self.platform.db.transaction() as conn:
            return links.issue(
                conn, name, record_id, self.platform.clock.now(), links.lifetime(definition)
            )

    def open_link(self, name: str, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """(form definition, record) a link opens; NotFound, LinkExpired or LinkUsed otherwise."""
        definition = self.answer_form(name)
        with self.platform.db.transaction(write=False) as conn:
            record_id = links.find(conn, name, token, self.platform.clock.now())
        return definition, self.platform.records(definition["entity"]).get(record_id)

    def answer(self, name: str, token: str, values: dict[str, str], *, client: str) -> Submission:
        """Save an answer through the link ``token``: the record's ordinary update, once.

        The update (and so the entity's rules and triggers) and closing the link
        commit together. Raises what :meth:`open_link` raises, TooManySubmissions,
        or ValidationError whose entries name the form's fields.
        """
        definition = self.answer_form(name)
        self._count(name, client, int(definition.get("rate_limit") or DEFAULT_RATE_LIMIT))
        data, errors = self._convert(definition, values)
        data.update(definition.get("fixed") or {})
        if errors:
            raise ValidationError("the form has errors", errors)
        user = definition.get("submit_as") or None
        service = self.platform.records(definition["entity"], user)
        now = self.platform.clock.now()
        shown = {ff.key for ff in form_fields(definition)}
        try:
            with self.platform.db.transaction() as conn:
                record_id = links.find(conn, name, token, now, lock=True)
                links.mark_used(conn, name, token, now)
                record = service.update(record_id, data)
        except ValidationError as exc:
            entries = [e if e.get("field") in shown else {**e, "field": None} for e in exc.errors]
            raise ValidationError("the form has errors", entries) from exc
        return Submission(saved=True, record=record)

    def _check(self, entity: str, data: dict[str, Any]) -> list[dict[str, Any]]:
        """The entity's validation errors of ``data`` without saving anything."""
        from engine.store.values import to_json_form

        model = self.platform.entities.get(entity).model
        try:
            return list(self.platform.validator(entity).errors(to_json_form(model, data)))
        except TesseraError as exc:
            return list(exc.errors)

    def _count(self, name: str, client: str, limit: int) -> None:
        now = self.platform.clock.now()
        client = (client or "unknown")[:64]
        with self.platform.db.transaction() as conn:
            conn.execute(delete(webform_hits).where(webform_hits.c.at < now - WINDOW))
            recent = conn.execute(
                select(func.count())
                .select_from(webform_hits)
                .where(
                    webform_hits.c.client == client,
                    webform_hits.c.form == name,
                    webform_hits.c.at >= now - WINDOW,
                )
            ).scalar_one()
            if recent >= limit:
                raise TooManySubmissions(
                    f"more than {limit} submissions a minute from {client}",
                    [error_entry(f"at most {limit} submissions a minute; try again later")],
                )
            conn.execute(insert(webform_hits).values(form=name, client=client, at=now))

    def _convert(
        self, definition: dict[str, Any], values: dict[str, str]
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Form text → field values; the empty ones are left out. Entries name the field."""
        data: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        for ff, f in self.fields(definition):
            raw = values.get(ff.key)
            text = "" if raw is None else str(raw).strip()
            kind = f.type.name
            if kind == "boolean":
                data[ff.key] = text in ("on", "true", "1", "yes")
                continue
            if not text:
                if ff.required or f.required:
                    errors.append(error_entry("required", field=ff.key, code="required"))
                continue
            if len(text) > MAX_TEXT:
                errors.append(error_entry("too long", field=ff.key, code="too_long"))
                continue
            if kind == "integer":
                if not re.fullmatch(r"-?\d+", text):
                    errors.append(error_entry("not a whole number", field=ff.key, code="integer"))
                    continue
                data[ff.key] = int(text)
            elif kind in ("decimal", "currency", "percent"):
                cleaned = text.replace(",", "").replace(" ", "")
                try:
                    if not _NUMBER.fullmatch(cleaned):
                        raise InvalidOperation
                    data[ff.key] = Decimal(cleaned)
                except InvalidOperation:
                    errors.append(error_entry("not a number", field=ff.key, code="number"))
            elif kind == "select":
                if text not in (f.prop.get("enum") or []):
                    errors.append(error_entry("not an option", field=ff.key, code="option"))
                    continue
                data[ff.key] = text
            else:
                data[ff.key] = text
        return data, errors


__all__ = ["Submission", "TooManySubmissions", "WebformService", "webform_hits"]
