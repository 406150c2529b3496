"""The metadata API: read, plan and save definitions as versions, with optimistic locking.

A save through this service is a customer's edit: it becomes the live version
and, where the item came from a bundle, an overlay over what the bundle
shipped (see ``install.py`` for how an upgrade merges it). Entity saves
migrate the live table in the same transaction as the new version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from engine.errors import BundleError, ConflictError, NotFound, error_entry
from engine.meta.repository import KINDS, content_hash

if TYPE_CHECKING:
    from engine.ports import PlatformPort


class Stored(NamedTuple):
    """What a save did: the live version after it, and whether that version is new."""

    version: int
    changed: bool


class MetaService:
    """``p.meta``: definitions by kind and name."""

    def __init__(self, platform: PlatformPort) -> None:
        self.platform = platform

    def get(self, kind: str, name: str) -> dict[str, Any]:
        """``{"definition", "version", "overlay", "bundle"}`` of the live definition."""
        _known_kind(kind)
        with self.platform.db.transaction(write=False) as conn:
            head = self.platform.repo.head(conn, kind, name)
            if head is None or head["deleted"]:
                raise NotFound(
                    f"no {kind} named {name!r}", [error_entry(f"no {kind} named {name!r}")]
                )
            definition = self.platform.repo.definition(conn, kind, name, head["current_version"])
        return {
            "definition": definition,
            "version": head["current_version"],
            "overlay": head["overlay"],
            "bundle": head["bundle"],
        }

    def names(self, kind: str) -> list[str]:
        _known_kind(kind)
        with self.platform.db.transaction(write=False) as conn:
            return sorted(self.platform.repo.all_current(conn, kind))

    def versions(self, kind: str, name: str) -> list[dict[str, Any]]:
        """Every version of one item, oldest first (definition, origin, who, when, hash)."""
        _known_kind(kind)
        with self.platform.db.transaction(write=False) as conn:
            return self.platform.repo.versions(conn, kind, name)

    def plan(self, kind: str, name: str, definition: dict[str, Any]) -> list[dict[str, Any]]:
        """What saving ``definition`` would do; changes nothing. Refusals are steps too."""
        definition = self._checked(kind, name, definition)
        if kind != "entity":
            return [
                {"action": "metadata", "entity": name, "field": None, "detail": "", "ddl": False}
            ]
        from engine.meta.apply import plan_entities

        with self.platform.db.transaction(write=False) as conn:
            plans, errors = plan_entities(conn, [definition], self.platform.entities.all())
        steps = plans[0].as_dicts()
        for e in errors:
            steps.append(
                {
                    "action": "refuse",
                    "entity": name,
                    "field": e.get("field"),
                    "detail": e["message"],
                    "ddl": False,
                    # the records in the way, so a builder can link to each of them
                    "ids": list(e.get("ids") or []),
                }
            )
        return steps

    def save(
        self,
        kind: str,
        name: str,
        definition: dict[str, Any],
        *,
        user: str | None = None,
        base_version: int | None = None,
        note: str | None = None,
    ) -> int:
        """Store ``definition`` as the new live version; returns its number.

        ``base_version`` is the version the editor started from: when someone
        saved in between, ConflictError, and nothing changes. ``0`` means the editor
        started from nothing: a second editor creating the same item gets the conflict.
        A definition equal to the live version's keeps that version (see :meth:`store`).
        """
        return self.store(
            kind, name, definition, user=user, base_version=base_version, note=note
        ).version

    def store(
        self,
        kind: str,
        name: str,
        definition: dict[str, Any],
        *,
        user: str | None = None,
        base_version: int | None = None,
        note: str | None = None,
    ) -> Stored:
        """:meth:`save`, also saying whether a version was added.

        A definition whose content hash equals the live version's adds nothing: a
        new version of the same content would move new flow instances off the
        version running ones use and fill the history with empty steps.
        """
        definition = self._checked(kind, name, definition)
        unchanged = None
        try:
            with self.platform.db.transaction() as conn:
                repo = self.platform.repo
                head = repo.head(conn, kind, name)
                current = None if head is None or head["deleted"] else head["current_version"]
                if base_version is not None and (current or 0) != base_version:
                    raise ConflictError(
                        f"{kind} {name!r} changed since version {base_version} (now {current})",
                        [error_entry("someone saved a newer version; reload and edit again")],
                    )
                if kind == "entity":
                    from engine.meta.apply import apply_entities

                    (plan,) = apply_entities(self.platform, conn, [definition])
                    definition = plan.new.definition
                if current is not None and repo.version_hash(
                    conn, kind, name, current
                ) == content_hash(definition):
                    unchanged = Stored(current, changed=False)
                else:
                    version = repo.add_version(
                        conn, kind, name, definition, origin="edit", user=user, note=note
                    )
        except BaseException:
            self.platform.metadata_changed()  # an entity's schema step may have half run
            raise
        if unchanged is not None and kind != "entity":
            return unchanged  # nothing to drop: every cache still holds this version
        self.platform.metadata_changed()
        return unchanged or Stored(version, changed=True)

    def _checked(self, kind: str, name: str, definition: dict[str, Any]) -> dict[str, Any]:
        _known_kind(kind)
        if not isinstance(definition, dict):
            raise BundleError(
                "a definition must be a mapping", [error_entry("expected a mapping", field=kind)]
            )
        if definition.get("name", name) != name:
            raise BundleError(
                "the definition's name does not match",
                [
                    error_entry(
                        f"name is {definition.get('name')!r}, expected {name!r}", field="name"
                    )
                ],
            )
        from engine.meta.kinds import kinds

        file_kind = kinds().get(kind)
        if file_kind is not None and file_kind.item_name == "stem" and file_kind.metaschema:
            # named by the file (security/permissions.yaml): the data has no name key
            definition = {k: v for k, v in definition.items() if k != "name"}
        else:
            definition = {"name": name, **{k: v for k, v in definition.items() if k != "name"}}
        from engine.meta.install import check_definition

        errors = check_definition(self.platform, kind, definition, name)
        if errors:
            raise BundleError(f"the {kind} definition {name!r} is invalid", errors)
        return definition


def _known_kind(kind: str) -> None:
    if kind not in KINDS:
        raise NotFound(
            f"unknown kind {kind!r}",
            [error_entry(f"kinds are: {', '.join(KINDS)}", field="kind")],
        )
