"""The ``wardcast`` command: the controller's side (serve, keys, schedules, evidence, report).

The edge agent has its own command, ``wardcast-agent`` (``edge_agent.cli``), and the
demo with simulated agents is ``wardcast-demo`` (``sim.cli``): the controller never
imports the agent, so each side installs alone. Heavy imports happen inside commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from controller.cli.broker import app as broker_app
from controller.cli.evidence import app as evidence_app
from controller.cli.options import LogLevelOption
from controller.cli.report import app as report_app
from controller.cli.schedules import app as schedules_app
from controller.cli.users import app as users_app

app = typer.Typer(
    help="Wardcast — đài truyền thanh thông minh cho phường, xã — "
    "smart loudspeaker controller for wards.",
    no_args_is_help=True,
)
keys_app = typer.Typer(
    help="Khóa Ed25519 của máy chủ và thiết bị — Ed25519 keys for the controller and devices.",
    no_args_is_help=True,
)
app.add_typer(keys_app, name="keys")
app.add_typer(
    schedules_app,
    name="schedules",
    help="Chương trình phát thanh dạng YAML — ward programmes as YAML: validate, apply, export.",
)
app.add_typer(
    evidence_app,
    name="evidence",
    help="Hồ sơ bằng chứng phát thanh — evidence bundles: verify offline, fetch, archive.",
)
app.add_typer(
    report_app,
    name="report",
    help="Báo cáo cho thanh tra: kế hoạch so với thực phát — "
    "reports for evaluators: planned against played.",
)
app.add_typer(
    broker_app,
    name="broker",
    help="Máy chủ MQTT tỉnh — province brokers bridged to this one: logins, addresses, files.",
)
app.add_typer(
    users_app,
    name="users",
    help="Tài khoản trên máy chủ này — accounts on this server: the first administrator.",
)


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Địa chỉ lắng nghe — listen address (WARDCAST_HTTP_HOST).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Cổng lắng nghe — listen port (WARDCAST_HTTP_PORT).")
    ] = None,
    log_level: LogLevelOption = "INFO",
) -> None:
    """Chạy máy chủ điều khiển — run the controller: API, MQTT bridge, embedded broker.

    The embedded broker runs unless WARDCAST_BROKER_URL names one; logs are JSON lines
    unless standard error is a terminal (WARDCAST_LOG_FORMAT).

    SIGTERM or Ctrl-C stop it cleanly (exit 0), the embedded broker with it.
    """
    from controller.cli.serve import serve as run_server
    from controller.logs import configure_logging
    from controller.settings import Settings

    overrides: dict[str, object] = {}
    if host is not None:
        overrides["http_host"] = host
    if port is not None:
        overrides["http_port"] = port
    settings = Settings(**overrides)  # type: ignore[arg-type]
    configure_logging(log_level, settings.log_format)  # WARDCAST_LOG_FORMAT
    raise typer.Exit(run_server(settings, log_level))


@keys_app.command("generate")
def keys_generate(
    path: Annotated[Path, typer.Argument(help="Private key file to create (mode 0600).")],
) -> None:
    """Tạo tệp khóa và in khóa công khai — create a key file, print its public key."""
    from wardcast_protocol.signing import SigningKey

    if path.exists():
        typer.echo(f"{path} exists; refusing to overwrite a key", err=True)
        raise typer.Exit(2)
    key = SigningKey.generate()
    key.save(path)
    typer.echo(key.public_key_b64)


@keys_app.command("show")
def keys_show(path: Annotated[Path, typer.Argument(help="Private key file.")]) -> None:
    """In khóa công khai của tệp khóa — print the public key of a key file."""
    from wardcast_protocol.signing import InvalidKey, SigningKey

    try:
        key = SigningKey.from_b64(path.read_text(encoding="ascii"))
    except (OSError, InvalidKey) as exc:
        typer.echo(f"cannot read key {path}: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(key.public_key_b64)
