"""Disposition lists (销毁清册, and transfer lists): prepare, freeze, sign, execute.

A records manager prepares a list of due, unheld records with an appraisal opinion, then
submits it: each item's description (档号, class, versions and their SHA-256) is frozen and
the list gets a digest. Signers sign that digest; a change sends the list back to draft and
old signatures no longer count. Only a list carrying every required signature executes.
Destroying crypto-shreds every version (originals and renditions) and leaves a tombstone.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.audit import Actor, record_event
from archive.config import RetentionSettings
from archive.db import advisory_xact_lock, local_today, utcnow
from archive.errors import DomainError, raise_all
from archive.models import (
    Disposal,
    DispositionItem,
    DispositionList,
    ListStatus,
    Record,
    RecordState,
    Role,
    Signature,
    SignerRole,
    User,
)
from archive.record_facts import describe
from archive.roles import DEPARTMENT_HEADS
from archive.text import clean_text
from retention.clock import eligible_from, is_eligible
from retention.errors import Conflict, NotFound, RetentionError, Unnumbered
from retention.holds import ensure_free
from retention.signed import content_digest

PREFIX = {Disposal.DESTROY: "XH", Disposal.TRANSFER: "YJ"}  # 销毁 / 移交
OPEN = (ListStatus.DRAFT, ListStatus.SIGNING)


@dataclass(frozen=True, order=True)
class Slot:
    """A signature a list needs: a role, and for department heads, the department."""

    role: SignerRole
    department_id: int | None = None


#: The longest appraisal opinion (鉴定意见) a list keeps: it is printed on the register.
OPINION_LIMIT = 1000


def get_list(session: Session, list_id: int, lock: bool = False) -> DispositionList:
    lst = (
        session.get(DispositionList, list_id, with_for_update=lock)
        if 0 < list_id < 2**31  # a number no table holds is simply not found
        else None
    )
    if lst is None:
        raise NotFound("no such list", code="no_list")
    return lst


def _number(session: Session, action: Disposal) -> str:
    advisory_xact_lock(session, "retention:list-number")
    stem = f"{PREFIX[action]}-{local_today().year}-"
    count = session.scalar(
        select(func.count()).where(DispositionList.number.startswith(stem, autoescape=True))
    )
    return f"{stem}{(count or 0) + 1:04d}"


def _receiver(action: Disposal, receiver: str) -> str:
    name = clean_text(receiver, "the receiving party", 200, multiline=False)
    if name and action != Disposal.TRANSFER:
        raise RetentionError(
            "only a transfer list has a receiving party", code="receiver_transfer", field="receiver"
        )
    return name


def set_receiver(session: Session, actor: Actor, lst: DispositionList, receiver: str) -> None:
    """Name the party a transfer list goes to (接收方), while the list is a draft."""
    require(lst, ListStatus.DRAFT)
    lst.receiver = _receiver(lst.action, receiver)
    record_event(
        session, actor, "disposition.receiver_set", "disposition_list", lst.number,
        {"receiver": lst.receiver},
    )  # fmt: skip


def create_list(
    session: Session,
    actor: Actor,
    action: Disposal,
    record_ids: Sequence[uuid.UUID] = (),
    opinion: str = "",
    swept: bool = False,
    receiver: str = "",
) -> DispositionList:
    if action not in PREFIX:
        raise RetentionError("a list either destroys or transfers")
    lst = DispositionList(
        number=_number(session, action),
        action=action,
        opinion=clean_text(opinion, "the appraisal opinion", OPINION_LIMIT),
        receiver=_receiver(action, receiver),
        proposed_by_sweep=swept,
        created_by=actor.name,
    )
    session.add(lst)
    session.flush()
    record_event(
        session,
        actor,
        "disposition.list_created",
        "disposition_list",
        lst.number,
        {"action": action.value, "swept": swept},
    )
    if record_ids:
        add_records(session, actor, lst, record_ids)
    return lst


def require(lst: DispositionList, *statuses: ListStatus) -> None:
    if lst.status not in statuses:
        wanted = " or ".join(s.value for s in statuses)
        raise Conflict(
            f"list {lst.number} is {lst.status.value}; this needs it {wanted}",
            code="list_state",
            params={"list": lst.number, "state": lst.status.value},
        )


def ensure_numbered(record: Record, action: Disposal) -> None:
    """Refuse a record without its 档号, saying why it has none and what to do."""
    if record.reference_code is not None:
        return
    if record.needs_review:
        reason = "review"
    elif record.schedule_id is None:
        reason = "unscheduled"
    else:
        reason = "pending"
    raise Unnumbered(record.name_stem, reason, action.value)


def add_records(
    session: Session, actor: Actor, lst: DispositionList, record_ids: Iterable[uuid.UUID]
) -> int:
    """Add due, active, unheld records, each with its 档号, that are on no other open list.
    Every refused record is named in one answer (:class:`archive.errors.Problems`), and then
    none is added: a records manager fixes the whole choice at once, not one per attempt."""
    require(lst, ListStatus.DRAFT)
    today, added = local_today(), 0
    present = {item.record_id for item in lst.items}
    problems: list[DomainError] = []
    for record_id in dict.fromkeys(record_ids):
        if record_id in present:
            continue
        try:
            _check_listable(session, lst, record_id, today)
        except DomainError as refusal:
            refusal.field = refusal.field or "records"
            problems.append(refusal)
            continue
        session.add(DispositionItem(list_id=lst.id, record_id=record_id))
        added += 1
    raise_all(problems)
    session.flush()
    session.refresh(lst)
    if added:
        record_event(
            session,
            actor,
            "disposition.items_added",
            "disposition_list",
            lst.number,
            {"added": added, "total": len(lst.items)},
        )
    return added


def _check_listable(
    session: Session, lst: DispositionList, record_id: uuid.UUID, today: date
) -> None:
    """Raise why ``record_id`` may not go on ``lst``; nothing if it may."""
    record = session.get(Record, record_id)
    if record is None:
        raise NotFound(f"no record {record_id}", code="no_record", field="records")
    if record.state != RecordState.ACTIVE:
        raise Conflict(
            f"record {record.name_stem} is {record.state.value}",
            code="record_state",
            field="records",
            params={"name": record.name_stem, "state": record.state.value},
        )
    ensure_numbered(record, lst.action)
    if not is_eligible(record.due_on, today):
        when = (
            f"kept until {record.due_on.isoformat()}, eligible from "
            f"{eligible_from(record.due_on).isoformat()}"
            if record.due_on
            else "never (permanent or waiting)"
        )
        raise RetentionError(
            f"record {record.name_stem} is not due: {when}",
            code="not_due" if record.due_on else "never_due",
            field="records",
            params={
                "name": record.name_stem,
                "due": record.due_on.isoformat() if record.due_on else "",
                "eligible": eligible_from(record.due_on).isoformat() if record.due_on else "",
            },
        )
    ensure_free(session, record.id, f"{lst.action.value} (list {lst.number})")
    other = session.scalar(
        select(DispositionList.number)
        .join(DispositionItem)
        .where(
            DispositionItem.record_id == record_id,
            DispositionList.status.in_(OPEN),
            DispositionList.id != lst.id,
        )
    )
    if other is not None:
        raise Conflict(
            f"record {record.name_stem} is already on list {other}",
            code="on_other_list",
            field="records",
            params={"name": record.name_stem, "list": other},
        )


def remove_records(
    session: Session, actor: Actor, lst: DispositionList, record_ids: Iterable[uuid.UUID]
) -> int:
    require(lst, ListStatus.DRAFT)
    wanted = set(record_ids)
    removed = [item for item in lst.items if item.record_id in wanted]
    for item in removed:
        session.delete(item)
    session.flush()
    session.refresh(lst)
    record_event(
        session,
        actor,
        "disposition.items_removed",
        "disposition_list",
        lst.number,
        {"removed": [str(i.record_id) for i in removed]},
    )
    return len(removed)


def set_opinion(session: Session, actor: Actor, lst: DispositionList, opinion: str) -> None:
    require(lst, ListStatus.DRAFT)
    before, lst.opinion = lst.opinion, clean_text(opinion, "the appraisal opinion", OPINION_LIMIT)
    record_event(
        session,
        actor,
        "disposition.opinion_set",
        "disposition_list",
        lst.number,
        {"before": before, "after": lst.opinion},
    )


def submit(session: Session, actor: Actor, lst: DispositionList) -> str:
    """Freeze the list for signing; returns the digest the signers sign."""
    require(lst, ListStatus.DRAFT)
    if not lst.items:
        raise RetentionError(f"list {lst.number} is empty", code="list_empty")
    if not lst.opinion:
        raise RetentionError(
            f"list {lst.number} needs an appraisal opinion (鉴定意见)",
            code="list_opinion",
            field="opinion",
        )
    if lst.action == Disposal.TRANSFER and not lst.receiver:
        raise RetentionError(
            f"list {lst.number} needs its receiving party (接收方): name the archive it goes to",
            code="list_receiver",
            field="receiver",
        )
    for item in lst.items:
        ensure_free(session, item.record_id, f"{lst.action.value} (list {lst.number})")
        ensure_numbered(item.record, lst.action)  # a list drafted before numbering was required
        item.snapshot = describe(session, item.record)
    lst.status, lst.submitted_at = ListStatus.SIGNING, utcnow()
    lst.digest = content_digest(lst)
    record_event(
        session,
        actor,
        "disposition.submitted",
        "disposition_list",
        lst.number,
        {"digest": lst.digest, "items": len(lst.items)},
    )
    return lst.digest


def required_slots(settings: RetentionSettings, lst: DispositionList) -> list[Slot]:
    slots = []
    for role in settings.signers:
        if role == SignerRole.DEPARTMENT_HEAD:
            departments = {i.record.department_id for i in lst.items} - {None}
            slots += [Slot(SignerRole.DEPARTMENT_HEAD, d) for d in sorted(departments)]  # type: ignore[type-var]
        else:
            slots.append(Slot(SignerRole(role)))
    return slots


def valid_signatures(lst: DispositionList) -> list[Signature]:
    return [s for s in lst.signatures if lst.digest is not None and s.digest == lst.digest]


def missing_slots(settings: RetentionSettings, lst: DispositionList) -> list[Slot]:
    signed = {Slot(s.role, s.department_id) for s in valid_signatures(lst)}
    return [slot for slot in required_slots(settings, lst) if slot not in signed]


def _fits(user: User, slot: Slot) -> bool:
    if slot.role == SignerRole.RECORDS_MANAGER:
        return user.role == Role.RECORDS_MANAGER
    if slot.role == SignerRole.DIRECTOR:
        return user.role == Role.DIRECTOR
    return user.role in DEPARTMENT_HEADS and user.department_id == slot.department_id


def open_slots_for(settings: RetentionSettings, lst: DispositionList, user: User) -> list[Slot]:
    """The signatures ``user`` could still give (one person signs a list once)."""
    if not user.active or lst.status != ListStatus.SIGNING:
        return []
    if any(s.user_id == user.id for s in valid_signatures(lst)):
        return []
    return [slot for slot in missing_slots(settings, lst) if _fits(user, slot)]


def sign(
    session: Session,
    actor: Actor,
    settings: RetentionSettings,
    lst: DispositionList,
    user: User,
    role: SignerRole | None = None,
    opinion: str = "",
) -> Signature:
    require(lst, ListStatus.SIGNING)
    slots = open_slots_for(settings, lst, user)
    if role is not None:
        slots = [slot for slot in slots if slot.role == role]
    if not slots:
        raise Conflict(
            f"{user.username} has no signature to give on list {lst.number}", code="no_signature"
        )
    if len(slots) > 1:
        roles = ", ".join(slot.role.value for slot in slots)
        raise RetentionError(
            f"{user.username} may sign as {roles}: say which", code="sign_as", field="role"
        )
    slot = slots[0]
    assert lst.digest is not None  # noqa: S101 - SIGNING lists always carry one
    signature = Signature(
        list_id=lst.id,
        role=slot.role,
        department_id=slot.department_id,
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        digest=lst.digest,
        opinion=opinion.strip(),
        ip=actor.ip,
    )
    session.add(signature)
    session.flush()
    session.refresh(lst)
    record_event(
        session,
        actor,
        "disposition.signed",
        "disposition_list",
        lst.number,
        {
            "user_id": user.id,  # the signer: at the console, not who runs the command
            "role": slot.role.value,
            "department_id": slot.department_id,
            "digest": lst.digest,
            "opinion": signature.opinion,
        },
    )
    return signature


def send_back(session: Session, actor: Actor, lst: DispositionList, reason: str) -> None:
    """A signer (or the records manager) refuses: the list returns to draft; the signatures
    given stay on file but no longer count once anything changes."""
    require(lst, ListStatus.SIGNING)
    if not reason.strip():
        raise RetentionError("sending a list back needs a reason", code="required", field="reason")
    lst.status = ListStatus.DRAFT
    record_event(
        session,
        actor,
        "disposition.sent_back",
        "disposition_list",
        lst.number,
        {"reason": reason, "digest": lst.digest},
    )
    lst.digest = None


def cancel(session: Session, actor: Actor, lst: DispositionList, reason: str) -> None:
    require(lst, *OPEN)
    if not reason.strip():
        raise RetentionError("cancelling a list needs a reason", code="required", field="reason")
    lst.status = ListStatus.CANCELLED
    record_event(
        session, actor, "disposition.cancelled", "disposition_list", lst.number, {"reason": reason}
    )
