"""The permission layer: what a user may do with an entity, which rows, which fields.

Permissions are metadata (``security/permissions.yaml`` in bundles, kind
``permissions``): a table of role × entity rows, each action with a scope
(``none``, ``own``, ``team``, ``all``, ``true``/``false`` or a rule-language
condition). A role without a row for an entity has no access to it; the
``admin`` role has all; a user's roles add up (the widest scope wins, and
the most open field level).

Scopes become SQL (an ``OR`` of the roles' scopes, conditions compiled by the
rule language's SQL compiler), so lists, counts, reports and drill-downs
filter in the database; single-record checks ask the database too, so there
is one definition of "in scope". Every service that reads or writes records
asks :class:`Access`; nothing decides on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import false, or_, select, true

from engine.errors import NotFound, PermissionDenied, error_entry
from engine.i18n import t

ACTIONS = ("create", "read", "update", "delete", "export", "import")
LEVELS = {"hidden": 0, "read": 1, "write": 2}
ADMIN = "admin"


@dataclass
class Grant:
    """One row of the permissions table."""

    role: str
    entity: str
    scopes: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)


class PermissionTable:
    """Every grant of the live permissions files, by (role, entity)."""

    def __init__(self, definitions: list[dict[str, Any]]) -> None:
        self.roles: dict[str, Any] = {ADMIN: {"label": {"en": "Administrator", "zh-CN": "管理员"}}}
        self.grants: dict[tuple[str, str], Grant] = {}
        for d in definitions:
            self.roles.update(d.get("roles") or {})
            for row in d.get("permissions") or []:
                grant = self.grants.setdefault(
                    (row["role"], row["entity"]), Grant(row["role"], row["entity"])
                )
                for action in ACTIONS:
                    if action in row:
                        grant.scopes[action] = row[action]
                grant.fields.update(row.get("fields") or {})

    @classmethod
    def load(cls, platform: Any) -> PermissionTable:
        with platform.db.transaction(write=False) as conn:
            stored = platform.repo.all_current(conn, "permissions")
        return cls([definition for definition, _ in stored.values()])


def _none(scope: Any) -> bool:
    return scope is None or scope is False or scope == "none"


class Access:
    """What one user may do. ``user`` is the user's public attributes (``p.users.get``)."""

    def __init__(self, platform: Any, user: dict[str, Any], table: PermissionTable) -> None:
        self.p = platform
        self.user = user
        self.name = user["name"]
        self.roles = list(user.get("roles") or [])
        self.admin = ADMIN in self.roles
        self.table = table
        self._levels: dict[str, dict[str, str]] = {}

    def rule_user(self) -> dict[str, Any]:
        """The user as the rule language sees it (``user.name``, ``user.team``, ``user.role``)."""
        return {
            "name": self.name,
            "team": self.user.get("team"),
            "role": self.roles[0] if self.roles else None,
            "roles": self.roles,
            "email": self.user.get("email"),
            "manager": self.user.get("manager"),
        }

    def may_customize(self, kind: str) -> bool:
        """Whether the user may change definitions of ``kind`` (the builders, the metadata API).

        Admins may; so may a role whose definition says ``customize: true`` or lists the kind
        (``customize: [rules, report]``), so a sales-operations role can tune scoring and
        reports without editing entities.
        """
        if self.admin:
            return True
        for role in self.roles:
            allowed = (self.table.roles.get(role) or {}).get("customize")
            if allowed is True or (isinstance(allowed, list) and kind in allowed):
                return True
        return False

    def require_customize(self, kind: str) -> None:
        if not self.may_customize(kind):
            raise PermissionDenied(
                t("{user} may not change {kind} definitions", user=self.name, kind=kind),
                [error_entry(t("needs the admin role or a role with customize"), field=kind)],
            )

    def _grants(self, entity: str) -> list[Grant]:
        return [g for r in self.roles if (g := self.table.grants.get((r, entity))) is not None]

    def scopes(self, entity: str, action: str) -> list[Any]:
        """The non-empty scopes the user's roles give for ``action`` on ``entity``."""
        if self.admin:
            return ["all"]
        return [
            g.scopes.get(action) for g in self._grants(entity) if not _none(g.scopes.get(action))
        ]

    def require(self, entity: str, action: str) -> list[Any]:
        """The scopes, or PermissionDenied naming the user, the action and the entity."""
        scopes = self.scopes(entity, action)
        if not scopes:
            raise PermissionDenied(
                t(
                    "{user} may not {action} {entity} records",
                    user=self.name,
                    action=_verb(action),
                    entity=entity,
                ),
                [
                    error_entry(
                        t(
                            "no role of {user} allows {action} on {entity}",
                            user=self.name,
                            action=_verb(action),
                            entity=entity,
                        ),
                        field=action,
                    )
                ],
            )
        return scopes

    def clause(self, entity: str, action: str, table: Any) -> Any:
        """The rows in scope as a SQL condition over ``table`` (``true()`` for all of them)."""
        parts = []
        for scope in self.require(entity, action):
            if scope is True or scope == "all":
                return true()
            parts.append(self._scope_sql(entity, scope, table))
        return or_(*parts) if parts else false()

    def _scope_sql(self, entity: str, scope: Any, table: Any) -> Any:
        if scope == "own":
            return table.c.owner == self.name
        if scope == "team":
            team = self.user.get("team")
            mine = table.c.owner == self.name
            return or_(table.c.team == team, mine) if team else mine
        return self.p.rules.compile(str(scope), entity).sql(table=table, user=self.rule_user())

    def row_allowed(self, conn: Any, entity: str, action: str, table: Any, record_id: int) -> bool:
        clause = self.clause(entity, action, table)
        found = conn.execute(select(table.c.id).where(table.c.id == record_id, clause)).first()
        return found is not None

    def require_row(self, conn: Any, entity: str, action: str, table: Any, record_id: int) -> None:
        """PermissionDenied unless the row is in the action's scope; NotFound if not readable."""
        if not self.row_allowed(conn, entity, "read", table, record_id) and not self.admin:
            # The same words whether the row is missing or out of scope: no id is confirmed.
            gone = t("{entity} {id} not found or not visible to you", entity=entity, id=record_id)
            raise NotFound(gone, [error_entry(gone, field="id")])
        if action != "read" and not self.row_allowed(conn, entity, action, table, record_id):
            raise PermissionDenied(
                t(
                    "{user} may not {action} {entity} {id}",
                    user=self.name,
                    action=_verb(action),
                    entity=entity,
                    id=record_id,
                ),
                [
                    error_entry(
                        t(
                            "this record is outside what {user} may {action}",
                            user=self.name,
                            action=_verb(action),
                        ),
                        field="id",
                    )
                ],
            )

    def new_record_allowed(self, entity: str, record: dict[str, Any]) -> bool:
        """Whether a record about to be created falls in one of the create scopes."""
        for scope in self.require(entity, "create"):
            if scope is True or scope == "all":
                return True
            if scope == "own" and record.get("owner") in (None, self.name):
                return True
            if scope == "team" and record.get("team") in (None, self.user.get("team")):
                return True
            if scope not in ("own", "team"):
                fn = self.p.rules.compile(str(scope), entity)
                if fn(record, user=self.rule_user()) is True:
                    return True
        return False

    def field_levels(self, entity: str) -> dict[str, str]:
        """Fields below ``write`` for this user: key → ``hidden`` or ``read`` (once per entity:
        the record service asks for every record it returns)."""
        if self.admin:
            return {}
        if entity in self._levels:
            return self._levels[entity]
        grants = self._grants(entity)
        keys = {k for g in grants for k in g.fields}
        out = {}
        for key in keys:
            best = max(LEVELS[g.fields.get(key, "write")] for g in grants)
            if best < LEVELS["write"]:
                out[key] = "hidden" if best == 0 else "read"
        self._levels[entity] = out
        return out

    def hidden(self, entity: str) -> set[str]:
        return {k for k, v in self.field_levels(entity).items() if v == "hidden"}

    def refuse_writes(self, entity: str, keys: set[str]) -> None:
        """PermissionDenied naming every field in ``keys`` the user may not write."""
        levels = self.field_levels(entity)
        blocked = sorted(k for k in keys if k in levels)
        if blocked:
            raise PermissionDenied(
                t("{user} may not change {fields}", user=self.name, fields=", ".join(blocked)),
                [
                    error_entry(
                        t("{field} is read-only for {user}", field=k, user=self.name)
                        if levels[k] == "read"
                        else t("{field} is hidden for {user}", field=k, user=self.name),
                        field=k,
                    )
                    for k in blocked
                ],
            )

    def refuse_reads(self, entity: str, keys: set[str], where: str) -> None:
        """A filter or sort over a hidden field would reveal it: refuse it."""
        hidden = self.hidden(entity)
        used = sorted(k for k in keys if k.split(".")[0] in hidden)
        if used:
            raise PermissionDenied(
                t(
                    "{user} may not filter or sort by {fields}",
                    user=self.name,
                    fields=", ".join(used),
                ),
                [
                    error_entry(
                        t("{field} is hidden for {user}", field=k, user=self.name), field=where
                    )
                    for k in used
                ],
            )


def _verb(action: str) -> str:
    """An action's word inside a refusal, in the current language."""
    words = {
        "create": t("create"),
        "read": t("read"),
        "update": t("update"),
        "delete": t("delete"),
        "export": t("export"),
        "import": t("import"),
    }
    return words.get(action, action)


__all__ = ["ACTIONS", "ADMIN", "Access", "Grant", "PermissionTable"]
