"""Office documents that link to something outside themselves are not laid out by LibreOffice
(it would read the linked file of the server into the PDF their uploader reads); hyperlinks,
which it only writes into the PDF, are fine. Namespace prefixes change nothing."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import parse_xml

from archive.models import RenditionRole
from ingest.office import RENDITION
from ingest.office_links import external_links
from tests.ingest import office_samples as office
from tests.ingest.conftest import run_ingest
from tests.ingest.test_office import needs_soffice, stored

TEMPLATE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate"
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def saved(document: docx.document.Document, path: Path) -> Path:
    document.save(path)
    return path


def with_link(tmp_path: Path, target: str, kind: str) -> Path:
    document = docx.Document(io.BytesIO(office.report_docx()))
    document.part.relate_to(target, kind, is_external=True)
    return saved(document, tmp_path / "linked.docx")


def test_a_hyperlink_is_harmless(tmp_path: Path) -> None:
    path = with_link(tmp_path, "https://example.com/规定", RT.HYPERLINK)
    assert external_links(path) == []
    assert external_links(saved(docx.Document(), tmp_path / "plain.docx")) == []


def test_a_linked_picture_or_template_is_found(tmp_path: Path) -> None:
    found = external_links(with_link(tmp_path, "file:///srv/archive/reports/x.pdf", RT.IMAGE))
    assert len(found) == 1
    assert "file:///srv/archive/reports/x.pdf" in found[0]
    found = external_links(with_link(tmp_path, "/etc/template.dotx", TEMPLATE))
    assert found
    assert "attachedTemplate" in found[0]


def test_a_field_that_fetches_is_found_even_split_over_runs(tmp_path: Path) -> None:
    document = docx.Document()
    paragraph = document.add_paragraph()._p
    for xml in (
        f'<w:r {W}><w:fldChar w:fldCharType="begin"/></w:r>',
        f'<w:r {W}><w:instrText xml:space="preserve"> INCLUDE</w:instrText></w:r>',
        f'<w:r {W}><w:instrText>PICTURE "file:///etc/x.png" \\d</w:instrText></w:r>',
        f'<w:r {W}><w:fldChar w:fldCharType="end"/></w:r>',
    ):
        paragraph.append(parse_xml(xml))
    found = external_links(saved(document, tmp_path / "field.docx"))
    assert found
    assert "INCLUDEPICTURE" in found[0]
    page_field = docx.Document()
    page_field.add_paragraph()._p.append(
        parse_xml(f'<w:fldSimple {W} w:instr=" PAGE "><w:r><w:t>1</w:t></w:r></w:fldSimple>')
    )
    assert external_links(saved(page_field, tmp_path / "page.docx")) == []


def odt(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "doc.odt"
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        package.writestr(
            "content.xml",
            '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:'
            'office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
            'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
            f'xmlns:q="http://www.w3.org/1999/xlink"><office:body>{body}</office:body>'
            "</office:document-content>",
        )
    return path


def test_odf_links_are_read_by_namespace_not_prefix(tmp_path: Path) -> None:
    inside = '<draw:frame><draw:image q:href="Pictures/1.png"/></draw:frame>'
    clicked = '<text:p><text:a q:href="file:///etc/passwd">见</text:a></text:p>'
    assert external_links(odt(tmp_path, inside + clicked)) == []
    for href in ("file:///etc/passwd", "/etc/passwd", "../../etc/passwd", "Pictures/../../x"):
        linked = f'<draw:frame><draw:image q:href="{href}"/></draw:frame>'
        assert external_links(odt(tmp_path, linked)), href


@needs_soffice
def test_a_linked_document_is_archived_with_its_text_but_not_laid_out(
    oarc,
    tmp_path: Path,
) -> None:
    secret = tmp_path / "secret.pdf"
    secret.write_bytes(b"%PDF-1.4 not for the uploader")
    data = with_link(tmp_path, secret.as_uri(), RT.IMAGE).read_bytes()
    job = run_ingest(oarc, data, "带链接的报告.docx", project="华东仓储改造项目", title="带链接")
    version, objects = stored(oarc, job)
    assert RenditionRole.OFFICE_PDF not in objects
    assert office.HEADING in objects[RenditionRole.TEXT].decode()  # its own text is read
    check = (version.checks or {})[RENDITION]
    assert check["ok"] is None  # a warning: the document is kept
    assert "links to content outside the document" in check["detail"]
