"""The layout's rules that import-linter keeps (pyproject.toml), checked to bite."""

from __future__ import annotations

from pathlib import Path

from tests.import_contracts import private_imports

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["archive", "ingest", "search", "access", "retention"]


def test_a_private_name_imported_from_another_module_is_named(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("def _helper(): ...\n__all__ = []\n")
    (tmp_path / "pkg" / "b.py").write_text(
        "from __future__ import annotations\n"
        "from pkg.a import __all__\n"
        "from os import _exit\n"  # a third party's internals are not ours to police
        "from pkg.a import (\n    __all__ as names,\n    _helper,\n)\n"
        "from .a import _helper as again\n"
    )
    assert private_imports(tmp_path, ["pkg"]) == [
        "pkg/b.py:4: from pkg.a import _helper",
        "pkg/b.py:8: from a import _helper",
    ]


def test_no_module_of_ours_imports_another_modules_private_name() -> None:
    assert private_imports(ROOT, PACKAGES) == []
