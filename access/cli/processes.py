"""``archive serve|worker|beat|watch|run``: the archive's processes. ``run`` is the embedded
default in one command; at scale each runs on its own (docker-compose.yml)."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import click

from access.cli.common import celery_app, current_archive, friendly_errors
from archive.audit import Actor
from ingest.celery_config import QUEUES


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--debug", is_flag=True, help="Flask's development server, for development only.")
@friendly_errors
def serve(host: str, port: int, workers: int, debug: bool) -> None:
    """Run the web application on gunicorn."""
    from access.app.server import serve_app

    serve_app(host, port, workers, debug)


@click.command()
@click.option("--queues", default=",".join(QUEUES), show_default=True)
@click.option("--concurrency", default=2, show_default=True, type=int)
def worker(queues: str, concurrency: int) -> None:
    """Run a Celery worker for the configured broker (SQLite file by default)."""
    from archive.config import load_settings
    from ingest.celery_config import INGEST_QUEUE
    from ingest.checks import scanner_line
    from ingest.office import status_line

    if INGEST_QUEUE in queues.split(","):  # the worker that checks and lays documents out
        settings = load_settings().ingest
        click.echo(status_line(settings), err=True)
        click.echo(scanner_line(settings), err=True)
    name = f"archive-{queues.replace(',', '+')}@{socket.gethostname()}"
    celery_app().worker_main(
        [
            "worker",
            "--loglevel=INFO",
            f"--queues={queues}",
            f"--concurrency={concurrency}",
            f"--hostname={name}",
            "--without-mingle",
            "--without-gossip",
        ]
    )


@click.command()
def beat() -> None:
    """Run the scheduler (the ingest sweeper; later the retention sweeps)."""
    celery_app().start(["beat", "--loglevel=INFO"])


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@friendly_errors
def run(host: str, port: int) -> None:
    """The embedded default in one command: web, workers, the index writer, the scheduler and
    the hot folder."""
    from access.app.supervisor import child, supervise
    from access.app.wiring import prepare_broker
    from archive.bootstrap import initialize
    from ingest.rules import seed_default_rules
    from retention.schedules import seed_default_plan

    arc = current_archive()
    initialize(arc, Actor.cli())
    seed_default_rules(arc, Actor.cli())
    with arc.transaction() as session:
        seed_default_plan(session, Actor.cli())
    prepare_broker(celery_app())  # before the children race to create the queues
    inbox = arc.settings.home / "inbox"
    click.echo(f"archive at http://{host}:{port}/ ; hot folder {inbox} (Ctrl-C stops it)")
    code = supervise(
        {
            "web": child("serve", "--host", host, "--port", str(port)),
            "worker": child("worker"),
            "indexer": child("worker", "--queues", "index", "--concurrency", "1"),
            "beat": child("beat"),
            "watch": child("watch", str(inbox)),
        }
    )
    sys.exit(code)


@click.command()
@click.argument("inbox", type=click.Path(file_okay=False, path_type=Path), required=False)
@click.option("--once", is_flag=True, help="Scan once and exit (for cron or tests).")
@friendly_errors
def watch(inbox: Path | None, once: bool) -> None:
    """Watch a scanner hot folder (default ARCHIVE_HOME/inbox) and ingest what settles there."""
    import signal
    import time

    from ingest.hotfolder import HotFolder
    from ingest.tasks import enqueue

    celery_app()  # binds the tasks to the configured broker
    arc = current_archive()
    folder = HotFolder(
        arc,
        (inbox or arc.settings.home / "inbox").resolve(),
        enqueue,
        settle_seconds=arc.settings.ingest.hotfolder_settle_seconds,
    )
    if once:
        folder.scan_once()
        if folder.settle_seconds == 0:
            folder.scan_once()
        return
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
    click.echo(f"watching {folder.inbox}")
    try:
        while not stopping:
            folder.scan_once()
            time.sleep(1.0)
    except KeyboardInterrupt:
        pass
