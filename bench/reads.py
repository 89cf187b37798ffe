"""Reads at the speed of the wire (issue 19, item 4), through a real gunicorn.

Three figures, each beside a limit measured in the same run, requests interleaved with it so
both see the same machine (other work on it included):

- a 1 KB download through the gated reader (token, policy, access-log line, decrypt) beside
  ``GET /healthz`` on the same server: target within 2x;
- a 10 MB download beside a plain WSGI app on the same gunicorn settings sending the same
  bytes from memory: target at least 80% of its throughput;
- the stamped view of a 100-page PDF: target 150 ms.

The archive is the embedded default (SQLite, local blobs) in a temporary ``ARCHIVE_HOME``,
served by ``archive serve`` (gunicorn, gthread) started here; the client keeps one
connection alive, so what is measured is the server's work and the bytes on loopback.
Beside wall-clock times, the servers' own CPU time per request (the scheduler's count for
all their threads) is printed: on a machine busy with other work it is the steadier figure.

    .venv/bin/python -P bench/reads.py [--rounds 200] [--big-rounds 100] [--view-rounds 30]

(``-P``: bench/search.py would otherwise shadow the ``search`` package.)
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import io
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from archive.audit import Actor
from archive.bootstrap import initialize
from archive.config import load_settings
from archive.content import NewRecord, store
from archive.core import Archive
from archive.crypto.stream import decrypt_stream, encrypt_stream, new_data_key
from archive.models import Role, Sensitivity
from archive.pdf import cjk_font
from archive.people import create_user, find_department, issue_token

ARCHIVE = str(Path(sys.executable).with_name("archive"))
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
WORKERS = "2"

#: The baseline: the same bytes from memory, in 1 MiB pieces like the reader's segments
#: (cut once, at start: no copy per request), with their length, on the same worker class
#: and threads as ``archive serve``.
PLAIN_APP = """
import os
from pathlib import Path

DATA = Path(os.environ["BENCH_PLAIN_FILE"]).read_bytes()
PIECES = [DATA[i : i + (1 << 20)] for i in range(0, len(DATA), 1 << 20)]


def app(environ, start_response):
    start_response(
        "200 OK",
        [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(DATA)))],
    )
    return PIECES
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def document_pdf(pages: int) -> bytes:
    """A text PDF of ``pages`` A4 pages, thirty lines of Chinese and Latin on each."""
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4)
    font = cjk_font()
    for page in range(pages):
        canvas.setFont(font, 11)
        for line in range(30):
            canvas.drawString(
                60, 780 - 24 * line, f"第{page + 1}页 第{line + 1}行 华东仓储改造项目 验收报告 line"
            )
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def seed(arc: Archive, big: bytes, pdf: bytes) -> tuple[dict[str, str], str]:
    """Three documents a department head reads by standing access, and the head's token."""
    documents = {
        "small": (os.urandom(512).hex().encode(), "small.txt", "text/plain"),
        "big": (big, "big.bin", "application/octet-stream"),
        "pdf": (pdf, "report.pdf", "application/pdf"),
    }
    versions = {}
    for key, (data, name, media_type) in documents.items():
        stored = store(
            arc,
            io.BytesIO(data),
            actor=Actor.cli(),
            original_filename=name,
            media_type=media_type,
            new_record=NewRecord(
                project=f"读取项目{key}", title=key, when="2026-05", department="CG",
                sensitivity=Sensitivity.INTERNAL,
            ),
        )  # fmt: skip
        versions[key] = str(stored.version_id)
    with arc.transaction() as session:
        head = create_user(
            session, Actor.cli(), "head", Role.SUPERVISOR, find_department(session, "CG")
        )
        token = issue_token(session, Actor.cli(), head)
    return versions, token


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=out, start_new_session=True)


def stop(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


class Client:
    """One kept-alive connection; ``get`` returns the status and the whole body."""

    def __init__(self, port: int, token: str = "") -> None:
        self.port, self.token = port, token
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(self, path: str) -> tuple[int, bytes, http.client.HTTPResponse]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            self.connection.request("GET", path, headers=headers)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            # gunicorn closes a connection idle for 2 s (its keepalive): open another.
            self.connection.close()
            self.connection.request("GET", path, headers=headers)
            response = self.connection.getresponse()
        return response.status, response.read(), response


def wait_up(port: int, path: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if Client(port).get(path)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"nothing answered {path} on port {port} within {seconds} s")


class ServerClock:
    """CPU milliseconds used so far by every thread of the server whose process group is
    ``group``: the scheduler's own count in nanoseconds (``/proc/<pid>/task/*/schedstat``).
    The processes are found once (gunicorn's workers live for the run); their threads are
    counted afresh each time, since a worker starts them as requests come."""

    def __init__(self, group: int) -> None:
        self.processes: list[Path] = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):  # gone meanwhile
                if int(stat.read_text().rsplit(")", 1)[1].split()[2]) == group:  # pgrp
                    self.processes.append(stat.parent)

    def __call__(self) -> float:
        total = 0
        for process in self.processes:
            for path in process.glob("task/*/schedstat"):
                with contextlib.suppress(OSError):
                    total += int(path.read_text().split()[0])
        return total / 1e6


@dataclass
class Samples:
    """Per request: wall-clock milliseconds at the client, CPU milliseconds in the server."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def take(self, clock: ServerClock, fetch: Callable[[], object]) -> None:
        cpu, started = clock(), time.perf_counter()
        fetch()
        self.wall.append((time.perf_counter() - started) * 1000)
        self.cpu.append(clock() - cpu)


def interleaved(
    rounds: int,
    first: tuple[ServerClock, Callable[[], object]],
    second: tuple[ServerClock, Callable[[], object]],
) -> tuple[Samples, Samples]:
    """Each measured alternately with the other, after a few unmeasured warm-up rounds, so
    both see the same machine."""
    for _ in range(3):
        first[1](), second[1]()
    a, b = Samples(), Samples()
    for _ in range(rounds):
        a.take(*first)
        b.take(*second)
    return a, b


def decryption_ms(data: bytes, rounds: int) -> float:
    """Median milliseconds to decrypt ``data`` sealed as the archive seals a blob (1 MiB
    AES-GCM segments), from memory: the work a download adds to sending the bytes."""
    key, aad = new_data_key(), b"version"
    sealed = b"".join(encrypt_stream(key, io.BytesIO(data), aad))
    times = []
    for _ in range(max(rounds, 5)):
        started = time.perf_counter()
        for _piece in decrypt_stream(key, io.BytesIO(sealed), aad):
            pass
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def line(label: str, samples: Samples) -> str:
    wall, cpu = statistics.median(samples.wall), statistics.median(samples.cpu)
    return (
        f"  {label:30} median {wall:6.1f} ms  p95 {p95(samples.wall):6.1f} ms  "
        f"server CPU {cpu:6.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200, help="1 KB reads and /healthz")
    parser.add_argument("--big-rounds", type=int, default=100, help="10 MB downloads")
    parser.add_argument("--view-rounds", type=int, default=30, help="stamped 100-page views")
    parser.add_argument("--big-mb", type=int, default=10)
    parser.add_argument("--pages", type=int, default=100)
    args = parser.parse_args()

    big = os.urandom(args.big_mb * 1024 * 1024)
    pdf = document_pdf(args.pages)
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="archive-reads-") as tmp:
        home = Path(tmp) / "home"
        env = {**os.environ, "ARCHIVE_HOME": str(home)}
        arc = Archive(load_settings({"ARCHIVE_HOME": str(home)}))
        initialize(arc, Actor.cli())
        versions, token = seed(arc, big, pdf)
        arc.close()
        (Path(tmp) / "plain_app.py").write_text(textwrap.dedent(PLAIN_APP))
        (Path(tmp) / "big.bin").write_bytes(big)
        port, plain_port = free_port(), free_port()
        try:
            serve = [ARCHIVE, "serve", "--host", "127.0.0.1", "--port", str(port)]
            processes.append(start([*serve, "--workers", WORKERS], env, Path(tmp) / "web.log"))
            plain = [
                GUNICORN, "--chdir", tmp, "--bind", f"127.0.0.1:{plain_port}",
                "--workers", WORKERS, "--worker-class", "gthread", "--threads", "4",
                "plain_app:app",
            ]  # fmt: skip
            plain_env = {**env, "BENCH_PLAIN_FILE": str(Path(tmp) / "big.bin")}
            processes.append(start(plain, plain_env, Path(tmp) / "plain.log"))
            wait_up(port, "/healthz")
            wait_up(plain_port, "/")

            reader, health, baseline = Client(port, token), Client(port), Client(plain_port)
            content = "/api/v1/versions/{}/content?action={}"
            small = content.format(versions["small"], "download")
            download = content.format(versions["big"], "download")
            view = content.format(versions["pdf"], "view")

            # What is served is what was stored, with its length announced.
            status, body, response = reader.get(download)
            if status != 200 or hashlib.sha256(body).digest() != hashlib.sha256(big).digest():
                raise SystemExit(f"the download is not what was stored ({status})")
            length = response.getheader("Content-Length")
            status, stamped, _ = reader.get(view)
            pages = PdfReader(io.BytesIO(stamped)).pages if status == 200 else []
            if len(pages) != args.pages or "head" not in pages[-1].extract_text():
                raise SystemExit(f"the view is not the stamped PDF ({status})")

            web, plain_server = ServerClock(processes[0].pid), ServerClock(processes[1].pid)
            reads, floor = interleaved(
                args.rounds,
                (web, lambda: reader.get(small)),
                (web, lambda: health.get("/healthz")),
            )
            downloads, plain_times = interleaved(
                args.big_rounds,
                (web, lambda: reader.get(download)),
                (plain_server, lambda: baseline.get("/")),
            )
            views = Samples()
            for _ in range(args.view_rounds):
                views.take(web, lambda: reader.get(view))
        finally:
            for process in processes:
                stop(process)

    size = len(big) / 1024**2
    print(
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"SQLite, local blobs; gunicorn gthread, {WORKERS} workers x 4 threads; one keep-alive "
        "client"
    )
    ratio = statistics.median(reads.wall) / statistics.median(floor.wall)
    cpu_ratio = statistics.median(reads.cpu) / statistics.median(floor.cpu)
    print(line("1 KB download", reads))
    print(line("/healthz (floor)", floor))
    print(f"  1 KB read / healthz: {ratio:.2f}x wall clock, {cpu_ratio:.2f}x CPU (target <= 2x)")
    rate = size / statistics.median(downloads.wall) * 1000
    plain_rate = size / statistics.median(plain_times.wall) * 1000
    print(line(f"{size:.0f} MB download", downloads) + f"  {rate:5.0f} MB/s")
    print(line(f"{size:.0f} MB plain WSGI from memory", plain_times) + f"  {plain_rate:5.0f} MB/s")
    print(
        f"  download / plain: {rate / plain_rate:.0%} of the throughput (target >= 80%); "
        f"Content-Length {length or 'absent (chunked)'}"
    )
    decrypting = decryption_ms(big, args.big_rounds)
    plain_wall = statistics.median(plain_times.wall)
    ceiling = plain_wall / (plain_wall + decrypting)
    undecrypted = plain_wall / (statistics.median(downloads.wall) - decrypting)
    print(
        f"  decrypting the same {size:.0f} MB alone (AES-GCM, this process): {decrypting:.1f} ms;"
        f" a server that decrypts and then sends\n  on one thread reaches at most {ceiling:.0%}"
        f" of the plain app (the limit for this figure); the download less decryption:"
        f" {undecrypted:.0%}"
    )
    print(line(f"stamped view, {args.pages} pages", views))
    print(f"  ({len(pdf) / 1024:.0f} KB in, {len(stamped) / 1024:.0f} KB out; target <= 150 ms)")


if __name__ == "__main__":
    main()
