"""Configuration: environment variables first, then a TOML file, then defaults.

The file is ``$TESSERA_CONFIG`` (or ``tessera --config FILE``), else ``./tessera.toml``
when it exists. Keys are the variables' names without the ``TESSERA_`` prefix, in lower
case (``database_url = "..."`` stands for ``TESSERA_DATABASE_URL``), so one table in the
docs covers both. An unknown key or a value of the wrong type is an error naming the
file, the line where it can be found, and the key: a typo in a production config must
not silently fall back to a default.
"""

from __future__ import annotations

import os
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from engine.errors import TesseraError, error_entry

#: Every setting: key -> (type, default, what it does).
SETTINGS: dict[str, tuple[type, Any, str]] = {
    "database_url": (str, None, "SQLAlchemy URL of the database (default: ./tessera.db)"),
    "secret_key": (str, None, "signs session cookies; set it, or sessions end on restart"),
    "secure_cookies": (bool, False, "send the session cookie over HTTPS only"),
    "token_lifetime_days": (int, 30, "how long an API token from /api/v1/auth/token lives"),
    "max_body_mb": (int, 10, "largest request body accepted, in MiB"),
    "db_pool_size": (
        int,
        0,
        "database connections each process keeps open between transactions (0: SQLAlchemy's"
        " 5, or the threads per worker under tessera serve --workers)",
    ),
    "report_timeout_seconds": (int, 60, "longest a report may run in a request (0: no limit)"),
    "report_cache_mb": (int, 32, "memory for cached report results per process, in MiB"),
    "phone_region": (
        str,
        "CN",
        "country (ISO 3166 code) of phone numbers written without +country code, for"
        " cleansing and matching them on import",
    ),
    "smtp_host": (str, None, "SMTP server for scheduled report e-mails (unset: none are sent)"),
    "smtp_port": (int, 25, "SMTP server port"),
    "smtp_user": (str, None, "SMTP login, when the server wants one"),
    "smtp_password": (str, None, "SMTP password"),
    "smtp_starttls": (bool, False, "upgrade the SMTP connection with STARTTLS"),
    "smtp_from": (str, "tessera@localhost", "the From address of report e-mails"),
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def config_path() -> Path | None:
    """The configuration file in force, or None."""
    named = os.environ.get("TESSERA_CONFIG")
    if named:
        return Path(named)
    local = Path("tessera.toml")
    return local if local.is_file() else None


def _article(kind: type) -> str:
    return {"str": "a text", "int": "a whole number", "bool": "true or false"}[kind.__name__]


def _line_of(text: str, key: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith(key):
            return number
    return 1


@cache
def _file_values(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TesseraError(f"{path}: cannot read the configuration file ({exc.strerror})") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TesseraError(f"{path}: {exc}", [error_entry(str(exc), file=str(path))]) from exc
    data = data.get("tessera", data)
    for key, value in data.items():
        line = _line_of(text, key)
        if key not in SETTINGS:
            raise TesseraError(
                f"{path}:{line}: unknown setting {key!r} (known: {', '.join(SETTINGS)})",
                [error_entry("unknown setting", file=str(path), line=line, field=key)],
            )
        kind = SETTINGS[key][0]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise TesseraError(
                f"{path}:{line}: {key} must be {_article(kind)}, not {value!r}",
                [error_entry(f"expected {_article(kind)}", file=str(path), line=line, field=key)],
            )
    return data


def _from_env(key: str, raw: str) -> Any:
    kind = SETTINGS[key][0]
    name = "TESSERA_" + key.upper()
    if kind is bool:
        if raw.lower() not in _TRUE | _FALSE:
            raise TesseraError(f"{name}={raw!r}: use 1 or 0")
        return raw.lower() in _TRUE
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise TesseraError(f"{name}={raw!r}: expected a whole number") from None
    return raw


def setting(key: str) -> Any:
    """The value of ``key``: ``TESSERA_<KEY>`` if set, else the file's, else the default."""
    if key not in SETTINGS:
        raise KeyError(key)
    raw = os.environ.get("TESSERA_" + key.upper())
    if raw is not None and raw != "":
        return _from_env(key, raw)
    values = _file_values(config_path())
    return values.get(key, SETTINGS[key][1])


__all__ = ["SETTINGS", "config_path", "setting"]
