"""Run hostile-input parsing in a forked child with memory, CPU and wall-clock limits.

pypdf has had infinite loops, zip and image bombs exhaust memory: one bad file must cost one
job, never a worker. The child runs in its own process group (OCR starts tesseract and
Ghostscript beneath it) so a timeout kills the whole group. Results come back as JSON over a
pipe: nothing the child sends can execute in the parent.

``os.fork`` rather than multiprocessing: Celery's prefork children are daemonic, and
multiprocessing refuses to start children from daemonic processes.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import resource
import selectors
import signal
import time
import traceback
from collections.abc import Callable
from typing import Any


class SandboxError(Exception):
    """The child failed; ``kind`` is ``timeout``, ``memory``, ``crash`` or ``error``."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class ParseFailure(Exception):
    """Raised inside the child for a file that is bad in a known way (a clear reason)."""

    def __init__(self, check: str, message: str) -> None:
        super().__init__(message)
        self.check = check


def run_limited(
    func: Callable[..., dict[str, Any]],
    *args: Any,
    timeout: float,
    memory_bytes: int,
) -> dict[str, Any]:
    """Return ``func(*args)`` computed in a child; raise :class:`SandboxError` on failure.

    A :class:`ParseFailure` in the child comes back as a result with ``failure``/``check``.
    """
    read_end, write_end = os.pipe()
    # Frozen objects are left alone by the child's garbage collector, so the child does not
    # copy every page of the parent's heap by touching it (it did: twice the memory).
    gc.freeze()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_end)
        _child(write_end, func, args, timeout, memory_bytes)
    gc.unfreeze()
    os.close(write_end)
    try:
        payload = _collect(read_end, pid, timeout)
    finally:
        os.close(read_end)
    status = _reap(pid)
    if payload is None:
        if status is not None and os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            if sig == signal.SIGXCPU:
                raise SandboxError("timeout", f"CPU time limit of {int(timeout)} s exceeded")
            raise SandboxError("crash", f"the parser was killed by signal {sig}")
        raise SandboxError("crash", "the parser exited without a result")
    result = json.loads(payload)
    if result.get("sandbox_error"):
        raise SandboxError(result["kind"], result["message"])
    return dict(result)


def _child(
    write_end: int,
    func: Callable[..., dict[str, Any]],
    args: tuple[Any, ...],
    timeout: float,
    memory_bytes: int,
) -> None:
    code = 0
    try:
        os.setpgid(0, 0)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        cpu = max(1, int(timeout))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        # What the parser may add to the address space it was forked with: a worker that
        # has grown (caches, libraries) must not leave a parser less room than a fresh one
        # (C extensions then fail their allocations as SystemError, not MemoryError).
        limit = _address_space() + memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        try:
            result = func(*args)
        except ParseFailure as exc:
            result = {"failure": str(exc), "check": exc.check}
        except MemoryError:
            result = _error("memory", f"memory limit of {memory_bytes >> 20} MiB exceeded")
        except RecursionError:
            result = _error("error", "the file nests too deeply to parse")
        except Exception as exc:
            detail = traceback.format_exception_only(exc)[-1].strip()
            result = _error("error", f"cannot parse: {detail}"[:1000])
        data = json.dumps(result, ensure_ascii=False).encode()
        view = memoryview(data)
        while view:
            view = view[os.write(write_end, view) :]
    except BaseException:
        code = 70
    finally:
        os._exit(code)


def _address_space() -> int:
    """This process's virtual size in bytes (0 where /proc cannot tell)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"sandbox_error": True, "kind": kind, "message": message}


def _collect(read_end: int, pid: int, timeout: float) -> bytes | None:
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    with selectors.DefaultSelector() as selector:
        selector.register(read_end, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                _kill_group(pid)
                raise SandboxError("timeout", f"parsing took longer than {timeout:g} s")
            if not selector.select(remaining):
                continue
            chunk = os.read(read_end, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks) or None


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    _reap(pid)


def _reap(pid: int) -> int | None:
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return None
    # The group may still hold grandchildren (tesseract) if the child died first.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    return status
