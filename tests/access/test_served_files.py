"""What the reader serves is named by what it is: the extension of a download comes from the
sniffed media type, never from the name the uploader chose; and every content type carries
at most one ``charset``."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from werkzeug.test import TestResponse

from tests.access.conftest import World
from tests.access.test_web import BASE, give_password, login
from tests.ingest import samples


def _served_name(response: TestResponse) -> str:
    disposition = response.headers["Content-Disposition"]
    fallback = disposition.split('filename="', 1)[1].split('"', 1)[0]
    encoded = unquote(disposition.split("filename*=UTF-8''", 1)[1])
    assert fallback.rsplit(".", 1)[1] == encoded.rsplit(".", 1)[1]
    return encoded


def _done(response: TestResponse) -> TestResponse:
    """Read a (streamed) response to its end inside its request, and let it go."""
    response.get_data()
    response.close()
    return response


def _content(world: World, key: str, action: str) -> TestResponse:
    response = world.call(
        "GET", "wang", f"/api/v1/versions/{world.versions[key]}/content?action={action}"
    )
    assert response.status_code == 200, response.data[:200]
    return _done(response)


@pytest.mark.parametrize(
    ("uploaded_as", "data", "media_type", "served_as"),
    [
        ("evil.html", samples.pdf(["验收报告"]), "application/pdf", ".pdf"),
        ("evil.htm", b"<script>alert(1)</script>", "text/plain", ".txt"),
        ("invoice.pdf.exe", samples.pdf(["发票"]), "application/pdf", ".pdf"),
        ("scan.svg", samples.image("扫描件"), "image/png", ".png"),
        ("note", "无扩展名".encode(), "text/plain", ".txt"),
        ("REPORT.PDF", samples.pdf(["报告"]), "application/pdf", ".pdf"),
    ],
)
def test_a_download_is_named_by_its_sniffed_type(
    world: World, uploaded_as: str, data: bytes, media_type: str, served_as: str
) -> None:
    world.add_record("up", "CG", "internal", data, uploaded_as, media_type)
    name = _served_name(_content(world, "up", "download"))
    assert name == f"华东仓储改造项目up-2026-05-1.0{served_as}"


def test_a_viewed_text_is_named_as_text(world: World) -> None:
    world.add_record("up", "CG", "internal", b"<b>x</b>", "evil.html", "text/plain", text="x")
    assert _served_name(_content(world, "up", "view")).endswith("1.0.txt")


def _charsets(content_type: str) -> int:
    return sum(1 for p in content_type.split(";")[1:] if p.strip().lower().startswith("charset="))


def test_every_served_content_type_has_at_most_one_charset(world: World) -> None:
    world.add_record("pdf", "CG", "internal", samples.pdf(["第一页"]), "a.pdf", "application/pdf")
    served = {
        "text view": _content(world, "CG-internal", "view"),
        "text download": _content(world, "CG-internal", "download"),
        "pdf view": _content(world, "pdf", "view"),
        "pdf download": _content(world, "pdf", "download"),
        "access log csv": _done(world.call("GET", "zhou", "/api/v1/access-log?format=csv")),
        "access log json": _done(world.call("GET", "zhou", "/api/v1/access-log")),
    }
    give_password(world, "wang", "correct horse battery")
    browser = world.app.test_client()
    assert login(browser, "wang", "correct horse battery") == 302
    version = world.versions["CG-internal"]
    served["web text view"] = _done(browser.get(f"/versions/{version}/content", base_url=BASE))
    served["web page"] = _done(browser.get("/", base_url=BASE))
    for what, response in served.items():
        assert response.status_code == 200, what
        content_type = response.headers["Content-Type"]
        assert _charsets(content_type) <= 1, f"{what}: {content_type}"
    assert served["text view"].headers["Content-Type"] == "text/plain; charset=utf-8"
    assert served["access log csv"].headers["Content-Type"] == "text/csv; charset=utf-8"
    assert served["pdf view"].headers["Content-Type"] == "application/pdf"
