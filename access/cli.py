"""The ``archive`` command. Each command is a thin shell over a service function."""

from __future__ import annotations

import json
import secrets
import sys
import uuid
from collections.abc import Callable, Sequence
from functools import wraps
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import click
from sqlalchemy.orm import Session

from archive.accesslog import verify_access_log
from archive.audit import Actor, verify_chain
from archive.bootstrap import initialize
from archive.config import ConfigError, load_settings
from archive.content import (
    ContentError,
)
from archive.core import Archive
from archive.crypto import KeyringError
from archive.fixity import sweep_fixity, verify_fixity
from archive.keys import destroy_version_content, rotate_keys
from archive.models import IngestJob, IngestStatus, Role, Sensitivity, Version
from archive.naming import NamingError, parse_name
from archive.people import (
    PeopleError,
    change_user,
    create_department,
    create_user,
    find_department,
    find_user,
    issue_token,
)
from archive.storage import StorageError
from ingest import package as ingest_package
from ingest.classify import RuleError
from ingest.jobs import JobError
from ingest.metadata import MetadataError
from ingest.review import ReviewError
from ingest.rules import seed_default_rules
from retention import listeners as retention_listeners
from retention.errors import RetentionError
from retention.holds import ensure_free, refusals_audited
from retention.schedules import seed_default_plan

F = TypeVar("F", bound=Callable[..., Any])
EXPECTED_ERRORS = (
    ConfigError,
    ContentError,
    KeyringError,
    NamingError,
    PeopleError,
    StorageError,
    JobError,
    MetadataError,
    ReviewError,
    RuleError,
    RetentionError,
)


def _archive() -> Archive:
    ctx = click.get_current_context()
    root = ctx.find_root()
    if root.obj is None:
        root.obj = Archive(load_settings())
        retention_listeners.connect()
        ingest_package.connect()
        root.call_on_close(root.obj.close)
    arc: Archive = root.obj
    return arc


def friendly_errors(func: F) -> F:
    """Turn the errors a user can cause into one clear line and exit status 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except EXPECTED_ERRORS as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper  # type: ignore[return-value]


def conclude(problems: Sequence[object], summary: str, marker: str = "FAILED") -> None:
    """Name each problem on stderr, then the summary; exit 1 if there was any (for scripts)."""
    for problem in problems:
        click.echo(f"{marker} {problem}", err=True)
    click.echo(summary)
    if problems:
        sys.exit(1)


@click.group()
def main() -> None:
    """Document archive and records management (档案管理)."""


@main.command()
@friendly_errors
def init() -> None:
    """Create the data directory, database schema, keyring and blob store (safe to re-run)."""
    arc = _archive()
    report = initialize(arc, Actor.cli())
    seed_default_rules(arc, Actor.cli())
    with arc.transaction() as session:
        if seed_default_plan(session, Actor.cli()):
            click.echo("default file plan loaded: 'archive retention schedules' lists it")
    click.echo(f"archive ready in {arc.settings.home}")
    if report.keyring_created:
        click.echo(
            f"new keyring at {arc.settings.keyring_path}: back it up apart from the data; "
            "without it nothing stored can be read"
        )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--debug", is_flag=True, help="Flask's development server, for development only.")
@friendly_errors
def serve(host: str, port: int, workers: int, debug: bool) -> None:
    """Run the web application on gunicorn."""
    from access.server import serve_app

    serve_app(host, port, workers, debug)


@main.command()
@click.argument("file", type=click.Path(allow_dash=True, dir_okay=False, path_type=Path))
@click.option("--project", help="Project name (项目名称) for a new record.")
@click.option("--date", "when", help="Date in the name: YYYY-MM (or YYYY-MM-DD). Default: now.")
@click.option("--title", help="Record title. Default: the file name.")
@click.option("--department", help="Department code or name.")
@click.option("--sensitivity", type=click.Choice([s.value for s in Sensitivity]))
@click.option("--record", "record_id", type=click.UUID, help="Store as the next version.")
@click.option("--major", is_flag=True, help="A major revision: 1.x becomes 2.0.")
@click.option("--filename", help="Original file name when FILE is - (standard input).")
@friendly_errors
def put(
    file: Path,
    project: str | None,
    when: str | None,
    title: str | None,
    department: str | None,
    sensitivity: str | None,
    record_id: uuid.UUID | None,
    major: bool,
    filename: str | None,
) -> None:
    """Ingest FILE now, in this process, as a new record or the next version of --record.

    The same pipeline as every other source (type sniffing, extraction, classification,
    the 四性 checks); a file that fails a check is quarantined and the command exits 1 with
    the reason. A file named by the convention (XX项目-2023-01-1.0.pdf) gives its project
    and date when --project and --date are left out.
    """
    from ingest.jobs import receive
    from ingest.pipeline import process

    original = filename or ("stdin" if str(file) == "-" else file.name)
    if project is None and record_id is None and parse_name(original) is None:
        raise click.UsageError("give --project for a new record, or --record for a new version")
    params = {
        "project": project,
        "date": when,
        "title": title,
        "department": department,
        "sensitivity": sensitivity,
        "record_id": str(record_id) if record_id else None,
        "major": major,
    }
    arc = _archive()
    source: BinaryIO
    with sys.stdin.buffer if str(file) == "-" else file.open("rb") as source:
        job_id = receive(
            arc, source, filename=original, source_kind="cli", actor=Actor.cli(), params=params
        )
    process(arc, job_id)
    with arc.sessions() as session:
        job = session.get(IngestJob, job_id)
        version = session.get(Version, job.version_id) if job and job.version_id else None
    if job is None or job.status == IngestStatus.QUARANTINED:
        reason = f"{job.failed_check}: {job.reason}" if job else "the job vanished"
        raise click.ClickException(f"quarantined ({reason}); job {job_id}")
    click.echo(
        json.dumps(
            {
                "status": job.status.value,
                "job_id": str(job_id),
                "record_id": str(job.record_id),
                "version_id": str(version.id) if version else None,
                "name": version.name if version else None,
                "duplicate_of": str(job.duplicate_of_id) if job.duplicate_of_id else None,
                "sha256": job.sha256,
                "size": job.size,
            },
            ensure_ascii=False,
        )
    )


@main.group()
def fixity() -> None:
    """Check that stored content is intact."""


@fixity.command("verify")
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    help="Only the N versions checked longest ago (what the daily sweep does).",
)
@click.option("--all", "everything", is_flag=True, help="Every version (the default).")
@friendly_errors
def fixity_verify(sample: int | None, everything: bool) -> None:
    """Decrypt and hash stored versions; keep each result; exit 1 naming each that fails."""
    if sample and everything:
        raise click.UsageError("give --sample N or --all, not both")
    arc = _archive()
    report = sweep_fixity(arc, Actor.cli(), sample) if sample else verify_fixity(arc, Actor.cli())
    conclude(
        [f"{p.name} ({p.version_id}): {p.reason}" for p in report.problems],
        f"{report.checked} versions checked, {len(report.problems)} failed, "
        f"{report.destroyed} destroyed by disposition",
    )


@main.group()
def keys() -> None:
    """Key-encryption keys."""


@keys.command("rotate")
@friendly_errors
def keys_rotate() -> None:
    """Add a new key-encryption key and re-wrap every data key under it."""
    new_id, count = rotate_keys(_archive(), Actor.cli())
    click.echo(f"active key is now {new_id}; {count} data keys re-wrapped, no blob changed")


@keys.command("destroy")
@click.argument("version_id", type=click.UUID)
@click.option("--reason", required=True, help="Why (e.g. the disposition list number).")
@click.confirmation_option(prompt="This makes the version unreadable forever. Continue?")
@friendly_errors
def keys_destroy(version_id: uuid.UUID, reason: str) -> None:
    """Crypto-shred one version (retention's disposition normally does this). Refused while
    a hold covers its record."""
    arc, actor = _archive(), Actor.cli()

    def not_held(session: Session, version: Version) -> None:
        ensure_free(session, version.record_id, "destroy version")

    with refusals_audited(arc, actor):
        count = destroy_version_content(arc, actor, version_id, reason, not_held)
    click.echo(f"{count} data keys destroyed; the content of {version_id} is unrecoverable")


@main.group()
def audit() -> None:
    """The audit chain."""


@audit.command("verify")
@friendly_errors
def audit_verify() -> None:
    """Check both hash chains (audit trail and access log); exit 1 naming the first bad event."""
    with _archive().sessions() as session:
        reports = [
            ("audit chain", verify_chain(session)),
            ("access log", verify_access_log(session)),
        ]
    broken = False
    for label, report in reports:
        if not report.ok:
            broken = True
            click.echo(
                f"{label} BROKEN after {report.count} good events: {report.problem}", err=True
            )
        else:
            click.echo(
                f"{label} intact: {report.count} events, head #{report.head_seq} {report.head_hash}"
            )
    if broken:
        sys.exit(1)


@main.group()
def department() -> None:
    """Departments."""


@department.command("create")
@click.argument("code")
@click.argument("name")
@friendly_errors
def department_create(code: str, name: str) -> None:
    """Create a department with a CODE (used in 档号) and a NAME."""
    with _archive().transaction() as session:
        create_department(session, Actor.cli(), code, name)
    click.echo(f"department {code} {name} created")


@main.group()
def user() -> None:
    """Users, roles and API tokens."""


ROLE = click.Choice([r.value for r in Role])
CLEARANCE = click.Choice([s.value for s in Sensitivity])


@user.command("create")
@click.argument("username")
@click.option("--role", required=True, type=ROLE)
@click.option("--department", help="Department code or name.")
@click.option("--clearance", type=CLEARANCE, default=Sensitivity.INTERNAL.value, show_default=True)
@click.option("--display-name", default="")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@friendly_errors
def user_create(
    username: str,
    role: str,
    department: str | None,
    clearance: str,
    display_name: str,
    password_stdin: bool,
) -> None:
    """Create a user; without --password-stdin a password is generated and shown once."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else secrets.token_urlsafe(12)
    with _archive().transaction() as session:
        dept = find_department(session, department) if department else None
        create_user(
            session,
            Actor.cli(),
            username,
            Role(role),
            dept,
            Sensitivity(clearance),
            password,
            display_name,
        )
    click.echo(f"user {username} created ({role})")
    if not password_stdin:
        click.echo(f"password (shown once): {password}")


@user.command("set")
@click.argument("username")
@click.option("--role", type=ROLE)
@click.option("--department")
@click.option("--clearance", type=CLEARANCE)
@friendly_errors
def user_set(
    username: str, role: str | None, department: str | None, clearance: str | None
) -> None:
    """Change a user's role, department or clearance (each change is audited)."""
    with _archive().transaction() as session:
        target = find_user(session, username)
        changed = change_user(
            session,
            Actor.cli(),
            target,
            role=Role(role) if role else None,
            department=find_department(session, department) if department else None,
            clearance=Sensitivity(clearance) if clearance else None,
        )
    click.echo(f"{username}: {', '.join(changed) or 'nothing'} changed")


@user.command("token")
@click.argument("username")
@friendly_errors
def user_token(username: str) -> None:
    """Print a new API token for USERNAME (shown once; only its hash is kept)."""
    with _archive().transaction() as session:
        token = issue_token(session, Actor.cli(), find_user(session, username))
    click.echo(token)


# The ingest commands register themselves on ``main``.
import access.cli_disposition  # noqa: E402
import access.cli_ingest  # noqa: E402
import access.cli_ops  # noqa: E402
import access.cli_retention  # noqa: E402, F401
