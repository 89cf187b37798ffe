"""Nothing readable is left where it should not be: the files under ARCHIVE_HOME are their
owner's alone, and the web server's request log never carries a search's words."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

from archive.fsutil import make_private
from tests.access.test_cli import ARCHIVE, cli, put
from tests.conftest import free_port


def readable_by_others(root: Path) -> list[str]:
    found = []
    for path in [root, *root.rglob("*")]:
        if not path.is_symlink() and path.lstat().st_mode & 0o077:
            found.append(f"{oct(path.lstat().st_mode & 0o777)} {path.relative_to(root)}")
    return found


def test_everything_under_the_home_is_its_owners_alone(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {"ARCHIVE_HOME": str(home)}
    old = os.umask(0o022)  # a permissive shell, as on most machines
    try:
        cli(env, "init")
        minutes = "会议纪要".encode()
        put(env, "-", "--project", "华东仓储改造项目", "--filename", "纪要.txt", stdin=minutes)
        cli(env, "index", "flush")
    finally:
        os.umask(old)
    assert (home / "archive.db").exists()
    assert readable_by_others(home) == []


def test_an_older_installation_is_made_private_without_following_links(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "index").mkdir(parents=True)
    (home / "blobs" / "ab").mkdir(parents=True)
    for path in (home / "archive.db", home / "index" / "seg", home / "blobs" / "ab" / "obj"):
        path.write_bytes(b"x")
        path.chmod(0o644)
    for folder in (home, home / "index", home / "blobs", home / "blobs" / "ab"):
        folder.chmod(0o755)
    outside = tmp_path / "outside.txt"
    outside.write_text("not ours")
    outside.chmod(0o644)
    (home / "link").symlink_to(outside)
    make_private(home)
    assert stat.S_IMODE((home / "archive.db").stat().st_mode) == 0o600
    assert stat.S_IMODE((home / "index" / "seg").stat().st_mode) == 0o600
    assert stat.S_IMODE((home / "blobs").stat().st_mode) == 0o700
    assert stat.S_IMODE(outside.stat().st_mode) == 0o644  # a link is never followed
    # The blob store (ciphertext, possibly millions of objects) is closed at its door only.
    assert stat.S_IMODE((home / "blobs" / "ab" / "obj").stat().st_mode) == 0o644


def test_the_request_log_carries_no_search_words(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "ARCHIVE_HOME": str(home)}
    cli({"ARCHIVE_HOME": str(home)}, "init")
    port = free_port()
    secret = "并购标的价格"
    proc = subprocess.Popen(
        [ARCHIVE, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    query = urllib.parse.quote(secret)
    status = None
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/v1/search?q={query}",
                    headers={"Referer": f"http://127.0.0.1:{port}/search?q={query}"},
                )
                urllib.request.urlopen(request, timeout=2)  # noqa: S310 - our loopback server
            except urllib.error.HTTPError as refused:
                status = refused.code
                break
            except OSError:
                assert time.monotonic() < deadline, "archive serve did not start"
                time.sleep(0.2)
        # A request line gunicorn cannot read (raw UTF-8 in it): its error log quotes the
        # line, which must not carry the query string either.
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            raw.sendall(f"GET /api/v1/search?q={secret}&x=1 HTTP/1.1\r\n\r\n".encode())
            raw.recv(1024)
    finally:
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=60)
    assert status == 401  # answered (no token), so the request was logged
    log = output.decode(errors="replace")
    assert "GET /api/v1/search" in log
    assert "Invalid request" in log  # the malformed line was logged, without its query
    assert query not in log
    assert secret not in log
    assert "?q=" not in log  # nor any part of it, however gunicorn escaped it


def test_index_merge_from_the_console(tmp_path: Path) -> None:
    """``archive index merge`` runs the hourly merge now; a share outside (0, 1] is refused."""
    env = {"ARCHIVE_HOME": str(tmp_path / "home")}
    cli(env, "init")
    put(
        env,
        "-",
        "--project",
        "华东仓储改造项目",
        "--filename",
        "纪要.txt",
        stdin="会议纪要".encode(),
    )
    cli(env, "index", "flush")
    merged = cli(env, "index", "merge", "--share", "0.5")
    assert merged.stdout.strip().endswith("deleted documents dropped")
    assert (
        "not in the range 0.0<x<=1.0" in cli(env, "index", "merge", "--share", "0", expect=2).stderr
    )
