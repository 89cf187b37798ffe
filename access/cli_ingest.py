"""Commands for the ingest side: workers, the scheduler, the hot folder, bulk import,
quarantine, classification rules and the review queue. Registered on ``archive``."""

from __future__ import annotations

import json
import socket
import sys
import uuid
from pathlib import Path
from typing import Any

import click
from sqlalchemy import func, select

from access.cli import _archive, friendly_errors, main
from archive.audit import Actor
from archive.models import ClassificationRule, IngestJob, IngestStatus, Record, Sensitivity
from archive.text import normalize_for_index
from ingest.bulk import files_under, import_tree
from ingest.celery_config import QUEUES
from ingest.classify import Document, classify
from ingest.jobs import release, retry
from ingest.review import reclassify, review_queue
from ingest.rules import load_rules, save_rules, spec_to_dict


def _celery() -> Any:
    from access.app import create_app

    return create_app().extensions["celery"]


@main.command()
@click.option("--queues", default=",".join(QUEUES), show_default=True)
@click.option("--concurrency", default=2, show_default=True, type=int)
def worker(queues: str, concurrency: int) -> None:
    """Run a Celery worker for the configured broker (SQLite file by default)."""
    name = f"archive-{queues.replace(',', '+')}@{socket.gethostname()}"
    _celery().worker_main(
        [
            "worker",
            "--loglevel=INFO",
            f"--queues={queues}",
            f"--concurrency={concurrency}",
            f"--hostname={name}",
            "--without-mingle",
            "--without-gossip",
        ]
    )


@main.command()
def beat() -> None:
    """Run the scheduler (the ingest sweeper; later the retention sweeps)."""
    _celery().start(["beat", "--loglevel=INFO"])


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@friendly_errors
def run(host: str, port: int) -> None:
    """The embedded default in one command: web, workers, the index writer, the scheduler and
    the hot folder."""
    from access.supervisor import child, supervise
    from archive.bootstrap import initialize
    from ingest.rules import seed_default_rules
    from retention.schedules import seed_default_plan

    arc = _archive()
    initialize(arc, Actor.cli())
    seed_default_rules(arc, Actor.cli())
    with arc.transaction() as session:
        seed_default_plan(session, Actor.cli())
    inbox = arc.settings.home / "inbox"
    click.echo(f"archive at http://{host}:{port}/ ; hot folder {inbox} (Ctrl-C stops it)")
    code = supervise(
        {
            "web": child("serve", "--host", host, "--port", str(port)),
            "worker": child("worker"),
            "indexer": child("worker", "--queues", "index", "--concurrency", "1"),
            "beat": child("beat"),
            "watch": child("watch", str(inbox)),
        }
    )
    sys.exit(code)


@main.command()
@click.argument("inbox", type=click.Path(file_okay=False, path_type=Path), required=False)
@click.option("--once", is_flag=True, help="Scan once and exit (for cron or tests).")
@friendly_errors
def watch(inbox: Path | None, once: bool) -> None:
    """Watch a scanner hot folder (default ARCHIVE_HOME/inbox) and ingest what settles there."""
    import signal
    import time

    from ingest.hotfolder import HotFolder
    from ingest.tasks import enqueue

    _celery()  # binds the tasks to the configured broker
    arc = _archive()
    folder = HotFolder(
        arc,
        (inbox or arc.settings.home / "inbox").resolve(),
        enqueue,
        settle_seconds=arc.settings.ingest.hotfolder_settle_seconds,
    )
    if once:
        folder.scan_once()
        if folder.settle_seconds == 0:
            folder.scan_once()
        return
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
    click.echo(f"watching {folder.inbox}")
    try:
        while not stopping:
            folder.scan_once()
            time.sleep(1.0)
    except KeyboardInterrupt:
        pass


@main.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--project", help="Project for every file (else from names or sidecars).")
@click.option("--department", help="Department code or name.")
@click.option("--sensitivity", type=click.Choice([s.value for s in Sensitivity]))
@friendly_errors
def import_(
    path: Path, project: str | None, department: str | None, sensitivity: str | None
) -> None:
    """Import a file or a directory tree; a re-run skips what is already in."""
    arc = _archive()
    root = path.resolve()
    files = files_under(root) if root.is_dir() else [root]
    base = root if root.is_dir() else root.parent
    params = {
        k: v
        for k, v in {
            "project": project,
            "department": department,
            "sensitivity": sensitivity,
        }.items()
        if v
    }
    with click.progressbar(files, label="importing", show_pos=True) as bar:
        summary = import_tree(
            arc, base, Actor.cli(), params, files=files, progress=lambda _: bar.update(1)
        )
    click.echo(
        f"{summary.stored} stored, {summary.duplicates} duplicates, "
        f"{summary.skipped} already in, {len(summary.quarantined)} quarantined, "
        f"{len(summary.refused)} refused"
    )
    for relative, reason in summary.quarantined:
        click.echo(f"QUARANTINED {relative}: {reason}")
    for relative, reason in summary.refused:
        click.echo(f"REFUSED {relative}: {reason}")
    if summary.quarantined or summary.refused:
        sys.exit(3)


@main.group()
def jobs() -> None:
    """Ingest jobs."""


def _job_dict(job: IngestJob) -> dict[str, Any]:
    return {
        "job_id": str(job.id),
        "status": job.status.value,
        "stage": job.stage,
        "filename": job.original_filename,
        "source": job.source,
        "source_path": job.source_path,
        "media_type": job.media_type,
        "record_id": str(job.record_id) if job.record_id else None,
        "version_id": str(job.version_id) if job.version_id else None,
        "failed_check": job.failed_check,
        "reason": job.reason,
        "attempts": job.attempts,
    }


@jobs.command("show")
@click.argument("job_id", type=click.UUID)
@friendly_errors
def jobs_show(job_id: uuid.UUID) -> None:
    """Print one job as JSON, with its check report."""
    with _archive().sessions() as session:
        job = session.get(IngestJob, job_id)
        if job is None:
            raise click.ClickException(f"no job {job_id}")
        click.echo(
            json.dumps({**_job_dict(job), "checks": job.checks}, ensure_ascii=False, indent=2)
        )


@jobs.command("sweep")
@friendly_errors
def jobs_sweep() -> None:
    """Re-enqueue stuck jobs and tidy finished ones now (beat does this on a schedule)."""
    from ingest.jobs import sweep
    from ingest.tasks import enqueue

    _celery()
    report = sweep(_archive())
    for job_id in report.requeued:
        enqueue(job_id)
    click.echo(
        f"{len(report.requeued)} re-enqueued, {report.staging_dropped} staged files "
        f"dropped, {report.workdirs_removed} work directories removed"
    )


@main.group()
def quarantine() -> None:
    """Files that failed an ingest check, kept encrypted with their reason."""


@quarantine.command("list")
@friendly_errors
def quarantine_list() -> None:
    with _archive().sessions() as session:
        rows = session.scalars(
            select(IngestJob)
            .where(IngestJob.status == IngestStatus.QUARANTINED)
            .order_by(IngestJob.created_at)
        ).all()
        for job in rows:
            click.echo(f"{job.id}  {job.original_filename}  {job.failed_check}: {job.reason}")
    click.echo(f"{len(rows)} quarantined")


@quarantine.command("release")
@click.argument("job_id", type=click.UUID)
@click.option("--reason", required=True)
@friendly_errors
def quarantine_release(job_id: uuid.UUID, reason: str) -> None:
    """Accept a quarantined file despite its failed check (audited); it is stored next."""
    from ingest.pipeline import process

    arc = _archive()
    release(arc, Actor.cli(), job_id, reason)
    click.echo(f"released; job is now {process(arc, job_id).value}")


@quarantine.command("retry")
@click.argument("job_id", type=click.UUID)
@click.option(
    "--file",
    "fixed",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A corrected file to use instead of the quarantined one.",
)
@click.option("--project")
@click.option("--department")
@friendly_errors
def quarantine_retry(
    job_id: uuid.UUID, fixed: Path | None, project: str | None, department: str | None
) -> None:
    """Process a quarantined job again, optionally with a fixed file or metadata."""
    from ingest.pipeline import process

    arc = _archive()
    params = {k: v for k, v in {"project": project, "department": department}.items() if v}
    if fixed is not None:
        with fixed.open("rb") as source:
            retry(arc, Actor.cli(), job_id, source, params)
    else:
        retry(arc, Actor.cli(), job_id, None, params)
    click.echo(f"job is now {process(arc, job_id).value}")


@main.group()
def rules() -> None:
    """Classification rules (a JSON list; see ingest/default_rules.json)."""


@rules.command("export")
@friendly_errors
def rules_export() -> None:
    with _archive().sessions() as session:
        rows = session.scalars(
            select(ClassificationRule).order_by(
                ClassificationRule.priority, ClassificationRule.name
            )
        ).all()
        click.echo(json.dumps([spec_to_dict(r) for r in rows], ensure_ascii=False, indent=2))


@rules.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@friendly_errors
def rules_import(file: Any) -> None:
    """Create or update rules by name from a JSON list (each change audited)."""
    try:
        data = json.load(file)
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"not valid JSON: {exc}") from None
    if not isinstance(data, list):
        raise click.ClickException("the file must hold a JSON list of rules")
    created, updated = save_rules(_archive(), Actor.cli(), data)
    click.echo(f"{created} rules created, {updated} updated")


@rules.command("test")
@click.option("--text", default="", help="Sample text.")
@click.option("--filename", default="", help="Sample file name.")
@click.option("--folder", default="")
@friendly_errors
def rules_test(text: str, filename: str, folder: str) -> None:
    """Show how the current rules classify a sample, and why."""
    with _archive().sessions() as session:
        specs = load_rules(session)
    decision = classify(specs, Document(normalize_for_index(text).simplified, filename, folder))
    click.echo(
        json.dumps(
            {
                "process": decision.process,
                "stage": decision.stage,
                "record_type": decision.record_type,
                "sensitivity": decision.sensitivity.value if decision.sensitivity else None,
                **decision.explain(_archive().settings.ingest.classify_threshold),
            },
            ensure_ascii=False,
            indent=2,
        )
    )


@main.group()
def review() -> None:
    """Records waiting for a person to confirm their classification."""


@review.command("list")
@friendly_errors
def review_list() -> None:
    records = review_queue(_archive())
    for record in records:
        confidence = (record.classification or {}).get("confidence")
        click.echo(
            f"{record.id}  {record.name_stem}  {record.title}  "
            f"[{record.process}/{record.stage}/{record.record_type}] {confidence}"
        )
    click.echo(f"{len(records)} waiting for review")


@review.command("set")
@click.argument("record_id", type=click.UUID)
@click.option("--process")
@click.option("--stage")
@click.option("--type", "record_type")
@click.option("--sensitivity", type=click.Choice([s.value for s in Sensitivity]))
@click.option("--note", default="")
@friendly_errors
def review_set(
    record_id: uuid.UUID,
    process: str | None,
    stage: str | None,
    record_type: str | None,
    sensitivity: str | None,
    note: str,
) -> None:
    """Correct or confirm a record's class (audited, before and after)."""
    record = reclassify(
        _archive(),
        Actor.cli(),
        record_id,
        process=process,
        stage=stage,
        record_type=record_type,
        sensitivity=Sensitivity(sensitivity) if sensitivity else None,
        note=note,
    )
    click.echo(
        f"{record.name_stem}: {record.process}/{record.stage}/{record.record_type} "
        f"{record.sensitivity.value}"
    )


@main.group("index")
def index_group() -> None:
    """The search index (one writer: these commands, or the `index` queue's worker)."""


@index_group.command("rebuild")
@friendly_errors
def index_rebuild() -> None:
    """Build a fresh index from the database, streaming in chunks."""
    from search.indexer import rebuild

    arc = _archive()
    with arc.sessions() as session:
        total = session.scalar(select(func.count()).select_from(Record)) or 0
    with click.progressbar(length=total, label="indexing", show_pos=True) as bar:
        indexed = rebuild(arc, progress=bar.update)
    click.echo(f"{indexed} records indexed")


@index_group.command("check")
@click.option("--fix", is_flag=True, help="Re-index what is missing or stale, drop extras.")
@friendly_errors
def index_check(fix: bool) -> None:
    """Compare the index with the database; exit 1 if they differ (and --fix was not given)."""
    from search.indexer import check

    report = check(_archive(), fix=fix)
    for label, ids in (
        ("missing", report.missing),
        ("stale", report.stale),
        ("extra", report.extra),
    ):
        for record_id in ids:
            click.echo(f"{label} {record_id}")
    click.echo(
        f"{len(report.missing)} missing, {len(report.stale)} stale, "
        f"{len(report.extra)} extra{' (fixed)' if fix and not report.ok else ''}"
    )
    if not report.ok and not fix:
        sys.exit(1)


@index_group.command("flush")
@friendly_errors
def index_flush() -> None:
    """Index every queued change now (the `index` worker does this every 2 s)."""
    from search.indexer import flush_all

    report = flush_all(_archive())
    click.echo(f"{report.indexed} indexed, {report.removed} removed")
