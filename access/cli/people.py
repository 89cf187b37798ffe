"""``archive department|user|keys``: departments, users with their roles and tokens, and
the key-encryption keys. Every change is audited by the service it calls.

The console is the root of trust (三员分立 stops at the server's shell): ``archive user``
makes privileged changes directly, audited as the operator, which is how the first
administrator and security administrator come to exist."""

from __future__ import annotations

import sys
import uuid
from datetime import timedelta

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from access.cli.common import current_archive, friendly_errors, second_person, shown
from archive.audit import Actor
from archive.db import utcnow
from archive.keys import destroy_version_content, retire_old_keys, rotate_keys
from archive.models import Department, Record, Role, Sensitivity, User, Version
from archive.passwords import one_time_password
from archive.people import (
    change_user,
    create_department,
    create_user,
    find_department,
    find_user,
    issue_token,
    set_password,
)
from archive.privilege_decisions import changes
from archive.vocabulary import beijing
from retention.deletion import ensure_misfiled_in_time, may_confirm
from retention.errors import RetentionError
from retention.holds import ensure_free, refusals_audited


@click.group()
def keys() -> None:
    """Key-encryption keys."""


@keys.command("rotate")
@click.option(
    "--retire",
    is_flag=True,
    help="Then take the old keys out of the keyring: backups made before can no longer be "
    "opened, so content destroyed since stays destroyed in them too. Back up at once.",
)
@friendly_errors
def keys_rotate(retire: bool) -> None:
    """Add a new key-encryption key and re-wrap every data key under it."""
    arc = current_archive()
    new_id, count = rotate_keys(arc, Actor.cli())
    click.echo(f"active key is now {new_id}; {count} data keys re-wrapped, no blob changed")
    if retire:
        gone = retire_old_keys(arc, Actor.cli())
        click.echo(
            f"{len(gone)} old keys retired: backups made before now cannot be opened with this "
            "keyring; make a new backup, and back up the keyring again"
        )


@keys.command("destroy")
@click.argument("version_id", type=click.UUID)
@click.option("--reason", required=True, help="Why (e.g. the misfiled record's story).")
@click.option("--confirmed-by", "username", required=True, help="The director or department head.")
@click.confirmation_option(prompt="This makes the version unreadable forever. Continue?")
@friendly_errors
def keys_destroy(version_id: uuid.UUID, reason: str, username: str) -> None:
    """Crypto-shred one version of a record filed in error, within ARCHIVE_MISFILE_DAYS of
    its filing, confirmed by a second person (asked for their password). Anything else is
    destroyed by a signed disposition list. Refused while a hold covers its record."""
    arc, actor = current_archive(), Actor.cli()
    with arc.sessions() as session:
        confirmer = second_person(session, username)

    def allowed(session: Session, version: Version) -> None:
        record = session.get(Record, version.record_id)
        assert record is not None  # noqa: S101 - a version has its record
        ensure_free(session, record.id, "destroy version")
        ensure_misfiled_in_time(arc.settings.retention, record)
        if not may_confirm(session, session.get_one(User, confirmer.id), record):
            raise RetentionError(f"{username} is neither a director nor the record's head")

    with refusals_audited(arc, actor):
        count = destroy_version_content(arc, actor, version_id, reason, allowed)
    click.echo(f"{count} data keys destroyed; the content of {version_id} is unrecoverable")


@click.group()
def department() -> None:
    """Departments."""


@department.command("create")
@click.argument("code")
@click.argument("name")
@friendly_errors
def department_create(code: str, name: str) -> None:
    """Create a department with a CODE (used in 档号) and a NAME. `archive init` made six
    already (`archive department list`)."""
    with current_archive().transaction() as session:
        create_department(session, Actor.cli(), code, name)
    click.echo(f"department {code} {name} created")


@department.command("list")
@friendly_errors
def department_list() -> None:
    """Every department: its code (as options and the 档号 take it), name and active users."""
    with current_archive().sessions() as session:
        members = dict(
            session.execute(
                select(User.department_id, func.count())
                .where(User.active)
                .group_by(User.department_id)
            ).all()
        )
        for dept in session.scalars(select(Department).order_by(Department.code)):
            click.echo(f"{dept.code}\t{dept.name}\t{members.get(dept.id, 0)} 人 (users)")


@click.group()
def user() -> None:
    """Users, roles and API tokens."""


@user.command("list")
@friendly_errors
def user_list() -> None:
    """Every account: user name, name, role, department, clearance, and whether disabled."""
    with current_archive().sessions() as session:
        for person in session.scalars(select(User).order_by(User.username)):
            dept = person.department.code if person.department else "—"
            named = person.display_name if person.display_name != person.username else ""
            state = "" if person.active else "\t停用 (disabled)"
            click.echo(
                f"{person.username}\t{named or '—'}\t{shown(person.role)}\t"
                f"{dept}\t{shown(person.clearance)}{state}"
            )


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
    """Create a user, directly (the console needs no approval); without --password-stdin a
    one-time password is generated and shown once, to be replaced at the first sign-in."""
    password = stdin_password() if password_stdin else one_time_password()
    with current_archive().transaction() as session:
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
            temporary=not password_stdin,
        )
    click.echo(f"user {username} created, role {shown(role)}")
    if not password_stdin:
        click.echo(f"password (shown once): {password}")


def stdin_password() -> str:
    """The first line of standard input; nothing there is an error, not an account whose
    password nobody knows (a failed ``read`` in a script hands over an empty line)."""
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise click.UsageError("--password-stdin: standard input held no password")
    return password


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
    with current_archive().transaction() as session:
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


@user.command("password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@friendly_errors
def user_password(username: str, password_stdin: bool) -> None:
    """Set USERNAME's password from the console (no approval: the operator holds the
    server). Without --password-stdin a one-time password is printed, which the person
    replaces at their first sign-in."""
    password = stdin_password() if password_stdin else one_time_password()
    with current_archive().transaction() as session:
        target = find_user(session, username)
        set_password(session, Actor.cli(), target, password, temporary=not password_stdin)
    click.echo(f"{username}: password set; every session and token ended")
    if not password_stdin:
        click.echo(f"one-time password (shown once): {password}")


@user.command("changes")
@friendly_errors
def user_changes() -> None:
    """Privileged changes waiting for a security administrator, oldest first (decided on
    the web page /admin/privileges)."""
    with current_archive().sessions() as session:
        pending, _decided = changes(session, limit=0)
        for change in pending:
            asked = ", ".join(f"{k}={v}" for k, v in change.changes.items())
            click.echo(
                f"#{change.id} {change.kind.value} {change.username}: {asked} "
                f"(asked by {change.requested_by} at {change.requested_at:%Y-%m-%d %H:%M} UTC)"
            )
        if not pending:
            click.echo("nothing waits for approval")


@user.command("token")
@click.argument("username")
@click.option(
    "--days",
    type=click.IntRange(1, 3650),
    help="How long it lasts (default: ARCHIVE_TOKEN_DAYS, 90).",
)
@friendly_errors
def user_token(username: str, days: int | None) -> None:
    """Print a new API token for USERNAME (shown once; only its hash is kept). It ends
    after --days; when it ends is said on standard error, the token alone on standard out."""
    arc = current_archive()
    days = days or arc.settings.access.token_days
    with arc.transaction() as session:
        token = issue_token(session, Actor.cli(), find_user(session, username), days)
    click.echo(token)
    until = beijing(utcnow() + timedelta(days=days))
    click.echo(f"valid for {days} days, until {until} 北京时间 (Beijing time)", err=True)
