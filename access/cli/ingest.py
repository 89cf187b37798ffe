"""Commands for the ingest side: workers, the scheduler, the hot folder, bulk import,
quarantine, classification rules and the review queue. Registered on ``archive``."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any, BinaryIO

import click
from sqlalchemy import select

from access.cli.common import celery_app, current_archive, friendly_errors, shown
from archive.audit import Actor
from archive.models import ClassificationRule, IngestJob, IngestStatus, Sensitivity, Version
from archive.naming import parse_name
from archive.text import normalize_for_index
from ingest.bulk import files_under, import_tree
from ingest.classify import Document, classify
from ingest.jobs import release, retry
from ingest.review import reclassify, review_queue
from ingest.rules import load_rules, save_rules, spec_to_dict


@click.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--project", help="Project for every file (else from names or sidecars).")
@click.option("--department", help="Department code or name.")
@click.option("--sensitivity", type=click.Choice([s.value for s in Sensitivity]))
@friendly_errors
def import_(
    path: Path, project: str | None, department: str | None, sensitivity: str | None
) -> None:
    """Import a file or a directory tree; a re-run skips what is already in."""
    arc = current_archive()
    root = path.absolute()  # never resolve: a link named here is refused like any other
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


@click.group()
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
    with current_archive().sessions() as session:
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

    celery_app()
    report = sweep(current_archive())
    for job_id in report.requeued:
        enqueue(job_id)
    click.echo(
        f"{len(report.requeued)} re-enqueued, {report.staging_dropped} staged files "
        f"dropped, {report.workdirs_removed} work directories removed"
    )


@click.group()
def quarantine() -> None:
    """Files that failed an ingest check, kept encrypted with their reason."""


@quarantine.command("list")
@friendly_errors
def quarantine_list() -> None:
    with current_archive().sessions() as session:
        rows = session.scalars(
            select(IngestJob)
            .where(IngestJob.status == IngestStatus.QUARANTINED)
            .order_by(IngestJob.created_at)
        ).all()
        for job in rows:
            check = shown(job.failed_check)
            click.echo(f"{job.id}  {job.original_filename}  {check}: {job.reason}")
    click.echo(f"{len(rows)} quarantined")


@quarantine.command("release")
@click.argument("job_id", type=click.UUID)
@click.option("--reason", required=True)
@friendly_errors
def quarantine_release(job_id: uuid.UUID, reason: str) -> None:
    """Accept a quarantined file despite its failed check (audited); it is stored next."""
    from ingest.pipeline import process

    arc = current_archive()
    release(arc, Actor.cli(), job_id, reason)
    click.echo(f"released; job is now {shown(process(arc, job_id))}")


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

    arc = current_archive()
    params = {k: v for k, v in {"project": project, "department": department}.items() if v}
    if fixed is not None:
        with fixed.open("rb") as source:
            retry(arc, Actor.cli(), job_id, source, params, filename=fixed.name)
    else:
        retry(arc, Actor.cli(), job_id, None, params)
    click.echo(f"job is now {shown(process(arc, job_id))}")


@click.group()
def rules() -> None:
    """Classification rules (a JSON list; see ingest/default_rules.json)."""


@rules.command("export")
@friendly_errors
def rules_export() -> None:
    with current_archive().sessions() as session:
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
    created, updated = save_rules(current_archive(), Actor.cli(), data)
    click.echo(f"{created} rules created, {updated} updated")


@rules.command("test")
@click.option("--text", default="", help="Sample text.")
@click.option("--filename", default="", help="Sample file name.")
@click.option("--folder", default="")
@friendly_errors
def rules_test(text: str, filename: str, folder: str) -> None:
    """Show how the current rules classify a sample, and why."""
    with current_archive().sessions() as session:
        specs = load_rules(session)
    decision = classify(specs, Document(normalize_for_index(text).simplified, filename, folder))
    click.echo(
        json.dumps(
            {
                "process": decision.process,
                "stage": decision.stage,
                "record_type": decision.record_type,
                "sensitivity": decision.sensitivity.value if decision.sensitivity else None,
                **decision.explain(current_archive().settings.ingest.classify_threshold),
            },
            ensure_ascii=False,
            indent=2,
        )
    )


@click.group()
def review() -> None:
    """Records waiting for a person to confirm their classification."""


@review.command("list")
@friendly_errors
def review_list() -> None:
    records = review_queue(current_archive())
    for record in records:
        confidence = (record.classification or {}).get("confidence")
        click.echo(
            f"{record.id}  {record.name_stem}  {record.title}  "
            f"[{shown(record.process)} / {shown(record.stage)} / {shown(record.record_type)}] "
            f"{confidence}"
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
        current_archive(),
        Actor.cli(),
        record_id,
        process=process,
        stage=stage,
        record_type=record_type,
        sensitivity=Sensitivity(sensitivity) if sensitivity else None,
        note=note,
    )
    click.echo(
        f"{record.name_stem}: {shown(record.process)} / {shown(record.stage)} / "
        f"{shown(record.record_type)} {shown(record.sensitivity)}"
    )


@click.command()
@click.argument("file", type=click.Path(allow_dash=True, dir_okay=False, path_type=Path))
@click.option("--project", help="Project name (项目名称) for a new record.")
@click.option("--date", "when", help="Date in the name: YYYY-MM (or YYYY-MM-DD). Default: now.")
@click.option("--title", help="Record title. Default: the file name.")
@click.option("--department", help="Department code or name.")
@click.option("--sensitivity", type=click.Choice([s.value for s in Sensitivity]))
@click.option("--record", "record_id", type=click.UUID, help="Store as the next version.")
@click.option("--major", is_flag=True, help="A major revision: 1.x becomes 2.0.")
@click.option("--filename", help="Original file name when FILE is - (standard input).")
@click.option("--author", help="责任者. Default: read from the text, if it shows one.")
@click.option("--doc-number", help="文号, e.g. 沪仓发〔2025〕12号. Default: read from the text.")
@click.option("--remarks", help="备注.")
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
    author: str | None,
    doc_number: str | None,
    remarks: str | None,
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
        "author": author,
        "doc_number": doc_number,
        "remarks": remarks,
    }
    arc = current_archive()
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
        reason = f"{shown(job.failed_check)}: {job.reason}" if job else "the job vanished"
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


@click.command("render-office")
@click.option("--limit", type=int, help="At most this many versions in this run.")
@friendly_errors
def render_office(limit: int | None) -> None:
    """Lay out as PDF the office documents archived without one (before office renditions
    existed, or while LibreOffice was missing), as ingest does now."""
    from ingest.backfill import render_missing

    def say(name: str, ok: bool) -> None:
        click.echo(f"{'rendered' if ok else 'NOT rendered'}  {name}")

    done = render_missing(current_archive(), Actor.cli(), limit, progress=say)
    for name, why in done.failed:
        click.echo(f"{name}: {why}", err=True)
    click.echo(f"{done.rendered} rendered, {len(done.failed)} could not be laid out")
