"""The archive under HTTP load: searches, record pages, reads and uploads against ``archive
run`` (gunicorn, the workers, the embedded broker), beside floors measured in the same run.

Run: ``.venv/bin/python -P bench/http_load.py [--records 5000] [--seconds 20]
[--clients 1,8,32] [--database-url postgresql+psycopg://postgres@127.0.0.1/test]
[--keep DIR [--prepare-only] | --reuse DIR]``.

Preparing 100,000 records takes most of an hour, so ``--keep DIR`` keeps the prepared
archive (its whole ``ARCHIVE_HOME``: the SQLite database, blobs, index, keys, checkpoints)
and what the phases need of it (tokens, ids) in ``DIR``; ``--reuse DIR`` loads a copy of it
instead of preparing (the phases upload, and the kept one stays as it was). With
``--database-url``, ``--reuse`` copies the kept database's rows into a new PostgreSQL schema
made by the archive's migrations, and checks that both hash chains verify there.

Records are filed through the archive's own ``store`` (encrypted text renditions, rows,
audit) from the seeded business text of ``bench/search.py``, in two departments and three
sensitivities, then indexed as ``archive index rebuild`` does. The searching user heads one
department: they know most hits and read (snippets, each an access-log line) those of their
department up to confidential. Queries are that script's: common and rare words, one and
two terms. For each client count, each phase runs ``--seconds``:

- ``/healthz``: the floor (one database round trip);
- searches; the same queries in-process (``access.browse.search_as``, one thread) are the
  index's own speed: the targets are a p95 within 2x the in-process p95 plus the floor, and
  at least 60% of the in-process throughput (8 clients);
- 1 KB reads (decide, log, decrypt) and record pages (``GET /api/v1/records/<id>``: the
  decision, its access-log line, metadata and versions);
- searches while one client uploads documents without pause: within 1.5x of the idle p95.

Every answer other than 2xx is an error; the target is none. Before the phases, 8 clients
make 16 searches and 16 record pages, not counted (each gunicorn worker opens the index
once); after them, both hash chains are verified again.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

import requests
from sqlalchemy import Integer, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from access.browse import SearchParams, search_as  # noqa: E402
from archive.accesslog import Client  # noqa: E402
from archive.audit import Actor  # noqa: E402
from archive.bootstrap import initialize  # noqa: E402
from archive.checkpoints import verify_all  # noqa: E402
from archive.config import load_settings  # noqa: E402
from archive.content import NewRecord, RenditionSource, store  # noqa: E402
from archive.core import Archive  # noqa: E402
from archive.db import Base, make_engine  # noqa: E402
from archive.migrate import upgrade  # noqa: E402
from archive.models import RenditionRole, Role, Sensitivity  # noqa: E402
from archive.people import create_user, find_department, find_user, issue_token  # noqa: E402
from retention.status import refresh_dirty  # noqa: E402
from search.indexer import rebuild  # noqa: E402

ARCHIVE = str(Path(sys.executable).with_name("archive"))
DEPARTMENTS = ("CG", "XS")
LEVELS = (Sensitivity.PUBLIC, Sensitivity.INTERNAL, Sensitivity.CONFIDENTIAL)


def corpus_tools() -> ModuleType:
    """``bench/search.py`` (its corpus and queries), under a name that does not hide the
    ``search`` package."""
    spec = importlib.util.spec_from_file_location("bench_search", ROOT / "bench" / "search.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Prepared(NamedTuple):
    """What the phases need from a prepared archive: tokens by user, the 1 KB version ids
    and some records the head may open (all in CG, public or internal)."""

    records: int
    seed: int
    tokens: dict[str, str]
    small: list[str]
    pages: list[str]


def prepare(env: dict[str, str], records: int, seed: int) -> Prepared:
    """An archive with ``records`` records, indexed."""
    arc = Archive(load_settings(env))
    initialize(arc, Actor.cli())
    tokens: dict[str, str] = {}
    with arc.transaction() as session:
        for name, role in (("head", Role.SUPERVISOR), ("clerk", Role.SPECIALIST)):
            user = create_user(
                session, Actor.cli(), name, role, find_department(session, "CG"),
                Sensitivity.CONFIDENTIAL, None, name,
            )  # fmt: skip
            tokens[name] = issue_token(session, Actor.cli(), user)
    started = time.perf_counter()
    small: list[str] = []
    pages: list[str] = []
    for number, doc in enumerate(corpus_tools().corpus(records, seed)):
        text = doc.content.encode()
        if number % 500 == 0:  # a 1 KB document to read, now and then
            text = text[:1024]
        stored = store(
            arc,
            io.BytesIO(text),
            actor=Actor.cli(),
            original_filename=f"{number}.txt",
            media_type="text/plain",
            new_record=NewRecord(
                project=doc.project, title=doc.title, when="2025-06",
                department=DEPARTMENTS[number % 2], sensitivity=LEVELS[number % 3],
            ),
            renditions=[RenditionSource(RenditionRole.TEXT, "text/plain", io.BytesIO(text))],
        )  # fmt: skip
        readable = number % 2 == 0 and number % 3 != 2  # in CG, public or internal
        if number % 500 == 0 and readable:
            small.append(str(stored.version_id))
        if number % 10 == 0 and readable and len(pages) < 2000:
            pages.append(str(stored.record_id))
    filed = time.perf_counter() - started
    started = time.perf_counter()
    rebuild(arc)
    print(
        f"  prepared {records} records: filed in {filed:.0f} s, "
        f"indexed in {time.perf_counter() - started:.0f} s"
    )
    arc.close()
    return Prepared(records, seed, tokens, small, pages)


def in_process(env: dict[str, str], asked: list[str], seconds: float) -> tuple[float, float]:
    """(p95 ms, searches a second) of the head's searches without HTTP, one thread."""
    arc = Archive(load_settings(env))
    with arc.sessions() as session:
        head = find_user(session, "head").id
    client, times = Client("127.0.0.1", "bench"), []
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        for words in asked:
            started = time.perf_counter()
            search_as(arc, head, client, SearchParams(q=words))
            times.append(time.perf_counter() - started)
    arc.close()
    return p95(times), len(times) / sum(times)


def p95(samples: list[float]) -> float:
    ordered = sorted(samples) or [0.0]
    return 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


class Phase:
    """``clients`` threads calling ``request`` until the time is up; latencies and errors."""

    def __init__(self, clients: int, seconds: float) -> None:
        self.clients, self.seconds = clients, seconds
        self.times: list[float] = []
        self.errors: dict[int, int] = {}
        self.lock = threading.Lock()

    def run(
        self,
        request: Callable[[requests.Session, int], requests.Response],
        until: threading.Event | None = None,
    ) -> Phase:
        """Run for ``seconds``, or with ``until`` until it is set (``seconds`` then says how
        long that was)."""
        began = time.monotonic()
        stop = began + self.seconds

        def going() -> bool:
            return not until.is_set() if until is not None else time.monotonic() < stop

        def client(number: int) -> None:
            with requests.Session() as http:
                turn = number
                while going():
                    started = time.perf_counter()
                    response = request(http, turn)
                    elapsed = time.perf_counter() - started
                    with self.lock:
                        self.times.append(elapsed)
                        if not 200 <= response.status_code < 300:
                            code = response.status_code
                            self.errors[code] = self.errors.get(code, 0) + 1
                    turn += self.clients

        threads = [threading.Thread(target=client, args=(n,)) for n in range(self.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if until is not None:
            self.seconds = time.monotonic() - began
        return self

    def line(self, label: str) -> str:
        rate = len(self.times) / self.seconds
        median = 1000 * statistics.median(self.times) if self.times else 0.0
        return (
            f"  {label:34} {rate:7.1f} req/s  p50 {median:7.1f} ms  p95 {p95(self.times):7.1f} ms"
            f"  errors {sum(self.errors.values())}{' ' + str(self.errors) if self.errors else ''}"
        )


def copy_to_postgresql(home: Path, env: dict[str, str], batch: int = 5000) -> None:
    """The rows of the SQLite database in ``home`` into the empty PostgreSQL schema of
    ``env``, made by the archive's migrations, table by table in dependency order; then the
    integer keys' sequences moved past the copied rows, and both hash chains verified
    against the keyring and the signed checkpoints (the blobs, index and keys are the same
    files). The rows the migrations seed (chain anchors, vocabularies) give way to the
    source's. Triggers (the append-only ones, foreign keys) do not fire during the copy: rows
    come in as they were, in the source's order, not as new events."""
    started = time.perf_counter()
    source = make_engine(f"sqlite:///{home / 'archive.db'}")
    upgrade(source)  # a kept archive from before a newer migration
    arc = Archive(load_settings(env))
    upgrade(arc.engine)
    copied = 0
    with source.connect() as reading, arc.engine.begin() as writing:
        writing.exec_driver_sql("SET LOCAL session_replication_role = replica")
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        writing.exec_driver_sql(f"TRUNCATE {tables}")  # rows the migrations seed
        for table in Base.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            rows = reading.execute(select(table).order_by(*order)).mappings()
            while chunk := [dict(row) for row in rows.fetchmany(batch)]:
                writing.execute(table.insert(), chunk)
                copied += len(chunk)
            keys = list(table.primary_key.columns)
            if (
                len(keys) == 1
                and isinstance(keys[0].type, Integer)
                and keys[0].autoincrement in (True, "auto")
                and not keys[0].foreign_keys
            ):
                key = keys[0].name
                writing.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence(:table, :key), "  # noqa: S608
                        f"max({key})) FROM {table.name} HAVING max({key}) IS NOT NULL"
                    ),
                    {"table": table.name, "key": key},
                )
    with arc.engine.connect() as connection:  # a restored database is analysed before use
        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    source.dispose()
    arc.close()
    print(f"  copied {copied} rows to PostgreSQL in {time.perf_counter() - started:.0f} s")
    verify(env, "after the copy")


def verify(env: dict[str, str], when: str) -> None:
    """Both hash chains, as ``archive audit verify`` checks them; stop if they do not."""
    arc = Archive(load_settings(env))
    with arc.sessions() as session:
        report = verify_all(session, arc.keyring, arc.settings.checkpoint_path)
    arc.close()
    chains = ", ".join(f"{name} {chain.count} links" for name, chain in report.chains.items())
    print(f"  chains {'verify' if report.ok else 'DO NOT verify'} {when} ({chains})")
    if not report.ok:
        raise SystemExit("\n".join(report.problems()))


def keep(home: Path, prepared: Prepared, into: Path) -> None:
    """The prepared archive's home and what the phases need of it, in ``into``."""
    shutil.copytree(home, into / "home", symlinks=True)
    (into / "prepared.json").write_text(json.dumps(prepared._asdict(), indent=1))


def kept(source: Path, home: Path) -> Prepared:
    """A copy of a kept archive's home at ``home`` (the kept one stays as it was)."""
    shutil.copytree(source / "home", home, symlinks=True)
    return Prepared(**json.loads((source / "prepared.json").read_text()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", help="PostgreSQL instead of the embedded SQLite")
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help="keep the prepared archive (SQLite) in DIR"
    )
    parser.add_argument(
        "--reuse", type=Path, metavar="DIR",
        help="load a copy of the archive kept in DIR instead of preparing one; with "
        "--database-url, its rows are copied into a new PostgreSQL schema",
    )  # fmt: skip
    parser.add_argument(
        "--prepare-only", action="store_true", help="with --keep: stop once it is kept"
    )
    args = parser.parse_args()
    if args.keep and (args.reuse or args.database_url):
        parser.error("--keep prepares on SQLite; it goes with neither --reuse nor --database-url")
    if args.prepare_only and not args.keep:
        parser.error("--prepare-only goes with --keep")
    if args.keep and args.keep.exists() and any(args.keep.iterdir()):
        parser.error(f"{args.keep} is not empty")
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        env = {"ARCHIVE_HOME": str(home)}
        schema = None
        if args.reuse:
            prepared = kept(args.reuse, home)
        if args.database_url:
            schema = f"b_{uuid.uuid4().hex[:10]}"
            import psycopg

            with psycopg.connect(args.database_url.replace("+psycopg", ""), autocommit=True) as pg:
                pg.execute(f"CREATE SCHEMA {schema}")
            env["ARCHIVE_DATABASE_URL"] = f"{args.database_url}?options=-csearch_path%3D{schema}"
        try:
            if args.reuse:
                if args.database_url:
                    copy_to_postgresql(home, env)
                else:  # a kept archive from before a newer migration
                    engine = make_engine(f"sqlite:///{home / 'archive.db'}")
                    upgrade(engine)
                    engine.dispose()
            else:
                prepared = prepare(env, args.records, args.seed)
                if args.keep:
                    args.keep.mkdir(parents=True, exist_ok=True)
                    keep(home, prepared, args.keep)
                    print(f"  kept in {args.keep}")
                    if args.prepare_only:
                        return
            run(env, prepared, args)
        finally:
            if schema is not None:
                with psycopg.connect(
                    args.database_url.replace("+psycopg", ""), autocommit=True
                ) as pg:
                    pg.execute(f"DROP SCHEMA {schema} CASCADE")


def settle(env: dict[str, str]) -> None:
    """Compute the retention clocks filing left to the worker's minute refresh, so the phases
    measure the archive at rest, not the worker catching up on 100,000 clocks."""
    arc = Archive(load_settings(env))
    started = time.perf_counter()
    count = refresh_dirty(arc)
    arc.close()
    print(f"  settled: {count} retention clocks in {time.perf_counter() - started:.0f} s")


def run(env: dict[str, str], prepared: Prepared, args: argparse.Namespace) -> None:
    """The in-process search, then ``archive run`` under each phase."""
    settle(env)
    asked = corpus_tools().queries(200, prepared.seed)
    print(
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{prepared.records} records, {'PostgreSQL' if args.database_url else 'SQLite'}, "
        f"{args.seconds:.0f} s a phase; load average "
        + " ".join(f"{n:.1f}" for n in os.getloadavg())
    )
    tokens, small, pages = prepared.tokens, prepared.small, prepared.pages
    alone_p95, alone_rate = in_process(env, asked[:50], args.seconds / 2)
    print(f"  in-process search, one thread      {alone_rate:7.1f} /s      p95 {alone_p95:7.1f} ms")
    port = 20000 + random.randrange(20000)
    base = f"http://127.0.0.1:{port}"
    log = Path(env["ARCHIVE_HOME"]).parent / "run.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [ARCHIVE, "run", "--port", str(port)],
            env={**os.environ, **env},
            start_new_session=True,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        started = time.monotonic()
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() - started > 300 or server.poll() is not None:
                tail = log.read_text(errors="replace").splitlines()[-30:]
                raise SystemExit("archive run did not come up:\n" + "\n".join(tail))
            time.sleep(0.3)
        print(f"  archive run answered /healthz after {time.monotonic() - started:.0f} s")
        time.sleep(3)  # the workers
        head = {"Authorization": f"Bearer {tokens['head']}"}
        clerk = {"Authorization": f"Bearer {tokens['clerk']}"}

        def warm(number: int) -> None:
            with requests.Session() as http:
                for turn in (number, number + 8):
                    search(http, turn)
                    if pages:
                        page(http, turn)

        def health(http: requests.Session, turn: int) -> requests.Response:
            return http.get(f"{base}/healthz", timeout=120)

        def search(http: requests.Session, turn: int) -> requests.Response:
            query = {"q": asked[turn % len(asked)]}
            return http.get(f"{base}/api/v1/search", params=query, headers=head, timeout=120)

        def read(http: requests.Session, turn: int) -> requests.Response:
            version = small[turn % len(small)]
            url = f"{base}/api/v1/versions/{version}/content"
            return http.get(url, params={"action": "view"}, headers=head, timeout=120)

        def page(http: requests.Session, turn: int) -> requests.Response:
            url = f"{base}/api/v1/records/{pages[turn % len(pages)]}"
            return http.get(url, headers=head, timeout=120)

        def upload(http: requests.Session, turn: int) -> requests.Response:
            body = f"负载测试上传 第{turn}份 {uuid.uuid4()}".encode()
            files = {"file": (f"上传{turn}.txt", body)}
            url = f"{base}/api/v1/documents"
            return http.post(url, files=files, data={"project": "负载项目"}, headers=clerk)

        warming = [threading.Thread(target=warm, args=(n,)) for n in range(8)]
        for thread in warming:
            thread.start()
        for thread in warming:
            thread.join()
        idle_p95: dict[int, float] = {}
        for clients in (int(c) for c in args.clients.split(",")):
            print(f" {clients} client(s)")
            floor = Phase(clients, args.seconds).run(health)
            print(floor.line("/healthz (the floor)"))
            searching = Phase(clients, args.seconds).run(search)
            print(searching.line("search"))
            idle_p95[clients] = p95(searching.times)
            limit = 2 * alone_p95 + p95(floor.times)
            rate = len(searching.times) / args.seconds
            print(
                f"    p95 limit 2x in-process + floor = {limit:.1f} ms: "
                f"{'within' if idle_p95[clients] <= limit else 'OVER'}; "
                f"{rate / alone_rate:.0%} of the in-process rate (target 60% at 8)"
            )
            if small:
                reading = Phase(clients, args.seconds).run(read)
                print(reading.line("1 KB read (decide, log, decrypt)"))
                ratio = p95(reading.times) / max(p95(floor.times), 0.001)
                print(f"    p95 {ratio:.1f}x the floor's (target 2x)")
            if pages:
                paging = Phase(clients, args.seconds).run(page)
                print(paging.line("record page (metadata, versions)"))
                ratio = p95(paging.times) / max(p95(floor.times), 0.001)
                print(f"    p95 {ratio:.1f}x the floor's")
        uploads = Phase(1, args.seconds)
        busy = Phase(8, args.seconds)
        side = threading.Thread(target=uploads.run, args=(upload,))
        side.start()
        busy.run(search)
        side.join()
        print(" during ingest (8 searching, 1 uploading without pause)")
        print(uploads.line("upload"))
        print(busy.line("search"))
        if 8 in idle_p95:
            ratio = p95(busy.times) / idle_p95[8]
            print(f"    p95 {ratio:.2f}x the idle p95 at 8 clients (target 1.5x)")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
    verify(env, "after the phases")


if __name__ == "__main__":
    main()
