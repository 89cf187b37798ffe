"""What the pages people use every day cost to render, with 10,000 records: search (browsing,
and with words), a record, the home page and the inbox, beside ``/healthz`` (the floor).

Run: ``.venv/bin/python -P bench/pages.py [--records 10000] [--rounds 60]``.

Records are filed through the archive's own ``store`` by ``bench/http_load.py``'s
``prepare`` (the seeded business text of ``bench/search.py``, two departments, three
sensitivities) and indexed as ``archive index rebuild`` does. The clerk then asks to read
``--requests`` of the head's records, so the head's inbox and home page have work on them.

Pages are asked for through Flask's test client in this process, signed in as the head
(a supervisor of CG) with a session cookie, one request at a time: the figure is the page's
own work (queries, the index, templates, the access log) without sockets or gunicorn, which
``bench/http_load.py`` measures. Rounds go through the pages in turn, so a busy moment of a
shared machine falls on all of them alike.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from access.app import archive_of, create_app  # noqa: E402
from access.requests import submit  # noqa: E402
from archive.audit import Actor  # noqa: E402
from archive.config import load_settings  # noqa: E402
from archive.core import Archive  # noqa: E402
from archive.models import Department, Record, Sensitivity  # noqa: E402
from archive.people import find_user, set_password  # noqa: E402

PASSWORD = "bench pages password"  # noqa: S105 (a throwaway archive)
BASE = "https://archive.example"  # the session cookie is Secure
SAME_SITE = {"Referer": BASE + "/login"}


def bench_module(name: str) -> ModuleType:
    """A sibling script, under a name that does not hide a package (``search``)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def people_and_requests(env: dict[str, str], requests: int) -> list[str]:
    """Passwords for the head and the clerk; the clerk's requests for the head to decide.
    Returns the record pages to open: CG records the head may see."""
    arc = Archive(load_settings(env))
    try:
        with arc.transaction() as session:
            for name in ("head", "clerk"):
                person = find_user(session, name)
                set_password(session, Actor.cli(), person, PASSWORD)
            clerk = find_user(session, "clerk")
            ids = list(
                session.scalars(
                    select(Record.id)
                    .join(Department, Record.department_id == Department.id)
                    .where(Department.code == "CG", Record.sensitivity != Sensitivity.RESTRICTED)
                    .order_by(Record.id)
                    .limit(max(requests, 200))
                )
            )
            for record_id in ids[:requests]:
                submit(
                    session, arc.settings.access, clerk, Actor.of(clerk), record_id,
                    "季度审计抽查，核对合同金额", "view", 3,
                )  # fmt: skip
        return [f"/records/{record_id}" for record_id in ids]
    finally:
        arc.close()


def signed_in(app: object, username: str) -> object:
    client = app.test_client()  # type: ignore[attr-defined]
    page = client.get("/login", base_url=BASE).data
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        rb'name="csrf_token" value="([^"]+)"', page
    )
    assert token is not None
    answer = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token[1].decode()},
        base_url=BASE,
        headers=SAME_SITE,
    )
    assert answer.status_code == 302, answer.status_code
    return client


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{args.records} records, SQLite, {args.rounds} rounds, test client, one at a time"
    )
    asked = bench_module("search").queries(200, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        env = {"ARCHIVE_HOME": str(Path(tmp) / "home")}
        bench_module("http_load").prepare(env, args.records, args.seed)
        records = people_and_requests(env, args.requests)
        app = create_app(env)
        try:
            head = signed_in(app, "head")
            pages = {
                "/healthz (the floor)": lambda turn: "/healthz",
                "/ (home)": lambda turn: "/",
                "/inbox": lambda turn: "/inbox",
                "/search (no words)": lambda turn: "/search",
                "/search?q=…": lambda turn: f"/search?q={asked[turn % len(asked)]}",
                "/records/<id>": lambda turn: records[turn % len(records)],
            }
            times: dict[str, list[float]] = {label: [] for label in pages}
            for turn in range(-3, args.rounds):  # three rounds to warm up, not counted
                for label, path in pages.items():
                    started = time.perf_counter()
                    answer = head.get(path(turn), base_url=BASE)  # type: ignore[attr-defined]
                    elapsed = time.perf_counter() - started
                    assert answer.status_code == 200, (path(turn), answer.status_code)
                    if turn >= 0:
                        times[label].append(elapsed)
        finally:
            archive_of(app).close()
    floor = percentile(times["/healthz (the floor)"], 0.95)
    for label, samples in times.items():
        p50, p95 = 1000 * statistics.median(samples), percentile(samples, 0.95)
        print(
            f"  {label:22} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
            f"p95 - floor {p95 - floor:7.1f} ms{'  OVER 300 ms' if p95 > 300 else ''}"
        )


if __name__ == "__main__":
    main()
