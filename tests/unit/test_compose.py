"""docker-compose.yml and the Dockerfile, checked by structure (no Docker engine needed).

The compose file is what an operator runs on a ward's server; a typo in a health check
or an env var name would only show up there, so its shape is pinned down here.
"""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

# ${NAME:-default} / ${NAME-default} / ${NAME}: compose interpolation.
_INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?::?-(?P<default>[^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """The parsed compose file."""
    loaded = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services section."""
    found = compose["services"]
    assert isinstance(found, dict)
    return found


def _environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a dict (compose allows a mapping or a list)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: _INTERPOLATION.sub(lambda m: m["default"] or "", str(v)) for key, v in env.items()}


def _command(service: dict[str, Any]) -> list[str]:
    command = service.get("command", [])
    return command.split() if isinstance(command, str) else [str(c) for c in command]


def _test_command(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else str(test)


def test_the_three_services_exist(services: dict[str, dict[str, Any]]) -> None:
    assert {"mosquitto", "controller", "agents"} <= set(services)


def test_no_image_is_latest_or_untagged(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        image = service.get("image")
        if image is None:
            assert "build" in service, f"{name} has neither image nor build"
            continue
        reference = image.rsplit("/", 1)[-1]
        assert ":" in reference, f"{name}: {image} has no tag (means latest)"
        assert not reference.endswith(":latest"), f"{name}: {image} is :latest"
    assert services["mosquitto"]["image"] == "eclipse-mosquitto:2"


def test_mosquitto_listens_persists_and_has_a_healthcheck(
    services: dict[str, dict[str, Any]], compose: dict[str, Any]
) -> None:
    mosquitto = services["mosquitto"]
    assert _test_command(mosquitto).startswith(("mosquitto_sub", "CMD mosquitto_sub"))
    # "source:target[:mode]" -> {target: source}
    mounts = {v.split(":")[1]: v.split(":")[0] for v in mosquitto["volumes"]}
    assert mounts["/mosquitto/data"] == "mosquitto-data"
    assert "mosquitto-data" in compose["volumes"]
    config = ROOT / mounts["/mosquitto/config/mosquitto.conf"]
    conf = config.read_text(encoding="utf-8")
    assert re.search(r"^listener 1883\b", conf, re.M)
    assert re.search(r"^persistence true$", conf, re.M)
    assert re.search(r"^persistence_location /mosquitto/data/?$", conf, re.M)


def test_controller_is_configured_by_environment(services: dict[str, dict[str, Any]]) -> None:
    controller = services["controller"]
    assert _command(controller) == ["wardcast", "serve"]
    assert _environment(controller) == {
        "WARDCAST_DATABASE_URL": "",  # unset: the entrypoint chooses (see the wiring test)
        "SQLITE_URL": "sqlite:////data/wardcast.db",
        "POSTGRES_URL": "postgresql+psycopg://wardcast:wardcast@postgres:5432/wardcast",
        "WARDCAST_BROKER_URL": "mqtt://mosquitto:1883",
        "WARDCAST_DATA_DIR": "/data",
        "WARDCAST_HTTP_HOST": "0.0.0.0",
        "WARDCAST_HTTP_PORT": "8000",
        "WARDCAST_PUBLIC_BASE_URL": "http://controller:8000",
    }
    assert "${PUBLISH_HOST:-127.0.0.1}:8000:8000" in [str(p) for p in controller["ports"]]
    assert any(str(v).endswith(":/data") for v in controller["volumes"])


def test_nothing_is_published_beyond_this_host_by_default(
    services: dict[str, dict[str, Any]],
) -> None:
    """No account exists when the stack first starts and the broker lets anyone in:
    every published port is on 127.0.0.1 unless PUBLISH_HOST says otherwise."""
    published = [(n, str(p)) for n, s in services.items() for p in s.get("ports", [])]
    assert {n for n, _ in published} == {"mosquitto", "controller"}
    for name, port in published:
        host = _INTERPOLATION.sub(lambda m: m["default"] or "", port).rsplit(":", 2)[0]
        assert host == "127.0.0.1", f"{name} publishes {port}"


def _entrypoint_chooses(services: dict[str, dict[str, Any]], tmp_path: Path, **env: str) -> str:
    """Run the controller's entrypoint script with sh, as the container would, and
    return the database URL it hands to the command. ``postgres_resolves`` puts a
    ``getent`` on PATH that finds (or not) the postgres service."""
    entrypoint = [str(a).replace("$$", "$") for a in services["controller"]["entrypoint"]]
    resolves = env.pop("postgres_resolves", "no") == "yes"
    fake = tmp_path / "bin"
    fake.mkdir(exist_ok=True)
    (fake / "getent").write_text(f"#!/bin/sh\nexit {0 if resolves else 2}\n")
    (fake / "getent").chmod(0o755)
    base = _environment(services["controller"])
    command = ["sh", "-c", 'printf %s "$WARDCAST_DATABASE_URL"']
    done = subprocess.run(
        [*entrypoint, *command],
        env={"PATH": f"{fake}:/usr/bin:/bin"} | base | env,
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    return done.stdout


def test_the_postgres_profile_wires_the_database_url_itself(
    services: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    postgres = services["postgres"]
    pg_env = postgres["environment"]
    url = "postgresql+psycopg://wardcast:wardcast@postgres:5432/wardcast"
    # The URL names the service's own user, database and password variable.
    assert pg_env["POSTGRES_USER"] == "wardcast" and pg_env["POSTGRES_DB"] == "wardcast"
    assert "${POSTGRES_PASSWORD:-wardcast}" in pg_env["POSTGRES_PASSWORD"]
    raw = services["controller"]["environment"]["POSTGRES_URL"]
    assert "${POSTGRES_PASSWORD:-wardcast}" in raw
    assert _entrypoint_chooses(services, tmp_path, postgres_resolves="yes") == url
    assert _entrypoint_chooses(services, tmp_path) == "sqlite:////data/wardcast.db"
    mine = "postgresql+psycopg://me@db.example:5432/w"
    chosen = _entrypoint_chooses(
        services, tmp_path, postgres_resolves="yes", WARDCAST_DATABASE_URL=mine
    )
    assert chosen == mine
    # The controller waits for a healthy database, only when the profile runs.
    waits = services["controller"]["depends_on"]["postgres"]
    assert waits == {"condition": "service_healthy", "required": False}


def test_controller_waits_for_a_healthy_broker_and_checks_its_own_health(
    services: dict[str, dict[str, Any]],
) -> None:
    controller = services["controller"]
    assert controller["depends_on"]["mosquitto"]["condition"] == "service_healthy"
    assert "/api/v1/health" in _test_command(controller)
    assert ":8000/" in _test_command(controller)


def test_agents_can_be_scaled(services: dict[str, dict[str, Any]]) -> None:
    agents = services["agents"]
    # `docker compose up --scale agents=N` fails on a fixed name or a fixed host port.
    assert "container_name" not in agents
    assert "ports" not in agents
    assert agents["depends_on"]["controller"]["condition"] == "service_healthy"
    assert _command(agents) == [
        "wardcast-agent",
        "simulate",
        "--count",
        "3",
        "--broker-url",
        "mqtt://mosquitto:1883",
        "--controller-url",
        "http://controller:8000",
        "--data-dir",
        "/agents",
    ]


def test_controller_and_agents_share_one_built_image(
    services: dict[str, dict[str, Any]],
) -> None:
    controller, agents = services["controller"], services["agents"]
    assert controller["image"] == agents["image"]
    for service in (controller, agents):
        build = service["build"]
        context = build["context"] if isinstance(build, dict) else build
        dockerfile = (
            build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile"
        )
        assert (ROOT / context / dockerfile).resolve() == DOCKERFILE


def test_every_named_volume_is_declared(
    services: dict[str, dict[str, Any]], compose: dict[str, Any]
) -> None:
    declared = set(compose.get("volumes") or {})
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = str(volume).split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in declared, f"{name} uses undeclared volume {source}"


def test_optional_postgres_sits_behind_a_profile(services: dict[str, dict[str, Any]]) -> None:
    if "postgres" not in services:
        pytest.skip("no postgres service")
    postgres = services["postgres"]
    assert postgres.get("profiles") == ["postgres"]
    assert "pg_isready" in _test_command(postgres)


def test_the_dockerfile_builds_the_wardcast_console_script() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim-bookworm\s*$", text, re.M)
    install = " ".join(re.findall(r"apt-get install[^&]*", text))
    for package in ("ffmpeg", "espeak-ng", "fonts-dejavu-core"):
        assert package in install
    assert re.search(r"pip install (?:--[\w-]+ )*[\"']?\.", text)
    cmd = re.findall(r"^(?:CMD|ENTRYPOINT)\s+(.*)$", text, re.M)
    assert cmd and any("wardcast" in c for c in cmd)
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r"^wardcast = ", pyproject, re.M), "the console script is not declared"


def test_the_image_installs_both_sides_and_every_package() -> None:
    """The image runs the controller and simulated agents, so it needs both extras (the
    base set alone is the agent's), and every package pyproject.toml ships is copied in."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    match = re.search(r"pip install (?:--[\w-]+ )*[\"']?\.\[(?P<extras>[^\]]*)\]", text)
    assert match, "the Dockerfile installs the package without its extras"
    assert {"controller", "agent"} <= {e.strip() for e in match["extras"].split(",")}
    with (ROOT / "pyproject.toml").open("rb") as handle:
        found = tomllib.load(handle)["tool"]["setuptools"]["packages"]["find"]["include"]
    copied = set(re.findall(r"^COPY (\w+) \./\1\s*$", text, re.M))
    assert {pattern.rstrip("*") for pattern in found} <= copied


def test_the_image_installs_the_locked_hashed_set() -> None:
    """The image gets the versions the suite passed with (requirements/controller.txt, with
    hashes), and the package on top without letting pip resolve anything again."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert "COPY requirements/controller.txt" in text
    assert re.search(r"pip install --require-hashes -r requirements/controller\.txt", text)
    assert re.search(r"pip install --no-deps [\"']?\.\[", text)
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert "requirements" not in ignored and "requirements/" not in ignored


def test_dockerignore_keeps_local_state_out_of_the_image() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for entry in (".git", ".venv", "data", "*.db"):
        assert entry in ignored
    assert "README.md" not in ignored  # pyproject's readme: the build needs it


def test_every_wardcast_env_var_is_a_controller_setting(
    services: dict[str, dict[str, Any]],
) -> None:
    try:
        settings_module = importlib.import_module("controller.settings")
    except ModuleNotFoundError as exc:
        if exc.name not in {"controller.settings", "controller"}:
            raise
        pytest.skip("controller/settings.py is not written yet")
    settings = settings_module.Settings
    prefix = settings.model_config.get("env_prefix", "")
    assert prefix == "WARDCAST_"
    fields = {f"{prefix}{name}".upper() for name in settings.model_fields}
    used = {
        key
        for service in services.values()
        for key in _environment(service)
        if key.startswith("WARDCAST_")
    }
    assert used, "compose sets no WARDCAST_ variable"
    assert used <= fields, f"not controller settings: {sorted(used - fields)}"


def _compose_plugin() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=20)
    return probe.returncode == 0


def test_docker_compose_accepts_the_file() -> None:
    """Only where the compose plugin is installed; it needs no running engine."""
    if not _compose_plugin():
        pytest.skip("docker compose plugin not installed")
    result = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
