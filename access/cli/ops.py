"""Operations commands: backup and verified restore, the quarterly audit sample, incident
response, transfer packages received (a thin shell each)."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path

import click

from access.audit_sample import SampleError, draw, write_sample
from access.cli.common import conclude, current_archive, friendly_errors
from access.incident import freeze_user, reads_csv
from archive.audit import Actor, record_event
from archive.backup import BackupError, backup, verify_backup
from archive.bootstrap import initialize
from archive.checkpoints import LABELS, public_key_text, verify_all, write_checkpoint
from archive.crypto import KeyringError
from archive.db import LOCAL_TIME
from archive.fixity import sweep_fixity, verify_fixity
from archive.orphans import collect_orphans
from archive.people import find_user
from archive.reconcile import people_not_as_vouched
from archive.restore import restore
from ingest.package import PackageError, import_package, verify_package
from ingest.rules import seed_default_rules
from retention.holds import releases_not_on_trail
from retention.schedules import seed_default_plan


@click.command()
@friendly_errors
def init() -> None:
    """Create the data directory, database schema, keyring and blob store (safe to re-run)."""
    arc = current_archive()
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


@click.group()
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
    arc = current_archive()
    report = sweep_fixity(arc, Actor.cli(), sample) if sample else verify_fixity(arc, Actor.cli())
    conclude(
        [f"{p.name} ({p.version_id}): {p.reason}" for p in report.problems],
        f"{report.checked} versions checked, {len(report.problems)} failed, "
        f"{report.destroyed} destroyed by disposition（已检查 {report.checked} 个版本，"
        f"{len(report.problems)} 个不合格，{report.destroyed} 个已依处置销毁）",
    )


@click.group()
def audit() -> None:
    """The audit chain."""


@click.group()
def blobs() -> None:
    """The blob store."""


@blobs.command("collect")
@click.option(
    "--grace-hours",
    type=click.IntRange(min=1),
    default=None,
    help="Only objects older than this (default ARCHIVE_ORPHAN_GRACE_HOURS).",
)
@click.option("--dry-run", is_flag=True, help="List what would go; remove nothing.")
@friendly_errors
def blobs_collect(grace_hours: int | None, dry_run: bool) -> None:
    """Remove objects that no row refers to (left by a worker killed mid-store)."""
    arc = current_archive()
    hours = arc.settings.orphan_grace_hours if grace_hours is None else grace_hours
    report = collect_orphans(arc, Actor.cli(), timedelta(hours=hours), dry_run=dry_run)
    for key in report.removed:
        click.echo(f"{'would remove' if dry_run else 'removed'} {key}")
    click.echo(
        f"{report.listed} objects listed, {len(report.removed)} unreferenced "
        f"({report.removed_bytes} bytes) {'to remove' if dry_run else 'removed'}, "
        f"{report.young} unreferenced but younger than {hours} h kept"
    )


@audit.command("verify")
@friendly_errors
def audit_verify() -> None:
    """Check both hash chains (keyed, from the keyring) against the signed checkpoints; exit 1
    naming the first bad event."""
    arc = current_archive()
    with arc.sessions() as session:
        report = verify_all(session, arc.keyring, arc.settings.checkpoint_path)
    for name, chain in report.chains.items():
        label = LABELS[name]
        if not chain.ok:
            click.echo(f"{label} BROKEN after {chain.count} good events: {chain.problem}", err=True)
        else:
            click.echo(
                f"{label} intact: {chain.count} events, head #{chain.head_seq} {chain.head_hash}"
                + (f" (unkeyed up to the anchor #{chain.anchor_seq})" if chain.anchor_seq else "")
            )
    marks = report.checkpoints
    for problem in marks.problems:
        click.echo(f"checkpoints BROKEN: {problem}", err=True)
    if not marks.problems:
        click.echo(f"{marks.count} signed checkpoints, the last at {marks.last_at} ({marks.path})")
    for name, chain in report.chains.items():
        signed = max(marks.seen.get(name, {}), default=0)
        if chain.ok and chain.head_seq > signed:  # a cut tail here would not show
            click.echo(
                f"note: {LABELS[name]}: {chain.head_seq - signed} events after the last "
                f"signed checkpoint (#{signed}) are held by the chain alone: events removed "
                "from its end would not show until one is signed ('archive audit checkpoint')",
                err=True,
            )
    with arc.sessions() as session:  # what the rows say, against what the trail vouches for
        differences = people_not_as_vouched(session) + releases_not_on_trail(session)
    for difference in differences:
        click.echo(f"NOT AS AUDITED {difference}", err=True)
    if not differences:
        click.echo("people and holds are as the audit trail set them")
    if not report.ok or differences:
        sys.exit(1)


@audit.command("checkpoint")
@friendly_errors
def audit_checkpoint() -> None:
    """Sign both chains' heads into the checkpoint file now (beat does it on a schedule)."""
    arc = current_archive()
    with arc.sessions() as session:
        line = write_checkpoint(session, arc.keyring, arc.settings.checkpoint_path)
    if line is None:
        click.echo("heads unchanged since the last checkpoint: nothing written")
    else:
        click.echo(f"checkpoint {json.loads(line)['n']} signed: {line}")


@audit.command("public-key")
@friendly_errors
def audit_public_key() -> None:
    """Print the key that verifies checkpoints (for whoever keeps the e-mailed copies)."""
    click.echo(public_key_text(current_archive().keyring))


class _DefaultCommandGroup(click.Group):
    """``archive backup DEST`` runs ``create``; ``archive backup verify SRC`` its subcommand."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["create", *args]
        return super().parse_args(ctx, args)


@click.group("backup", cls=_DefaultCommandGroup)
def backup_group() -> None:
    """Back up to a BagIt bag (archive backup DEST), or check one (archive backup verify SRC).

    The keyring is never in a bag: back up ARCHIVE_KEYRING apart (and again after every
    'archive keys rotate' and every disposition), or the bag cannot be read.
    """


@backup_group.command("create")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@friendly_errors
def backup_create(dest: Path) -> None:
    """Write the database and the encrypted blobs to a new bag at DEST."""
    try:
        report = backup(current_archive(), Actor.cli(), dest.resolve())
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"bag {report.path}: {sum(report.tables.values())} rows in {len(report.tables)} tables, "
        f"{report.blobs} blobs ({report.blob_bytes} bytes); keys not included"
    )
    for key in report.vanished:
        click.echo(f"blob {key} was destroyed while the backup ran (not in the bag)", err=True)


@backup_group.command("verify")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
def backup_verify(source: Path) -> None:
    """Check a bag's digests, counts and blobs, and both hash chains (keyed, and against its
    signed checkpoints, when this installation's keyring is at hand); exit 1 on a problem."""
    try:
        keyring = current_archive().keyring
    except KeyringError:
        keyring = None  # the bag is checked all the same, its links without their keys
    try:
        report = verify_backup(source, keyring)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    for label, chain in report.chains.items():
        if chain.ok:
            click.echo(
                f"{label} intact: {chain.count} events, head #{chain.head_seq} {chain.head_hash}"
            )
    intact = (
        "the bag is complete and intact"
        if keyring is not None
        else "the bag is complete as its manifests say, but its seal is NOT checked (no "
        "keyring): a bag edited with its manifests rewritten would pass; check it where "
        "the keyring is"
    )
    conclude(
        report.problems,
        f"{sum(report.tables.values())} rows, {report.blobs} blobs: "
        + (intact if report.ok else f"{len(report.problems)} problems"),
        marker="PROBLEM",
    )


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--unsealed",
    is_flag=True,
    help="Accept a bag made before backups were sealed (one with a wrong seal never is).",
)
@friendly_errors
def restore_command(source: Path, unsealed: bool) -> None:
    """Restore a bag onto an empty installation (ARCHIVE_KEYRING: the keyring backed up apart),
    then rebuild the search index. The bag's seal must hold under that keyring."""
    from search.indexer import rebuild

    arc = current_archive()
    try:
        report = restore(arc, Actor.cli(), source.resolve(), unsealed_ok=unsealed)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    indexed = rebuild(arc)
    click.echo(
        f"restored {sum(report.tables.values())} rows and {report.blobs} blobs; "
        f"{indexed} records indexed"
    )
    if report.shredded_since:
        click.echo(
            f"{report.shredded_since} versions were destroyed after this backup was made: "
            "their keys stay destroyed"
        )


@click.group()
def incident() -> None:
    """Incident response: freeze a user, export what they read."""


@incident.command("freeze")
@click.argument("username")
@click.option("--reason", required=True, help="The incident (number, what happened).")
@friendly_errors
def incident_freeze(username: str, reason: str) -> None:
    """Block USERNAME at once: sign-in, tokens, grants and pending requests (audited)."""
    with current_archive().transaction() as session:
        report = freeze_user(session, Actor.cli(), find_user(session, username), reason)
    click.echo(
        f"{username} frozen: {report.grants_revoked} grants and {report.tokens_revoked} tokens "
        f"revoked, {report.requests_cancelled} pending requests refused"
    )


@incident.command("export")
@click.argument("username")
@click.option("--since", help="Only from this date or time on (ISO, e.g. 2026-07-01).")
@click.option(
    "--out", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path), default="-"
)
@friendly_errors
def incident_export(username: str, since: str | None, out: Path) -> None:
    """Everything USERNAME read or tried to read: what, when, from which IP, as CSV."""
    start = None
    if since:
        try:
            start = datetime.fromisoformat(since)
        except ValueError:
            raise click.BadParameter("give a date like 2026-07-01", param_hint="--since") from None
        if start.tzinfo is None:
            start = start.replace(tzinfo=LOCAL_TIME)  # a date typed here is Beijing time
    arc = current_archive()
    with arc.transaction() as session:
        find_user(session, username)  # an unknown name is an error, not an empty file
        record_event(session, Actor.cli(), "incident.exported", "user", username, {"since": since})
    with arc.sessions() as session, click.open_file(str(out), "w", encoding="utf-8") as sink:
        for chunk in reads_csv(session, username, start):
            sink.write(chunk)


@audit.command("sample")
@click.option("--quarter", required=True, help="The quarter audited, e.g. 2026Q3.")
@click.option("--size", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--seed", type=int, help="Redo an earlier draw (its report prints the seed).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the PDF and CSV go. Default: ARCHIVE_HOME/reports.",
)
@friendly_errors
def audit_sample(quarter: str, size: int, seed: int | None, out: Path | None) -> None:
    """Draw a random sample of records, re-run the 四性 checks, review their access log for the
    quarter, and write the report (PDF and CSV). Exit 1 when there are findings."""
    arc = current_archive()
    try:
        sample = draw(arc, Actor.cli(), quarter, size, seed)
    except SampleError as exc:
        raise click.BadParameter(str(exc)) from None
    csv_path, pdf_path = write_sample(sample, out or arc.settings.home / "reports")
    click.echo(
        f"{sample.quarter}: {len(sample.records)} of {sample.population} records drawn "
        f"(seed {sample.seed}), {sample.findings} findings"
    )
    click.echo(f"report: {pdf_path}\n        {csv_path}")
    if sample.findings:
        sys.exit(1)


@click.group()
def transfer() -> None:
    """Transfer packages (移交) received from another archive."""


@transfer.command("verify")
@click.argument("package", type=click.Path(exists=True, file_okay=False, path_type=Path))
@friendly_errors
def transfer_verify(package: Path) -> None:
    """Check a package's manifests and run the 四性 checks on every file; exit 1 on failure."""
    try:
        report = verify_package(current_archive(), package)
    except PackageError as exc:
        raise click.ClickException(str(exc)) from None
    for check in report.not_run:  # not a failure, but not a pass either: said, not hidden
        click.echo(f"NOT RUN {check}", err=True)
    passed = "every check passed" + (
        f", {len(report.not_run)} could not run (NOT RUN above)" if report.not_run else ""
    )
    conclude(
        report.problems,
        f"{len(report.records)} records checked: "
        + (passed if report.ok else f"{len(report.problems)} failures"),
    )


@transfer.command("import")
@click.argument("package", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--receipt",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the signed receipt (default: beside the package, NAME-receipt.json).",
)
@friendly_errors
def transfer_import(package: Path, receipt: Path | None) -> None:
    """Verify a package, ingest its records and versions through the ordinary pipeline, and
    write the signed receipt (移交接收回执) the sending archive records against its list."""
    try:
        report = import_package(current_archive(), Actor.cli(), package.resolve())
    except PackageError as exc:
        raise click.ClickException(str(exc)) from None
    for name, record_id in report.records.items():
        click.echo(f"{name} → record {record_id}")
    target = receipt or package.resolve().parent / f"{package.resolve().name}-receipt.json"
    target.write_text(json.dumps(report.receipt, ensure_ascii=False, indent=2), "utf-8")
    click.echo(f"{len(report.records)} records, {report.versions} versions imported")
    click.echo(f"receipt: {target} (give it to the sending archive)")
