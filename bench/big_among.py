"""A big text among many small uploads (issue 19): how long until it can be found, what the
uploads around it cost, and what searching meanwhile costs, against ``archive run``.

The issue's own measurement: a 5 MB text uploaded among 200 small documents was still not
searchable 75 s after it was stored, each upload took about 20 s meanwhile and searches had a
p95 of 16.7 s. Here one client uploads ``--small`` small documents without pause through the
API (each accepted, 202, then stored and indexed by the workers), the ``--big-mb`` text in the
middle of them with a word no other document has; ``--searchers`` clients search the whole
time as a department head (snippets, each an access-log line). Reported: upload and search
latencies, errors, when every upload is stored, and when the big text is found by its word,
counted from its upload's answer. The floor, in the same run: the same searches on the idle
archive before the uploads start.

    .venv/bin/python -P bench/big_among.py [--small 200] [--big-mb 5] [--searchers 4]

(``-P``: bench/search.py would otherwise shadow the ``search`` package.)
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import ModuleType

import requests

ROOT = Path(__file__).resolve().parent.parent
ARCHIVE = str(Path(sys.executable).with_name("archive"))
WORD = "琥珀蜂鸟"  # in the big text only


def http_load() -> ModuleType:
    """``bench/http_load.py``: its archive set-up, its load phases and its corpus."""
    path = ROOT / "bench" / "http_load.py"
    spec = importlib.util.spec_from_file_location("bench_http_load", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_http_load"] = module
    spec.loader.exec_module(module)
    return module


def big_text(megabytes: int) -> bytes:
    """``megabytes`` MB of inspection lines like the small uploads' (so the rules classify it
    as they classify them: the business corpus reads as contracts and HR files, which a
    department head may not know of), the rare word once in the middle."""
    lines = [
        f"巡检记录 第{n}行 冷库温度正常 设备编号{n % 977} 值班人员签字\n" for n in range(60_000)
    ]
    line_bytes = len(lines[0].encode())
    count = megabytes * 1024 * 1024 // line_bytes
    body = [lines[n % len(lines)] for n in range(count)]
    body.insert(count // 2, f"{WORD}\n")
    return "".join(body).encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--big-mb", type=int, default=5)
    parser.add_argument("--searchers", type=int, default=4)
    parser.add_argument("--records", type=int, default=1000, help="filed before the run")
    args = parser.parse_args()
    load = http_load()
    corpus = load.corpus_tools()
    asked = corpus.queries(100, 3)
    print(
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"SQLite; {args.records} records filed before; {args.small} small uploads and one of "
        f"{args.big_mb} MB; {args.searchers} searching"
    )
    with tempfile.TemporaryDirectory() as tmp:
        env = {"ARCHIVE_HOME": str(Path(tmp) / "home")}
        tokens = load.prepare(env, args.records, 1).tokens
        port = 20000 + random.randrange(20000)
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [ARCHIVE, "run", "--port", str(port)],
            env={**os.environ, **env},
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait(base)
            head = {"Authorization": f"Bearer {tokens['head']}"}
            clerk = {"Authorization": f"Bearer {tokens['clerk']}"}

            def search(http: requests.Session, turn: int) -> requests.Response:
                query = {"q": asked[turn % len(asked)]}
                return http.get(f"{base}/api/v1/search", params=query, headers=head, timeout=120)

            idle = load.Phase(args.searchers, 15).run(search)
            print(idle.line("search, idle (the floor)"))
            big = big_text(args.big_mb)
            jobs: list[str] = []
            upload_times: list[float] = []
            upload_errors: dict[int, int] = {}
            big_answered: list[float] = []
            big_job: list[str] = []
            stop_searching = threading.Event()

            def uploads() -> None:
                with requests.Session() as http:
                    for n in range(args.small + 1):
                        if n == args.small // 2:
                            name, body = "大文本.txt", big
                        else:
                            name = f"巡检{n}.txt"
                            body = f"巡检记录 第{n}份 冷库温度正常 {random.random()}".encode()
                        started = time.perf_counter()
                        response = http.post(
                            f"{base}/api/v1/documents",
                            files={"file": (name, body)},
                            data={"project": "负载项目"},
                            headers=clerk,
                            timeout=300,
                        )
                        upload_times.append(time.perf_counter() - started)
                        if response.status_code != 202:
                            code = response.status_code
                            upload_errors[code] = upload_errors.get(code, 0) + 1
                            continue
                        jobs.append(response.json()["job_id"])
                        if name == "大文本.txt":
                            big_job.append(jobs[-1])
                            big_answered.append(time.monotonic())

            found_after: list[float] = []
            stored_after: list[float] = []

            def watch_for_the_word() -> None:
                """When the big text's job says stored, then when a search finds it."""
                with requests.Session() as http:
                    while not stop_searching.is_set():
                        if big_answered and not stored_after:
                            job = http.get(f"{base}/api/v1/jobs/{big_job[0]}", headers=clerk)
                            if job.ok and job.json()["status"] == "stored":
                                stored_after.append(time.monotonic() - big_answered[0])
                        if stored_after:
                            response = http.get(
                                f"{base}/api/v1/search", params={"q": WORD}, headers=head
                            )
                            if response.ok and response.json()["total"] >= 1:
                                found_after.append(time.monotonic() - big_answered[0])
                                return
                        time.sleep(0.25)

            busy = load.Phase(args.searchers, 0)
            searching = threading.Thread(target=busy.run, args=(search, stop_searching))
            uploader = threading.Thread(target=uploads)
            watcher = threading.Thread(target=watch_for_the_word)
            started = time.monotonic()
            for thread in (searching, uploader, watcher):
                thread.start()
            uploader.join()
            elapsed = time.monotonic() - started
            watcher.join(int(os.environ.get("BIG_WAIT", "300")))  # found, or five minutes
            stop_searching.set()
            searching.join()
            stored_at = _wait_stored(base, clerk, jobs)
            print(
                f"  uploads                             {len(upload_times) / elapsed:6.1f} /s"
                f"    p50 {1000 * _median(upload_times):7.1f} ms  p95 "
                f"{1000 * _quantile(upload_times, 0.95):7.1f} ms  errors "
                f"{sum(upload_errors.values())} {upload_errors or ''}"
            )
            print(busy.line("search, during the uploads"))
            ratio = load.p95(busy.times) / max(load.p95(idle.times), 0.001)
            print(f"    search p95 {ratio:.2f}x the idle p95")
            print(
                f"  every upload stored {stored_at - started:.0f} s after the first was sent "
                f"({len(jobs)} accepted)"
            )
            if found_after:
                print(
                    f"  the {args.big_mb} MB text, after its upload was answered: stored in "
                    f"{stored_after[0]:.1f} s (its turn in the queue, behind the uploads before"
                    f" it), found by its word {found_after[0] - stored_after[0]:.1f} s later"
                )
            else:
                print(f"  the {args.big_mb} MB text was NOT found by its word")

        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)


def _wait(base: str) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/healthz", timeout=2).ok:
                time.sleep(3)  # the workers
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    raise SystemExit("archive run did not come up")


def _wait_stored(base: str, clerk: dict[str, str], jobs: list[str]) -> float:
    """When every accepted upload's job says stored (polled); fails on one that fails."""
    with requests.Session() as http:
        for job in jobs:
            while True:
                status = http.get(f"{base}/api/v1/jobs/{job}", headers=clerk).json()["status"]
                if status == "stored":
                    break
                if status in ("failed", "quarantined"):
                    raise SystemExit(f"job {job}: {status}")
                time.sleep(0.2)
    return time.monotonic()


def _median(values: list[float]) -> float:
    return _quantile(values, 0.5)


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values) or [0.0]
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


if __name__ == "__main__":
    main()
