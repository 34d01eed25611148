"""Enrolment (đăng ký thiết bị): how a device gets into the closed broker, and out again.

1. An administrator creates a device (or asks for a new code for one): a one-time
   code is made, shown once, and kept only as its sha256, dying at first use or at
   its expiry. The printable line ``wardcast-enrol:<controller-url>|<device-id>|<code>``
   carries everything a technician needs (print it as a QR code).
2. The device presents the code with the public key it generated
   (``wardcast-agent enrol``). The code is spent by one conditional UPDATE, so two
   presentations of the same code can never both succeed. The device gets a fresh
   broker password (kept only as Mosquitto's hash), the broker's URL, the CA to pin
   and the controller's public key. The broker is its province's own when the
   province has one and the province downlink is on (``province_brokers``), else the
   centre's; the URL given is kept, so a device that later needs another is found.
3. Revocation removes its broker login and refuses its messages: the broker drops
   its session when it re-reads its password file, and refuses the next connect.

Invariant: the broker is told (``BrokerAccess.accounts_changed``) only after the
commit, so it never enforces a state the database does not hold.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import update
from sqlalchemy.orm import Session

from controller.db.models import Device, DeviceEnrolment
from controller.db.session import Database
from controller.domain.actors import Actor, Role
from controller.domain.devices.province_brokers import BrokerEndpoint
from controller.domain.devices.registry import DeviceRegistry
from controller.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from wardcast_protocol.clock import Clock
from wardcast_protocol.signing import InvalidKey, check_device_key
from wardcast_protocol.topics import is_valid_device_id

LINE_PREFIX = "wardcast-enrol:"
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L, U: read aloud, typed by hand
_CODE_LENGTH = 16  # 16 symbols of 30: ~78 bits, far beyond guessing within an expiry


class EnrolmentRefused(DomainError):
    """The code is wrong, spent or expired (one answer for all three, on purpose)."""

    status = 403


class BrokerAccess(Protocol):
    """What enrolment needs of the broker (implemented by the messaging layer)."""

    def endpoint_for(self, session: Session, device_id: str) -> BrokerEndpoint:
        """The broker this device is told to connect to, and the CA it pins."""
        ...

    def hash_password(self, password: str) -> str:
        """The form in which a broker password is stored."""
        ...

    def new_password(self) -> str:
        """A fresh random broker password."""
        ...

    def accounts_changed(self) -> None:
        """Make the broker enforce the committed accounts (drops revoked sessions)."""
        ...


@dataclass(frozen=True, slots=True)
class IssuedCode:
    """A code as shown once to the administrator; ``code`` is None when none was made."""

    device_id: str
    name: str
    code: str | None
    line: str | None
    expires_at: datetime | None
    registered: bool


@dataclass(frozen=True, slots=True)
class Credentials:
    """What an enrolled device receives, once."""

    device_id: str
    broker_url: str
    username: str
    password: str = ""
    ca_pem: str | None = None
    controller_public_key: str = ""


def normalise_code(code: str) -> str:
    """A code as typed (any case, dashes, spaces) in its canonical form."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def code_digest(code: str) -> str:
    """What is stored of a code: the sha256 of its canonical form."""
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def new_code() -> str:
    """A fresh code, grouped by four for reading aloud: ``ABCD-EFGH-JKMN-PQRS``."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, _CODE_LENGTH, 4))


def enrolment_line(controller_url: str, device_id: str, code: str) -> str:
    """The printable (QR) line a device's technician scans or types."""
    return f"{LINE_PREFIX}{controller_url.rstrip('/')}|{device_id}|{code}"


class EnrolmentService:
    """Creates devices with codes, enrols them, revokes them."""

    def __init__(
        self,
        db: Database,
        registry: DeviceRegistry,
        broker: BrokerAccess,
        clock: Clock,
        *,
        controller_url: str,
        controller_public_key: str,
        code_ttl: timedelta,
    ) -> None:
        self._db = db
        self._registry = registry
        self._broker = broker
        self._clock = clock
        self._controller_url = controller_url
        self._controller_public_key = controller_public_key
        self._code_ttl = code_ttl

    def create_device(
        self, actor: Actor, device_id: str, name: str, public_key: str | None
    ) -> tuple[IssuedCode, bool]:
        """Create a device and its first code; returns (issued, created).

        With a public key the device is registered now (its enrolment must then
        present the same key); without one it is registered when it enrols. Creating
        it again is idempotent (no new code: ask ``issue_code`` for one); with another
        key it is refused.
        """
        actor.require(Role.ADMIN, "creating a device")
        if not is_valid_device_id(device_id):
            raise InvalidInput(
                f"device id {device_id!r} must be 1–64 letters, digits, '.-_'",
                code="device.id_invalid",
                field="device_id",
            )
        now = self._clock.now()
        with self._db.session() as session:
            existing = session.get(DeviceEnrolment, device_id)
            known = session.get(Device, device_id)
            device, registered = known, False
            if public_key is not None:
                # Refuses another key (Conflict); the same key again is a no-op.
                device, registered = self._registry.register(session, device_id, name, public_key)
            if existing is not None or (known is not None and public_key is None):
                shown = existing.name if existing else known.name if known else name
                return self._no_code(device_id, shown, device is not None), registered
            # New, or registered with its key before enrolment existed: its first code.
            row = DeviceEnrolment(device_id=device_id, name=name.strip())
            session.add(row)
            code = self._new_code(row, actor, now)
            issued = self._issued(row, code, registered=device is not None)
        return issued, known is None

    def issue_code(self, actor: Actor, device_id: str) -> IssuedCode:
        """A new code for a known device (re-enrolment, new broker password); any
        earlier unused code dies."""
        actor.require(Role.ADMIN, "issuing an enrolment code")
        now = self._clock.now()
        with self._db.session() as session:
            row, device = self._enrolment_of(session, device_id)
            code = self._new_code(row, actor, now)
            return self._issued(row, code, registered=device is not None)

    def enrol(self, device_id: str, code: str, public_key: str) -> Credentials:
        """Spend a code: register the device's key if new, give it a broker login."""
        try:
            key = check_device_key(public_key)
        except InvalidKey as exc:
            raise InvalidInput(str(exc)) from exc
        now = self._clock.now()
        password = self._broker.new_password()
        with self._db.session() as session:
            row = session.get(DeviceEnrolment, device_id)
            if row is None or row.code_sha256 is None:
                raise EnrolmentRefused("invalid, used or expired enrolment code")
            if not hmac.compare_digest(row.code_sha256, code_digest(code)):
                raise EnrolmentRefused("invalid, used or expired enrolment code")
            device = session.get(Device, device_id)
            if device is not None and device.public_key != key:
                # The code is not spent: the technician may retry with the right key.
                raise Conflict(
                    f"device {device_id} is registered with another key",
                    code="device.other_key",
                    params={"device": device_id},
                )
            endpoint = self._broker.endpoint_for(session, device_id)
            spent = session.execute(
                update(DeviceEnrolment)
                .where(
                    DeviceEnrolment.device_id == device_id,
                    DeviceEnrolment.code_sha256 == row.code_sha256,
                    DeviceEnrolment.code_expires_at > now,
                )
                .values(
                    code_sha256=None,
                    code_expires_at=None,
                    enrolled_at=now,
                    revoked_at=None,
                    revoked_by="",
                    mqtt_password_hash=self._broker.hash_password(password),
                    broker_url=endpoint.url,
                )
                .execution_options(synchronize_session=False)
            )
            if getattr(spent, "rowcount", 0) != 1:
                raise EnrolmentRefused("invalid, used or expired enrolment code")
            if device is None:
                self._registry.register(session, device_id, row.name, key)
        self._broker.accounts_changed()
        return Credentials(
            device_id=device_id,
            broker_url=endpoint.url,
            username=device_id,
            password=password,
            ca_pem=endpoint.ca_pem,
            controller_public_key=self._controller_public_key,
        )

    def revoke(self, actor: Actor, device_id: str) -> None:
        """Take a device's broker login away and refuse its messages from now on.

        Its evidence stays; it can come back only through a new code.
        """
        actor.require(Role.ADMIN, "revoking a device")
        now = self._clock.now()
        with self._db.session() as session:
            row, device = self._enrolment_of(session, device_id)
            row.code_sha256 = row.code_expires_at = row.mqtt_password_hash = None
            row.revoked_at, row.revoked_by = now, actor.name[:100]
            if device is not None:
                device.online = False
        self._registry.forget(device_id)
        self._broker.accounts_changed()

    # helpers -----------------------------------------------------------------

    @staticmethod
    def _enrolment_of(session: Session, device_id: str) -> tuple[DeviceEnrolment, Device | None]:
        """The device's enrolment row, and the device if registered; NotFound if neither.

        A device registered with its key before enrolment existed has no row yet: it gets
        one here, so a new code or a revocation finds it like any other.
        """
        row = session.get(DeviceEnrolment, device_id)
        device = session.get(Device, device_id)
        if row is None and device is None:
            raise NotFound(
                f"no device {device_id!r}", code="device.unknown", params={"device": device_id}
            )
        if row is None:
            row = DeviceEnrolment(device_id=device_id, name=device.name if device else "")
            session.add(row)
        return row, device

    def _new_code(self, row: DeviceEnrolment, actor: Actor, now: datetime) -> str:
        code = new_code()
        row.code_sha256 = code_digest(code)
        row.code_issued_at = now
        row.code_expires_at = now + self._code_ttl
        row.code_issued_by = actor.name[:100]
        return code

    def _issued(self, row: DeviceEnrolment, code: str, *, registered: bool) -> IssuedCode:
        return IssuedCode(
            device_id=row.device_id,
            name=row.name,
            code=code,
            line=enrolment_line(self._controller_url, row.device_id, code),
            expires_at=row.code_expires_at,
            registered=registered,
        )

    @staticmethod
    def _no_code(device_id: str, name: str, registered: bool) -> IssuedCode:
        return IssuedCode(device_id, name, None, None, None, registered)
