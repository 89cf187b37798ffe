"""The ``archive`` command: one module per command group, each command a thin shell over a
service function. :func:`main` is assembled here, explicitly, from the groups."""

from __future__ import annotations

import click

from access.cli import disposition, index, ingest, ops, people, processes, retention


@click.group()
def main() -> None:
    """Document archive and records management (档案管理)."""


for command in (
    ops.init,
    processes.serve,
    ingest.put,
    ops.fixity,
    ops.blobs,
    people.keys,
    ops.audit,
    people.department,
    people.user,
    processes.worker,
    processes.beat,
    processes.run,
    processes.watch,
    ingest.import_,
    ingest.jobs,
    ingest.quarantine,
    ingest.rules,
    ingest.review,
    ingest.render_office,
    index.index_group,
    retention.retention,
    ops.backup_group,
    ops.restore_command,
    ops.incident,
    ops.transfer,
):
    main.add_command(command)
retention.retention.add_command(disposition.list_)
