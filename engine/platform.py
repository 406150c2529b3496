"""The platform facade: one object that owns the database and hands out the services.

Everything a script, a test or the web layer does goes through a ``Platform``:
``records()`` for data, ``meta`` for definitions, ``install()`` for bundles. The
facade holds no business logic of its own; it wires the services together and
keeps the caches (entity tables, validators) that depend on metadata versions.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.clock import Clock
from engine.flows import tables as _flow_tables  # noqa: F401  (the flow runtime's tables)
from engine.forms.entity import EntityModel
from engine.forms.validation import RecordValidator
from engine.jobs import notifications as _notification_tables  # noqa: F401  (ts_notification)
from engine.jobs import webhooks as _webhook_tables  # noqa: F401  (ts_webhook tables)
from engine.meta.repository import MetaRepository
from engine.reports import background as _report_results  # noqa: F401  (ts_report_result)
from engine.reports import buckets  # noqa: F401  (gives SQLite connections the date buckets)
from engine.reports import schedule as _report_schedules  # noqa: F401  (ts_report_schedule)
from engine.rules import sql_dialect  # noqa: F401  (gives SQLite connections the rule functions)
from engine.security import settings as _setting_tables  # noqa: F401  (ts_user_setting)
from engine.security import users as _user_tables  # noqa: F401  (ts_user, ts_token)
from engine.store import importer as _import_tables  # noqa: F401  (ts_import_run)
from engine.store import versions as _data_versions  # noqa: F401  (ts_data_version)
from engine.store import views as _view_tables  # noqa: F401  (ts_saved_view)
from engine.store.counters import AutonumberSource, IdAllocator
from engine.store.db import Database
from engine.store.files import FileStore
from engine.store.lookups import Lookups
from engine.store.registry import EntityRegistry
from engine.store.system import system_metadata
from engine.store.teams import TeamStore
from engine.webforms import service as _webform_tables  # noqa: F401  (ts_webform_hit)

if TYPE_CHECKING:
    from engine.store.hooks import SaveHook

DEFAULT_URL = "sqlite:///tessera.db"


def _register_kind_checkers() -> None:
    """Bundles are checked by every engine that owns a file kind (the facade wires them)."""
    from engine.flows.bundle_check import check_flow_files
    from engine.meta.install import register_checker
    from engine.reports.bundle_check import check_dashboard_files, check_report_files
    from engine.rules.bundle_check import check_entity_expressions, check_rule_files

    register_checker("rules", check_rule_files)
    register_checker("report", check_report_files)
    register_checker("dashboard", check_dashboard_files)
    register_checker("flow", check_flow_files)
    register_checker("entity", check_entity_expressions)


def database_url(url: str | None = None) -> str:
    """``url``, else ``TESSERA_DATABASE_URL`` or the config file's, else ./tessera.db."""
    from engine.config import setting

    return url or setting("database_url") or DEFAULT_URL


class Platform:
    """A Tessera platform on one database (any SQLAlchemy URL; SQLite by default)."""

    def __init__(
        self, url: str | None = None, *, clock: Clock | None = None, echo: bool = False
    ) -> None:
        self.url = database_url(url)
        self.db = Database(self.url, echo=echo)
        self.clock = clock or Clock()
        self.repo = MetaRepository(self.clock)
        self.ids = IdAllocator(self.db.engine)
        self.autonumbers = AutonumberSource(self.db.engine)
        self.entities = EntityRegistry(self.db, self.repo)
        self.lookups = Lookups(self.entities)
        self.teams = TeamStore(self.db)
        self._validators: dict[tuple[str, int], RecordValidator] = {}
        self._lock = threading.Lock()
        self._rules: Any = None
        self._reports: Any = None
        self._users: Any = None
        self._permissions: Any = None
        self._pipeline: Any = None
        self._flows: Any = None
        self._flow_triggers: dict[tuple[Any, Any], list[tuple[str, Any]]] | None = None
        self._webhook_index: dict[tuple[Any, str], list[str]] | None = None
        _register_kind_checkers()
        with self.db.transaction() as conn:
            system_metadata.create_all(conn)
        from engine.meta.service import MetaService

        self.meta = MetaService(self)

    # -- services ------------------------------------------------------------

    def records(self, entity: str, user: str | None = None, *, check: bool = True) -> Any:
        """The record service for ``entity`` acting as ``user`` (``None`` is the system)."""
        from engine.store.records import RecordService

        return RecordService(self, entity, user, check=check)

    def install(self, path: str | Path, *, plan_only: bool = False, user: str | None = None) -> Any:
        """Install or upgrade the bundle at ``path``: all of it or nothing. Raises BundleError."""
        from engine.meta.install import install_bundle

        return install_bundle(self, Path(path), plan_only=plan_only, user=user)

    def check(self, path: str | Path) -> Any:
        """Read and check the bundle at ``path`` without installing; raises BundleError."""
        from engine.meta.install import check_bundle

        return check_bundle(self, Path(path))

    def export_bundle(self, out_dir: str | Path, *, bundle: str | None = None) -> list[Path]:
        """Write the live metadata (overlays included) back to bundle folders."""
        from engine.meta.export import export_bundle

        return export_bundle(self, Path(out_dir), bundle=bundle)

    @property
    def rules(self) -> Any:
        """The rule language over this platform's entities (``p.rules.compile``, ``check``, ...)."""
        if self._rules is None:
            from engine.rules.history import RuleHistory
            from engine.rules.service import RuleService

            self._rules = RuleService(
                self._entity_definition,
                timezone=self.clock.timezone.key,
                clock=self.clock.now,
                loader=self._load_record,
                users=self._rule_user,
                tables=self._sql_table,
                database=self.db,
                history=RuleHistory(self),
                calendar=self._business_calendar(),
            )
        return self._rules

    def _business_calendar(self) -> Any:
        """The working calendar the first installed bundle (by name) declares, or None."""
        from engine.business_hours import BusinessCalendar

        with self.db.transaction(write=False) as conn:
            apps = self.repo.all_current(conn, "app")
        for _name, (manifest, _version) in sorted(apps.items()):
            config = manifest.get("business_hours")
            if isinstance(config, dict):
                return BusinessCalendar.from_config(config, self.clock.timezone)
        return None

    def _rule_user(self, name: str) -> dict[str, Any] | None:
        """A user as rule paths see it (``owner.manager``, ``owner.team``), or None."""
        found = self.users.find(name)
        if found is None:
            return None
        roles = list(found.get("roles") or [])
        return {
            "name": found["name"],
            "team": found.get("team"),
            "role": roles[0] if roles else None,
            "roles": roles,
            "email": found.get("email"),
            "manager": found.get("manager"),
        }

    @property
    def jobs(self) -> Any:
        """The job runner: ``p.jobs.run_due()`` fires timers, schedules and deliveries now."""
        from engine.jobs import JobRunner

        return JobRunner(self)

    @property
    def reports(self) -> Any:
        """Pivot reports over this platform's entities (``p.reports.run``, ``drill``)."""
        if self._reports is None:
            from engine.reports.service import ReportService

            self._reports = ReportService(self)
        return self._reports

    def _sql_table(self, entity: str) -> tuple[EntityModel, Any]:
        """The live model and table of ``entity`` or of a child table ``"entity.child"``."""
        parent, _, child = entity.partition(".")
        live = self.entities.get(parent)
        if not child:
            return live.model, live.table
        return live.model.fields[child].child, live.child_tables[child]

    @property
    def save_hook(self) -> SaveHook:
        """What the record service runs on a save: the live rule sets (``engine.rules.pipeline``)."""
        if self._pipeline is None:
            from engine.rules.pipeline import RulePipeline

            with self._lock:
                if self._pipeline is None:
                    self._pipeline = RulePipeline(self)
        return self._pipeline

    @property
    def flows(self) -> Any:
        """The flow engine: ``p.flows.start``, ``tasks``, ``complete``, ``instance``, ``cancel``, ``tick``."""
        if self._flows is None:
            from engine.flows.service import FlowService

            self._flows = FlowService(self)
        return self._flows

    def _entity_definition(self, name: str) -> dict[str, Any] | None:
        from engine.errors import NotFound

        try:
            return self.entities.get(name).model.definition
        except NotFound:
            return None

    def _load_record(self, entity: str, record_id: Any) -> dict[str, Any] | None:
        """How a rule follows a reference (``account.industry``) to the referenced record."""
        from engine.errors import NotFound

        try:
            return self.records(entity).get(int(record_id))
        except (NotFound, TypeError, ValueError):
            return None

    # -- hooks the record service calls ---------------------------------------

    def validator(self, entity: str) -> RecordValidator:
        """The validator of the entity's live version, built once per version."""
        live = self.entities.get(entity)
        key = (entity, live.version)
        found = self._validators.get(key)
        if found is None:
            found = RecordValidator(live.model)
            with self._lock:
                self._validators[key] = found
        return found

    def defaults(
        self, model: EntityModel, data: dict[str, Any], user: str | None
    ) -> dict[str, Any]:
        """``data`` with defaults filled in for the fields it leaves out."""
        return model.codec.defaults(data, self.clock, user)

    def user_team(self, user: str | None) -> str | None:
        """The team of ``user`` (None for an unknown user or none set)."""
        found = self.users.find(user)
        return None if found is None else found.get("team")

    # -- security --------------------------------------------------------------

    @property
    def users(self) -> Any:
        """Users, passwords and API tokens (``p.users.add``, ``authenticate``, ``create_token``)."""
        if self._users is None:
            from engine.security.users import UserService

            self._users = UserService(self)
        return self._users

    def access(self, user: str | dict[str, Any]) -> Any:
        """What ``user`` may do (:class:`engine.security.permissions.Access`).

        An unknown or inactive user may do nothing: PermissionDenied.
        """
        from engine.errors import PermissionDenied, error_entry
        from engine.security.permissions import Access, PermissionTable

        info = user if isinstance(user, dict) else self.users.find(user)
        if info is None or not info.get("active", True):
            raise PermissionDenied(
                f"{user!r} is not an active user", [error_entry("unknown or inactive user")]
            )
        table = self._permissions
        if table is None:
            table = self._permissions = PermissionTable.load(self)
        return Access(self, info, table)

    def row_scope(self, entity: str, user: Any, table: Any) -> Any:
        """The rows of ``entity`` ``user`` may read, as SQL over ``table`` (None: the system)."""
        if user is None:
            return None
        return self.access(user).clause(entity, "read", table)

    def record_written(
        self,
        entity: str,
        event: str,
        records: list[dict[str, Any]],
        olds: list[dict[str, Any] | None],
        user: str | None,
    ) -> None:
        """Called by the record service inside a write: flows whose trigger listens to this
        entity and event start after the commit (never for a write that rolls back).
        It also marks ``entity`` written, so its data version goes up once at commit
        and cached report results over it expire (see :mod:`engine.store.versions`)."""
        from engine.store.versions import touch

        with self.db.transaction(write=True) as conn:  # joins the writer's transaction
            touch(conn, entity)
        hooks = self.webhook_index().get((entity, event))
        if hooks:
            with self.db.transaction(write=True) as conn:
                self.webhooks.enqueue_events(conn, entity, event, records, user)
        if (entity, event) not in self.flow_triggers():
            return
        pairs = list(zip(records, olds))

        def start() -> None:
            for record, old in pairs:
                self.flows.record_changed(entity, event, record, old=old, user=user)

        self.db.after_commit(start)

    def flow_triggers(self) -> dict[tuple[Any, Any], list[tuple[str, Any]]]:
        """(entity, event) → [(flow name, definition)] of the live flows whose trigger listens
        to it, in name order: read once after each metadata change, not on every write."""
        triggers = self._flow_triggers
        if triggers is None:
            with self.db.transaction(write=False) as conn:
                flows = self.repo.all_current(conn, "flow")
            from engine.flows.spec import trigger_events

            triggers = {}
            for name, (definition, _version) in flows.items():
                for event in trigger_events(definition):
                    triggers.setdefault((definition.get("entity"), event), []).append(
                        (name, definition)
                    )
            self._flow_triggers = triggers
        return triggers

    @property
    def files(self) -> FileStore:
        """Uploaded files (``p.files.upload``, ``read``, ``info``): see ``engine.store.files``."""
        return FileStore(self)

    @property
    def webforms(self) -> Any:
        """Public web forms: ``p.webforms.all``, ``save``, ``disable``, ``submit``."""
        from engine.webforms.service import WebformService

        return WebformService(self)

    @property
    def notifications(self) -> Any:
        """Users' notifications: ``p.notifications.list(user)``, ``mark_read``, ``deliver``."""
        from engine.jobs.notifications import NotificationService

        return NotificationService(self)

    @property
    def tasks(self) -> Any:
        """Tasks as records: ``p.tasks.deliver(message)`` saves a rule's ``create task``."""
        from engine.jobs.tasks import TaskDeliverer

        return TaskDeliverer(self)

    @property
    def webhooks(self) -> Any:
        """Webhooks out: ``p.webhooks.subscribe``, ``deliveries``."""
        from engine.jobs.webhooks import WebhookService

        return WebhookService(self)

    def webhook_index(self) -> dict[tuple[Any, str], list[str]]:
        """(entity, event) → webhook names; cached until subscriptions or entities change."""
        if self._webhook_index is None:
            from engine.jobs.webhooks import webhook_index

            self._webhook_index = webhook_index(self)
        return self._webhook_index

    def webhooks_changed(self) -> None:
        self._webhook_index = None

    def security_changed(self) -> None:
        """Users, roles or permissions changed: drop what was derived from them."""
        from engine.security.users import UserService

        self._permissions = None
        UserService.forget()

    def where_clause(
        self, entity: str, where: str, table: Any, user: dict[str, Any] | None = None
    ) -> Any:
        """A rule-language condition as a SQL clause over ``table`` (bound parameters only)."""
        return self.rules.compile(where, entity).sql(table=table, user=user)

    # -- life cycle ------------------------------------------------------------

    def metadata_changed(self) -> None:
        """Drop every cache built from definitions; the next use rebuilds them.

        The entities go last: a use in another thread meanwhile that finds a new
        entity version finds the new rules, flows and webhooks with it (an answer
        kept per entity version, such as the lone create's, is never worked out
        from a new entity and the old rules).
        """
        with self._lock:
            self._validators.clear()
            self._rules = None
            self._permissions = None
            self._flow_triggers = None
            self._webhook_index = None
        if self._pipeline is not None:
            self._pipeline.invalidate()
        self.entities.invalidate()

    def close(self) -> None:
        self.db.dispose()

    def __enter__(self) -> Platform:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Platform({self.url!r})"
