"""``archive retention ...`` run as a records manager runs it: a real process per command."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from pypdf import PdfReader

from archive.audit import Actor
from archive.bootstrap import initialize
from archive.config import load_settings
from archive.core import Archive
from archive.models import Record
from archive.people import find_user, set_password
from tests.access.test_cli import cli
from tests.conftest import make_environ
from tests.retention.conftest import add_people, file_record

OLD = date(2010, 5, 1)


def test_a_destruction_list_from_the_command_line(tmp_path: Path) -> None:
    env = make_environ(tmp_path / "home", "sqlite", "local")
    arc = Archive(load_settings(env))
    initialize(arc, Actor.cli())
    add_people(arc)
    records = [
        file_record(arc, record_type="application", when=OLD, project=f"旧申请{n}")
        for n in range(2)
    ]
    with arc.transaction() as session:
        for name in ("sun", "wang", "qian"):
            set_password(session, Actor.cli(), find_user(session, name), f"{name}'s long password")
    arc.close()

    assert "14 schedules created" in cli(env, "retention", "plan", "load").stdout
    heading, *rows = cli(env, "retention", "schedules").stdout.splitlines()
    assert heading.split("\t")[:4] == ["键 Key", "名称 Name", "版 Edition", "保管期限 Period"]
    assert any(
        r.startswith("voucher\t会计凭证\t1\t30年（D30）\tfiscal_year_end（会计") for r in rows
    )
    placed = cli(env, "retention", "hold", "place", "--name", "诉讼", "--reason", "(2026)民初1号",
                 "--record", str(records[0]))  # fmt: skip
    assert "1 records held" in placed.stdout
    cut = cli(env, "retention", "cut-off", str(records[0]), expect=1)
    assert "on hold" in cut.stderr
    swept = cli(env, "retention", "sweep").stdout
    assert "proposed {'destroy': 1}" in swept
    assert "1 due but held" in swept
    number = re.search(r"XH-\d{4}-\d{4}", swept)
    assert number is not None
    ref = number.group()

    cli(env, "retention", "list", "edit", ref, "--opinion", "同意销毁")
    assert "digest" in cli(env, "retention", "list", "submit", ref).stdout
    refused = cli(env, "retention", "list", "execute", ref, "--yes", expect=1)
    assert "not fully signed" in refused.stderr
    # Each signer types their own password: the operator alone cannot sign for them.
    wrong = cli(env, "retention", "list", "sign", ref, "--as", "sun", stdin="guess\n", expect=1)
    assert "password was not right; nothing was done" in wrong.stderr
    cli(env, "retention", "list", "sign", ref, "--as", "sun", stdin="sun's long password\n")
    cli(env, "retention", "list", "sign", ref, "--as", "wang", stdin="wang's long password\n")
    last = cli(env, "retention", "list", "sign", ref, "--as", "qian", "--role", "director",
               stdin="qian's long password\n")  # fmt: skip
    assert "0 signatures missing" in last.stdout
    assert "1 done, 0 skipped" in cli(env, "retention", "list", "execute", ref, "--yes").stdout

    pdf = tmp_path / "cert.pdf"
    cli(env, "retention", "list", "certificate", ref, "-o", str(pdf))
    assert ref in PdfReader(pdf).pages[0].extract_text()
    csv = tmp_path / "cert.csv"
    cli(env, "retention", "list", "certificate", ref, "--format", "csv", "-o", str(csv))
    assert "用户qian" in csv.read_text("utf-8")
    register = tmp_path / "销毁清册.xlsx"  # the extension says which
    cli(env, "retention", "list", "register", ref, "-o", str(register))
    assert register.read_bytes().startswith(b"PK")  # XLSX, not a PDF named .xlsx
    clash = cli(env, "retention", "list", "register", ref, "--format", "pdf", "-o", str(register),
                expect=2)  # fmt: skip
    assert "--format pdf does not match 销毁清册.xlsx" in clash.stderr
    assert "audit chain intact" in cli(env, "audit", "verify").stdout

    # The hold outlived the list; the manual version shredder respects it too.
    assert '"records": 1' in cli(env, "retention", "hold", "list").stdout
    arc = Archive(load_settings(env))
    with arc.sessions() as session:
        held = session.get(Record, records[0])
        assert held is not None
        version = str(held.versions[0].id)
    arc.close()
    shred = cli(
        env, "keys", "destroy", version, "--reason", "手工", "--confirmed-by", "qian", "--yes",
        stdin="qian's long password\n", expect=1,
    )  # fmt: skip
    assert "on hold" in shred.stderr
    codes = cli(env, "retention", "codes").stdout
    assert '"disposed": 1' in codes
