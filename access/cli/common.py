"""What every command shares: the archive of this invocation (opened once, with the
listeners connected, closed when the command ends), the one place where the error family
becomes a message and exit status 1, and the report helpers."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy.orm import Session

from access.app.wiring import open_archive
from archive.core import Archive
from archive.errors import DomainError
from archive.models import User
from archive.passwords import check_password
from archive.people import find_user
from archive.vocabulary import term

F = TypeVar("F", bound=Callable[..., Any])


def shown(value: object) -> str:
    """A code as an operator reads it: the code (what options and scripts take) with its
    Chinese name from the vocabulary, e.g. ``records_manager（档案管理员）``."""
    code = str(getattr(value, "value", value) or "")
    name = term(code)
    return code if name in (code, "—") else f"{code}（{name}）"


def current_archive() -> Archive:
    """The archive of this command line, opened on first use and closed at its end."""
    root = click.get_current_context().find_root()
    if root.obj is None:
        root.obj = open_archive()
        root.call_on_close(root.obj.close)
    arc: Archive = root.obj
    return arc


def celery_app() -> Any:
    """The Celery app of the configured broker, with every task bound to it."""
    from access.app.factory import create_app

    return create_app().extensions["celery"]


def friendly_errors(func: F) -> F:
    """Turn the errors a user can cause into one clear line and exit status 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DomainError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper  # type: ignore[return-value]


def conclude(problems: Sequence[object], summary: str, marker: str = "FAILED") -> None:
    """Name each problem on stderr, then the summary; exit 1 if there was any (for scripts)."""
    for problem in problems:
        click.echo(f"{marker} {problem}", err=True)
    click.echo(summary)
    if problems:
        sys.exit(1)


def second_person(session: Session, username: str) -> User:
    """The person a two-person action names, who proves it by typing their own password
    here (it never comes from an option: an operator alone cannot stand in for them)."""
    person = find_user(session, username)
    password = click.prompt(f"password of {username}", hide_input=True, err=True)
    if not person.active or not check_password(person, password):
        raise click.ClickException(f"{username}'s password was not right; nothing was done")
    return person


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def echo_table(headings: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Rows under their headings (中文 English): a table lined up by display width in a
    terminal (Chinese characters are two columns wide), tab-separated when piped, for
    scripts. Cells are plain text: a title's ``[bold]`` is printed, never interpreted."""
    if not sys.stdout.isatty():
        for line in (headings, *rows):
            click.echo("\t".join(" ".join(str(cell).split()) for cell in line))
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for heading in headings:
        table.add_column(heading, overflow="fold")
    for row in rows:
        table.add_row(*(Text(str(cell)) for cell in row))
    Console().print(table)


def file_kind(kind: str | None, output: Path, kinds: Sequence[str]) -> str:
    """The format to write: ``--format`` if given, else the output's extension (``-o 目录.xlsx``
    writes XLSX), else the first of ``kinds``; a ``--format`` the extension contradicts is
    refused rather than writing a PDF named .xlsx."""
    suffix = output.suffix.lower().lstrip(".")
    if kind is None:
        return suffix if suffix in kinds else kinds[0]
    if suffix in kinds and suffix != kind:
        raise click.UsageError(f"--format {kind} does not match {output.name}: give one of them")
    return kind
