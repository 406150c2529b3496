"""The ``tessera`` command: bundles in and out of a platform's database.

Errors print as ``file:line:column: message`` with the offending line and a
caret, and the command exits 1, so editors and CI can jump to the place.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from engine.errors import TesseraError

DB_HELP = "Database URL (any SQLAlchemy URL) or a SQLite file path; default TESSERA_DATABASE_URL or ./tessera.db."


def _url(db: str | None) -> str | None:
    if db is None or "://" in db:
        return db
    return f"sqlite:///{Path(db).resolve()}"


@contextmanager
def _platform(db: str | None) -> Iterator[Any]:
    """A platform for one command: closed afterwards; a TesseraError prints and exits 1."""
    from engine.platform import Platform

    platform = Platform(_url(db))
    try:
        yield platform
    except TesseraError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    finally:
        platform.close()


@click.group()
@click.version_option(package_name="tessera")
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False),
    help="A TOML settings file (default: $TESSERA_CONFIG, else ./tessera.toml if present).",
)
def main(config: str | None) -> None:
    """Tessera: a no-code platform engine."""
    if config:
        import os

        os.environ["TESSERA_CONFIG"] = config


@main.command()
@click.argument("bundle_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--db", help=DB_HELP + " Without it the bundle is checked on its own.")
def check(bundle_dir: Path, db: str | None) -> None:
    """Check a bundle without installing it."""
    with _platform(db or "sqlite://") as platform:
        source = platform.check(bundle_dir)
    click.echo(f"{bundle_dir}: ok ({len(source.files)} files)")


@main.command()
@click.argument("bundle_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--plan", "plan_only", is_flag=True, help="Show what would change; change nothing.")
@click.option("--db", help=DB_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def install(bundle_dir: Path, plan_only: bool, db: str | None, as_json: bool) -> None:
    """Install or upgrade a bundle: all of it or nothing."""
    with _platform(db) as platform:
        report = platform.install(bundle_dir, plan_only=plan_only)
    click.echo(json.dumps(report.to_dict(), default=str, indent=2) if as_json else report.summary())


@main.command("export-bundle")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--bundle", help="Which installed bundle (needed when there are several).")
@click.option("--db", help=DB_HELP)
def export_bundle(out_dir: Path, bundle: str | None, db: str | None) -> None:
    """Write the current metadata, browser edits included, back to a bundle folder."""
    with _platform(db) as platform:
        written = platform.export_bundle(out_dir, bundle=bundle)
    click.echo(f"wrote {len(written)} files to {out_dir}")


@main.command("export")
@click.argument("report")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True
)
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--user", help="Run as this user (their permissions and row scope apply).")
@click.option("--filter", "filters", help="An extra condition in the rule language.")
@click.option("--db", help=DB_HELP)
def export_report(
    report: str, fmt: str, out_path: Path, user: str | None, filters: str | None, db: str | None
) -> None:
    """Export a report as CSV or XLSX."""
    with _platform(db) as platform:
        if fmt == "csv":
            with out_path.open("w", encoding="utf-8-sig", newline="") as out:
                result = platform.reports.export(report, fmt, out, user=user, filters=filters)
        else:
            with out_path.open("wb") as out:
                result = platform.reports.export(report, fmt, out, user=user, filters=filters)
    click.echo(f"{report}: {len(result['rows'])} rows written to {out_path}")


@main.command("backup")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--db", help=DB_HELP)
def backup_command(archive: Path, db: str | None) -> None:
    """Write metadata, records, audit, users and flow state to one portable archive."""
    from engine.store.backup import backup

    with _platform(db) as platform:
        manifest = backup(platform, archive)
    rows = sum(m["rows"] for m in manifest["members"].values())
    click.echo(f"{archive}: {len(manifest['members'])} tables, {rows} rows")


@main.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--db", help=DB_HELP + " It must be empty.")
def restore_command(archive: Path, db: str | None) -> None:
    """Restore an archive into an empty database (SQLite or PostgreSQL); all or nothing."""
    from engine.store.backup import restore

    with _platform(db) as platform:
        manifest = restore(platform, archive)
    click.echo(f"restored {archive} (taken {manifest['created']} from {manifest['dialect']})")


@main.group()
def user() -> None:
    """Manage users."""


@user.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, help="A role (repeat for several).")
@click.option("--team")
@click.option("--manager")
@click.option("--email")
@click.password_option(help="The password (asked for when left out).")
@click.option("--db", help=DB_HELP)
def user_add(
    name: str,
    roles: tuple[str, ...],
    team: str | None,
    manager: str | None,
    email: str | None,
    password: str,
    db: str | None,
) -> None:
    """Add a user with a password and roles."""
    with _platform(db) as platform:
        platform.users.add(
            name, password=password, roles=roles, team=team, manager=manager, email=email
        )
    click.echo(f"user {name} added ({', '.join(roles) or 'no roles'})")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--db", help=DB_HELP)
@click.option(
    "--workers",
    default=0,
    show_default=True,
    type=int,
    help="Pre-forked worker processes (gunicorn); 0 serves from one process for development.",
)
@click.option("--threads", default=4, show_default=True, type=int, help="Threads per worker.")
def serve(host: str, port: int, db: str | None, workers: int, threads: int) -> None:
    """Serve the web app and the API: one process by default, gunicorn workers with --workers."""
    url = _url(db)
    if workers > 0:
        from web.serving import serve_production

        click.echo(f"Tessera on http://{host}:{port}/ ({workers} workers × {threads} threads)")
        serve_production(url, host=host, port=port, workers=workers, threads=threads)
        return
    from werkzeug.serving import run_simple

    from engine.platform import Platform
    from web.app import create_app

    platform = Platform(url)
    click.echo(f"Tessera on http://{host}:{port}/ (database {platform.db.dialect})")
    run_simple(host, port, create_app(platform), threaded=True)


@main.command()
@click.option("--once", is_flag=True, help="Run what is due now and stop.")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between ticks.")
@click.option("--db", help=DB_HELP)
def worker(once: bool, interval: float, db: str | None) -> None:
    """Fire due flow timers, run schedules and deliver outbox messages, in a loop."""
    import time

    with _platform(db) as platform:
        while True:
            tick = platform.jobs.run_due()
            click.echo(
                f"{tick.at:%Y-%m-%d %H:%M:%S} timers {tick.timers}, schedules "
                f"{sum(tick.schedules.values())}, follow-ups {tick.followups}, "
                f"delivered {tick.delivered}, failed {tick.failed}"
            )
            if once:
                return
            time.sleep(interval)


@main.command()
@click.option(
    "--db",
    default="tessera-demo.db",
    show_default=True,
    help="A SQLite file path or any SQLAlchemy URL; created when missing, reused when present.",
)
@click.option(
    "--bundle",
    "bundle_dir",
    default="apps/crm",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The bundle to install; its demo/*.yaml recipe describes the users and data.",
)
@click.option(
    "--size",
    type=click.Choice(["small", "medium", "large", "full"]),
    default="full",
    show_default=True,
    help="full: the CRM issue's figures (several minutes the first time); medium: a quick look.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Set everything up, print the logins, and exit.")
def demo(db: str, bundle_dir: Path, size: str, host: str, port: int, no_serve: bool) -> None:
    """The CRM with demo users and data, served in the browser."""
    from engine.demo import run_demo

    if not bundle_dir.is_dir():
        here = Path(__file__).resolve().parent.parent / bundle_dir
        bundle_dir = here if here.is_dir() else bundle_dir
    with _platform(db) as platform:
        bar: list[Any] = []

        def start(total: int) -> None:
            click.echo(f"loading demo data ({size}, about {total} records) as the demo users ...")
            bar.append(click.progressbar(length=total, label="records", show_pos=True))
            bar[0].__enter__()

        try:
            report = run_demo(
                platform,
                bundle_dir,
                size,
                tick=lambda n: bar and bar[0].update(n),
                before_data=start,
            )
        finally:
            if bar:
                bar[0].__exit__(None, None, None)
        if not report.reused:  # what a worker would do now: tasks, notifications, timers
            for _ in range(50):
                done = platform.jobs.run_due()
                if not (done.delivered or done.followups or done.timers):
                    break
        click.echo(report.installed)
        if report.reused:
            click.echo("demo data already present: database reused, nothing added")
        for entity, n in report.created.items():
            click.echo(f"  {entity:<18} {n:>6} created")
        for entity, problems in report.refused.items():
            click.echo(f"  {entity:<18} {len(problems):>6} refused, e.g. {problems[0]}", err=True)
        click.echo(f"\nDatabase: {platform.url}")
        click.echo("Logins (every demo user's password is <name>-demo):")
        for role, name, password in report.logins:
            click.echo(f"  {role:<16} {name:<12} {password}")
        if no_serve:
            return
        from werkzeug.serving import run_simple

        from web.app import create_app

        click.echo(f"\nTessera demo on http://{host}:{port}/  (Ctrl+C to stop)")
        run_simple(host, port, create_app(platform), threaded=True)


def _pairs(items: tuple[str, ...], option: str) -> dict[str, str]:
    out = {}
    for item in items:
        column, eq, key = item.rpartition("=")
        if not eq or not column.strip() or not key.strip():
            raise click.BadParameter(f"{item!r}: use COLUMN=FIELD", param_hint=option)
        out[column.strip()] = key.strip()
    return out


@main.command("import")
@click.argument("entity")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--map", "maps", multiple=True, help="COLUMN=FIELD (repeat for several).")
@click.option(
    "--policy",
    type=click.Choice(["skip", "update", "flag", "create"]),
    default="skip",
    show_default=True,
    help="What a duplicate row does.",
)
@click.option("--match", help="Duplicate keys, e.g. email,phone,company+person_name.")
@click.option("--all-or-nothing", is_flag=True, help="One transaction: one bad row stores nothing.")
@click.option("--batch-size", default=500, show_default=True, type=int)
@click.option("--restart", is_flag=True, help="Start over instead of resuming an unfinished run.")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), help="Default: from the file.")
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the rejected rows (CSV) here.",
)
@click.option("--user", help="Import as this user (needs import and create permission).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--db", help=DB_HELP)
def import_(
    entity: str,
    file: Path,
    maps: tuple[str, ...],
    policy: str,
    match: str | None,
    all_or_nothing: bool,
    batch_size: int,
    restart: bool,
    fmt: str | None,
    report_path: Path | None,
    user: str | None,
    as_json: bool,
    db: str | None,
) -> None:
    """Import records from a CSV or XLSX file, with cleansing, duplicates and a report."""
    from engine.store.importer import Importer

    mapping = _pairs(maps, "--map")
    with _platform(db) as platform:
        bar = click.progressbar(
            length=max(file.stat().st_size, 1), label="importing", file=sys.stderr
        )
        seen = [0]

        def progress(done: int, total: int) -> None:
            if total and bar.length != total:
                bar.length = total
            bar.update(max(0, done - seen[0]))
            seen[0] = max(seen[0], done)

        importer = Importer(
            platform,
            entity,
            user,
            mapping=mapping,
            policy=policy,
            match=match,
            all_or_nothing=all_or_nothing,
            batch_size=batch_size,
            resume=not restart,
            progress=progress,
        )
        with bar:
            result = importer.run(file, fmt=fmt)
        if report_path is not None:
            with report_path.open("w", encoding="utf-8-sig", newline="") as out:
                result.report_csv(out)
    if as_json:
        click.echo(json.dumps(result.to_dict(), default=str, ensure_ascii=False, indent=2))
    else:
        if result.resumed_from:
            click.echo(f"resumed run {result.run_id} at row {result.resumed_from}")
        for e in result.unknown_columns:
            click.echo(f"column {e['column']}: {e['message']}", err=True)
        for e in result.errors[:50]:
            where = e.get("column_name") or e.get("field") or "-"
            click.echo(f"row {e['row']}: {where}: {e['message']}", err=True)
        if len(result.errors) > 50:
            click.echo(f"... {len(result.errors) - 50} more (see --report)", err=True)
        state = "" if result.committed else " (rolled back: nothing stored)"
        click.echo(
            f"{entity}: {result.rows} rows, {result.created} created, {result.updated} updated, "
            f"{result.skipped} skipped as duplicates, {result.flagged} flagged, "
            f"{result.rejected} rejected{state} (run {result.run_id})"
        )
    if result.rejected:
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
