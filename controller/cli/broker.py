"""``wardcast broker``: province brokers bridged to this (the centre's) broker.

A nation runs a mosquitto per province bridged to the centre (docs/scale.md). Each
bridge logs in as ``_bridge-<province>``; ``bridge-login`` makes its password, stored
hashed like a device's, and prints it once, for the province's ``remote_password``.
``province-url`` sets the address a province's devices are given at enrolment (with
``WARDCAST_PROVINCE_DOWNLINK`` on), ``province-files`` writes the province broker's
own password and ACL files (its devices' logins, hashed), and ``moved-devices`` lists
the devices enrolled at a broker that is no longer theirs. The broker's files are
rewritten from the database at once, and the embedded broker (if this host runs it)
re-reads them; an external broker reads them when its operator reloads it.

    wardcast broker bridge-login hcm             # prints a new password (the old one dies)
    wardcast broker bridge-login hcm --revoke    # the bridge can no longer log in
    wardcast broker province-url hcm mqtts://mqtt.hcm.example:8883 --ca-file hcm-ca.pem
    wardcast broker province-url hcm             # shows it; --clear forgets it
    wardcast broker province-files hcm --dir /srv/hcm-broker
    wardcast broker moved-devices                # device, broker given, broker needed
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from controller.cli.client import fail

if TYPE_CHECKING:
    from controller.db.session import Database
    from controller.settings import Settings

app = typer.Typer(
    help="Máy chủ MQTT tỉnh — province brokers bridged to this one: logins, addresses, files.",
    no_args_is_help=True,
)


@app.command("bridge-login")
def bridge_login(
    province: Annotated[str, typer.Argument(help="The province's code, as in its places.")],
    revoke: Annotated[
        bool, typer.Option("--revoke", help="Take the bridge's login away instead.")
    ] = False,
) -> None:
    """Cấp mật khẩu cho cầu nối tỉnh — print a province bridge's new broker password, once."""
    from controller.db.session import Database
    from controller.domain.devices import bridges
    from controller.domain.errors import DomainError
    from controller.messaging.broker_accounts import (
        BrokerAccounts,
        bridge_username,
        mosquitto_hash,
        new_password,
    )
    from controller.messaging.broker_stack import account_files
    from controller.settings import Settings
    from wardcast_protocol.clock import SystemClock

    settings = Settings()
    db = Database(settings.resolved_database_url)
    password = new_password()
    try:
        db.migrate()
        with db.session() as session:
            if revoke:
                if not bridges.revoke_bridge_login(session, province):
                    fail(f"province {province} has no bridge login")
            else:
                hashed = mosquitto_hash(password)
                bridges.issue_bridge_login(session, province, hashed, SystemClock().now())
        password_file, acl_file, secret = account_files(settings)
        BrokerAccounts(db, password_file, acl_file, secret).write_files()
    except DomainError as exc:
        fail(exc.message)
    finally:
        db.dispose()
    reloaded = _reload_embedded_broker(settings)
    where = "the embedded broker re-read them" if reloaded else "reload the broker to apply"
    typer.echo(f"broker files rewritten in {password_file.parent} ({where})", err=True)
    if revoke:
        typer.echo(f"{bridge_username(province)} can no longer log in", err=True)
        return
    typer.echo(
        f"login {bridge_username(province)} for the bridge of {province} (remote_username); "
        "its password, shown once (remote_password):",
        err=True,
    )
    typer.echo(password)


def _reload_embedded_broker(settings: Settings) -> bool:
    """SIGHUP the embedded broker this data folder runs, if it runs (never another's)."""
    from controller.messaging.broker import EmbeddedBroker

    if settings.broker_url is not None:
        return False
    # Only its state folder matters here: the pid file, and the config path that
    # tells our mosquitto from a recycled pid.
    broker = EmbeddedBroker(1, state_dir=settings.data_dir / "broker")
    pid = broker.previous_pid()
    if pid is None:
        return False
    os.kill(pid, signal.SIGHUP)
    return True


@app.command("province-url")
def province_url(
    province: Annotated[str, typer.Argument(help="The province's code, as in its places.")],
    url: Annotated[
        str | None,
        typer.Argument(help="mqtts://host:port of the province's broker; none: show it."),
    ] = None,
    ca_file: Annotated[
        Path | None,
        typer.Option("--ca-file", help="The CA of its certificate, pinned by its devices."),
    ] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="Forget it: devices are given the centre's.")
    ] = False,
) -> None:
    """Địa chỉ máy chủ MQTT tỉnh — the broker a province's devices are given at enrolment."""
    from controller.domain.devices import province_brokers as brokers
    from controller.settings import Settings
    from wardcast_protocol.clock import SystemClock

    if clear and (url is not None or ca_file is not None):
        fail("--clear takes no URL and no CA file")
    if url is None and ca_file is not None:
        fail("--ca-file goes with the province broker's URL")
    settings = Settings()
    pem = _read_ca(ca_file) if ca_file is not None else None
    with _database(settings) as db:
        with db.session() as session:
            if clear:
                if not brokers.clear_province_broker(session, province):
                    fail(f"province {province} has no broker address")
            elif url is not None:
                brokers.set_province_broker(session, province, url, pem, SystemClock().now())
            else:
                row = brokers.province_brokers(session).get(province)
                if row is None:
                    fail(f"province {province} has no broker address (its devices: the centre's)")
                typer.echo(row.device_url)
                return
        _write_broker_files(settings, db)
    if clear:
        typer.echo(f"devices of {province} are given the centre's broker from now on", err=True)
    else:
        typer.echo(f"devices of {province} enrolled from now on are given {url}", err=True)
    if not settings.province_downlink:
        typer.echo(
            "warning: WARDCAST_PROVINCE_DOWNLINK is off here: devices are given the centre's "
            "broker until it is on (a province's broker hears only its prefix)",
            err=True,
        )
    typer.echo("devices enrolled before: `wardcast broker moved-devices`", err=True)


@app.command("province-files")
def province_files(
    province: Annotated[str, typer.Argument(help="The province's code, as in its places.")],
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Where to write passwd and acl (default: the controller's)."),
    ] = None,
) -> None:
    """Tệp đăng nhập cho máy chủ tỉnh — write a province broker's password and ACL files."""
    from controller.messaging.province_accounts import province_directory, write_for_province
    from controller.settings import Settings

    settings = Settings()
    where = directory or province_directory(settings.data_dir / "broker", province)
    with _database(settings) as db, db.session() as session:
        try:
            written = write_for_province(session, province, where)
        except OSError as exc:
            fail(f"cannot write the files in {where}: {exc.strerror or exc}")
    typer.echo(
        f"{written.devices} device login(s) of {province} (hashes only); give both files to "
        "its mosquitto (password_file, acl_file) and reload it",
        err=True,
    )
    typer.echo(str(written.password_file))
    typer.echo(str(written.acl_file))


@app.command("moved-devices")
def moved_devices() -> None:
    """Thiết bị cần đăng ký lại — devices enrolled at a broker that is no longer theirs."""
    from controller.domain.devices.province_brokers import devices_to_reenrol
    from controller.messaging.broker_stack import centre_device_url
    from controller.settings import Settings

    settings = Settings()
    centre = centre_device_url(settings)
    with _database(settings) as db, db.session() as session:
        found = devices_to_reenrol(session, centre, by_province=settings.province_downlink)
    for device in found:
        typer.echo(f"{device.device_id}\t{device.given or '?'}\t{device.needed}")
    typer.echo(
        f"{len(found)} device(s) to enrol again: give each a new code (console, or POST "
        "/api/v1/devices/<id>/enrolment-code) and run `wardcast-agent enrol` on it; until "
        "then it waits at a broker where nothing for it arrives",
        err=True,
    )


@contextlib.contextmanager
def _database(settings: Settings) -> Iterator[Database]:
    """The controller's database, migrated; a refusal becomes one line, not a traceback."""
    from controller.db.session import Database
    from controller.domain.errors import DomainError

    db = Database(settings.resolved_database_url)
    try:
        db.migrate()
        yield db
    except DomainError as exc:
        fail(exc.message)
    finally:
        db.dispose()


def _write_broker_files(settings: Settings, db: Database) -> None:
    """This broker's files and every province's, from the database, as the controller
    writes them (the embedded broker, if it runs here, re-reads its own)."""
    from controller.messaging.broker_accounts import BrokerAccounts
    from controller.messaging.broker_stack import account_files

    password_file, acl_file, secret = account_files(settings)
    if BrokerAccounts(db, password_file, acl_file, secret).write_files():
        _reload_embedded_broker(settings)


def _read_ca(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read the CA file {path}: {getattr(exc, 'strerror', None) or exc}")
