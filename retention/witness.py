"""Witnessed destruction (监销): after a destruction list is executed, the people the settings
name sign that they saw it done as listed; the list is closed only when every slot is signed.

By default the slots are the records manager and a representative of each department whose
records were on the list; a list holding accounting records also needs finance (the
accounting body) and IT (the information system's keepers, here the system administrators),
after 会计档案管理办法 第十六条. One person fills one slot of a list, and a signature, like an
approval, is never changed or removed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.audit import SYSTEM, Actor, record_event
from archive.config import RetentionSettings
from archive.core import Archive
from archive.db import utcnow
from archive.models import (
    Department,
    Disposal,
    DispositionItem,
    DispositionList,
    ListStatus,
    Role,
    User,
    Witness,
)
from archive.text import clean_text
from retention.disposition import get_list
from retention.errors import Conflict, NotFound, RetentionError
from retention.registers import destroyed_count, file_closed_register

#: The longest witness statement kept (it is printed on the register).
STATEMENT_LIMIT = 500
#: Who cannot stand for a department: the archive's own people witness as the archive, the
#: administrators hold the system's keys, auditors watch from outside.
NOT_DEPARTMENT_STAFF = frozenset(
    {Role.RECORDS_MANAGER, Role.ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR}
)


@dataclass(frozen=True)
class WitnessSlot:
    key: str  # records_manager, department:XS, finance, it
    capacity: str  # what the register prints


def _witnessed_items(lst: DispositionList) -> list[DispositionItem]:
    """What 监销 watches: once the list is carried out, the records actually destroyed (a
    record kept back, held or no longer due, calls no witness from its department)."""
    if lst.status == ListStatus.EXECUTED:
        return [item for item in lst.items if item.outcome == "destroyed"]
    return list(lst.items)


def _accounting(lst: DispositionList) -> bool:
    """Whether the list holds accounting records (会计档案): a record whose 档号 is in the 会计
    门类 (KJ, given by its class in the file plan). Not a process guessed from a keyword: a
    budget request in 文书 is not an accounting record."""
    for item in _witnessed_items(lst):
        code = (item.snapshot or {}).get("reference_code") or item.record.reference_code or ""
        if code.startswith("KJ·") or "-KJ·" in code:
            return True
    return False


def _department_codes(session: Session, lst: DispositionList) -> dict[str, str]:
    """机构代码 → name of each department whose records are on the list."""
    codes: dict[str, str] = {}
    for item in _witnessed_items(lst):
        snap = item.snapshot or {}
        code, name = snap.get("department"), snap.get("department_name")
        if not code and item.record.department is not None:
            code, name = item.record.department.code, item.record.department.name
        if code:
            codes[code] = name or code
    return dict(sorted(codes.items()))


def required_witnesses(
    session: Session, settings: RetentionSettings, lst: DispositionList
) -> list[WitnessSlot]:
    """The slots this list needs signed before it is closed (none for a transfer list)."""
    if lst.action != Disposal.DESTROY or not _witnessed_items(lst):
        return []  # a transfer, or nothing was destroyed after all: nothing to watch
    kinds = list(settings.destruction_witnesses)
    if _accounting(lst):
        kinds += [kind for kind in settings.accounting_witnesses if kind not in kinds]
    slots: list[WitnessSlot] = []
    for kind in kinds:
        if kind == "records_manager":
            slots.append(WitnessSlot("records_manager", "档案管理员"))
        elif kind == "departments":
            slots += [
                WitnessSlot(f"department:{code}", f"{name}部门代表")
                for code, name in _department_codes(session, lst).items()
            ]
        elif kind == "finance":
            finance = session.scalar(
                select(Department.name).where(Department.code == settings.finance_department)
            )
            slots.append(
                WitnessSlot("finance", f"会计管理机构（{finance or settings.finance_department}）")
            )
        elif kind == "it":
            slots.append(WitnessSlot("it", "信息系统管理机构（系统管理员）"))
    unique: dict[str, WitnessSlot] = {slot.key: slot for slot in slots}
    return list(unique.values())


def open_witness_slots(
    session: Session, settings: RetentionSettings, lst: DispositionList
) -> list[WitnessSlot]:
    signed = {w.slot for w in lst.witnesses}
    return [slot for slot in required_witnesses(session, settings, lst) if slot.key not in signed]


def fits(
    user: User, slot: WitnessSlot, settings: RetentionSettings, stand_in: bool = False
) -> bool:
    """Whether ``user`` may witness in ``slot``; ``stand_in``: no records manager but the
    one who carried the list out is left, so a director witnesses for the archive."""
    if not user.active:
        return False
    department = user.department.code if user.department else None
    if slot.key == "records_manager":
        return user.role == Role.RECORDS_MANAGER or (stand_in and user.role == Role.DIRECTOR)
    if slot.key == "it":
        return user.role == Role.ADMIN
    if user.role in NOT_DEPARTMENT_STAFF:
        return False
    if slot.key == "finance":
        return department == settings.finance_department
    return slot.key == f"department:{department}"


def slots_for(
    session: Session, settings: RetentionSettings, lst: DispositionList, user: User
) -> list[WitnessSlot]:
    """The witness signatures ``user`` could still give on ``lst`` (one per person)."""
    if lst.status != ListStatus.EXECUTED or lst.closed_at is not None:
        return []
    if any(w.user_id == user.id for w in lst.witnesses) or executed_it(lst, user):
        return []
    stand_in = archive_stand_in(session, lst)
    return [
        s for s in open_witness_slots(session, settings, lst) if fits(user, s, settings, stand_in)
    ]


def archive_stand_in(session: Session, lst: DispositionList) -> bool:
    """Whether no active records manager is left to witness for the archive but the one
    who carried the list out (a one-person archive): a director stands in."""
    others = select(User.id).where(
        User.role == Role.RECORDS_MANAGER,
        User.active.is_(True),
        User.username != (lst.executed_by or ""),
    )
    return session.scalar(others.limit(1)) is None


def executed_it(lst: DispositionList, user: User) -> bool:
    """Whether ``user`` carried out the destruction: 监销 is someone else watching it."""
    return lst.executed_by is not None and lst.executed_by == user.username


def witness(
    session: Session,
    actor: Actor,
    settings: RetentionSettings,
    lst: DispositionList,
    user: User,
    slot_key: str | None = None,
    statement: str = "",
) -> Witness:
    """Sign that the destruction was witnessed; closes the list when it was the last slot.
    Someone no slot of the list could ever fit learns nothing about it (not even its state)."""
    statement = clean_text(statement, "the statement", STATEMENT_LIMIT)
    stand_in = archive_stand_in(session, lst)
    required = required_witnesses(session, settings, lst)
    if not any(fits(user, s, settings, stand_in) for s in required):
        raise NotFound("no such list", code="no_list")
    if lst.action != Disposal.DESTROY:
        raise Conflict(f"list {lst.number} is a transfer list: nothing to witness")
    if lst.status != ListStatus.EXECUTED:
        raise Conflict(
            f"list {lst.number} has not been executed: nothing to witness yet",
            code="witness_not_executed",
        )
    if lst.closed_at is not None:
        raise Conflict(
            f"list {lst.number} is closed: every witness has signed", code="witness_closed"
        )
    if executed_it(lst, user):
        raise Conflict(
            f"{user.username} carried out list {lst.number}: someone else witnesses it",
            code="witness_executor",
        )
    slots = slots_for(session, settings, lst, user)
    if slot_key:
        slots = [slot for slot in slots if slot.key == slot_key]
    if not slots:
        raise Conflict(
            f"{user.username} has no witness signature to give on list {lst.number}",
            code="no_signature",
        )
    if len(slots) > 1:
        raise RetentionError(
            f"{user.username} may witness as {', '.join(s.key for s in slots)}: say which",
            code="sign_as",
            field="slot",
        )
    slot = slots[0]
    row = Witness(
        list_id=lst.id,
        slot=slot.key,
        capacity=slot.capacity
        if user.role == Role.RECORDS_MANAGER or slot.key != "records_manager"
        else f"{slot.capacity}（由总监代为监销）",
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        statement=statement
        or f"经监督，清册所列已销毁的 {destroyed_count(lst)} 件档案已按清册销毁，无遗漏。",
        ip=actor.ip,
    )
    session.add(row)
    session.flush()
    session.refresh(lst)
    record_event(
        session,
        actor,
        "disposition.witnessed",
        "disposition_list",
        lst.number,
        {"slot": slot.key, "capacity": slot.capacity, "statement": row.statement},
    )
    if not open_witness_slots(session, settings, lst):
        lst.closed_at = utcnow()
        record_event(
            session,
            actor,
            "disposition.closed",
            "disposition_list",
            lst.number,
            {"witnesses": [w.username for w in lst.witnesses]},
        )
    return row


def close_if_unwitnessed(
    session: Session, settings: RetentionSettings, lst: DispositionList
) -> None:
    """After execution: a list that needs no witness (a transfer, or none configured) is
    closed at once."""
    if not required_witnesses(session, settings, lst):
        lst.closed_at = lst.executed_at or utcnow()


def witness_list(
    arc: Archive,
    actor: Actor,
    list_id: int,
    user_id: int,
    slot_key: str | None = None,
    statement: str = "",
) -> Witness:
    """:func:`witness` in its own transaction; the signature that closes the list files the
    list's register (with every witness on it) into the archive."""
    with arc.transaction() as session:
        lst = get_list(session, list_id, lock=True)
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("no such person")
        row = witness(session, actor, arc.settings.retention, lst, user, slot_key, statement)
        closed = lst.closed_at is not None
    if closed:
        file_closed_register(arc, SYSTEM, list_id)  # the archive files it, not the signer
    return row
