"""The REST upload: token auth, roles, 202 + job polling, refusals with clear errors."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from access.app import archive_of, create_app
from archive.audit import Actor
from archive.models import Role, Sensitivity
from archive.people import create_user, find_department, issue_token
from ingest.pipeline import process
from ingest.rules import seed_default_rules
from tests.conftest import make_environ
from tests.ingest import samples


@pytest.fixture
def api_app(tmp_path: object) -> Iterator[Flask]:
    env = make_environ(tmp_path / "home", "sqlite", "local")  # type: ignore[operator]
    from archive.bootstrap import initialize
    from archive.config import load_settings
    from archive.core import Archive

    arc = Archive(load_settings({**env, "ARCHIVE_MAX_UPLOAD_BYTES": "200000"}))
    initialize(arc, Actor.cli())
    seed_default_rules(arc, Actor.cli())
    arc.close()
    application = create_app({**env, "ARCHIVE_MAX_UPLOAD_BYTES": "200000", "TESTING": True})
    yield application
    archive_of(application).close()


def token_for(app: Flask, username: str, role: Role) -> str:
    arc = archive_of(app)
    with arc.transaction() as session:
        user = create_user(
            session,
            Actor.cli(),
            username,
            role,
            find_department(session, "CG"),
            Sensitivity.INTERNAL,
            "password-" + username,
            username,
        )
        return issue_token(session, Actor.cli(), user)


def upload(client: FlaskClient, token: str | None, data: bytes, name: str, **form: str):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(
        "/api/v1/documents",
        data={"file": (io.BytesIO(data), name), **form},
        headers=headers,
        content_type="multipart/form-data",
    )


def test_upload_then_poll_the_job_until_stored(api_app: Flask) -> None:
    token = token_for(api_app, "zhang", Role.SPECIALIST)
    client = api_app.test_client()
    response = upload(
        client,
        token,
        samples.pdf(["验收报告 同意验收"]),
        "验收.pdf",
        project="华东仓储改造项目",
        date="2026-05",
    )
    assert response.status_code == 202
    job_id = response.json["job_id"]  # type: ignore[index]
    assert response.headers["Location"] == f"/api/v1/jobs/{job_id}"
    queued = client.get(f"/api/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {token}"})
    assert queued.json["status"] == "queued"  # type: ignore[index]
    import sqlite3

    broker = sqlite3.connect(archive_of(api_app).settings.home / "broker.db")
    try:  # the message really went to the embedded broker, after the commit
        payloads = [row[0] for row in broker.execute("SELECT payload FROM kombu_message")]
    finally:
        broker.close()
    assert any(job_id in str(payload) for payload in payloads)
    import uuid

    process(archive_of(api_app), uuid.UUID(job_id))  # what the worker does with the message
    done = client.get(f"/api/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {token}"})
    body = done.json
    assert body is not None
    assert body["status"] == "stored"
    assert body["name"] == "华东仓储改造项目-2026-05-1.0"
    assert body["checks"]["usability.opens"]["ok"] is True


def test_a_quarantined_upload_reports_its_reason(api_app: Flask) -> None:
    token = token_for(api_app, "li", Role.SPECIALIST)
    client = api_app.test_client()
    response = upload(client, token, b"not a pdf", "x.pdf")
    import uuid

    process(archive_of(api_app), uuid.UUID(response.json["job_id"]))  # type: ignore[index]
    body = client.get(
        response.headers["Location"], headers={"Authorization": f"Bearer {token}"}
    ).json
    assert body is not None
    assert (body["status"], body["failed_check"]) == ("quarantined", "usability.allowed_format")
    assert "named .pdf" in body["reason"]


def test_no_token_no_upload(api_app: Flask) -> None:
    client = api_app.test_client()
    response = upload(client, None, b"x", "a.txt")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert upload(client, "arc_forged", b"x", "a.txt").status_code == 401


def test_auditors_and_admins_do_not_file_documents(api_app: Flask) -> None:
    client = api_app.test_client()
    for role in (Role.AUDITOR, Role.ADMIN):
        token = token_for(api_app, role.value, role)
        assert upload(client, token, b"x", "a.txt").status_code == 403


def test_jobs_are_private_to_their_submitter_and_records_managers(api_app: Flask) -> None:
    client = api_app.test_client()
    owner = token_for(api_app, "owner", Role.SPECIALIST)
    other = token_for(api_app, "other", Role.SPECIALIST)
    manager = token_for(api_app, "manager", Role.RECORDS_MANAGER)
    location = upload(client, owner, b"x", "a.txt").headers["Location"]
    assert client.get(location, headers={"Authorization": f"Bearer {other}"}).status_code == 404
    assert client.get(location, headers={"Authorization": f"Bearer {manager}"}).status_code == 200


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"sensitivity": "top-secret"}, "sensitivity must be one of"),
        ({"record_id": "not-a-uuid"}, "is not a record id"),
    ],
)
def test_bad_metadata_is_a_400_that_names_the_field(
    api_app: Flask, form: dict[str, str], message: str
) -> None:
    token = token_for(api_app, "wang", Role.SPECIALIST)
    response = upload(api_app.test_client(), token, b"x", "a.txt", **form)
    assert response.status_code == 400
    assert message in response.json["error"]  # type: ignore[index]


def test_oversized_uploads_are_refused_with_413(api_app: Flask) -> None:
    token = token_for(api_app, "zhao", Role.SPECIALIST)
    response = upload(api_app.test_client(), token, b"x" * 300_000, "big.txt")
    assert response.status_code == 413
    assert "error" in response.json  # type: ignore[operator]


def test_a_missing_file_field_is_explained(api_app: Flask) -> None:
    token = token_for(api_app, "sun", Role.SPECIALIST)
    response = api_app.test_client().post(
        "/api/v1/documents", data={"project": "P"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 400
    assert "'file'" in response.json["error"]  # type: ignore[index]


def test_a_hostile_file_name_is_kept_as_data_not_as_a_path(api_app: Flask) -> None:
    token = token_for(api_app, "zhou", Role.SPECIALIST)
    client = api_app.test_client()
    response = upload(client, token, b"content", "../../etc/合同\u202etxt.exe\x00.txt")
    assert response.status_code == 202
    import uuid

    job_id = uuid.UUID(response.json["job_id"])  # type: ignore[index]
    process(archive_of(api_app), job_id)
    body = client.get(
        response.headers["Location"], headers={"Authorization": f"Bearer {token}"}
    ).json
    assert body is not None
    assert body["status"] == "stored"
    assert body["filename"] == "合同txt.exe.txt"
    home = archive_of(api_app).settings.home
    assert not (home.parent / "etc").exists()


def test_search_finds_what_the_caller_may_know_and_nothing_else(api_app: Flask) -> None:
    import uuid

    from search.indexer import flush

    arc = archive_of(api_app)
    client = api_app.test_client()
    cg_specialist = token_for(api_app, "cg_staff", Role.SPECIALIST)  # department CG
    director = token_for(api_app, "boss", Role.DIRECTOR)
    with arc.transaction() as session:
        other = create_user(
            session,
            Actor.cli(),
            "xs_staff",
            Role.SPECIALIST,
            find_department(session, "XS"),
            Sensitivity.INTERNAL,
            "password-xs_staff",
            "xs",
        )
        xs_specialist = issue_token(session, Actor.cli(), other)
    uploads = [
        (samples.pdf(["华东项目 会议纪要 第一次"]), "纪要.pdf", {}),
        (samples.pdf(["华东项目 采购合同 甲方 乙方"]), "合同.pdf", {}),
        (samples.pdf(["华东项目 薪酬 调整 方案"]), "薪酬.pdf", {"sensitivity": "confidential"}),
    ]
    for data, name, extra in uploads:
        response = upload(
            client, cg_specialist, data, name, project="华东项目", department="CG", **extra
        )
        process(arc, uuid.UUID(response.json["job_id"]))  # type: ignore[index]
    flush(arc)

    def titles(token: str, query: str = "华东项目") -> tuple[set[str], dict[str, int]]:
        body = client.get(
            "/api/v1/search",
            query_string={"q": query},
            headers={"Authorization": f"Bearer {token}"},
        ).json
        assert body is not None
        return {hit["title"] for hit in body["hits"]}, body["facets"]["sensitivity"]

    assert titles(cg_specialist) == ({"纪要", "薪酬"}, {"internal": 1, "confidential": 1})
    assert titles(xs_specialist) == ({"纪要"}, {"internal": 1})  # not even a count leaks
    # A director of CG: contracts (restricted) everywhere, and CG's confidential pay file.
    assert titles(director)[0] == {"纪要", "合同", "薪酬"}
    bad = client.get(
        "/api/v1/search",
        query_string={"q": "\x00" * 5 + "((("},
        headers={"Authorization": f"Bearer {cg_specialist}"},
    )
    assert bad.status_code == 400
    assert "error" in bad.json  # type: ignore[operator]
    assert client.get("/api/v1/search?q=x").status_code == 401


def test_snippets_only_for_what_the_caller_may_read_now_and_date_filters(api_app: Flask) -> None:
    import uuid

    from search.indexer import flush

    arc = archive_of(api_app)
    client = api_app.test_client()
    specialist = token_for(api_app, "cg_writer", Role.SPECIALIST)
    head = token_for(api_app, "cg_head", Role.SUPERVISOR)
    for text, name, extra in [
        ("华东项目 第三次会议纪要 绿色通道", "纪要.pdf", {}),
        ("华东项目 薪酬 调整 绿色通道", "薪酬.pdf", {"sensitivity": "confidential"}),
    ]:
        response = upload(
            client,
            specialist,
            samples.pdf([text]),
            name,
            project="华东项目",
            department="CG",
            **extra,
        )
        process(arc, uuid.UUID(response.json["job_id"]))  # type: ignore[index]
    flush(arc)

    def hits(token: str, **query: str) -> dict[str, str | None]:
        body = client.get(
            "/api/v1/search",
            query_string={"q": "綠色通道", **query},
            headers={"Authorization": f"Bearer {token}"},
        ).json
        assert body is not None
        return {hit["title"]: hit["snippet"] for hit in body["hits"]}

    # Known of, read by neither: found by their description, not by words in their text.
    assert hits(specialist) == {}
    assert hits(specialist, q="华东项目") == {"纪要": None, "薪酬": None}
    by_head = hits(head)  # CG's supervisor, cleared to internal
    assert set(by_head) == {"纪要"}  # confidential is above the head's clearance
    assert '<mark class="match term0">绿色通道</mark>' in by_head["纪要"]  # found from 綠色通道
    assert hits(head, q="华东项目")["薪酬"] is None
    assert hits(head, **{"from": "2000-01-01", "to": "2000-12-31"}) == {}
    assert set(hits(head, q="华东项目", **{"from": "2000-01-01"})) == {"纪要", "薪酬"}
    bad = client.get(
        "/api/v1/search",
        query_string={"q": "x", "from": "yesterday"},
        headers={"Authorization": f"Bearer {head}"},
    )
    assert bad.status_code == 400
