"""Every string of the web pages has its Chinese, and the compiled catalog the app loads is
the one the .po file says (a forgotten ``pybabel compile`` fails here, not in production)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "access" / "translations" / "zh_Hans_CN" / "LC_MESSAGES"
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}


def key(value: object) -> object:
    """A message's id or string as a hashable value (a plural one is a tuple of forms)."""
    return tuple(value) if isinstance(value, list | tuple) else value


def said(value: object) -> bool:
    """Whether a translation says something (every form of a plural one)."""
    return all(value) if isinstance(value, list | tuple) else bool(value)


def source_messages() -> set[object]:
    method_map = [("access/web/**.py", "python"), ("access/templates/**.html", "jinja2")]
    found = extract_from_dir(str(ROOT), method_map, keywords=KEYWORDS)
    return {key(message) for _file, _line, message, _comments, _context in found if message}


def test_every_page_string_has_a_chinese_translation() -> None:
    with (CATALOG / "messages.po").open("rb") as handle:
        po = read_po(handle)
    translated = {key(m.id): m.string for m in po if m.id and said(m.string) and not m.fuzzy}
    strings = source_messages()
    assert len(strings) > 300
    missing = sorted(strings - set(translated))
    assert not missing, f"untranslated (pybabel extract/update, then translate): {missing}"


def test_the_compiled_catalog_matches_the_po_file() -> None:
    with (CATALOG / "messages.po").open("rb") as handle:
        po = {key(m.id): key(m.string) for m in read_po(handle) if m.id and said(m.string)}
    with (CATALOG / "messages.mo").open("rb") as handle:
        mo = {key(m.id): key(m.string) for m in read_mo(handle) if m.id}
    assert mo == po, "run: pybabel compile -d access/translations"
