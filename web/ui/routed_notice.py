"""The notice a list page shows after a save routed the record out of the user's view.

QA: a rep saved a warm lead, routing sent it to the nurture queue and cleared the owner,
and the form redirected to the record page, which answered 404. The form now goes to the
list with ``?routed=<id>``; this module words the notice. It speaks only of a record the
user created or last changed themselves and can no longer read, so it confirms nothing
about anyone else's records.
"""

from __future__ import annotations

from typing import Any

from engine.errors import NotFound
from web.http import platform_of
from web.i18n import gettext


def routed_notice(entity: str, user: str, raw_id: str | None) -> str | None:
    """ "Saved lead #501; routing gave it to the nurture queue…", or None when not applicable."""
    if not raw_id or not raw_id.isdigit() or len(raw_id) > 18:
        return None
    record_id = int(raw_id)
    p = platform_of()
    try:
        p.records(entity, user).get(record_id)
        return None  # still visible: nothing to explain
    except NotFound:
        pass
    try:
        record: dict[str, Any] = p.records(entity, check=False).get(record_id)
    except NotFound:
        return None
    if user not in (record.get("created_by"), record.get("modified_by")):
        return None
    queue = record.get("team") or record.get("owner")
    if queue:
        return gettext(
            "Saved %(entity)s #%(id)s; routing gave it to the %(queue)s queue, "
            "so it is no longer in your view",
            entity=entity,
            id=record_id,
            queue=queue,
        )
    return gettext(
        "Saved %(entity)s #%(id)s; it is no longer in your view", entity=entity, id=record_id
    )
