"""Settings: defaults for the embedded shape, and clear errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.config import ConfigError, load_settings


def test_embedded_defaults_live_under_archive_home(tmp_path: Path) -> None:
    settings = load_settings({"ARCHIVE_HOME": str(tmp_path)})
    assert settings.home == tmp_path
    assert settings.database_url == f"sqlite:///{tmp_path}/archive.db"
    assert settings.storage_url == (tmp_path / "blobs").as_uri()
    assert settings.keyring_path == tmp_path / "keyring.json"
    assert settings.broker_url.startswith("sqla+sqlite:///")
    assert settings.name_date_granularity == "month"
    assert settings.is_sqlite


def test_ingest_defaults_and_overrides(tmp_path: Path) -> None:
    default = load_settings({"ARCHIVE_HOME": str(tmp_path)}).ingest
    assert (default.ocr_languages, default.clamav, default.default_project) == (
        "chi_sim+chi_tra+eng",
        "auto",
        "未归档",
    )
    tuned = load_settings(
        {
            "ARCHIVE_HOME": str(tmp_path),
            "ARCHIVE_EXTRACT_TIMEOUT": "30",
            "ARCHIVE_CLASSIFY_THRESHOLD": "0.75",
            "ARCHIVE_OCR_LANGUAGES": "chi_sim+eng",
            "ARCHIVE_CLAMAV": "off",
        }
    ).ingest
    assert (tuned.extract_timeout, tuned.classify_threshold) == (30, 0.75)
    assert (tuned.ocr_languages, tuned.clamav) == ("chi_sim+eng", "off")


def test_scaled_settings(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "ARCHIVE_HOME": str(tmp_path),
            "ARCHIVE_DATABASE_URL": "postgresql+psycopg://archive@db/archive",
            "ARCHIVE_STORAGE_URL": "s3://records/prod",
            "ARCHIVE_S3_ENDPOINT_URL": "http://minio:9000",
            "ARCHIVE_BROKER_URL": "redis://redis:6379/0",
            "ARCHIVE_KEYRING": str(tmp_path / "keys" / "ring.json"),
            "ARCHIVE_NAME_DATE": "day",
        }
    )
    assert not settings.is_sqlite
    assert settings.storage_url == "s3://records/prod"
    assert settings.keyring_path == tmp_path / "keys" / "ring.json"
    assert settings.name_date_granularity == "day"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("ARCHIVE_DATABASE_URL", "mysql://x/y", "ARCHIVE_DATABASE_URL scheme 'mysql'"),
        ("ARCHIVE_DATABASE_URL", "postgresql://x/y", "psycopg 3"),
        ("ARCHIVE_STORAGE_URL", "ftp://host/x", "ARCHIVE_STORAGE_URL scheme 'ftp'"),
        ("ARCHIVE_STORAGE_URL", "s3:///prefix", "names no bucket"),
        ("ARCHIVE_STORAGE_URL", "file://relative", "absolute"),
        ("ARCHIVE_S3_ENDPOINT_URL", "minio:9000", "ARCHIVE_S3_ENDPOINT_URL"),
        ("ARCHIVE_NAME_DATE", "year", "ARCHIVE_NAME_DATE must be one of month, day"),
        ("ARCHIVE_MAX_UPLOAD_BYTES", "lots", "ARCHIVE_MAX_UPLOAD_BYTES must be a whole number"),
        ("ARCHIVE_MAX_UPLOAD_BYTES", "0", "at least 1"),
        ("ARCHIVE_SECRET_KEY", "short", "ARCHIVE_SECRET_KEY must be at least 32"),
        ("ARCHIVE_FONDS_CODE", "Z-109", "ARCHIVE_FONDS_CODE must look like Z109"),
        ("ARCHIVE_CATEGORY_CODE", "文书", "ARCHIVE_CATEGORY_CODE must look like WS"),
        ("ARCHIVE_EXTRACT_TIMEOUT", "soon", "ARCHIVE_EXTRACT_TIMEOUT must be a whole number"),
        ("ARCHIVE_EXTRACT_MEMORY_MB", "64", "ARCHIVE_EXTRACT_MEMORY_MB must be at least 256"),
        ("ARCHIVE_CLASSIFY_THRESHOLD", "1.5", "ARCHIVE_CLASSIFY_THRESHOLD must be between"),
        ("ARCHIVE_CLASSIFY_THRESHOLD", "high", "ARCHIVE_CLASSIFY_THRESHOLD must be a number"),
        ("ARCHIVE_CLAMAV", "/no/such/clamscan", "ARCHIVE_CLAMAV must be auto, required, off or a"),
        ("ARCHIVE_OCR_LANGUAGES", "chi_sim;rm -rf", "ARCHIVE_OCR_LANGUAGES must look like"),
        ("ARCHIVE_INGEST_LEASE_SECONDS", "1", "ARCHIVE_INGEST_LEASE_SECONDS must be at least"),
    ],
)
def test_invalid_settings_name_the_variable(
    tmp_path: Path, variable: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings({"ARCHIVE_HOME": str(tmp_path), variable: value})


def test_retention_settings(tmp_path: Path) -> None:
    default = load_settings({"ARCHIVE_HOME": str(tmp_path)}).retention
    assert default.fiscal_year_end == (12, 31)
    assert default.signers == ("records_manager", "department_head", "director")
    assert default.transfer_dir == tmp_path / "transfers"
    tuned = load_settings(
        {
            "ARCHIVE_HOME": str(tmp_path),
            "ARCHIVE_FISCAL_YEAR_END": "02-29",
            "ARCHIVE_ACCOUNTING_YEAR": "other",
            "ARCHIVE_DISPOSITION_SIGNERS": "records_manager, director",
        }
    ).retention
    assert tuned.fiscal_year_end == (2, 29)
    assert tuned.other_accounting_year
    assert not default.other_accounting_year
    assert tuned.signers == ("records_manager", "director")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ARCHIVE_FISCAL_YEAR_END", "13-01"),
        ("ARCHIVE_FISCAL_YEAR_END", "06-31"),
        ("ARCHIVE_FISCAL_YEAR_END", "June"),
        ("ARCHIVE_ACCOUNTING_YEAR", "fiscal"),
        ("ARCHIVE_DISPOSITION_SIGNERS", "records_manager,admin"),
        ("ARCHIVE_DISPOSITION_SIGNERS", ","),
        ("ARCHIVE_DISPOSITION_SIGNERS", "records_manager"),  # one person would approve alone
        ("ARCHIVE_DISPOSITION_SIGNERS", "director,director"),
        ("ARCHIVE_DESTRUCTION_WITNESSES", "none"),  # 两人以上监销
        ("ARCHIVE_TOKEN_DAYS", "0"),
        ("ARCHIVE_TOKEN_DAYS", "ninety"),
    ],
)
def test_bad_retention_settings_name_the_variable(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings({"ARCHIVE_HOME": str(tmp_path), name: value})


def test_a_fiscal_year_other_than_the_calendar_year_needs_the_company_to_say_so(
    tmp_path: Path,
) -> None:
    """会计法 第十一条: the accounting year is the calendar year; accounting records count from
    its end. A different year end is refused unless ARCHIVE_ACCOUNTING_YEAR=other."""
    env = {"ARCHIVE_HOME": str(tmp_path), "ARCHIVE_FISCAL_YEAR_END": "06-30"}
    with pytest.raises(
        ConfigError, match=r"ARCHIVE_FISCAL_YEAR_END.*会计法.*ARCHIVE_ACCOUNTING_YEAR"
    ):
        load_settings(env)
    with pytest.raises(ConfigError, match="ARCHIVE_ACCOUNTING_YEAR"):
        load_settings({**env, "ARCHIVE_ACCOUNTING_YEAR": "calendar"})
    allowed = load_settings({**env, "ARCHIVE_ACCOUNTING_YEAR": "other"}).retention
    assert allowed.fiscal_year_end == (6, 30)
    assert load_settings({**env, "ARCHIVE_FISCAL_YEAR_END": "12-31"}).retention.fiscal_year_end == (
        12,
        31,
    )


def test_reference_code_parts(tmp_path: Path) -> None:
    default = load_settings({"ARCHIVE_HOME": str(tmp_path)})
    assert (default.fonds_code, default.category_code) == (None, "WS")
    chosen = load_settings(
        {
            "ARCHIVE_HOME": str(tmp_path),
            "ARCHIVE_FONDS_CODE": " z109 ",
            "ARCHIVE_CATEGORY_CODE": "kj",
        }
    )
    assert (chosen.fonds_code, chosen.category_code) == ("Z109", "KJ")
