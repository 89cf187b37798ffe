"""Fixtures for the top layer: an app per backend, closed after each test."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.test import TestResponse

from access.app import archive_of, create_app
from archive.audit import Actor
from archive.bootstrap import initialize
from archive.config import load_settings
from archive.content import NewRecord, RenditionSource, store
from archive.core import Archive
from archive.models import Record, Role, Sensitivity, SignerRole, User
from archive.people import create_user, find_department, issue_token
from archive.refcode import number_pending
from ingest.package import check_transfer_folder
from retention import disposition
from retention.execution import execute
from retention.schedules import seed_default_plan
from retention.status import refresh_dirty
from tests.conftest import REQUIRE_SERVICES, free_port, make_environ


@pytest.fixture
def app(arc: Archive, archive_env: dict[str, str]) -> Iterator[Flask]:
    application = create_app({**archive_env, "TESTING": True})
    yield application
    archive_of(application).close()


@dataclass
class World:
    """An archive with people in every role and records in two departments."""

    app: Flask
    tokens: dict[str, str] = field(default_factory=dict)
    records: dict[str, uuid.UUID] = field(default_factory=dict)  # "CG-internal" → id
    versions: dict[str, uuid.UUID] = field(default_factory=dict)

    @property
    def arc(self) -> Archive:
        return archive_of(self.app)

    def headers(self, username: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[username]}", **extra}

    def call(self, method: str, username: str, path: str, **kwargs: Any) -> TestResponse:
        client = self.app.test_client()
        headers = self.headers(username, **kwargs.pop("headers", {}))
        response: TestResponse = client.open(path, method=method, headers=headers, **kwargs)
        return response

    def add_user(
        self, username: str, role: Role, department: str = "CG", clearance: str = "confidential"
    ) -> None:
        with self.arc.transaction() as session:
            user = create_user(
                session,
                Actor.cli(),
                username,
                role,
                find_department(session, department),
                Sensitivity(clearance),
                None,
                f"用户{username}",
            )
            self.tokens[username] = issue_token(session, Actor.cli(), user)

    def add_record(
        self,
        key: str,
        department: str,
        sensitivity: str,
        data: bytes,
        name: str,
        media_type: str,
        text: str = "",
    ) -> None:
        stored = store(
            self.arc,
            io.BytesIO(data),
            actor=Actor.cli(),
            original_filename=name,
            media_type=media_type,
            new_record=NewRecord(
                project=f"华东仓储改造项目{key}",
                title=f"档案 {key}",
                when="2026-05",
                department=department,
                sensitivity=Sensitivity(sensitivity),
            ),
            renditions=[RenditionSource("text", "text/plain", io.BytesIO(text.encode()))]
            if text
            else [],
        )
        self.records[key] = stored.record_id
        self.versions[key] = stored.version_id


PEOPLE = {
    "zhang": (Role.SPECIALIST, "CG"),
    "li": (Role.SPECIALIST, "XS"),
    "wang": (Role.SUPERVISOR, "CG"),  # head of CG
    "zhao": (Role.DIRECTOR, "XS"),
    "qian": (Role.DIRECTOR, "CG"),
    "sun": (Role.RECORDS_MANAGER, "CG"),
    "zhou": (Role.AUDITOR, "CG"),
    "wu": (Role.ADMIN, "CG"),
    "zheng": (Role.SECURITY_ADMIN, "CG"),  # approves wu's privileged changes
}
LEVELS = ("public", "internal", "confidential", "restricted")


def make_world(tmp_path: Path, database: str = "sqlite", **settings: str) -> World:
    """The world on the embedded default, or on ``database`` (a PostgreSQL URL)."""
    env = {**make_environ(tmp_path / "home", database, "local"), **settings}
    arc = Archive(load_settings(env))
    initialize(arc, Actor.cli())
    arc.close()
    world = World(create_app({**env, "TESTING": True}))
    for username, (role, department) in PEOPLE.items():
        world.add_user(username, role, department)
    for department in ("CG", "XS"):
        for level in LEVELS:
            key = f"{department}-{level}"
            world.add_record(
                key,
                department,
                level,
                f"正文 {key}".encode(),
                f"{key}.txt",
                "text/plain",
                text=f"正文 {key}",
            )
    return world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    made = make_world(tmp_path)
    yield made
    made.arc.close()


DUE_RECORD = "CG-public"  # becomes an application form filed in 2010: D10, destroy


def submitted_due_list(world: World) -> int:
    """A destruction list holding DUE_RECORD (made due: an application form of 2010),
    submitted for signing; its id."""
    arc = world.arc
    with arc.transaction() as session:
        seed_default_plan(session, Actor.cli())
        record = session.get(Record, world.records[DUE_RECORD])
        assert record is not None
        record.record_type, record.filed_on, record.retention_dirty = (
            "application",
            date(2010, 3, 1),
            True,
        )
    refresh_dirty(arc)
    number_pending(arc)
    manager = Actor.cli()
    with arc.transaction() as session:
        lst = disposition.create_list(session, manager, disposition.Disposal.DESTROY)
        disposition.add_records(session, manager, lst, [world.records[DUE_RECORD]])
        disposition.set_opinion(session, manager, lst, "经鉴定无保存价值，同意销毁")
        disposition.submit(session, manager, lst)
        return lst.id


def sign_due_list(world: World, list_id: int) -> None:
    """Every signature the due list needs: records manager, CG's head, a director."""
    arc = world.arc
    for name, role in (("sun", None), ("wang", None), ("qian", SignerRole.DIRECTOR)):
        with arc.transaction() as session:
            lst = disposition.get_list(session, list_id)
            signer = session.scalar(select(User).where(User.username == name))
            assert signer is not None
            disposition.sign(
                session, Actor.cli(), arc.settings.retention, lst, signer, role, "同意"
            )


@pytest.fixture
def executed(tmp_path) -> Iterator[tuple[World, int]]:  # type: ignore[no-untyped-def]
    """An executed destruction list holding one CG record, not yet witnessed."""
    world = make_world(tmp_path)
    list_id = submitted_due_list(world)
    sign_due_list(world, list_id)
    execute(world.arc, Actor.cli(), list_id, check_transfer_folder)
    yield world, list_id
    world.arc.close()


CHROMIUM = "/usr/bin/chromium"


@contextmanager
def serving(env: dict[str, str]) -> Iterator[str]:
    """``archive run`` (web, workers, index writer, beat) on a loopback port; yields its URL."""
    if not Path(CHROMIUM).exists():
        if REQUIRE_SERVICES:
            pytest.fail(f"{CHROMIUM} is required (./dev test installs Debian's chromium)")
        pytest.skip("Debian's chromium is not installed")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "access", "run", "--port", str(port)],
        env={**os.environ, **env},
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2):  # noqa: S310
                break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                os.killpg(server.pid, signal.SIGKILL)
                pytest.fail("archive run did not start")
            time.sleep(0.3)
    try:
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (no downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def due_and_under_review(world: World) -> None:
    """CG-public filed in 2010 as an application form, long due; XS-public awaiting review."""
    with world.arc.transaction() as db:
        seed_default_plan(db, Actor.cli())
        due = db.get_one(Record, world.records["CG-public"])
        due.record_type, due.filed_on, due.retention_dirty = "application", date(2010, 3, 1), True
        db.get_one(Record, world.records["XS-public"]).needs_review = True
    refresh_dirty(world.arc)
