"""The fault and load suite on the scaled shape, loopback only.

Run (as root, since it restarts PostgreSQL with pg_ctlcluster):
``.venv/bin/python bench/ops_load.py [--seconds 120] [--readers 20]``

The shape: PostgreSQL (a fresh schema in database ``test``), Redis as the broker, S3 over
HTTP (moto's server behind a TCP proxy this script can cut), and real processes: ``archive
serve`` (gunicorn, 4 workers), two ``archive worker`` for ingest, the index writer and
``archive beat``. For ``--seconds``, ``--readers`` threads read content through the gated
reader (decrypt, watermark, access-log append) while one thread files documents through the
API. Meanwhile, at fixed points: kill -9 of an ingest worker (restarted), kill -9 of the
web server (restarted), the S3 endpoint down for 30 s, and PostgreSQL restarted.

Afterwards the queue drains and every accepted document must be stored: "nothing lost".
Read errors are counted inside and outside the fault windows; p95 latency is printed beside
the floor measured in the same run: ``/healthz`` (one database round trip, no content).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from moto.server import ThreadedMotoServer

ROOT = Path(__file__).resolve().parent.parent
ARCHIVE = str(Path(sys.executable).with_name("archive"))
PG = "postgresql://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Proxy:
    """A TCP proxy to the S3 server; ``down()`` refuses and drops connections, ``up()`` ends it."""

    def __init__(self, target: int) -> None:
        self.target, self.port, self.open = target, free_port(), True
        self.server = socket.create_server(("127.0.0.1", self.port))
        self.links: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            client, _ = self.server.accept()
            if not self.open:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target))
            self.links += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for end in (src, dst):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def down(self) -> None:
        self.open = False
        for link in self.links:
            with contextlib.suppress(OSError):
                link.shutdown(socket.SHUT_RDWR)
        self.links.clear()

    def up(self) -> None:
        self.open = True


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    errors_outside: list[str] = field(default_factory=list)
    errors_inside: int = 0
    accepted: list[str] = field(default_factory=list)
    upload_refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Shape:
    """The processes of the scaled shape, started and killed like a supervisor would."""

    def __init__(self, env: dict[str, str], port: int) -> None:
        self.env, self.port = env, port
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.logs = Path(env["ARCHIVE_HOME"]) / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)

    def cli(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [ARCHIVE, *args], env=self.env, input=stdin, capture_output=True, text=True, check=False
        )
        if done.returncode:
            raise SystemExit(f"archive {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    def start(self, name: str) -> None:
        commands = {
            "web": ["serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "4"],
            "worker-1": ["worker", "--queues", "ingest,maintenance", "--concurrency", "2"],
            "worker-2": ["worker", "--queues", "ingest,maintenance", "--concurrency", "2"],
            "indexer": ["worker", "--queues", "index", "--concurrency", "1"],
            "beat": ["beat"],
        }
        log = (self.logs / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(
            [ARCHIVE, *commands[name]],
            env=self.env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )

    def kill(self, name: str) -> None:
        os.killpg(self.procs[name].pid, signal.SIGKILL)
        self.procs[name].wait()

    def stop_all(self) -> None:
        for name in list(self.procs):
            try:
                os.killpg(self.procs[name].pid, signal.SIGTERM)
                self.procs[name].wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(self.procs[name].pid, signal.SIGKILL)


def http(method: str, url: str, token: str, body: bytes | None = None, ctype: str = "") -> Any:
    request = urllib.request.Request(url, data=body, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    if ctype:
        request.add_header("Content-Type", ctype)
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.read()


def multipart(filename: str, data: bytes, fields: dict[str, str]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: text/plain\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    return b"".join(
        parts
    ) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def wait_until(check: Any, seconds: float, what: str) -> float:
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        try:
            if check():
                return time.monotonic() - start
        except (OSError, urllib.error.URLError, ValueError):
            pass
        time.sleep(0.25)
    raise SystemExit(f"{what} did not happen within {seconds} s")


def upload(base: str, token: str, n: int) -> tuple[int, bytes]:
    text = (f"运维压测文件 {n} 仓储月报 load test line {n}\n" * 40).encode()  # internal
    body, ctype = multipart(
        f"压测-{n}.txt", text, {"project": "压测项目", "department": "CG", "date": "2026-11"}
    )
    result: tuple[int, bytes] = http("POST", f"{base}/api/v1/documents", token, body, ctype)
    return result


def main() -> None:  # one scenario, read top to bottom
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument("--seed-docs", type=int, default=30)
    args = parser.parse_args()

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(PG, autocommit=True)
    admin.execute(f"CREATE SCHEMA {schema}")
    admin.close()
    moto_port = free_port()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    moto.start()
    proxy = Proxy(moto_port)
    home = Path(tempfile.mkdtemp(prefix="archive-ops-"))
    env = {
        **os.environ,
        "ARCHIVE_HOME": str(home),
        "ARCHIVE_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        f"?options=-csearch_path%3D{schema}",
        "ARCHIVE_STORAGE_URL": f"s3://ops-bench/{schema}",
        "ARCHIVE_S3_ENDPOINT_URL": f"http://127.0.0.1:{proxy.port}",
        "ARCHIVE_BROKER_URL": "redis://127.0.0.1:6379/3",
        "ARCHIVE_INGEST_LEASE_SECONDS": "30",
        "ARCHIVE_INGEST_QUEUE_DEADLINE": "20",
        "ARCHIVE_INGEST_SWEEP_SECONDS": "5",
        "ARCHIVE_CLAMAV": "off",
        "ARCHIVE_SECRET_KEY": "x" * 40,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    shape = Shape(env, port)
    try:
        shape.cli("init")
        shape.cli(
            "user",
            "create",
            "head",
            "--role",
            "supervisor",
            "--department",
            "CG",
            "--clearance",
            "confidential",
            "--password-stdin",
            stdin="bench-password-1\n",
        )
        token = shape.cli("user", "token", "head").strip()
        for name in ("web", "worker-1", "worker-2", "indexer", "beat"):
            shape.start(name)
        wait_until(lambda: http("GET", f"{base}/healthz", token)[0] == 200, 60, "the web server")

        seeded = [json.loads(upload(base, token, n)[1])["job_id"] for n in range(args.seed_docs)]
        versions: list[str] = []

        def all_stored() -> bool:
            versions.clear()
            for job in seeded:
                status = json.loads(http("GET", f"{base}/api/v1/jobs/{job}", token)[1])
                if status["status"] != "stored":
                    return False
                versions.append(status["version_id"])
            return True

        wait_until(all_stored, 300, "the seed documents being stored")

        stats = Stats()
        faults: list[tuple[float, float, str]] = []  # (start, end, what), monotonic
        stop = threading.Event()
        t0 = time.monotonic()

        def in_fault(moment: float) -> bool:
            return any(start <= moment <= end + 5 for start, end, _ in faults) or any(
                end == 0 for _, end, _ in faults
            )

        def reader(number: int) -> None:
            i = number
            while not stop.is_set():
                version = versions[i % len(versions)]
                i += args.readers
                started = time.monotonic()
                try:
                    status, _ = http(
                        "GET", f"{base}/api/v1/versions/{version}/content?action=view", token
                    )
                    ok = status == 200
                    detail = str(status)
                except urllib.error.HTTPError as exc:
                    ok, detail = False, f"{exc.code} {exc.read()[:120]!r}"
                except (OSError, urllib.error.URLError) as exc:
                    ok, detail = False, str(exc)[:120]
                took = time.monotonic() - started
                with stats.lock:
                    if ok:
                        stats.latencies.append(took)
                    elif in_fault(started):
                        stats.errors_inside += 1
                    else:
                        stats.errors_outside.append(f"{started - t0:.1f}s {detail}")

        def uploader() -> None:
            n = 10_000
            while not stop.is_set():
                n += 1
                try:
                    status, body = upload(base, token, n)
                    if status == 202:
                        with stats.lock:
                            stats.accepted.append(json.loads(body)["job_id"])
                except (OSError, urllib.error.URLError):
                    with stats.lock:
                        stats.upload_refused += 1  # never accepted: the client still holds it
                    time.sleep(0.5)

        threads = [threading.Thread(target=reader, args=(k,)) for k in range(args.readers)]
        threads.append(threading.Thread(target=uploader))
        for thread in threads:
            thread.start()

        def fault(at: float, what: str, action: Any) -> None:
            time.sleep(max(0.0, t0 + at * args.seconds - time.monotonic()))
            start = time.monotonic()
            faults.append((start, 0, what))
            recovered = action()
            faults[-1] = (start, time.monotonic(), what)
            print(f"  {start - t0:6.1f}s {what}: recovered in {recovered:.1f} s", flush=True)

        def kill_worker() -> float:
            shape.kill("worker-1")
            shape.start("worker-1")
            return 0.0

        def kill_web() -> float:
            shape.kill("web")
            shape.start("web")
            return wait_until(lambda: http("GET", f"{base}/healthz", token)[0] == 200, 60, "web")

        def s3_down() -> float:
            proxy.down()
            time.sleep(30)
            proxy.up()
            return wait_until(lambda: http("GET", f"{base}/healthz", token)[0] == 200, 60, "S3")

        def pg_restart() -> float:
            version = sorted(os.listdir("/etc/postgresql"))[-1]
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
                check=True,
            )
            return wait_until(lambda: http("GET", f"{base}/healthz", token)[0] == 200, 60, "db")

        print(f"load: {args.readers} readers and one uploader for {args.seconds} s; faults:")
        fault(0.15, "kill -9 of an ingest worker", kill_worker)
        fault(0.30, "kill -9 of the web server", kill_web)
        fault(0.45, "S3 endpoint down for 30 s", s3_down)
        fault(0.80, "PostgreSQL restarted", pg_restart)
        time.sleep(max(0.0, t0 + args.seconds - time.monotonic()))
        stop.set()
        for thread in threads:
            thread.join()

        floor = []
        for _ in range(200):
            started = time.monotonic()
            http("GET", f"{base}/healthz", token)
            floor.append(time.monotonic() - started)

        def drained() -> bool:
            pending = 0
            for job in stats.accepted:
                status = json.loads(http("GET", f"{base}/api/v1/jobs/{job}", token)[1])["status"]
                pending += status not in ("stored", "duplicate", "quarantined")
            return pending == 0

        drain = wait_until(drained, 600, "the ingest queue draining")
        final: dict[str, int] = {}
        reasons: list[str] = []
        for job in stats.accepted:
            status = json.loads(http("GET", f"{base}/api/v1/jobs/{job}", token)[1])
            final[status["status"]] = final.get(status["status"], 0) + 1
            if status["status"] == "quarantined":
                reasons.append(str(status.get("reason")))
        fixity = shape.cli("fixity", "verify")
        audit = shape.cli("audit", "verify")

        def pct(values: list[float], p: float) -> float:
            return statistics.quantiles(values, n=100)[int(p) - 1] * 1000

        lat = stats.latencies
        print(
            f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}"
        )
        print(
            f"reads ok {len(lat)} ({len(lat) / args.seconds:.0f}/s); "
            f"errors outside fault windows {len(stats.errors_outside)}, "
            f"inside {stats.errors_inside}"
        )
        print(
            f"read latency ms: p50 {pct(lat, 50):.0f}  p95 {pct(lat, 95):.0f}  "
            f"p99 {pct(lat, 99):.0f}; floor /healthz p95 {pct(floor, 95):.1f} (idle, after the run)"
        )
        print(
            f"ingest: {len(stats.accepted)} accepted, final {final}, "
            f"{stats.upload_refused} refused at the door (never accepted); drained in {drain:.0f} s"
        )
        for reason in reasons[:5]:
            print(f"  quarantined: {reason}")
        for error in stats.errors_outside[:10]:
            print(f"  read error outside a fault window: {error}")
        print(fixity.strip().splitlines()[-1])
        print(audit.strip().replace("\n", "; "))
        lost = len(stats.accepted) - final.get("stored", 0) - final.get("duplicate", 0)
        print("NOTHING LOST" if lost == 0 else f"LOST OR QUARANTINED: {lost}")
    finally:
        shape.stop_all()
        moto.stop()
        admin = psycopg.connect(PG, autocommit=True)
        admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()


if __name__ == "__main__":
    main()
