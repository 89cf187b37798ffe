"""An OFD e-invoice uploaded through the API: stored, described, found by a Chinese word in it,
and read as its text under the reader's stamp (no OFD renderer: there is no PDF rendition)."""

from __future__ import annotations

import io
import uuid
from urllib.parse import unquote

from sqlalchemy import select

from archive.models import AccessEvent, IngestJob, IngestStatus, Version
from ingest.pipeline import process
from search.indexer import flush
from tests.access.conftest import World
from tests.access.test_web_pages import Browser
from tests.ingest import ofd_samples as ofd


def upload(world: World, who: str, data: bytes, name: str) -> uuid.UUID:
    response = world.call(
        "POST",
        who,
        "/api/v1/documents",
        data={"file": (io.BytesIO(data), name), "project": "华东仓储改造项目", "date": "2026-05"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 202, response.json
    job_id = uuid.UUID(response.json["job_id"])  # type: ignore[index]
    process(world.arc, job_id)  # what the worker does with the message
    return job_id


def test_an_uploaded_invoice_is_found_by_its_words_and_read_under_the_stamp(world: World) -> None:
    data = ofd.invoice()
    job_id = upload(world, "wang", data, "电子发票.ofd")
    job = world.call("GET", "wang", f"/api/v1/jobs/{job_id}").json
    assert job is not None
    assert job["status"] == "stored", (job["failed_check"], job["reason"])
    assert "OFD (GB/T 33190)" in job["checks"]["usability.opens"]["detail"]
    with world.arc.sessions() as session:
        stored = session.get(IngestJob, job_id)
        assert stored is not None
        version = session.get(Version, stored.version_id)
        assert version is not None
        assert (version.media_type, version.page_count) == ("application/ofd", 2)
        version_id, record_id = version.id, version.record_id
        department = version.record.department
        assert department is not None
        assert department.code == "CG"  # the uploader's, as for any upload

    flush(world.arc)
    found = world.call("GET", "wang", "/api/v1/search", query_string={"q": "购买方"}).json
    assert found is not None
    hits = [hit for hit in found["hits"] if hit["record_id"] == str(record_id)]
    assert len(hits) == 1
    assert "<mark" in (hits[0]["snippet"] or "")

    view = world.call("GET", "wang", f"/api/v1/versions/{version_id}/content?action=view")
    assert view.status_code == 200
    assert view.mimetype == "text/plain"
    assert view.headers["Content-Disposition"].startswith("inline;")
    shown = view.get_data(as_text=True)
    stamp, _, body = shown.partition("─" * 40)
    assert "用户wang (wang)  127.0.0.1" in stamp
    assert "北京时间  仅供查阅 严禁外传" in stamp
    for part in ("发票号码", "购买方名称", "华东仓储改造项目部", "销货清单"):
        assert part in body
    assert unquote(view.headers["Content-Disposition"]).endswith("华东仓储改造项目-2026-05-1.0.txt")

    download = world.call("GET", "wang", f"/api/v1/versions/{version_id}/content?action=download")
    assert download.status_code == 200
    assert download.data == data  # the original package, unchanged
    assert unquote(download.headers["Content-Disposition"]).endswith(".ofd")

    with world.arc.sessions() as session:
        lines = session.scalars(
            select(AccessEvent.action).where(
                AccessEvent.version_id == str(version_id), AccessEvent.outcome == "allowed"
            )
        ).all()
    assert {"view", "download"} <= set(lines)


def test_the_web_reader_frames_the_stamped_text(world: World) -> None:
    job_id = upload(world, "wang", ofd.invoice(), "电子发票.ofd")
    with world.arc.sessions() as session:
        stored = session.get(IngestJob, job_id)
        assert stored is not None
        version_id = stored.version_id
    wang = Browser(world, "wang")
    page = wang.text(f"/reader/{version_id}")
    assert f"/versions/{version_id}/content?action=view" in page
    framed = wang.get(f"/versions/{version_id}/content?action=view")
    assert framed.status_code == 200  # type: ignore[attr-defined]
    text = framed.get_data(as_text=True)  # type: ignore[attr-defined]
    assert "用户wang (wang)" in text
    assert "发票号码" in text


def test_a_broken_upload_says_which_check_failed_in_chinese(world: World) -> None:
    broken = ofd.changed_parts({"Doc_0/Document.xml": None})
    job_id = upload(world, "zhang", broken, "发票.ofd")
    with world.arc.sessions() as session:
        job = session.get(IngestJob, job_id)
        assert job is not None
        assert (job.status, job.failed_check) == (IngestStatus.QUARANTINED, "usability.opens")
    zhang = Browser(world, "zhang")
    status = zhang.get(f"/jobs/status.json?ids={job_id}").json  # type: ignore[attr-defined]
    (row,) = status["jobs"]
    assert row["failed_check"] == "usability.opens"
    assert row["failed_check_label"] == "可用性：能够打开和解析"
    assert "no part 'Doc_0/Document.xml'" in row["reason"]
    assert "可用性：能够打开和解析" in zhang.text(f"/jobs?ids={job_id}")
