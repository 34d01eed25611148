"""``wardcast broker``: logins at this (the centre's) broker for bridged province brokers.

A nation runs a mosquitto per province bridged to the centre (docs/scale.md). Each
bridge logs in as ``_bridge-<province>``; this makes its password, stored hashed like
a device's, and prints it once, for the province's ``remote_password``. The broker's
password and ACL files are rewritten from the database at once, and the embedded
broker (if this host runs it) re-reads them; an external broker reads them when its
operator reloads it.

    wardcast broker bridge-login hcm             # prints a new password (the old one dies)
    wardcast broker bridge-login hcm --revoke    # the bridge can no longer log in
"""

from __future__ import annotations

import os
import signal
from typing import TYPE_CHECKING, Annotated

import typer

from controller.cli.client import fail

if TYPE_CHECKING:
    from controller.settings import Settings

app = typer.Typer(
    help="Đăng nhập của cầu nối tỉnh — logins at this broker for bridged province brokers.",
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
