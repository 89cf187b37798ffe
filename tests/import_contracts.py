"""An import-linter contract of our own: no module imports another module's ``_private``
name. A leading underscore says "only for this module"; reaching for one from elsewhere is
how rooms start leaning on each other's insides, so the name must become public (and
worth its place) first."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import grimp
from importlinter.application import output
from importlinter.domain.contract import Contract, ContractCheck


def private_imports(root: Path, packages: list[str]) -> list[str]:
    """``file:line: from M import _name`` for every import of one of ``packages``' private
    names from under ``packages`` (a third party's internals are that party's business)."""
    found = []
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text("utf-8"), str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.ImportFrom):
                    continue
                if node.level == 0 and (node.module or "").split(".")[0] not in packages:
                    continue
                for alias in node.names:
                    name = alias.name
                    if name.startswith("_") and not (name.startswith("__") and name.endswith("__")):
                        where = path.relative_to(root)
                        found.append(f"{where}:{node.lineno}: from {node.module} import {name}")
    return found


class NoPrivateImports(Contract):
    type_name = "no_private_imports"

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        packages = sorted({module.split(".")[0] for module in graph.modules})
        found = private_imports(Path.cwd(), [p for p in packages if (Path.cwd() / p).is_dir()])
        return ContractCheck(kept=not found, warnings=[], metadata={"found": found})

    def render_broken_contract(self, check: ContractCheck) -> Any:
        for line in check.metadata["found"]:
            output.print_error(line)
            output.new_line()
