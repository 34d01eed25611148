"""Province bridges (cầu nối tỉnh): each bridged province broker's login at the centre.

A nation runs a mosquitto per province bridged to the centre's broker (docs/scale.md).
Each bridge logs in with its own login, made on the server
(``wardcast broker bridge-login <province>``) and shown once; only Mosquitto's hash
is kept, as for a device. The broker's files turn a login into rights: its own
province's downlink, the devices' uplink channels, nothing else
(``topics.bridge_acl``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Province, ProvinceBridge
from controller.domain.errors import InvalidInput, NotFound
from wardcast_protocol.topics import is_valid_province_code


def issue_bridge_login(
    session: Session, province_code: str, password_hash: str, now: datetime
) -> ProvinceBridge:
    """Give a province's bridge a login (or a new password: the old one stops working)."""
    if not is_valid_province_code(province_code):
        raise InvalidInput(f"province code {province_code!r} cannot name a bridge login")
    if session.get(Province, province_code) is None:
        raise NotFound(f"no province {province_code!r}")
    bridge = session.get(ProvinceBridge, province_code) or ProvinceBridge(
        province_code=province_code
    )
    bridge.mqtt_password_hash, bridge.issued_at = password_hash, now
    session.add(bridge)
    return bridge


def revoke_bridge_login(session: Session, province_code: str) -> bool:
    """Take a province's bridge login away; False when it had none."""
    bridge = session.get(ProvinceBridge, province_code)
    if bridge is None:
        return False
    session.delete(bridge)
    return True


def bridge_logins(session: Session) -> list[tuple[str, str]]:
    """(province code, password hash) of every province bridge, by code."""
    rows = session.execute(
        select(ProvinceBridge.province_code, ProvinceBridge.mqtt_password_hash).order_by(
            ProvinceBridge.province_code
        )
    )
    return [(code, hashed) for code, hashed in rows if is_valid_province_code(code)]
