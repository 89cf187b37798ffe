"""Eight clients search at once, a 10 MB text among the hits they may read, while documents
are uploaded, against ``archive run`` (gunicorn, the workers, the embedded broker): no 5xx,
every upload stored once, every snippet shown written to the access log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from archive.models import AccessEvent, IngestJob, IngestStatus
from search.indexer import flush
from tests.access.conftest import make_world
from tests.conftest import free_port

CLIENTS = 8
LOAD_SECONDS = 20
UPLOADS = 24


def wait_until_up(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert server.poll() is None, "archive run stopped"
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2):  # noqa: S310
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("archive run did not answer /healthz")


@pytest.mark.slow
def test_eight_clients_search_while_documents_are_uploaded(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    middle = "。".join(f"第{n}条 仓储改造记录" for n in range(150_000))  # 5 MB a side
    world.add_record(
        "CG-big", "CG", "internal", b"big", "big.txt", "text/plain", text=f"{middle} 正文 {middle}"
    )
    flush(world.arc)
    env = {key: value for key, value in os.environ.items() if not key.startswith("ARCHIVE_")}
    env["ARCHIVE_HOME"] = str(world.arc.settings.home)
    world.arc.close()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "access", "run", "--port", str(port)],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    statuses: Counter[int] = Counter()
    snippets_shown = Counter[str]()
    big_snippets = 0
    jobs: list[str] = []
    lock = threading.Lock()
    stop_at = 0.0

    def searcher() -> None:
        nonlocal big_snippets
        with requests.Session() as http:
            http.headers["Authorization"] = f"Bearer {world.tokens['wang']}"
            while time.monotonic() < stop_at:
                response = http.get(f"{base}/api/v1/search", params={"q": "正文"}, timeout=120)
                with lock:
                    statuses[response.status_code] += 1
                if response.status_code != 200:
                    continue
                hits = response.json()["hits"]
                shown = [h for h in hits if h["snippet"]]
                with lock:
                    snippets_shown["wang"] += len(shown)
                    big_snippets += sum(
                        1 for h in shown if h["record_id"] == str(world.records["CG-big"])
                    )

    def uploader() -> None:
        with requests.Session() as http:
            http.headers["Authorization"] = f"Bearer {world.tokens['zhang']}"
            for number in range(UPLOADS):
                text = f"负载测试文件 {number}：华东仓库第{number}次盘点记录。"
                response = http.post(
                    f"{base}/api/v1/documents",
                    files={"file": (f"盘点记录{number}.txt", text.encode())},
                    data={"project": "负载测试项目"},
                    timeout=120,
                )
                with lock:
                    statuses[response.status_code] += 1
                if response.status_code == 202:
                    jobs.append(response.json()["job_id"])

    try:
        wait_until_up(base, server)
        stop_at = time.monotonic() + LOAD_SECONDS
        threads = [threading.Thread(target=searcher) for _ in range(CLIENTS)]
        threads.append(threading.Thread(target=uploader))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        deadline = time.monotonic() + 180
        with requests.Session() as http:
            http.headers["Authorization"] = f"Bearer {world.tokens['zhang']}"
            pending = list(jobs)
            while pending and time.monotonic() < deadline:
                states = {job: http.get(f"{base}/api/v1/jobs/{job}", timeout=60) for job in pending}
                pending = [job for job, r in states.items() if r.json()["status"] != "stored"]
                time.sleep(0.5)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
    assert not [code for code in statuses if code >= 500], statuses
    assert statuses[202] == UPLOADS, statuses
    assert sum(statuses.values()) > UPLOADS + CLIENTS, statuses  # the searchers got answers
    assert big_snippets > 0, "the 10 MB text never showed a snippet"
    with world.arc.sessions() as session:
        stored = session.scalars(select(IngestJob).where(IngestJob.source == "api")).all()
        assert len(stored) == UPLOADS
        assert {job.status for job in stored} == {IngestStatus.STORED}
        assert len({job.version_id for job in stored}) == UPLOADS  # each stored once
        logged = session.scalar(
            select(func.count())
            .select_from(AccessEvent)
            .where(AccessEvent.action == "snippet", AccessEvent.username == "wang")
        )
    assert logged == snippets_shown["wang"]
    world.arc.close()
