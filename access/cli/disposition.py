"""``archive retention list ...``: disposition lists from the command line.

Signing names the person who signs with ``--as``: whoever runs the CLI already holds the
database and the keyring, so the signature's worth rests on that person's word, and the
audit records who ran the command.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from access.cli.common import (
    current_archive,
    echo_json,
    file_kind,
    friendly_errors,
    second_person,
)
from access.list_json import list_json
from archive.audit import Actor
from archive.models import Disposal, DispositionList, SignerRole
from ingest.package import check_transfer_folder
from retention import disposition, reports
from retention.execution import execute
from retention.handover import record_receipt
from retention.holds import refusals_audited
from retention.register_files import register_pdf, register_xlsx
from retention.registers import list_register
from retention.witness import open_witness_slots, witness_list


@click.group("list")
def list_() -> None:
    """Disposition lists: create, edit, submit, sign, execute, certificate."""


def _list_id(session: Any, ref: str) -> int:
    lst = session.scalar(
        select(DispositionList).where(
            DispositionList.number == ref if not ref.isdigit() else DispositionList.id == int(ref)
        )
    )
    if lst is None:
        raise click.ClickException(f"no disposition list {ref}")
    return int(lst.id)


@list_.command("show")
@click.argument("ref", required=False)
@friendly_errors
def list_show(ref: str | None) -> None:
    """Show one list (by number or id), or all of them."""
    arc = current_archive()
    with arc.sessions() as session:
        if ref is None:
            rows = session.scalars(select(DispositionList).order_by(DispositionList.id)).all()
            for lst in rows:
                click.echo(f"{lst.id:>4} {lst.number} {lst.action.value:<8} "
                           f"{lst.status.value:<9} {len(lst.items)} records")  # fmt: skip
            return
        lst = disposition.get_list(session, _list_id(session, ref))
        echo_json(list_json(lst, arc.settings.retention))


@list_.command("create")
@click.option("--action", type=click.Choice(["destroy", "transfer"]), default="destroy")
@click.option("--record", "records", type=click.UUID, multiple=True)
@click.option("--opinion", default="")
@click.option("--receiver", default="", help="A transfer's receiving party (接收方).")
@friendly_errors
def list_create(action: str, records: tuple[uuid.UUID, ...], opinion: str, receiver: str) -> None:
    arc, actor = current_archive(), Actor.cli()
    with refusals_audited(arc, actor), arc.transaction() as session:
        lst = disposition.create_list(
            session, actor, Disposal(action), list(records), opinion, receiver=receiver
        )
        click.echo(f"list {lst.number} (id {lst.id}) created with {len(lst.items)} records")


@list_.command("edit")
@click.argument("ref")
@click.option("--opinion")
@click.option("--add", "add", type=click.UUID, multiple=True)
@click.option("--remove", "remove", type=click.UUID, multiple=True)
@friendly_errors
def list_edit(
    ref: str, opinion: str | None, add: tuple[uuid.UUID, ...], remove: tuple[uuid.UUID, ...]
) -> None:
    arc, actor = current_archive(), Actor.cli()
    with refusals_audited(arc, actor), arc.transaction() as session:
        lst = disposition.get_list(session, _list_id(session, ref), lock=True)
        if opinion is not None:
            disposition.set_opinion(session, actor, lst, opinion)
        disposition.add_records(session, actor, lst, add)
        if remove:
            disposition.remove_records(session, actor, lst, remove)
        click.echo(f"list {lst.number}: {len(lst.items)} records")


@list_.command("submit")
@click.argument("ref")
@friendly_errors
def list_submit(ref: str) -> None:
    """Freeze the list for signing and print the digest the signers sign."""
    arc, actor = current_archive(), Actor.cli()
    with refusals_audited(arc, actor), arc.transaction() as session:
        lst = disposition.get_list(session, _list_id(session, ref), lock=True)
        digest = disposition.submit(session, actor, lst)
        click.echo(f"list {lst.number} submitted for signing; digest {digest}")


@list_.command("sign")
@click.argument("ref")
@click.option("--as", "username", required=True, help="The person signing.")
@click.option("--role", type=click.Choice([r.value for r in SignerRole]))
@click.option("--opinion", default="")
@friendly_errors
def list_sign(ref: str, username: str, role: str | None, opinion: str) -> None:
    """Sign a list as USERNAME, who types their own password: the operator alone cannot
    give every signature a destruction needs."""
    arc = current_archive()
    with arc.transaction() as session:
        signer = second_person(session, username)
        actor = Actor(name=f"{signer.username} via {Actor.cli().name}"[:64], user_id=signer.id)
        lst = disposition.get_list(session, _list_id(session, ref), lock=True)
        signature = disposition.sign(
            session, actor, arc.settings.retention, lst, signer,
            SignerRole(role) if role else None, opinion,
        )  # fmt: skip
        missing = disposition.missing_slots(arc.settings.retention, lst)
        click.echo(f"{username} signed {lst.number} as {signature.role.value}; "
                   f"{len(missing)} signatures missing")  # fmt: skip


@list_.command("send-back")
@click.argument("ref")
@click.option("--reason", required=True)
@friendly_errors
def list_send_back(ref: str, reason: str) -> None:
    with current_archive().transaction() as session:
        lst = disposition.get_list(session, _list_id(session, ref), lock=True)
        disposition.send_back(session, Actor.cli(), lst, reason)
    click.echo("list returned to draft; signatures given no longer count")


@list_.command("cancel")
@click.argument("ref")
@click.option("--reason", required=True)
@friendly_errors
def list_cancel(ref: str, reason: str) -> None:
    with current_archive().transaction() as session:
        lst = disposition.get_list(session, _list_id(session, ref), lock=True)
        disposition.cancel(session, Actor.cli(), lst, reason)
    click.echo("list cancelled")


@list_.command("execute")
@click.argument("ref")
@click.confirmation_option(prompt="Destroy (or transfer) every record on the list. Continue?")
@friendly_errors
def list_execute(ref: str) -> None:
    arc = current_archive()
    with arc.sessions() as session:
        list_id = _list_id(session, ref)
    result = execute(arc, Actor.cli(), list_id, check_transfer_folder)
    click.echo(f"list {result.number} executed: {result.done} done, {len(result.skipped)} skipped")
    for name, why in result.skipped:
        click.echo(f"  skipped {name}: {why}", err=True)
    if result.package:
        click.echo(f"package: {result.package}")


@list_.command("certificate")
@click.argument("ref")
@click.option("--format", "kind", type=click.Choice(["pdf", "csv"]), help="Default: from -o.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True)
@friendly_errors
def list_certificate(ref: str, kind: str | None, output: Path) -> None:
    """Write the list's certificate (what, when, who signed, digests) as PDF or CSV."""
    kind = file_kind(kind, output, ("pdf", "csv"))
    with current_archive().sessions() as session:
        lst = disposition.get_list(session, _list_id(session, ref))
        if kind == "csv":
            output.write_text(reports.certificate_csv(lst), "utf-8")
        else:
            output.write_bytes(reports.certificate_pdf(lst))
    click.echo(f"wrote {output}")


@list_.command("witness")
@click.argument("ref")
@click.option("--as", "username", required=True, help="The person who witnessed it (监销人).")
@click.option("--slot", help="records_manager, department:<code>, finance or it, if several fit.")
@click.option("--statement", default="", help="What they attest; a standard sentence if empty.")
@friendly_errors
def list_witness(ref: str, username: str, slot: str | None, statement: str) -> None:
    """Sign that an executed destruction list was carried out as listed (监销), as USERNAME,
    who types their own password; the last witness closes the list and files its 销毁清册."""
    arc = current_archive()
    with arc.sessions() as session:
        person = second_person(session, username)  # their own password, as for signing
        list_id = _list_id(session, ref)
    actor = Actor(name=f"{person.username} via {Actor.cli().name}"[:64], user_id=person.id)
    row = witness_list(arc, actor, list_id, person.id, slot, statement)
    with arc.sessions() as session:
        lst = disposition.get_list(session, list_id)
        left = open_witness_slots(session, arc.settings.retention, lst)
    click.echo(f"{username} witnessed {lst.number} as {row.capacity}; "
               + ("list closed" if not left else f"{len(left)} witnesses missing"))  # fmt: skip


@list_.command("register")
@click.argument("ref")
@click.option("--format", "kind", type=click.Choice(["pdf", "xlsx"]), help="Default: from -o.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True)
@friendly_errors
def list_register_file(ref: str, kind: str | None, output: Path) -> None:
    """Write the list's 销毁清册 or 移交清册 as PDF or XLSX."""
    kind = file_kind(kind, output, ("pdf", "xlsx"))
    arc = current_archive()
    with arc.sessions() as session:
        register = list_register(
            session, arc.settings, disposition.get_list(session, _list_id(session, ref))
        )
    output.write_bytes(register_pdf(register) if kind == "pdf" else register_xlsx(register))
    click.echo(f"wrote {output}")


@list_.command("receipt")
@click.argument("ref")
@click.argument("receipt", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@friendly_errors
def list_receipt(ref: str, receipt: Path) -> None:
    """Record the receiving archive's signed receipt (from its `archive transfer import`)."""
    arc = current_archive()
    with arc.sessions() as session:
        list_id = _list_id(session, ref)
    try:
        body = json.loads(receipt.read_text("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise click.ClickException(f"{receipt} is not a receipt (JSON)") from None
    key = record_receipt(arc, Actor.cli(), list_id, body)
    click.echo(f"receipt recorded on {ref}; the receiving archive signed with key {key}")
