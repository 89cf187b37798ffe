"""Settings read from ``ARCHIVE_*`` variables and validated once, at start-up.

Every process (web, worker, CLI) builds one :class:`Settings` from its environment, or from
a plain mapping in tests, so a typo or a missing value fails at launch with a sentence that
names the variable, never later in the middle of a request.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from archive.errors import DomainError

DATE_GRANULARITIES = ("month", "day")


class ConfigError(DomainError, ValueError):
    """A setting is missing or invalid; the message names the variable."""


@dataclass(frozen=True)
class IngestSettings:
    """Limits and tools of the ingest pipeline."""

    lease_seconds: int = 900  # a worker's claim on a job; the sweeper retakes it after this
    queue_deadline_seconds: int = 600  # a queued job untouched this long is re-enqueued
    max_attempts: int = 10
    sweep_seconds: int = 60  # how often beat runs the sweeper
    extract_timeout: int = 300  # wall-clock seconds for one file's extraction and OCR
    extract_memory_mb: int = 2048  # address-space limit of the extraction child
    max_image_pixels: int = 300_000_000
    max_inflated_bytes: int = 1024**3  # DOCX/ZIP members, declared and actual
    # Extracted text kept for the index (the file stays whole). 4 MiB is ~1.4 million Chinese
    # characters; it keeps ingest of any file near 150 MB (bench/ingest.py --large-mb).
    text_cap_bytes: int = 4 << 20
    ocr_languages: str = "chi_sim+chi_tra+eng"
    clamav: str = "auto"  # auto (clamscan if it can scan), required (else quarantine), off, a path
    clamav_database: str | None = None
    # Office documents rendered to PDF for reading: auto (soffice if installed), off, or a path.
    office: str = "auto"
    office_timeout: int = 120  # wall-clock seconds for one document's rendering
    classify_threshold: float = 0.6
    default_project: str = "未归档"
    hotfolder_settle_seconds: float = 2.0
    hotfolder_keep_originals: bool = False  # keep plaintext originals in the inbox (opt-in)


@dataclass(frozen=True)
class AccessSettings:
    """The access workflow's deadlines and limits, and where client addresses come from."""

    request_hours: int = 48  # a step's deadline; overdue requests escalate
    max_days: int = 90  # the longest period a request may ask for
    emergency_max_hours: int = 24  # a green-channel grant lasts at most this long
    emergency_approval_hours: int = 72  # approval owed afterwards within this
    trusted_proxies: int = 0  # X-Forwarded-For hops to trust (werkzeug ProxyFix); 0: none
    alert_reads_per_hour: int = 30
    work_hours: tuple[int, int] = (7, 21)  # reads outside [start, end) local hours alert
    alert_refusals: int = 5  # refusals of one user within an hour
    session_idle_minutes: int = 30  # a web session unused this long ends
    session_max_hours: int = 12  # and any web session ends this long after sign-in
    token_days: int = 90  # an API token ends this long after it is issued
    smtp_host: str | None = None  # alerts are e-mailed when set
    smtp_port: int = 25
    smtp_starttls: bool = False
    mail_from: str = "archive@localhost"
    alert_recipients: tuple[str, ...] = ()


SIGNER_ROLES = ("records_manager", "department_head", "director")


@dataclass(frozen=True)
class RetentionSettings:
    """The fiscal year retention counts to, and who must sign a disposition list."""

    fiscal_year_end: tuple[int, int] = (12, 31)  # month, day; 02-28 means February's last day
    # Whether the company reports under a year other than the calendar year (会计法 第十一条
    # makes the calendar year China's accounting year; see _retention_settings).
    other_accounting_year: bool = False
    signers: tuple[str, ...] = SIGNER_ROLES
    transfer_dir: Path | None = None  # where transfer packages go; default HOME/transfers
    misfile_days: int = 30  # a record filed in error may be deleted (by two people) this long
    # Who witnesses a destruction (监销) before its list is closed: the records manager and a
    # representative of each department on the list; for accounting records also finance and
    # IT (会计档案管理办法 第十六条). ``finance_department`` is the 机构代码 finance's people have.
    destruction_witnesses: tuple[str, ...] = ("records_manager", "departments")
    accounting_witnesses: tuple[str, ...] = ("finance", "it")
    finance_department: str = "CW"


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    storage_url: str
    s3_endpoint_url: str | None
    broker_url: str
    keyring_path: Path
    index_dir: Path
    checkpoint_path: Path  # signed heads of both chains, outside the database
    name_date_granularity: str
    max_upload_bytes: int
    secret_key: str | None
    ingest: IngestSettings = field(default_factory=lambda: IngestSettings())
    access: AccessSettings = field(default_factory=lambda: AccessSettings())
    retention: RetentionSettings = field(default_factory=lambda: RetentionSettings())
    checkpoint_minutes: int = 60  # how often beat signs the chains' heads (when they moved)
    orphan_grace_hours: int = 24  # an object no row names is removed after this long
    fixity_sample: int = 500  # versions the daily fixity sweep re-reads
    lock_wait_seconds: float = 20.0  # how long a write waits for the database's lock
    audit_sample_size: int = 20  # records the quarterly audit sample draws
    fonds_code: str | None = None  # 全宗号, the first part of every 档号 (optional)
    category_code: str = "WS"  # 门类代码: WS 文书 (documents)
    organisation: str = ""  # 立档单位名称: heads every register and certificate

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


def _float(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _code(
    env: Mapping[str, str], name: str, pattern: str, example: str, default: str | None
) -> str | None:
    """A part of the 档号: upper-case letters (and digits), no separators."""
    raw = (env.get(name) or "").strip().upper()
    if not raw:
        return default
    if not re.fullmatch(pattern, raw):
        raise ConfigError(f"{name} must look like {example} ({pattern}), got {raw!r}")
    return raw


def _ingest_settings(env: Mapping[str, str]) -> IngestSettings:
    default = IngestSettings()
    clamav = env.get("ARCHIVE_CLAMAV") or default.clamav
    if clamav not in ("auto", "off", "required") and not Path(clamav).is_file():
        raise ConfigError(
            f"ARCHIVE_CLAMAV must be auto, required, off or a clamscan path, got {clamav!r}"
        )
    office = env.get("ARCHIVE_OFFICE_RENDITIONS") or default.office
    if office not in ("auto", "off") and not Path(office).is_file():
        raise ConfigError(
            f"ARCHIVE_OFFICE_RENDITIONS must be auto, off or a soffice path, got {office!r}"
        )
    languages = env.get("ARCHIVE_OCR_LANGUAGES") or default.ocr_languages
    if not all(part.replace("_", "").isalnum() for part in languages.split("+")):
        raise ConfigError(f"ARCHIVE_OCR_LANGUAGES must look like chi_sim+eng, got {languages!r}")
    keep_originals = env.get("ARCHIVE_HOTFOLDER_KEEP_ORIGINALS") or "0"
    if keep_originals not in ("0", "1"):
        raise ConfigError(
            f"ARCHIVE_HOTFOLDER_KEEP_ORIGINALS must be 0 or 1, got {keep_originals!r}"
        )
    return IngestSettings(
        lease_seconds=_int(env, "ARCHIVE_INGEST_LEASE_SECONDS", default.lease_seconds, 5),
        queue_deadline_seconds=_int(
            env, "ARCHIVE_INGEST_QUEUE_DEADLINE", default.queue_deadline_seconds, 5
        ),
        max_attempts=_int(env, "ARCHIVE_INGEST_MAX_ATTEMPTS", default.max_attempts, 1),
        sweep_seconds=_int(env, "ARCHIVE_INGEST_SWEEP_SECONDS", default.sweep_seconds, 1),
        extract_timeout=_int(env, "ARCHIVE_EXTRACT_TIMEOUT", default.extract_timeout, 1),
        extract_memory_mb=_int(env, "ARCHIVE_EXTRACT_MEMORY_MB", default.extract_memory_mb, 256),
        max_image_pixels=_int(env, "ARCHIVE_MAX_IMAGE_PIXELS", default.max_image_pixels, 1),
        max_inflated_bytes=_int(env, "ARCHIVE_MAX_INFLATED_BYTES", default.max_inflated_bytes, 1),
        text_cap_bytes=_int(env, "ARCHIVE_TEXT_CAP_MB", default.text_cap_bytes >> 20, 1) << 20,
        ocr_languages=languages,
        clamav=clamav,
        clamav_database=env.get("ARCHIVE_CLAMAV_DATABASE") or None,
        office=office,
        office_timeout=_int(env, "ARCHIVE_OFFICE_TIMEOUT", default.office_timeout, 5),
        classify_threshold=_float(
            env, "ARCHIVE_CLASSIFY_THRESHOLD", default.classify_threshold, 0.0, 1.0
        ),
        default_project=env.get("ARCHIVE_DEFAULT_PROJECT") or default.default_project,
        hotfolder_settle_seconds=_float(
            env, "ARCHIVE_HOTFOLDER_SETTLE", default.hotfolder_settle_seconds, 0.0, 3600.0
        ),
        hotfolder_keep_originals=keep_originals == "1",
    )


def _access_settings(env: Mapping[str, str]) -> AccessSettings:
    default = AccessSettings()
    hours = env.get("ARCHIVE_WORK_HOURS") or "7-21"
    try:
        start, end = (int(part) for part in hours.split("-"))
    except ValueError:
        raise ConfigError(f"ARCHIVE_WORK_HOURS must look like 7-21, got {hours!r}") from None
    if not 0 <= start < end <= 24:
        raise ConfigError(f"ARCHIVE_WORK_HOURS must be two hours 0-24, in order, got {hours!r}")
    emergency_hours = _int(env, "ARCHIVE_EMERGENCY_MAX_HOURS", default.emergency_max_hours, 1)
    if emergency_hours > 24:
        raise ConfigError(f"ARCHIVE_EMERGENCY_MAX_HOURS is at most 24, got {emergency_hours}")
    return AccessSettings(
        request_hours=_int(env, "ARCHIVE_REQUEST_HOURS", default.request_hours, 1),
        max_days=_int(env, "ARCHIVE_ACCESS_MAX_DAYS", default.max_days, 1),
        emergency_max_hours=emergency_hours,
        emergency_approval_hours=_int(
            env, "ARCHIVE_EMERGENCY_APPROVAL_HOURS", default.emergency_approval_hours, 1
        ),
        trusted_proxies=_int(env, "ARCHIVE_TRUSTED_PROXIES", default.trusted_proxies, 0),
        alert_reads_per_hour=_int(
            env, "ARCHIVE_ALERT_READS_PER_HOUR", default.alert_reads_per_hour, 1
        ),
        work_hours=(start, end),
        alert_refusals=_int(env, "ARCHIVE_ALERT_REFUSALS", default.alert_refusals, 1),
        session_idle_minutes=_int(
            env, "ARCHIVE_SESSION_IDLE_MINUTES", default.session_idle_minutes, 1
        ),
        session_max_hours=_int(env, "ARCHIVE_SESSION_MAX_HOURS", default.session_max_hours, 1),
        token_days=_int(env, "ARCHIVE_TOKEN_DAYS", default.token_days, 1),
        **_mail_settings(env),
    )


ACCOUNTING_YEARS = ("calendar", "other")
WITNESS_SLOTS = ("records_manager", "departments", "finance", "it")


def _witnesses(
    env: Mapping[str, str], name: str, default: str, may_be_none: bool = True
) -> tuple[str, ...]:
    """A comma list of witness slots (监销): records_manager, departments, finance, it;
    ``none`` for no witnesses at all, where ``may_be_none``."""
    raw = env.get(name)
    raw = default if raw is None or not raw.strip() else raw
    if raw.strip().lower() == "none":
        if not may_be_none:  # 机关档案管理规定 第四十三条: 两人以上监销
            raise ConfigError(
                f"{name} cannot be none: a destruction is witnessed (监销) by people other "
                "than whoever carried it out; name some of "
                f"{', '.join(WITNESS_SLOTS)}"
            )
        return ()
    slots = tuple(dict.fromkeys(part.strip().lower() for part in raw.split(",") if part.strip()))
    unknown = [slot for slot in slots if slot not in WITNESS_SLOTS]
    if unknown:
        raise ConfigError(
            f"{name} must list some of {', '.join(WITNESS_SLOTS)} (or none), "
            f"got {', '.join(unknown)}"
        )
    return slots


def _organisation(env: Mapping[str, str]) -> str:
    """ARCHIVE_ORGANISATION, the 立档单位 named on registers: printable, one line, 100 chars."""
    name = " ".join((env.get("ARCHIVE_ORGANISATION") or "").split())
    if len(name) > 100 or not name.isprintable():
        raise ConfigError(
            "ARCHIVE_ORGANISATION must be one printable line of at most 100 characters"
        )
    return name


def _accounting_year(env: Mapping[str, str], fiscal_end: tuple[int, int]) -> bool:
    """Refuse a fiscal year other than the calendar year unless the company says it reports
    under one: the fiscal-year trigger counts accounting records (vouchers, ledgers, reports),
    whose periods run from the end of the accounting year, and 会计法 第十一条 sets that year
    as 1 January to 31 December. A subsidiary reporting to a foreign parent's year may set
    ARCHIVE_ACCOUNTING_YEAR=other; a 06-30 typed by mistake would otherwise move every
    accounting record's destruction date by half a year without anyone noticing."""
    raw = (env.get("ARCHIVE_ACCOUNTING_YEAR") or "calendar").strip().lower()
    if raw not in ACCOUNTING_YEARS:
        raise ConfigError(f"ARCHIVE_ACCOUNTING_YEAR must be calendar or other, got {raw!r}")
    if raw == "calendar" and fiscal_end != (12, 31):
        month, day = fiscal_end
        raise ConfigError(
            f"ARCHIVE_FISCAL_YEAR_END is {month:02d}-{day:02d}, but accounting records count "
            "from the end of the accounting year, which in China is the calendar year "
            "(会计法 第十一条: 会计年度自公历1月1日起至12月31日止). Set "
            "ARCHIVE_ACCOUNTING_YEAR=other if the company reports under a different year, "
            "or leave ARCHIVE_FISCAL_YEAR_END at 12-31."
        )
    return raw == "other"


def _retention_settings(env: Mapping[str, str], home: Path) -> RetentionSettings:
    raw = env.get("ARCHIVE_FISCAL_YEAR_END") or "12-31"
    try:
        month, day = (int(part) for part in raw.split("-"))
        date(2024, month, day)  # a leap year, so 02-29 is accepted (as February's end)
    except ValueError:
        raise ConfigError(
            f"ARCHIVE_FISCAL_YEAR_END must be a day of the year as MM-DD (e.g. 12-31 or 06-30), "
            f"got {raw!r}"
        ) from None
    other_year = _accounting_year(env, (month, day))
    signers = tuple(
        role.strip()
        for role in (env.get("ARCHIVE_DISPOSITION_SIGNERS") or ",".join(SIGNER_ROLES)).split(",")
        if role.strip()
    )
    unknown = [role for role in signers if role not in SIGNER_ROLES]
    if unknown or not signers:
        raise ConfigError(
            f"ARCHIVE_DISPOSITION_SIGNERS must list some of {', '.join(SIGNER_ROLES)}, "
            f"got {', '.join(unknown) or 'nothing'}"
        )
    if len(set(signers)) < 2:  # each person signs once: two roles are two people
        raise ConfigError(
            "ARCHIVE_DISPOSITION_SIGNERS must name at least two roles, so that no one person "
            f"approves a destruction alone; got {signers[0]}"
        )
    transfers = env.get("ARCHIVE_TRANSFER_DIR")
    witnesses = _witnesses(
        env, "ARCHIVE_DESTRUCTION_WITNESSES", "records_manager,departments", may_be_none=False
    )
    accounting = _witnesses(env, "ARCHIVE_ACCOUNTING_WITNESSES", "finance,it")
    finance = (env.get("ARCHIVE_FINANCE_DEPARTMENT") or "CW").strip().upper()
    if not re.fullmatch(r"[A-Z0-9]{1,16}", finance):
        raise ConfigError(f"ARCHIVE_FINANCE_DEPARTMENT must be a 机构代码 like CW, got {finance!r}")
    return RetentionSettings(
        fiscal_year_end=(month, day),
        other_accounting_year=other_year,
        signers=tuple(dict.fromkeys(signers)),
        transfer_dir=Path(transfers).expanduser().resolve() if transfers else home / "transfers",
        misfile_days=_int(env, "ARCHIVE_MISFILE_DAYS", RetentionSettings.misfile_days, 0),
        destruction_witnesses=witnesses,
        accounting_witnesses=accounting,
        finance_department=finance,
    )


def _mail_settings(env: Mapping[str, str]) -> dict[str, Any]:
    host = env.get("ARCHIVE_SMTP_HOST") or None
    recipients = tuple(
        address.strip()
        for address in (env.get("ARCHIVE_ALERT_EMAIL") or "").split(",")
        if address.strip()
    )
    for address in recipients:
        if "@" not in address:
            raise ConfigError(f"ARCHIVE_ALERT_EMAIL: {address!r} is not an e-mail address")
    if host and not recipients:
        raise ConfigError("ARCHIVE_SMTP_HOST is set but ARCHIVE_ALERT_EMAIL names nobody")
    starttls = env.get("ARCHIVE_SMTP_STARTTLS", "0")
    if starttls not in ("0", "1"):
        raise ConfigError(f"ARCHIVE_SMTP_STARTTLS must be 0 or 1, got {starttls!r}")
    return {
        "smtp_host": host,
        "smtp_port": _int(env, "ARCHIVE_SMTP_PORT", 25, 1),
        "smtp_starttls": starttls == "1",
        "mail_from": env.get("ARCHIVE_MAIL_FROM") or "archive@localhost",
        "alert_recipients": recipients,
    }


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
    index_dir = Path(env.get("ARCHIVE_INDEX_DIR") or home / "index").expanduser().resolve()
    checkpoints = Path(
        env.get("ARCHIVE_CHECKPOINT_FILE") or home / "checkpoints" / "chains.jsonl"
    ).expanduser()

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
        index_dir=index_dir,
        checkpoint_path=checkpoints.resolve(),
        name_date_granularity=granularity,
        max_upload_bytes=_int(env, "ARCHIVE_MAX_UPLOAD_BYTES", 2 * 1024**3, 1),
        secret_key=secret,
        ingest=_ingest_settings(env),
        access=_access_settings(env),
        retention=_retention_settings(env, home),
        checkpoint_minutes=_int(env, "ARCHIVE_CHECKPOINT_MINUTES", 60, 1),
        orphan_grace_hours=_int(env, "ARCHIVE_ORPHAN_GRACE_HOURS", 24, 1),
        fixity_sample=_int(env, "ARCHIVE_FIXITY_SAMPLE", 500, 1),
        lock_wait_seconds=_float(env, "ARCHIVE_DB_LOCK_WAIT", 20.0, 0.05, 600.0),
        audit_sample_size=_int(env, "ARCHIVE_AUDIT_SAMPLE_SIZE", 20, 1),
        fonds_code=_code(env, "ARCHIVE_FONDS_CODE", r"[A-Z0-9]{1,8}", "Z109", None),
        category_code=_code(env, "ARCHIVE_CATEGORY_CODE", r"[A-Z]{1,4}", "WS", "WS") or "WS",
        organisation=_organisation(env),
    )
