"""``archive retention ...``: the file plan, events, holds, reviews, the sweep and reports,
for records managers at a terminal (the lists are in :mod:`access.cli.disposition`).

The CLI acts as its operator (``cli:user@host`` in the audit).
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import click

from access.cli.common import (
    current_archive,
    echo_json,
    echo_table,
    file_kind,
    friendly_errors,
    second_person,
    shown,
)
from archive.audit import Actor
from archive.models import HoldScope
from archive.vocabulary import period_with_code, term
from archive.volumes import list_volumes
from retention import reports
from retention.appraisal import appraisal_queue
from retention.catalogue import catalogue
from retention.deletion import confirm_deletion, request_deletion
from retention.holds import hold_json, list_holds, place_hold, release_hold
from retention.register_files import register_pdf, register_xlsx
from retention.review import cut_off, review
from retention.schedules import (
    add_event_type,
    current_schedules,
    event_codes,
    export_plan,
    load_plan,
    retire_schedule,
    save_schedule,
    schedule_json,
    spec_from_dict,
)
from retention.status import record_occurrence, refresh_dirty, void_occurrence
from retention.sweep import sweep

DATE = click.DateTime(formats=["%Y-%m-%d"])


def _day(value: Any) -> date | None:
    return value.date() if value is not None else None


@click.group()
def retention() -> None:
    """Retention schedules, events, holds and disposition (销毁清册)."""


@retention.group()
def plan() -> None:
    """The file plan: schedules by class and the event types they wait for."""


@plan.command("load")
@click.argument("file", type=click.File("rb"), required=False)
@friendly_errors
def plan_load(file: Any) -> None:
    """Load a file plan (JSON, as 'plan export' writes); without FILE, the default plan."""
    arc = current_archive()
    data = json.loads(file.read().decode("utf-8")) if file else None
    with arc.transaction() as session:
        report = load_plan(session, Actor.cli(), data)
    recomputed = refresh_dirty(arc)
    click.echo(
        f"{report.created} schedules created, {report.changed} changed, "
        f"{report.unchanged} unchanged; {recomputed} records recomputed"
    )


@plan.command("export")
@friendly_errors
def plan_export() -> None:
    """Print the current file plan as JSON (edit it and load it back)."""
    with current_archive().sessions() as session:
        echo_json(export_plan(session))


@retention.command("schedules")
@friendly_errors
def schedules() -> None:
    """List the current schedules: key, version, 保管期限, clock, action, 门类, filing unit."""
    arc = current_archive()
    settings = arc.settings
    rows = []
    with arc.sessions() as session:
        for row in current_schedules(session):
            data = schedule_json(row)
            selector = "/".join(v or "*" for v in (row.process, row.stage, row.record_type))
            start = shown(row.trigger) + (f"({','.join(row.events)})" if row.events else "")
            filed = shown(row.volume_by or "month" if data["filing"] == "volume" else "item")
            rows.append(
                [
                    row.key,
                    row.name,
                    row.version,
                    period_with_code(data["code"]),
                    start,
                    shown(row.disposal),
                    row.category or settings.category_code,
                    filed,
                    selector,
                ]
            )
    echo_table(SCHEDULE_HEADINGS, rows)


SCHEDULE_HEADINGS = (
    "键 Key",
    "名称 Name",
    "版 Edition",
    "保管期限 Period",
    "起算 Counted from",
    "到期处置 At the end",
    "门类 Category",
    "整理 Filing",
    "适用 Applies to",
)


@retention.command("volumes")
@click.option("--series", help="Only the series starting so (Z109-KJ·2023).")
@friendly_errors
def volumes(series: str | None) -> None:
    """List the volumes (案卷): 档号, dates (起止日期), items, title."""
    with current_archive().sessions() as session:
        for row in list_volumes(session, series):
            click.echo(f"{row.code:<32} {row.start_on} – {row.end_on} {row.items:>5}  {row.title}")


@retention.command("schedule-set")
@click.argument("key")
@click.argument("spec_json")
@friendly_errors
def schedule_set(key: str, spec_json: str) -> None:
    """Create or change schedule KEY from JSON, e.g. '{"name": "报告", "record_type":
    "report", "code": "D10", "trigger": "year_end", "disposal": "review"}'."""
    arc = current_archive()
    with arc.transaction() as session:
        spec = spec_from_dict({**json.loads(spec_json), "key": key}, event_codes(session))
        row, changed = save_schedule(session, Actor.cli(), spec)
        version = row.version
    recomputed = refresh_dirty(arc)
    state = f"now version {version}" if changed else "unchanged"
    click.echo(f"schedule {key} {state}; {recomputed} records recomputed")


@retention.command("schedule-retire")
@click.argument("key")
@click.option("--reason", required=True)
@friendly_errors
def schedule_retire(key: str, reason: str) -> None:
    """Withdraw a schedule; its records fall to the next most specific one."""
    arc = current_archive()
    with arc.transaction() as session:
        retire_schedule(session, Actor.cli(), key, reason)
    click.echo(f"schedule {key} retired; {refresh_dirty(arc)} records recomputed")


@retention.command("event-type")
@click.argument("code")
@click.argument("label")
@friendly_errors
def event_type(code: str, label: str) -> None:
    """Add a user-defined event type (e.g. warranty_expired '质保期满')."""
    with current_archive().transaction() as session:
        add_event_type(session, Actor.cli(), code, label)
    click.echo(f"event type {code} ready")


@retention.command("event")
@click.argument("event_type")
@click.option("--date", "occurred", type=DATE, required=True, help="When it happened.")
@click.option("--project", help="The project it happened to.")
@click.option("--record", "record_id", type=click.UUID, help="Or the record.")
@click.option("--note", default="")
@friendly_errors
def event(
    event_type: str, occurred: Any, project: str | None, record_id: uuid.UUID | None, note: str
) -> None:
    """Record an event (contract_terminated, project_accepted, ...): clocks start."""
    arc = current_archive()
    with arc.transaction() as session:
        row = record_occurrence(
            session, Actor.cli(), event_type, occurred.date(),
            project=project, record_id=record_id, note=note,
        )  # fmt: skip
        event_id = row.id
    click.echo(f"event #{event_id} recorded; {refresh_dirty(arc)} records recomputed")


@retention.command("event-void")
@click.argument("event_id", type=int)
@click.option("--reason", required=True)
@friendly_errors
def event_void(event_id: int, reason: str) -> None:
    """Void an event recorded in error; the clocks it started wait again."""
    arc = current_archive()
    with arc.transaction() as session:
        void_occurrence(session, Actor.cli(), event_id, reason)
    click.echo(f"event #{event_id} void; {refresh_dirty(arc)} records recomputed")


@retention.group()
def hold() -> None:
    """Holds: while any covers a record, it cannot be cut off, destroyed, deleted or moved."""


@hold.command("place")
@click.option("--name", required=True)
@click.option("--reason", required=True)
@click.option("--record", "records", type=click.UUID, multiple=True, help="Repeatable.")
@click.option("--project", help="Every record of this project, now and later.")
@click.option("--query", "query", multiple=True, help="FIELD=VALUE, repeatable (metadata).")
@friendly_errors
def hold_place(
    name: str, reason: str, records: tuple[uuid.UUID, ...], project: str | None,
    query: tuple[str, ...],
) -> None:  # fmt: skip
    """Place a hold on records, a project or a metadata query."""
    if sum(map(bool, (records, project, query))) != 1:
        raise click.UsageError("give exactly one of --record, --project or --query")
    scope = HoldScope.RECORDS if records else HoldScope.PROJECT if project else HoldScope.QUERY
    conditions = dict(item.split("=", 1) for item in query if "=" in item)
    with current_archive().transaction() as session:
        placed, count = place_hold(
            session, Actor.cli(), name=name, reason=reason, scope=scope,
            record_ids=list(records), project=project, query=conditions or None,
        )  # fmt: skip
        click.echo(f"hold #{placed.id} placed: {count} records held")


@hold.command("release")
@click.argument("hold_id", type=int)
@click.option("--reason", required=True)
@friendly_errors
def hold_release(hold_id: int, reason: str) -> None:
    with current_archive().transaction() as session:
        release_hold(session, Actor.cli(), hold_id, reason)
    click.echo(f"hold #{hold_id} released (other holds stay in force)")


@hold.command("list")
@click.option("--all", "everything", is_flag=True, help="Include released holds.")
@friendly_errors
def hold_list(everything: bool) -> None:
    with current_archive().sessions() as session:
        echo_json([hold_json(h, n) for h, n in list_holds(session, everything)])


@retention.command("sweep")
@friendly_errors
def sweep_now() -> None:
    """Recompute clocks and propose draft lists of due, unheld records now."""
    report = sweep(current_archive(), Actor.cli())
    click.echo(
        f"{report.refreshed} recomputed; proposed {report.proposed or 'nothing'} on "
        f"{', '.join(report.lists) or 'no list'}; {report.to_review} went to appraisal; "
        f"{report.held} due but held"
        + (f"; {report.unnumbered} due without a 档号, left off" if report.unnumbered else "")
    )


@retention.command("catalogue")
@click.option("--year", required=True, type=click.IntRange(1900, 2999), help="The 档号's 年度.")
@click.option("--department", help="机构代码, e.g. CG; all departments if left out.")
@click.option("--code", help="保管期限, e.g. D30 or Y; all periods if left out.")
@click.option("--category", help="门类, e.g. WS or KJ; all categories if left out.")
@click.option("--format", "kind", type=click.Choice(["pdf", "xlsx"]), help="Default: from -o.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--prepared-by", default="", help="整理人, printed on the 备考表.")
@friendly_errors
def catalogue_file(
    year: int,
    department: str | None,
    code: str | None,
    category: str | None,
    kind: str | None,
    output: Path,
    prepared_by: str,
) -> None:
    """Write the 归档文件目录 of a year (with its 备考表) as PDF or XLSX."""
    kind = file_kind(kind, output, ("pdf", "xlsx"))
    arc = current_archive()
    with arc.sessions() as session:
        register = catalogue(
            session, arc.settings, year, department, code, prepared_by, category=category
        )
    output.write_bytes(register_pdf(register) if kind == "pdf" else register_xlsx(register))
    click.echo(f"wrote {output}: {len(register.rows)} records")


@retention.command("due")
@click.option("--months", default=12, show_default=True, type=click.IntRange(0, 600))
@friendly_errors
def due(months: int) -> None:
    """Records due within N months (overdue included), by department, class and month."""
    with current_archive().sessions() as session:
        echo_json(reports.due_report(session, months))


@retention.command("codes")
@friendly_errors
def codes() -> None:
    """Active records per retention code."""
    with current_archive().sessions() as session:
        echo_json(reports.codes_report(session))


@retention.command("review-queue")
@friendly_errors
def queue() -> None:
    """Due records whose schedule asks for an appraisal."""
    with current_archive().sessions() as session:
        rows = [
            [
                w.reference_code or w.name,
                w.title,
                f"{w.schedule_name} {period_with_code(w.retention_code)}",
                f"{w.counts_from}（{term(w.trigger)}）",
                w.kept_until,
                w.eligible_from,
                w.record_id,
            ]
            for w in appraisal_queue(session)
        ]
    echo_table(
        (
            "档号 Reference code",
            "题名 Title",
            "期限表 Schedule",
            "起算日 Counted from",
            "保管至 Kept until",
            "可处置 Eligible from",
            "档案 ID Record id",
        ),
        rows,
    )


@retention.command("review")
@click.argument("record_id", type=click.UUID)
@click.option("--opinion", required=True, help="The appraisal opinion (鉴定意见).")
@click.option("--department-opinion", default="", help="The department's opinion (部门意见).")
@click.option("--outcome", required=True, type=click.Choice(["extend", "reschedule", "destroy",
                                                              "transfer"]))  # fmt: skip
@click.option("--until", type=DATE)
@click.option("--years", type=click.IntRange(1, 200))
@click.option("--schedule")
@friendly_errors
def review_record(
    record_id: uuid.UUID, opinion: str, department_opinion: str, outcome: str, until: Any,
    years: int | None, schedule: str | None,
) -> None:  # fmt: skip
    """Record an appraisal and carry out its outcome."""
    row = review(current_archive(), Actor.cli(), record_id, opinion=opinion, outcome=outcome,
                 until=_day(until), years=years, schedule=schedule,
                 department_opinion=department_opinion)  # fmt: skip
    click.echo(f"reviewed: {row.outcome}; due {row.due_before} → {row.due_after or 'never'}")


@retention.command("cut-off")
@click.argument("record_id", type=click.UUID)
@click.option("--on", type=DATE, help="Default: today.")
@friendly_errors
def cut_off_record(record_id: uuid.UUID, on: Any) -> None:
    """Close a record: no more versions; its clock counts from the cut-off."""
    record = cut_off(current_archive(), Actor.cli(), record_id, _day(on))
    click.echo(f"{record.name_stem} cut off on {record.cut_off_on}; due {record.due_on}")


@retention.command("delete")
@click.argument("record_id", type=click.UUID)
@click.option("--reason", required=True)
@friendly_errors
def delete(record_id: uuid.UUID, reason: str) -> None:
    """Ask to delete a record filed in error (within ARCHIVE_MISFILE_DAYS of filing); a
    director or the record's department head confirms with 'delete-confirm'."""
    deletion = request_deletion(current_archive(), Actor.cli(), record_id, reason)
    click.echo(f"deletion #{deletion.id} of {record_id} waits for a second person's confirmation")


@retention.command("delete-confirm")
@click.argument("deletion_id", type=int)
@click.option("--as", "username", required=True, help="The director or department head.")
@click.confirmation_option(prompt="This destroys every version of the record forever. Continue?")
@friendly_errors
def delete_confirm(deletion_id: int, username: str) -> None:
    """Confirm a deletion as a second person (asked for their password): the record is
    crypto-shredded, tombstoned and audited."""
    arc = current_archive()
    with arc.sessions() as session:
        person = second_person(session, username)
        actor = Actor(name=f"{person.username} via {Actor.cli().name}"[:64], user_id=person.id)
    keys = confirm_deletion(arc, actor, person.id, deletion_id)
    click.echo(f"deletion #{deletion_id} confirmed; {keys} data keys destroyed")
