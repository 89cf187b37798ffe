"""Every action the code writes to the audit chain has a Chinese and an English name, so the
trail, its CSV and the pages never show a raw code. The code is read, not a list kept by
hand: a new ``record_event(..., "x.y", ...)`` without a label fails here."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import Babel

from access.web.labels import label
from archive.vocabulary import ACTIONS, FAMILIES, family_label

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("archive", "ingest", "search", "retention", "access")
#: ``f"user.{field}_changed"`` (archive.people.change_user): the fields it is called with.
CHANGED_FIELDS = ("role", "department", "clearance")


def _literals(node: ast.expr) -> Iterator[str]:
    """The action codes an expression can be: a literal, either branch of ``a if c else b``,
    or an f-string's expansions."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _literals(node.body)
        yield from _literals(node.orelse)
    elif isinstance(node, ast.JoinedStr):
        template = "".join(
            str(part.value) if isinstance(part, ast.Constant) else "{}" for part in node.values
        )
        assert template == "user.{}_changed", f"teach this test the f-string {template!r}"
        yield from (template.format(name) for name in CHANGED_FIELDS)
    else:
        raise AssertionError(f"an action that is not a literal: {ast.unparse(node)}")


def actions_in_code() -> set[str]:
    found: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", getattr(node.func, "attr", None))
                if name != "record_event" or len(node.args) < 3:
                    continue
                found |= set(_literals(node.args[2]))
    return found


def test_every_action_written_has_a_label() -> None:
    written = actions_in_code()
    assert len(written) > 70
    missing = sorted(written - set(ACTIONS))
    assert not missing, f"add these to archive.vocabulary.ACTIONS: {missing}"


def test_no_label_is_left_for_an_action_nobody_writes() -> None:
    assert sorted(set(ACTIONS) - actions_in_code()) == []


@pytest.mark.parametrize(("locale", "column"), [("zh_CN", 0), ("en", 1)])
def test_the_pages_show_the_label_in_their_language(locale: str, column: int) -> None:
    app = Flask(__name__)
    app.config["BABEL_DEFAULT_LOCALE"] = locale
    Babel(app)
    with app.test_request_context():
        for code, names in ACTIONS.items():
            assert label(code) == names[column] != code


def test_every_family_of_actions_the_trail_filters_by_is_named() -> None:
    """The trail's action filter offers each family (``record.*``) by its name as well."""
    families = {code.split(".")[0] for code in ACTIONS if "." in code}
    assert sorted(families ^ set(FAMILIES)) == []
    assert family_label("record.") == "档案"
    assert family_label("access_log.", "en") == "Access log"
