"""``archive init``: data directory, schema, keyring, blob store and defaults; idempotent."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from archive.audit import Actor, anchor_of, record_event, verify_chain
from archive.checkpoints import CHAINS, PAYLOADS, write_checkpoint
from archive.config import Settings
from archive.core import Archive
from archive.crypto import Keyring
from archive.fsutil import atomic_write_bytes, keep_private, make_private
from archive.migrate import upgrade
from archive.people import ensure_default_departments


@dataclass(frozen=True)
class InitReport:
    keyring_created: bool
    departments_created: int


def ensure_home(settings: Settings) -> None:
    """The data directory, private (its owner's alone, whatever an older version left), with
    the session secret unless the environment gives one."""
    keep_private()
    settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    make_private(settings.home)
    secret_file = settings.home / "secret_key"
    if settings.secret_key is None and not secret_file.exists():
        atomic_write_bytes(secret_file, secrets.token_urlsafe(48).encode(), mode=0o600)


def initialize(arc: Archive, actor: Actor) -> InitReport:
    settings = arc.settings
    ensure_home(settings)
    upgrade(arc.engine)
    keyring, created = Keyring.load_or_create(settings.keyring_path)
    arc.__dict__["keyring"] = keyring  # seed the cached property: no second read of the file
    added_purposes = keyring.ensure_purposes()  # a keyring from before they existed
    arc.blobs.prepare()
    with arc.transaction() as session:
        if created:
            record_event(
                session,
                actor,
                "keys.created",
                "keyring",
                keyring.active_id,
                {"path": str(settings.keyring_path)},
            )
        if added_purposes and not created:
            record_event(
                session,
                actor,
                "keys.purposes_added",
                "keyring",
                keyring.active_id,
                {"purposes": added_purposes},
            )
        made = ensure_default_departments(session, actor)
    start_checkpoints(arc, actor)
    return InitReport(created, made)


def start_checkpoints(arc: Archive, actor: Actor) -> None:
    """Record the chains' anchors in the keyring (once), and sign the heads into a new
    checkpoint file when there is none, but only if the chains verify with the key from the
    anchors the keyring holds: a forged history is never signed. A file that vanished is
    started again, and the audit trail says so, so its absence is never silent."""
    with arc.sessions() as session:
        found = {name: anchor_of(session, model) for name, model in CHAINS.items()}
    arc.keyring.remember_anchors(found)
    path = arc.settings.checkpoint_path
    if path.exists():
        return
    with arc.sessions() as session:
        chains = [
            verify_chain(session, model=model, payload=PAYLOADS[name],
                         anchor=arc.keyring.anchors.get(name))
            for name, model in CHAINS.items()
        ]  # fmt: skip
    broken = [report.problem for report in chains if not report.ok]
    with arc.transaction() as session:
        record_event(
            session,
            actor,
            "audit.checkpoints_refused" if broken else "audit.checkpoints_started",
            "checkpoints",
            path.name,
            {"path": str(path), **({"problems": broken} if broken else {})},
        )
    if not broken:
        with arc.sessions() as session:
            write_checkpoint(session, arc.keyring, path, force=True)


def secret_key(arc: Archive) -> str:
    """The Flask secret: from ARCHIVE_SECRET_KEY, else the file ``archive init`` wrote."""
    if arc.settings.secret_key:
        return arc.settings.secret_key
    try:
        return (arc.settings.home / "secret_key").read_text().strip()
    except FileNotFoundError:
        raise RuntimeError(
            f"no secret key: set ARCHIVE_SECRET_KEY or run 'archive init' "
            f"(ARCHIVE_HOME={arc.settings.home})"
        ) from None
