"""``archive run``: the embedded default's processes under one parent, stopped together.

Each child runs in its own session, so Ctrl-C reaches only this parent, which then asks
every child to stop (SIGTERM: gunicorn and Celery both shut down gracefully on it) and
kills what has not stopped after a grace period. A child that dies on its own is started
again after a pause that doubles with each quick death (up to a minute) and starts over once
the child has stayed up a while; every restart is said on stderr. One crashed worker never
takes the web pages down with it.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

GRACE_SECONDS = 30


def child(*args: str) -> list[str]:
    return [sys.executable, "-m", "access", *args]


@dataclass(frozen=True)
class Backoff:
    """How long to wait before starting a dead child again."""

    first: float = 1.0  # seconds after the first quick death
    longest: float = 60.0
    settled: float = 60.0  # a child up this long has its next pause start from ``first``

    def pause(self, quick_deaths: int) -> float:
        return float(min(self.longest, self.first * 2 ** max(quick_deaths - 1, 0)))


@dataclass
class _Child:
    argv: list[str]
    proc: subprocess.Popen[bytes]
    started: float
    quick_deaths: int = 0
    restart_at: float | None = None


def _start(argv: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, start_new_session=True)  # noqa: S603


def supervise(
    children: dict[str, list[str]],
    backoff: Backoff | None = None,
    say: Callable[[str], None] | None = None,
) -> int:
    """Run ``children`` until SIGINT or SIGTERM, restarting any that die; 0 when stopped."""
    backoff = backoff or Backoff()
    say = say or (lambda line: print(f"archive run: {line}", file=sys.stderr, flush=True))
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    running: dict[str, _Child] = {}
    try:
        for name, argv in children.items():
            running[name] = _Child(argv, _start(argv), time.monotonic())
        while not stopping:
            now = time.monotonic()
            for name, kid in running.items():
                _tend(name, kid, now, backoff, say)
            time.sleep(0.2)
    finally:
        _stop_all([kid.proc for kid in running.values()])
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def _tend(name: str, kid: _Child, now: float, backoff: Backoff, say: Callable[[str], None]) -> None:
    """Notice a death and schedule the restart, or restart when its pause is over."""
    if kid.restart_at is not None:
        if now >= kid.restart_at:
            kid.proc, kid.started, kid.restart_at = _start(kid.argv), now, None
            say(f"{name} started again (pid {kid.proc.pid})")
        return
    status = kid.proc.poll()
    if status is None:
        return
    kid.quick_deaths = kid.quick_deaths + 1 if now - kid.started < backoff.settled else 1
    pause = backoff.pause(kid.quick_deaths)
    kid.restart_at = now + pause
    say(f"{name} exited with status {status}; starting it again in {pause:g} s")


def _stop_all(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
