"""Settings read from ``ARCHIVE_*`` variables and validated once, at start-up.

Every process (web, worker, CLI) builds one :class:`Settings` from its environment, or from
a plain mapping in tests, so a typo or a missing value fails at launch with a sentence that
names the variable, never later in the middle of a request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DATE_GRANULARITIES = ("month", "day")


class ConfigError(ValueError):
    """A setting is missing or invalid; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    storage_url: str
    s3_endpoint_url: str | None
    broker_url: str
    keyring_path: Path
    name_date_granularity: str
    max_upload_bytes: int
    secret_key: str | None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _check_database_url(url: str) -> None:
    scheme = url.split(":", 1)[0]
    if scheme in ("sqlite", "sqlite+pysqlite"):
        return
    if scheme == "postgresql+psycopg":
        return
    if scheme.startswith("postgres"):
        raise ConfigError(
            f"ARCHIVE_DATABASE_URL uses {scheme!r}; PostgreSQL is reached with psycopg 3: "
            "write postgresql+psycopg://user@host/dbname"
        )
    raise ConfigError(
        f"ARCHIVE_DATABASE_URL scheme {scheme!r} is not supported "
        "(use sqlite:///path or postgresql+psycopg://...)"
    )


def _check_storage_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme == "file":
        if not parts.path.startswith("/"):
            raise ConfigError(f"ARCHIVE_STORAGE_URL {url!r} must be an absolute file:/// path")
        return
    if parts.scheme == "s3":
        if not parts.netloc:
            raise ConfigError(f"ARCHIVE_STORAGE_URL {url!r} names no bucket (s3://bucket/prefix)")
        return
    raise ConfigError(
        f"ARCHIVE_STORAGE_URL scheme {parts.scheme!r} is not supported "
        "(use file:///path or s3://bucket/prefix)"
    )


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from ``environ`` (default: the process environment)."""
    env = os.environ if environ is None else environ
    home = Path(env.get("ARCHIVE_HOME") or "./var").expanduser().resolve()

    database_url = env.get("ARCHIVE_DATABASE_URL") or f"sqlite:///{home / 'archive.db'}"
    _check_database_url(database_url)

    storage_url = env.get("ARCHIVE_STORAGE_URL") or (home / "blobs").as_uri()
    _check_storage_url(storage_url)

    endpoint = env.get("ARCHIVE_S3_ENDPOINT_URL") or None
    if endpoint is not None and urlsplit(endpoint).scheme not in ("http", "https"):
        raise ConfigError(f"ARCHIVE_S3_ENDPOINT_URL {endpoint!r} must be an http(s) URL")

    broker_url = env.get("ARCHIVE_BROKER_URL") or f"sqla+sqlite:///{home / 'broker.db'}"

    keyring = Path(env.get("ARCHIVE_KEYRING") or home / "keyring.json").expanduser().resolve()

    granularity = env.get("ARCHIVE_NAME_DATE", "month")
    if granularity not in DATE_GRANULARITIES:
        raise ConfigError(
            f"ARCHIVE_NAME_DATE must be one of {', '.join(DATE_GRANULARITIES)}, got {granularity!r}"
        )

    secret = env.get("ARCHIVE_SECRET_KEY") or None
    if secret is not None and len(secret) < 32:
        raise ConfigError("ARCHIVE_SECRET_KEY must be at least 32 characters long")

    return Settings(
        home=home,
        database_url=database_url,
        storage_url=storage_url,
        s3_endpoint_url=endpoint,
        broker_url=broker_url,
        keyring_path=keyring,
        name_date_granularity=granularity,
        max_upload_bytes=_int(env, "ARCHIVE_MAX_UPLOAD_BYTES", 2 * 1024**3, 1),
        secret_key=secret,
    )
