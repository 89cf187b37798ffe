"""Encrypt+store and read+decrypt throughput, local and S3 (moto), against raw AES-GCM.

Run: ``.venv/bin/python bench/crypto_store.py [--large-mib 100] [--repeat 3]``.
The ceiling is raw ``AESGCM`` over 1 MiB segments of the same bytes, measured in the same
run on the same machine, so the ratio shows what the envelope, SHA-256, the database row
and the store cost on top of the cipher itself.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import logging
import os
import platform
import socket
import tempfile
import time
import uuid
from collections.abc import Callable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from moto.server import ThreadedMotoServer

from archive.audit import Actor
from archive.bootstrap import initialize
from archive.config import load_settings
from archive.content import NewRecord, read_content, store
from archive.core import Archive
from archive.models import Version

MIB = 1024 * 1024
ACTOR = Actor(name="bench")


def best_of(repeat: int, run: Callable[[], None]) -> float:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        timings.append(time.perf_counter() - start)
    return min(timings)


def raw_aesgcm(data: bytes) -> Callable[[], None]:
    aead, key_nonce = AESGCM(AESGCM.generate_key(bit_length=256)), os.urandom(12)

    def run() -> None:
        view = memoryview(data)
        for start in range(0, max(len(data), 1), MIB):
            aead.encrypt(key_nonce, bytes(view[start : start + MIB]), b"")

    return run


def raw_sha256(data: bytes) -> Callable[[], None]:
    def run() -> None:
        hashlib.sha256(data).digest()

    return run


def raw_write_fsync(data: bytes, directory: str) -> Callable[[], None]:
    def run() -> None:
        with open(os.path.join(directory, "raw.bin"), "wb") as out:
            for start in range(0, len(data), MIB):
                out.write(data[start : start + MIB])
            out.flush()
            os.fsync(out.fileno())

    return run


def archive_for(kind: str, home: str, endpoint: str | None) -> Archive:
    env = {"ARCHIVE_HOME": home}
    if kind == "s3":
        env["ARCHIVE_STORAGE_URL"] = f"s3://bench/{uuid.uuid4().hex[:8]}"
        env["ARCHIVE_S3_ENDPOINT_URL"] = endpoint or ""
    arc = Archive(load_settings(env))
    initialize(arc, ACTOR)
    return arc


def measure(arc: Archive, data: bytes, repeat: int) -> tuple[float, float]:
    ids: list[uuid.UUID] = []

    def put() -> None:
        result = store(
            arc,
            io.BytesIO(data),
            actor=ACTOR,
            original_filename="b.bin",
            media_type="application/octet-stream",
            new_record=NewRecord(project="基准测试", title="bench"),
        )
        ids.append(result.version_id)

    def get() -> None:
        digest = hashlib.sha256()
        with arc.sessions() as session:
            version = session.get_one(Version, ids[-1])
            for chunk in read_content(arc, session, version):
                digest.update(chunk)
        assert digest.hexdigest() == hashlib.sha256(data).hexdigest()

    return best_of(repeat, put), best_of(repeat, get)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--large-mib", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    print(
        f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(
        f"{'object':>8} {'store':>6} {'raw AES-GCM':>12} {'encrypt+store':>14} "
        f"{'ratio':>6} {'read+decrypt':>13} {'ratio':>6}"
    )
    try:
        for size_mib in (1, args.large_mib):
            data = os.urandom(size_mib * MIB)
            ceiling = size_mib / best_of(args.repeat, raw_aesgcm(data))
            sha = size_mib / best_of(args.repeat, raw_sha256(data))
            with tempfile.TemporaryDirectory() as scratch:
                disk = size_mib / best_of(args.repeat, raw_write_fsync(data, scratch))
            print(
                f"{size_mib:>5} MiB references: SHA-256 {sha:.0f} MiB/s, "
                f"local write+fsync {disk:.0f} MiB/s"
            )
            for kind in ("local", "s3"):
                with tempfile.TemporaryDirectory() as home:
                    arc = archive_for(kind, home, f"http://127.0.0.1:{port}")
                    put_s, get_s = measure(arc, data, args.repeat)
                    arc.close()
                put_rate, get_rate = size_mib / put_s, size_mib / get_s
                print(
                    f"{size_mib:>5} MiB {kind:>6} {ceiling:>8.0f} MiB/s {put_rate:>8.0f} MiB/s "
                    f"{put_rate / ceiling:>6.2f} {get_rate:>7.0f} MiB/s "
                    f"{get_rate / ceiling:>6.2f}"
                )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
