"""Who may log in to the broker and what each may do: Mosquitto's own files, kept by us.

The database is the one source of truth (each enrolled, unrevoked device's password
hash); the broker's ``password_file`` and ``acl_file`` are regenerated from it at
every start and after every enrolment or revocation, then the broker re-reads them
(SIGHUP). On that reload Mosquitto disconnects every client whose login is gone, so
revoking a device closes its session at once and refuses its next connect.

Why files and not the dynamic-security plugin: both kick a revoked client within a
few milliseconds (measured, docs/security/broker.md), but the files are derived
from the database every time, so a restored backup, a restarted broker or a hand-
edited file can never drift from what the controller believes; there is no admin
account to bootstrap or leak; and one ``%u`` pattern block, derived from the channel
table, states every device's rights at once.

Accounts: devices log in with their device id as username (so ``%u`` in the ACL is
their id); the controller logs in as ``_wardcast-controller``, a name no device id
can take (ids start with a letter or digit), with full access to the Wardcast tree.
A province broker bridged to this one (docs/scale.md) logs in as ``_bridge-<province>``
(again no device's name): its province's downlink down, the devices' uplink up.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from sqlalchemy.orm import Session

from controller.db.session import Database
from controller.domain.devices.bridges import bridge_logins
from controller.domain.devices.province_brokers import (
    BrokerEndpoint,
    endpoint_of,
    province_brokers,
)
from controller.domain.devices.service import broker_logins, wards_of_devices
from controller.domain.places.service import provinces_of_devices
from controller.messaging.broker_files import (
    device_acl_lines,
    mosquitto_hash,
    mosquitto_hash_matches,
    new_password,
    render_password_file,
    write_for_broker,
)
from controller.messaging.province_accounts import (
    by_province,
    province_directory,
    write_province_files,
)
from wardcast_protocol.topics import any_province_downlink, bridge_acl, everything

log = logging.getLogger(__name__)

CONTROLLER_USERNAME = "_wardcast-controller"
BRIDGE_USERNAME_PREFIX = "_bridge-"  # + province code; "_" starts no device id

__all__ = [  # the file primitives, imported from here by older callers
    "mosquitto_hash",
    "mosquitto_hash_matches",
    "new_password",
    "render_password_file",
]


def bridge_username(province_code: str) -> str:
    """The broker login of a province's bridge."""
    return f"{BRIDGE_USERNAME_PREFIX}{province_code}"


def render_acl_file(wards: Mapping[str, str] | None = None, bridges: Iterable[str] = ()) -> str:
    """The ACL: every device its own channels (``%u`` = its id) and its ward's broadcast
    channel (``wards``: device id -> ward code), each province bridge (``bridges``:
    province codes) its downlink and the uplink channels, the controller all."""
    lines = [
        "# Written by the Wardcast controller from the protocol's channel table; edits are lost.",
        *device_acl_lines(wards),
    ]
    for province in sorted(bridges):
        rights = bridge_acl(province)
        lines += [
            f"user {bridge_username(province)}",
            *(f"topic read {t}" for t in rights.subscribe),
            *(f"topic write {t}" for t in rights.publish),
            "",
        ]
    lines += [
        f"user {CONTROLLER_USERNAME}",
        f"topic readwrite {everything()}",
        # Downlink for provinces' bridged brokers (WARDCAST_PROVINCE_DOWNLINK).
        f"topic write {any_province_downlink()}",
    ]
    return "\n".join(lines) + "\n"


def load_or_create_secret(path: Path) -> str:
    """The controller's own MQTT password, made once and kept (0600) beside its key."""
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    secret = new_password()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret + "\n")
    return secret


class BrokerAccounts:
    """Keeps the broker's password and ACL files equal to the database, and reloads it."""

    def __init__(
        self,
        db: Database,
        password_file: Path,
        acl_file: Path,
        controller_secret_path: Path,
        reload: Callable[[], bool] | None = None,
    ) -> None:
        self._db = db
        self.password_file = password_file
        self.acl_file = acl_file
        self._secret_path = controller_secret_path
        self._reload = reload
        self._lock = threading.Lock()
        self._granted_wards: dict[str, str] = {}  # device -> ward, as last written
        self._logins: frozenset[str] = frozenset()  # devices the files govern

    @property
    def controller_password(self) -> str:
        """The controller's own MQTT password (created on first use)."""
        return load_or_create_secret(self._secret_path)

    def hash_password(self, password: str) -> str:
        """The hash stored for a device (and written into the password file)."""
        return mosquitto_hash(password)

    def write_files(self) -> bool:
        """Regenerate both files from the database; True when either changed.

        Each province with its own broker (``wardcast broker province-url``) gets its
        devices' files too (``province_accounts``), beside these; they do not count
        as a change here (this broker has nothing to reload for them).
        """
        with self._db.session() as session:
            logins = broker_logins(session)
            wards = wards_of_devices(session, [user for user, _ in logins])
            bridges = bridge_logins(session)
            provinces = sorted(province_brokers(session))
            placed = provinces_of_devices(session) if provinces else {}
        controller = (CONTROLLER_USERNAME, mosquitto_hash(self.controller_password))
        with self._lock:
            self.password_file.parent.mkdir(parents=True, exist_ok=True)
            known = self._controller_line_still_valid()
            bridge_entries = [(bridge_username(code), hashed) for code, hashed in bridges]
            entries = [known or controller, *logins, *bridge_entries]
            changed = write_for_broker(self.password_file, render_password_file(entries))
            acl = render_acl_file(wards, [code for code, _ in bridges])
            changed |= write_for_broker(self.acl_file, acl)
            for province in by_province(logins, wards, placed, provinces):
                where = province_directory(self.password_file.parent, province.province_code)
                write_province_files(where, province)
            self._granted_wards = wards
            self._logins = frozenset(user for user, _ in logins)
        return changed

    def grants_ward(self, device_id: str, ward_code: str) -> bool:
        """Whether the broker lets this device read ``ward_code``'s broadcast channel;
        after a move, the files are rewritten from the database first (and reloaded).

        A device with no broker login of ours (registered with a key beforehand, on an
        open broker) is not governed by these files: nothing here stops it reading.
        """
        with self._lock:
            if self._granted_wards.get(device_id) == ward_code:
                return True
            if device_id not in self._logins:
                return True
        self.sync()
        with self._lock:
            return self._granted_wards.get(device_id) == ward_code

    def _controller_line_still_valid(self) -> tuple[str, str] | None:
        # Keep the controller's existing hash when it still matches: a fresh salt on
        # every write would make the file differ, and every sync reload the broker.
        try:
            first = self.password_file.read_text(encoding="utf-8").splitlines()[0]
        except (OSError, IndexError):
            return None
        user, _, hashed = first.partition(":")
        if user == CONTROLLER_USERNAME and mosquitto_hash_matches(self.controller_password, hashed):
            return user, hashed
        return None

    def sync(self) -> None:
        """Apply the database's accounts: rewrite the files, and reload the broker if
        they changed (it then drops every session whose login is gone)."""
        if self.write_files() and self._reload is not None and self._reload():
            log.info("broker accounts reloaded")


class DeviceBrokerAccess:
    """The enrolment port (``BrokerAccess``): where devices connect, what they pin,
    how their passwords are stored, and applying account changes to the broker.

    ``by_province``: the province downlink is on, so a device placed in a province
    with its own broker (``wardcast broker province-url``) is sent there.
    """

    def __init__(
        self,
        accounts: BrokerAccounts,
        broker_url: str,
        ca_file: Path | None,
        *,
        by_province: bool = False,
    ) -> None:
        self._accounts = accounts
        self._broker_url = broker_url
        self._ca_file = ca_file
        self._by_province = by_province

    def centre(self) -> BrokerEndpoint:
        """This (the centre's) broker, as devices are told it: its URL and CA."""
        ca = self._ca_file.read_text(encoding="ascii") if self._ca_file else None
        return BrokerEndpoint(self._broker_url, ca)

    def endpoint_for(self, session: Session, device_id: str) -> BrokerEndpoint:
        """The broker ``device_id`` is told to connect to: its province's or the centre's."""
        return endpoint_of(session, device_id, self.centre(), by_province=self._by_province)

    def hash_password(self, password: str) -> str:
        """Mosquitto's hash of a device's broker password."""
        return self._accounts.hash_password(password)

    def new_password(self) -> str:
        """A fresh random broker password."""
        return new_password()

    def accounts_changed(self) -> None:
        """Rewrite the broker's files from the database and reload it."""
        self._accounts.sync()
