"""``archive index ...``: the search index (one writer: these commands, or the ``index``
queue's worker)."""

from __future__ import annotations

import sys

import click
from sqlalchemy import func, select

from access.cli.common import current_archive, friendly_errors
from archive.models import Record


@click.group("index")
def index_group() -> None:
    """The search index (one writer: these commands, or the `index` queue's worker)."""


@index_group.command("rebuild")
@friendly_errors
def index_rebuild() -> None:
    """Build a fresh index from the database, streaming in chunks."""
    from search.indexer import rebuild

    arc = current_archive()
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

    report = check(current_archive(), fix=fix)
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

    report = flush_all(current_archive())
    click.echo(f"{report.indexed} indexed, {report.removed} removed")


@index_group.command("merge")
@click.option(
    "--share",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    default=0.1,
    show_default=True,
    help="Rewrite segments with at least this share of their documents deleted.",
)
@friendly_errors
def index_merge(share: float) -> None:
    """Drop deleted documents from the index now (the `index` worker does this hourly)."""
    from search.indexer import merge_deletions

    click.echo(f"{merge_deletions(current_archive(), share=share)} deleted documents dropped")
