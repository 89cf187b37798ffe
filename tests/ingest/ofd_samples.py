"""OFD packages (GB/T 33190) built in the tests: an e-invoice, and broken ones made from it.

The layout is what e-invoice issuers write: ``OFD.xml`` → ``Doc_0/Document.xml`` → pages
under ``Doc_0/Pages/Page_N/Content.xml``; the printed labels (发票号码, 购买方名称...) on a
template page ``Doc_0/Tpls/Tpl_0/Content.xml``, the values on the page itself; annotations
and custom tags alongside, whose text is not the document's.
"""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

NS = "http://www.ofdspec.org/2016"
DOC_ID = "0C8D2E1A9B7F4A3C8E2D1F0A9B8C7D6E"
#: The second page's content part, which the broken variants replace.
BODY = "Doc_0/Pages/Page_1/Content.xml"

INVOICE_LABELS = [
    "电子发票（普通发票）",
    "发票号码：",
    "开票日期：",
    "购买方名称：",
    "销售方名称：",
]
INVOICE_PAGES = [
    "24312000000123456789\n2026年05月18日\n华东仓储改造项目部\n上海仓配科技有限公司\n"
    "价税合计（大写）壹万贰仟叁佰肆拾伍元整",
    "销货清单\n货架立柱 20套\n叉车充电桩 2台",
]
ANNOTATION = "批注文字不属于正文"


def part_xml(body: str, namespace: str = NS) -> bytes:
    prefix = f' xmlns:ofd="{namespace}"' if namespace else ""
    text = body if namespace else body.replace("ofd:", "")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{text.replace(" NS", prefix, 1)}'.encode()


def content(lines: list[str], template: str | None = None, order: str = "Background") -> str:
    """A page description: a text object per line, with an image and a path among them."""
    used = f'<ofd:Template TemplateID="{template}" ZOrder="{order}"/>' if template else ""
    objects = "".join(
        f'<ofd:TextObject ID="{100 + n}" Boundary="10 {10 + 6 * n} 150 6" Font="3" Size="3.5">'
        '<ofd:FillColor Value="0 0 0"/>'
        f'<ofd:TextCode X="0" Y="4" DeltaX="g {max(len(line) - 1, 0)} 3.5">{escape(line)}'
        "</ofd:TextCode></ofd:TextObject>"
        f'<ofd:PathObject ID="{500 + n}" Boundary="0 0 1 1"><ofd:AbbreviatedData>M 0 0 L 1 1'
        "</ofd:AbbreviatedData></ofd:PathObject>"
        for n, line in enumerate(lines)
    )
    return (
        f'<ofd:Page NS>{used}<ofd:Content><ofd:Layer ID="2" Type="Body">'
        f'<ofd:ImageObject ID="90" ResourceID="9" Boundary="0 0 20 20" CTM="20 0 0 20 0 0"/>'
        f"{objects}</ofd:Layer></ofd:Content></ofd:Page>"
    )


def parts(
    pages: list[str],
    template: list[str] | None = None,
    order: str = "Background",
    signed: bool = True,
    namespace: str = NS,
    absolute: bool = False,
) -> dict[str, bytes]:
    """The parts of a one-document OFD, each page's lines split at newlines."""
    doc = "/Doc_0/" if absolute else ""
    tpl = f'<ofd:TemplatePage ID="1" BaseLoc="{doc}Tpls/Tpl_0/Content.xml"/>' if template else ""
    listed = "".join(
        f'<ofd:Page ID="{10 + n}" BaseLoc="{doc}Pages/Page_{n}/Content.xml"/>'
        for n in range(len(pages))
    )
    signatures = "<ofd:Signatures>Doc_0/Signs/Signatures.xml</ofd:Signatures>" if signed else ""
    found = {
        "OFD.xml": part_xml(
            '<ofd:OFD NS Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocInfo>'
            f"<ofd:DocID>{DOC_ID}</ofd:DocID>"
            "<ofd:Title>电子发票</ofd:Title><ofd:CustomDatas>"
            '<ofd:CustomData Name="发票号码">24312000000123456789</ofd:CustomData>'
            "</ofd:CustomDatas></ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>"
            f"{signatures}</ofd:DocBody></ofd:OFD>",
            namespace,
        ),
        "Doc_0/Document.xml": part_xml(
            "<ofd:Document NS><ofd:CommonData><ofd:MaxUnitID>999</ofd:MaxUnitID>"
            "<ofd:PageArea><ofd:PhysicalBox>0 0 210 140</ofd:PhysicalBox></ofd:PageArea>"
            f"<ofd:PublicRes>PublicRes.xml</ofd:PublicRes>{tpl}</ofd:CommonData>"
            f"<ofd:Pages>{listed}</ofd:Pages>"
            "<ofd:Annotations>Annots/Annotations.xml</ofd:Annotations>"
            "<ofd:CustomTags>Tags/CustomTags.xml</ofd:CustomTags></ofd:Document>",
            namespace,
        ),
        "Doc_0/PublicRes.xml": part_xml(
            '<ofd:Res NS BaseLoc="Res"><ofd:Fonts><ofd:Font ID="3" FontName="宋体"/>'
            "</ofd:Fonts></ofd:Res>",
            namespace,
        ),
        "Doc_0/Annots/Annotations.xml": part_xml(
            '<ofd:Annotations NS><ofd:Page PageID="10"><ofd:FileLoc>Page_0/Annotation.xml'
            "</ofd:FileLoc></ofd:Page></ofd:Annotations>",
            namespace,
        ),
        "Doc_0/Annots/Page_0/Annotation.xml": part_xml(
            f'<ofd:PageAnnot NS><ofd:Annot ID="700" Type="Stamp"><ofd:Appearance>'
            f'<ofd:TextObject ID="701" Boundary="0 0 9 9" Font="3" Size="3">'
            f'<ofd:TextCode X="0" Y="3">{ANNOTATION}</ofd:TextCode></ofd:TextObject>'
            f"</ofd:Appearance></ofd:Annot></ofd:PageAnnot>",
            namespace,
        ),
        "Doc_0/Tags/CustomTags.xml": part_xml(
            '<ofd:CustomTags NS><ofd:CustomTag NameSpace="urn:einvoice">'
            "<ofd:FileLoc>CustomTag.xml</ofd:FileLoc></ofd:CustomTag></ofd:CustomTags>",
            namespace,
        ),
        "Doc_0/Tags/CustomTag.xml": b"<eInvoice><InvoiceNo>24312000000123456789</InvoiceNo>"
        b"</eInvoice>",
        "Doc_0/Signs/Signatures.xml": part_xml(
            '<ofd:Signatures NS><ofd:Signature ID="1" BaseLoc="Sign_0/Signature.xml"/>'
            "</ofd:Signatures>",
            namespace,
        ),
        "Doc_0/Signs/Sign_0/SignedValue.dat": bytes(range(64)),
    }
    if template:
        found["Doc_0/Tpls/Tpl_0/Content.xml"] = part_xml(content(template), namespace)
    for n, page in enumerate(pages):
        found[f"Doc_0/Pages/Page_{n}/Content.xml"] = part_xml(
            content(page.split("\n"), "1" if template else None, order), namespace
        )
    return found


def pack(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def ofd(pages: list[str], template: list[str] | None = None, **options: object) -> bytes:
    return pack(parts(pages, template, **options))  # type: ignore[arg-type]


def invoice() -> bytes:
    """A two-page e-invoice: labels on the template, values and the item list on the pages."""
    return ofd(INVOICE_PAGES, INVOICE_LABELS)


def changed_parts(replaced: dict[str, bytes | None]) -> bytes:
    """The invoice with some parts replaced, or removed where the value is ``None``."""
    members = parts(INVOICE_PAGES, INVOICE_LABELS)
    for name, data in replaced.items():
        if data is None:
            members.pop(name, None)
        else:
            members[name] = data
    return pack(members)


def bomb(inflated: int) -> bytes:
    """The invoice with a page that inflates to ``inflated`` bytes of spaces."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, data in parts(INVOICE_PAGES, INVOICE_LABELS).items():
            if name != BODY:
                archive.writestr(name, data)
        with archive.open(BODY, "w", force_zip64=True) as member:
            block = b" " * (1 << 20)
            for _ in range(inflated >> 20):
                member.write(block)
    return out.getvalue()
