"""docker-compose.yml, checked without Docker: every app command parses as the ``archive`` CLI
would parse it, every setting is one the app knows and accepts, and the services agree with
each other (credentials, bucket, hosts, health checks, the single index writer)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import pytest
import yaml

from access.cli import main
from archive.config import load_settings

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("migrate", "web", "worker", "indexer", "beat", "hotfolder")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
    return loaded


def env_file(name: str) -> dict[str, str]:
    values = {}
    for line in (ROOT / name).read_text("utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def environment(service: dict[str, Any]) -> dict[str, str]:
    files = service.get("env_file", [])
    env: dict[str, str] = {}
    for name in [files] if isinstance(files, str) else files:
        env.update(env_file(name))
    env.update({k: str(v) for k, v in (service.get("environment") or {}).items()})
    return env


class _Recording(dict[str, str]):
    """An environment that remembers every name the settings loader asks for."""

    asked: set[str]

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return super().get(key, default)


def known_settings() -> set[str]:
    env = _Recording()
    env.asked = set()
    load_settings(env)
    return {name for name in env.asked if name.startswith("ARCHIVE_")}


def parse_cli(args: list[str]) -> click.Command:
    """Resolve and parse ``archive ...`` exactly as click would, without running it."""
    assert args[0] == "archive", args
    ctx = main.make_context("archive", args[1:])
    command: click.Command = main
    while isinstance(command, click.Group):
        name, sub, rest = command.resolve_command(ctx, [*ctx._protected_args, *ctx.args])
        assert sub is not None, f"no command {name!r} in {args}"
        ctx = sub.make_context(name or "", rest, parent=ctx)
        command = sub
    return command


def test_every_app_command_is_a_real_cli_command(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(APP_SERVICES) <= set(services)
    commands = {}
    for name in APP_SERVICES:
        command = services[name]["command"]
        args = shlex.split(command) if isinstance(command, str) else command
        commands[name] = parse_cli(args).name
    assert commands == {
        "migrate": "init",
        "web": "serve",
        "worker": "worker",
        "indexer": "worker",
        "beat": "beat",
        "hotfolder": "watch",
    }
    # One index writer (Whoosh has a single writer lock); ingest workers may scale.
    assert services["indexer"]["deploy"]["replicas"] == 1
    assert "index" in services["indexer"]["command"]
    assert (
        "index"
        not in services["worker"]["command"][services["worker"]["command"].index("--queues") + 1]
    )
    web = services["web"]["command"]
    assert int(web[web.index("--workers") + 1]) > 1
    assert services["web"]["ports"] == [f"8000:{web[web.index('--port') + 1]}"]


def test_every_setting_is_known_and_valid(compose: dict[str, Any]) -> None:
    known = known_settings()
    for name in APP_SERVICES:
        env = environment(compose["services"][name])
        unknown = {k for k in env if k.startswith("ARCHIVE_")} - known
        assert not unknown, f"{name}: the app reads no {sorted(unknown)}"
        settings = load_settings(env)  # raises ConfigError naming a bad value
        assert settings.database_url.startswith("postgresql+psycopg://")
        assert settings.storage_url.startswith("s3://")
        assert not settings.is_sqlite


def test_the_services_agree_with_each_other(compose: dict[str, Any]) -> None:
    services = compose["services"]
    app = environment(services["web"])
    database = urlsplit(app["ARCHIVE_DATABASE_URL"])
    pg = environment(services["postgres"])
    assert (database.hostname, database.port) == ("postgres", 5432)
    assert (database.username, database.password, database.path) == (
        pg["POSTGRES_USER"],
        pg["POSTGRES_PASSWORD"],
        f"/{pg['POSTGRES_DB']}",
    )
    minio = environment(services["minio"])
    assert (app["AWS_ACCESS_KEY_ID"], app["AWS_SECRET_ACCESS_KEY"]) == (
        minio["MINIO_ROOT_USER"],
        minio["MINIO_ROOT_PASSWORD"],
    )
    assert urlsplit(app["ARCHIVE_S3_ENDPOINT_URL"]).hostname == "minio"
    assert urlsplit(app["ARCHIVE_BROKER_URL"]).hostname == "redis"
    bucket = urlsplit(app["ARCHIVE_STORAGE_URL"]).netloc
    setup = " ".join(services["minio-setup"]["entrypoint"])
    assert f"mc mb --ignore-existing local/{bucket}" in setup
    assert f"mc version enable local/{bucket}" in setup
    for name in ("postgres", "redis", "minio", "web"):
        assert services[name]["healthcheck"]["test"], name
    for name, service in services.items():
        for needed in service.get("depends_on", {}):
            assert needed in services, f"{name} depends on a missing {needed}"
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            assert source.startswith(".") or source in compose["volumes"], (name, volume)
    keyring = Path(app["ARCHIVE_KEYRING"])
    mounts = {v.split(":")[1]: v.split(":")[0] for v in services["web"]["volumes"]}
    assert mounts[str(keyring.parent)] == "keys"  # apart from the data volume
    assert mounts[app["ARCHIVE_HOME"]] == "appdata"
    assert "clamav" in services["clamav"]["profiles"]  # optional
