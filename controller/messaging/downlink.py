"""Downlink topics: where the controller publishes what it sends a device.

On one broker (a district, a province) a device's plan, commands and acks go to its
own topics, a ward's broadcast to the ward's topic. A nation whose provinces run
their own mosquitto bridged to the centre (docs/scale.md) turns on
``WARDCAST_PROVINCE_DOWNLINK``: then all of it is published at the centre under
``prov/<province>/`` (``topics.downlink_topic``); each province's bridge takes down
only its own prefix and delivers it without it, so agents never see the prefix and
subscribe as always. What devices send up is not touched.

The province is the one of the device's ward (ward -> district -> province in the
database), or of the ward for a ward broadcast, held in memory (``ProvinceDirectory``):
a placement, a move, or a ward or district changed by this process marks it stale at
the commit (SQLAlchemy session events, so the API, the console and the places import
are all heard); other replicas' changes are seen at the next refresh (``REFRESH_S``).

A device with no province (not placed in a ward) is published on the plain topics,
with a warning once per device: only a device connected to the centre's own broker
hears it. Refusing to send would be worse: a device at the centre (a test rig, a
device being commissioned) would lose its plan and acks, and one in a province
resends until it is placed, which it must be anyway to play its ward's programme.

Retained plans: when a device changes province (or is placed for the first time),
the plan retained under its old prefix (or the plain topic) is cleared with an empty
retained publish the next time its plan goes out (its reconnect in the new province
republishes it). Best effort, in memory: a move made before a restart of this
process is not remembered; the stale copy is harmless (the device is no longer on
that broker, and an agent never goes back to an older plan version).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from controller.db.models import Device, District, Ward
from controller.db.session import Database
from controller.domain.places.service import provinces_of_devices, provinces_of_wards
from wardcast_protocol.topics import (
    DeviceChannel,
    device_topic,
    downlink_topic,
    is_valid_province_code,
    ward_topic,
)

log = logging.getLogger(__name__)

REFRESH_S = 60.0
"""The province map is read again at least this often: another replica's placements
reach this one within it (its own are seen at once)."""

_PLACES_CHANGED = "wardcast.places_changed"  # a session.info flag, set at flush


def _moves_provinces(session: Session, obj: object) -> bool:
    """Whether a flushed object can change which province a device or ward is in."""
    if isinstance(obj, Ward | District):
        return True  # rare (places are edited by hand or imported): reload on any change
    if isinstance(obj, Device):
        return obj in session.deleted or inspect(obj).attrs.ward_code.history.has_changes()
    return False


class ProvinceDirectory:
    """Device -> province and ward -> province, from the database, kept in memory."""

    def __init__(
        self,
        db: Database,
        *,
        refresh_s: float = REFRESH_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._refresh_s = refresh_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._devices: dict[str, str] | None = None  # None: never read
        self._wards: dict[str, str] = {}
        self._read_at = 0.0
        self._stale = False
        self._left: dict[str, set[str | None]] = {}  # device -> provinces it moved out of
        event.listen(db.sessions, "after_flush", self._after_flush)
        event.listen(db.sessions, "after_commit", self._after_commit)
        event.listen(db.sessions, "after_rollback", self._after_rollback)

    def of_device(self, device_id: str) -> str | None:
        """The province of the device's ward; None if it is not placed."""
        return self._maps()[0].get(device_id)

    def of_ward(self, ward_code: str) -> str | None:
        """The ward's province; None for a ward the database does not know."""
        return self._maps()[1].get(ward_code)

    def left_behind(self, device_id: str) -> set[str | None]:
        """The provinces (None: no province) the device moved out of since last asked."""
        self._maps()
        with self._lock:
            return self._left.pop(device_id, set())

    def invalidate(self) -> None:
        """Read the database again at the next lookup."""
        with self._lock:
            self._stale = True

    def _maps(self) -> tuple[dict[str, str], dict[str, str]]:
        with self._lock:
            now = self._monotonic()
            if self._devices is None or self._stale or now - self._read_at >= self._refresh_s:
                self._read(now)
            assert self._devices is not None
            return self._devices, self._wards

    def _read(self, now: float) -> None:
        # Under the lock: one reader at a time, and lookups wait for the fresh map.
        with self._db.session() as session:
            devices, wards = provinces_of_devices(session), provinces_of_wards(session)
        if self._devices is not None:
            for device_id in self._devices.keys() | devices.keys():
                before = self._devices.get(device_id)
                if before != devices.get(device_id):
                    self._left.setdefault(device_id, set()).add(before)
        self._devices, self._wards = devices, wards
        self._read_at, self._stale = now, False

    # SQLAlchemy session events: whatever path places or moves a device is heard.
    def _after_flush(self, session: Session, _context: Any) -> None:
        if session.info.get(_PLACES_CHANGED):
            return
        for obj in (*session.new, *session.dirty, *session.deleted):
            if _moves_provinces(session, obj):
                session.info[_PLACES_CHANGED] = True
                return

    def _after_commit(self, session: Session) -> None:
        if session.info.pop(_PLACES_CHANGED, False):
            self.invalidate()

    def _after_rollback(self, session: Session) -> None:
        session.info.pop(_PLACES_CHANGED, None)


class Downlink:
    """The topics the controller publishes a device's (or a ward's) messages on.

    Without a ``ProvinceDirectory`` (the default: one broker) they are the plain
    topics; with one, each under its province's prefix.
    """

    def __init__(self, provinces: ProvinceDirectory | None = None) -> None:
        self.provinces = provinces
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def device(self, device_id: str, channel: DeviceChannel) -> str:
        """The topic of one of the device's controller-to-device channels."""
        topic = device_topic(device_id, channel)
        if self.provinces is None:
            return topic
        return downlink_topic(
            topic, self._checked(self.provinces.of_device(device_id), f"device {device_id}")
        )

    def ward(self, ward_code: str) -> str:
        """The topic of a ward's broadcast channel."""
        topic = ward_topic(ward_code)
        if self.provinces is None:
            return topic
        province = self.provinces.of_ward(ward_code)
        return downlink_topic(topic, self._checked(province, f"ward {ward_code}"))

    def plan(self, device_id: str) -> tuple[str, list[str]]:
        """The device's plan topic, and the plan topics it left (to clear: retained)."""
        topic = self.device(device_id, DeviceChannel.PLAN)
        if self.provinces is None:
            return topic, []
        plain = device_topic(device_id, DeviceChannel.PLAN)
        left = self.provinces.left_behind(device_id)
        stale = {downlink_topic(plain, p) for p in left if p is None or is_valid_province_code(p)}
        return topic, sorted(stale - {topic})

    def _checked(self, province: str | None, whose: str) -> str | None:
        """``province`` if it can go in a topic; else None, warned about once."""
        if province is not None and is_valid_province_code(province):
            return province
        with self._lock:
            first = whose not in self._warned
            self._warned.add(whose)
        if first:
            log.warning(
                "%s has no province%s: published without a province prefix, so only the "
                "centre's own broker delivers it (place it in a ward to reach it through "
                "its province's bridge)",
                whose,
                "" if province is None else f" fit for a topic ({province!r})",
            )
        return None
