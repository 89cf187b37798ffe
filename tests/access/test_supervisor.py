"""``archive run`` keeps the embedded default up: a child that dies is started again, with a
pause that grows while it keeps dying, and the rest run on undisturbed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

SUPERVISOR = textwrap.dedent(
    """
    import sys
    from access.app.supervisor import Backoff, supervise

    pids, flaky = sys.argv[1], sys.argv[2]
    keeper = "import os, time; open({!r}, 'a').write(f'{{os.getpid()}}\\\\n'); time.sleep(600)"
    sys.exit(supervise(
        {
            "keeper": [sys.executable, "-c", keeper.format(pids)],
            "flaky": [sys.executable, "-c", f"import sys; sys.exit({flaky})"],
        },
        Backoff(first=0.2, longest=0.8, settled=30),
    ))
    """
)


def start(tmp_path: Path, flaky_status: int = 3) -> tuple[subprocess.Popen[str], Path]:
    pids = tmp_path / "keeper.pids"
    proc = subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR, str(pids), str(flaky_status)],
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, pids


def started_pids(path: Path, at_least: int, within: float = 15) -> list[int]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if path.exists():
            found = [int(line) for line in path.read_text().split()]
            if len(found) >= at_least:
                return found
        time.sleep(0.1)
    raise AssertionError(f"fewer than {at_least} starts in {within} s")


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return err


def test_a_child_that_keeps_dying_is_restarted_with_growing_pauses(tmp_path: Path) -> None:
    proc, pids = start(tmp_path)
    first = started_pids(pids, 1)
    time.sleep(3.5)  # 0.2 + 0.4 + 0.8 + 0.8 …: several restarts of the flaky one
    err = stop(proc)
    pauses = [line.rsplit("again in ", 1)[1] for line in err.splitlines() if "flaky exited" in line]
    assert pauses[:4] == ["0.2 s", "0.4 s", "0.8 s", "0.8 s"], err
    assert "flaky exited with status 3" in err
    assert "flaky started again" in err
    assert started_pids(pids, 1) == first  # the healthy child was never touched
    assert "keeper" not in err


def test_a_killed_child_is_started_again(tmp_path: Path) -> None:
    proc, pids = start(tmp_path, flaky_status=0)
    (first,) = started_pids(pids, 1)
    os.kill(first, signal.SIGKILL)
    second = started_pids(pids, 2)[1]
    assert second != first
    err = stop(proc)
    assert f"keeper exited with status -{signal.SIGKILL.value}" in err
    assert f"keeper started again (pid {second})" in err
    for pid in (first, second):  # nothing outlives the supervisor
        assert not Path(f"/proc/{pid}").exists() or _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"


def test_the_embedded_broker_has_every_queue_before_any_child_starts(tmp_path: Path) -> None:
    """Workers and beat used to create the SQLite broker's queues at the same moment, and one
    died on ``UNIQUE constraint failed: kombu_queue.name``: ``archive run`` makes them first."""
    import sqlite3

    from access.app.factory import create_app
    from access.app.wiring import prepare_broker

    home = tmp_path / "home"
    home.mkdir()
    app = create_app({"ARCHIVE_HOME": str(home), "ARCHIVE_SECRET_KEY": "s" * 40})
    celery = app.extensions["celery"]
    routed = {route["queue"] for route in celery.conf.task_routes.values()}
    made = prepare_broker(celery)
    assert set(made) == routed | {celery.conf.task_default_queue}
    assert {"ingest", "index", "maintenance"} <= set(made)
    assert prepare_broker(celery) == made  # again: nothing new, no error
    with sqlite3.connect(home / "broker.db") as broker:
        names = {name for (name,) in broker.execute("SELECT name FROM kombu_queue")}
    assert names == set(made)


def test_a_fresh_home_comes_up_ten_times_in_a_row(tmp_path: Path) -> None:
    """``archive run`` on a new ARCHIVE_HOME: the web answers, both workers and beat come up,
    and no child dies at start-up (the embedded broker's queue race did, once in a while)."""
    import threading
    import urllib.request

    from tests.access.test_cli import ARCHIVE, processes_with_env
    from tests.conftest import free_port

    for attempt in range(10):
        home = tmp_path / f"home{attempt}"
        port = free_port()
        env = {**os.environ, "ARCHIVE_HOME": str(home)}
        proc = subprocess.Popen(
            [ARCHIVE, "run", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert proc.stdout is not None
        lines: list[str] = []
        reader = threading.Thread(target=lines.extend, args=(proc.stdout,), daemon=True)
        reader.start()
        try:
            deadline, healthy = time.monotonic() + 60, False
            while time.monotonic() < deadline:
                if not healthy:
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                            healthy = True
                    except OSError:
                        pass
                ready = [line for line in list(lines) if line.rstrip().endswith(" ready.")]
                if healthy and len(ready) == 2 and any("beat: Starting" in s for s in lines):
                    break
                time.sleep(0.2)
            time.sleep(1)  # a child dying just after it said ready would show here
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=60)
            reader.join(timeout=10)
            proc.stdout.close()
        output = "".join(lines)
        assert healthy, f"start {attempt + 1}:\n{output}"
        assert output.count(" ready.") == 2, f"start {attempt + 1}:\n{output}"
        for sign in ("exited with status", "started again", "Traceback", "UNIQUE constraint"):
            assert sign not in output, f"start {attempt + 1}:\n{output}"
        assert proc.returncode == 0, output
        assert processes_with_env(f"ARCHIVE_HOME={home}") == []
