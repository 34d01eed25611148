"""The controller's broker, put together from its settings: embedded and closed, or external.

- **Embedded** (no ``broker_url``): a CA and server certificate in ``<data_dir>/tls``,
  password and ACL files in ``<data_dir>/broker`` regenerated from the database, a
  TLS-only listener on a stable port, and the supervisor that adopts, watches and
  restarts it. The controller logs in as ``_wardcast-controller`` over the same TLS
  listener: no plain listener is needed, so none is opened.
- **External** (``broker_url`` set): the controller connects with the login in the URL
  (and ``broker_ca_file`` if its TLS is private). The password and ACL files are still
  written to ``<data_dir>/broker`` for that broker to read, but reloading it is the
  operator's business (docs/security/broker.md).
- **None** (a transport given, as in unit tests): files only, nothing to connect to.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from controller.db.session import Database
from controller.messaging.broker import BrokerSecurity, EmbeddedBroker
from controller.messaging.broker_accounts import (
    CONTROLLER_USERNAME,
    BrokerAccounts,
    DeviceBrokerAccess,
)
from controller.messaging.broker_host import DEFAULT_TLS_PORT, stable_port
from controller.messaging.broker_supervisor import BrokerSupervisor
from controller.messaging.broker_tls import default_names, ensure_tls
from controller.settings import Settings
from wardcast_protocol.transport import BrokerAddress

log = logging.getLogger(__name__)


@dataclass
class BrokerStack:
    """The broker as the runtime sees it: where to connect, who manages accounts."""

    broker_url: str | None
    controller_address: BrokerAddress | None
    accounts: BrokerAccounts
    device_access: DeviceBrokerAccess
    supervisor: BrokerSupervisor | None = None

    @property
    def embedded(self) -> EmbeddedBroker | None:
        """The embedded broker process, if this controller runs one."""
        return self.supervisor.broker if self.supervisor else None

    @property
    def restarts(self) -> int:
        """How often the watchdog brought the embedded broker back since start."""
        return self.supervisor.restarts if self.supervisor else 0

    def start(self) -> None:
        """Write the accounts from the database, then adopt or start the broker."""
        self.accounts.write_files()
        if self.supervisor is not None:
            self.supervisor.start()

    def stop(self) -> None:
        """Stop the embedded broker (an external one is left alone)."""
        if self.supervisor is not None:
            self.supervisor.stop()


def _public_host(settings: Settings) -> str:
    return urlsplit(settings.resolved_public_base_url).hostname or "127.0.0.1"


def account_files(settings: Settings) -> tuple[Path, Path, Path]:
    """Where the broker's password and ACL files and the controller's MQTT secret are."""
    state = settings.data_dir / "broker"
    return state / "passwd", state / "acl", settings.data_dir / "mqtt-controller.secret"


def centre_device_url(settings: Settings) -> str:
    """The broker URL a serving controller gives devices (``build_broker_stack``'s),
    worked out without making anything: no certificate, no port file (for commands
    that only compare, ``wardcast broker moved-devices``)."""
    if settings.broker_public_url:
        return settings.broker_public_url
    if settings.broker_url is not None:
        return BrokerAddress.parse(settings.broker_url).url
    port = settings.broker_port
    if port is None:  # the port the embedded broker keeps (8883 when it first found it free)
        with contextlib.suppress(OSError, ValueError):
            port = int((settings.data_dir / "broker" / "port").read_text(encoding="ascii"))
    return f"mqtts://{_public_host(settings)}:{port or DEFAULT_TLS_PORT}"


def build_broker_stack(settings: Settings, db: Database, *, connect: bool) -> BrokerStack:
    """The broker for these settings; ``connect=False`` when a transport is given."""
    state = settings.data_dir / "broker"
    state.mkdir(parents=True, exist_ok=True)
    password_file, acl_file, secret = account_files(settings)
    files = (password_file, acl_file)
    by_province = settings.province_downlink  # devices told their province's broker
    if connect and settings.broker_url is None:
        names = default_names([_public_host(settings), settings.broker_host])
        if settings.broker_public_url:
            names = default_names([*names, urlsplit(settings.broker_public_url).hostname or ""])
        tls = ensure_tls(settings.data_dir / "tls", names)
        port = stable_port(state, settings.broker_port, settings.broker_host)
        broker = EmbeddedBroker(
            port,
            host=settings.broker_host,
            state_dir=state,
            persistence=True,
            security=BrokerSecurity(files[0], files[1], tls),
        )
        supervisor = BrokerSupervisor(broker, interval_s=settings.broker_watchdog_interval_s)
        accounts = BrokerAccounts(db, *files, secret, reload=supervisor.reload)
        device_url = settings.broker_public_url or f"mqtts://{_public_host(settings)}:{port}"
        return BrokerStack(
            broker.url,
            BrokerAddress.parse(
                broker.url,
                username=CONTROLLER_USERNAME,
                password=accounts.controller_password,
                ca_file=tls.ca_cert,
            ),
            accounts,
            DeviceBrokerAccess(accounts, device_url, tls.ca_cert, by_province=by_province),
            supervisor,
        )
    accounts = BrokerAccounts(db, *files, secret)
    ca: Path | None = settings.broker_ca_file
    if settings.broker_url is None:
        device_url = settings.broker_public_url or "mqtt://127.0.0.1:1883"
        access = DeviceBrokerAccess(accounts, device_url, ca, by_province=by_province)
        return BrokerStack(None, None, accounts, access)
    address = BrokerAddress.parse(settings.broker_url, ca_file=ca)
    device_url = settings.broker_public_url or address.url
    access = DeviceBrokerAccess(accounts, device_url, ca, by_province=by_province)
    return BrokerStack(address.url, address, accounts, access, None)
