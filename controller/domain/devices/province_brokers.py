"""Province brokers (máy chủ MQTT tỉnh): which broker a device is told to connect to.

A nation runs a mosquitto per province bridged to the centre (docs/scale.md). Each
province's broker has an address its devices are given at enrolment (and the CA
they pin), set by ``wardcast broker province-url``. With the province downlink on
(``WARDCAST_PROVINCE_DOWNLINK``: what the controllers send is published under the
province's prefix, which only its bridge carries), a device placed in a ward of a
province that has one is given that address; any other device the centre's own.

An agent learns its broker only at enrolment (``enrolment.json``). A device enrolled
before it was placed, or moved to another province since, keeps the old address,
where nothing addressed to it arrives any more: ``devices_to_reenrol`` finds them
(each enrolment row keeps the URL it gave), and a new code, enrolled again, gives
the right one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from cryptography import x509
from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import (
    Device,
    DeviceEnrolment,
    District,
    Province,
    ProvinceBroker,
    Ward,
)
from controller.domain.errors import InvalidInput, NotFound
from controller.domain.places.service import provinces_of_devices
from wardcast_protocol.topics import is_valid_province_code

_SCHEMES = ("mqtt", "mqtts")
MAX_URL = 300  # the column's length


@dataclass(frozen=True, slots=True)
class BrokerEndpoint:
    """Where a device connects, and the CA it pins (None: a broker without TLS)."""

    url: str
    ca_pem: str | None = None


@dataclass(frozen=True, slots=True)
class ToReenrol:
    """A device whose enrolment gave it another broker than the one it needs now."""

    device_id: str
    given: str | None  # None: enrolled before the URL was kept
    needed: str


def check_broker_url(url: str) -> str:
    """``url`` if a device can be told it: ``mqtt[s]://host[:port]``, nothing more."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InvalidInput(f"broker URL {url!r} has a bad port") from None
    if parts.scheme not in _SCHEMES or not parts.hostname:
        raise InvalidInput(f"broker URL must look like mqtts://host:port, got {url!r}")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput(
            "a province's broker URL carries no login: each device logs in with its own"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidInput(f"broker URL {url!r} has more than a host and port")
    if port == 0 or len(text) > MAX_URL:
        raise InvalidInput(f"broker URL {url!r} has a bad port or is too long")
    return text.rstrip("/")


def check_ca_pem(url: str, ca_pem: str | None) -> str | None:
    """The CA devices pin for ``url``: required with ``mqtts://``, refused without TLS."""
    tls = urlsplit(url).scheme == "mqtts"
    if ca_pem is None:
        if tls:
            raise InvalidInput(
                "an mqtts:// broker needs the CA its certificate is signed by (--ca-file): "
                "devices pin the CA they are given, never the system's"
            )
        return None
    if not tls:
        raise InvalidInput("a CA is for an mqtts:// broker; this URL has no TLS")
    try:
        x509.load_pem_x509_certificate(ca_pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise InvalidInput("the CA file is not a PEM certificate") from None
    return ca_pem


def set_province_broker(
    session: Session, province_code: str, url: str, ca_pem: str | None, now: datetime
) -> ProvinceBroker:
    """Set (or change) the broker a province's devices are given at enrolment."""
    if not is_valid_province_code(province_code):
        # It names the province's files (``<data_dir>/broker/provinces/<code>``) too.
        raise InvalidInput(f"province code {province_code!r} cannot name a province's broker")
    if session.get(Province, province_code) is None:
        raise NotFound(f"no province {province_code!r}")
    checked = check_broker_url(url)
    pem = check_ca_pem(checked, ca_pem)
    row = session.get(ProvinceBroker, province_code) or ProvinceBroker(province_code=province_code)
    row.device_url, row.ca_pem, row.set_at = checked, pem, now
    session.add(row)
    return row


def clear_province_broker(session: Session, province_code: str) -> bool:
    """Forget a province's broker (its devices are given the centre's); False if none."""
    row = session.get(ProvinceBroker, province_code)
    if row is None:
        return False
    session.delete(row)
    return True


def province_brokers(session: Session) -> dict[str, ProvinceBroker]:
    """Every province's broker, by province code (codes fit for a path and a topic)."""
    rows = session.scalars(select(ProvinceBroker))
    return {row.province_code: row for row in rows if is_valid_province_code(row.province_code)}


def _province_of(session: Session, device_id: str) -> str | None:
    query = (
        select(District.province_code)
        .join(Ward, Ward.district_code == District.code)
        .join(Device, Device.ward_code == Ward.code)
        .where(Device.id == device_id)
    )
    return session.scalar(query)


def endpoint_of(
    session: Session, device_id: str, centre: BrokerEndpoint, *, by_province: bool
) -> BrokerEndpoint:
    """The broker ``device_id`` should connect to: its province's when ``by_province``
    (the province downlink is on) and its province has one, else ``centre``."""
    if not by_province:
        return centre
    province = _province_of(session, device_id)
    row = session.get(ProvinceBroker, province) if province is not None else None
    return centre if row is None else BrokerEndpoint(row.device_url, row.ca_pem)


def devices_to_reenrol(session: Session, centre_url: str, *, by_province: bool) -> list[ToReenrol]:
    """Enrolled, unrevoked devices given another broker than the one they need now
    (``centre_url``: the centre's, as devices are told it)."""
    rows = session.scalars(
        select(DeviceEnrolment)
        .where(
            DeviceEnrolment.mqtt_password_hash.is_not(None),
            DeviceEnrolment.revoked_at.is_(None),
        )
        .order_by(DeviceEnrolment.device_id)
    )
    provinces = provinces_of_devices(session)  # one read each, not one per device
    brokers = province_brokers(session) if by_province else {}
    found = []
    for row in rows:
        broker = brokers.get(provinces.get(row.device_id, ""))
        needed = centre_url if broker is None else broker.device_url
        if row.broker_url != needed:
            found.append(ToReenrol(row.device_id, row.broker_url, needed))
    return found
