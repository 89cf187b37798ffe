"""``archive run``: the embedded default's processes under one parent, stopped together.

Each child runs in its own session, so Ctrl-C reaches only this parent, which then asks
every child to stop (SIGTERM: gunicorn and Celery both shut down gracefully on it) and
kills what has not stopped after a grace period. If any child dies on its own, the rest are
stopped too and the exit status is 1, so a service manager restarts the whole set.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from types import FrameType

GRACE_SECONDS = 30


def child(*args: str) -> list[str]:
    return [sys.executable, "-m", "access", *args]


def supervise(children: dict[str, list[str]], echo: object = print) -> int:
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, argv in children.items():
            procs[name] = subprocess.Popen(argv, start_new_session=True)  # noqa: S603
        while not stopping:
            dead = [name for name, proc in procs.items() if proc.poll() is not None]
            if dead:
                print(f"archive run: {', '.join(dead)} exited; stopping the rest", file=sys.stderr)
                break
            time.sleep(0.2)
    finally:
        _stop_all(procs)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if stopping else 1


def _stop_all(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    for proc in procs.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
