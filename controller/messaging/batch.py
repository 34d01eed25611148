"""One ingest batch: its verified messages, the acks it owes, its SQLite transaction.

The pieces ``ControllerBridge`` stores a batch with (controller/messaging/bridge.py):
what each message became once checked, the acknowledgements owed per device once the
batch is committed, and how the batch's transaction is opened on SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from controller.db.among import among
from controller.db.models import BroadcastTarget, Device
from controller.messaging.outbound import MqttOutbound
from wardcast_protocol.envelope import Verified
from wardcast_protocol.messages import DeviceState
from wardcast_protocol.subscriptions import ReceivedMessage
from wardcast_protocol.topics import DeviceChannel, DeviceTopic

_ACK_MAX_IDS = 1000  # EventAck's per-list limit


class BatchFailed(Exception):
    """A message of an optimistic batch failed: store the batch again, one by one."""


@dataclass
class Checked:
    """One message after verification, before storage."""

    message: ReceivedMessage
    parsed: DeviceTopic | None = None
    verified: Verified[BaseModel] | None = None
    rejection: tuple[str, str] | None = None  # (reason, detail)


@dataclass
class Acks:
    """What one batch acknowledges, per device, once committed."""

    events: dict[str, list[str]] = field(default_factory=dict)
    refused: dict[str, list[str]] = field(default_factory=dict)
    reports: dict[str, list[str]] = field(default_factory=dict)

    def devices(self) -> list[str]:
        """Every device owed an ack, by id."""
        return sorted({*self.events, *self.refused, *self.reports})

    def send(self, outbound: MqttOutbound) -> None:
        """Publish them: one ack per device (more past 1,000 ids of a kind)."""
        for device_id in self.devices():
            events = self.events.get(device_id, [])
            refused = self.refused.get(device_id, [])
            reports = self.reports.get(device_id, [])
            for i in range(0, max(len(events), len(refused), len(reports)), _ACK_MAX_IDS):
                part = slice(i, i + _ACK_MAX_IDS)
                outbound.ack(
                    device_id,
                    tuple(events[part]),
                    refused_event_ids=tuple(refused[part]),
                    report_ids=tuple(reports[part]),
                )


def device_order(item: Checked) -> str:
    """Sort key: by device (replicas lock devices' chain rows in one order)."""
    return item.parsed.device_id if item.parsed is not None else ""


def is_event(item: Checked) -> bool:
    """A verified event, for the evidence batch path."""
    return (
        item.rejection is None
        and item.verified is not None
        and item.parsed is not None
        and item.parsed.channel is DeviceChannel.EVENT
    )


def device_of(item: Checked) -> str:
    """The device whose topic a parsed message came on."""
    assert item.parsed is not None
    return item.parsed.device_id


def hold_devices(session: Session, checked: list[Checked], *, events: bool = True) -> list[Device]:
    """Begin writing and load the batch's devices, held while the batch is stored.

    The identity map keeps an object only while something refers to it: without this,
    every event's ``session.get(Device)`` queried again (and flushed the batch first).
    Refusals alone are tallied, not written: then nothing is begun. ``events`` False:
    only the devices of other messages (the evidence batch path reads no ``Device``).
    """
    verified = [i.parsed for i in checked if i.verified is not None and i.parsed is not None]
    if not verified:
        return []
    _begin_writing(session)
    device_ids = {p.device_id for p in verified if events or p.channel is not DeviceChannel.EVENT}
    if not device_ids:
        return []
    return list(session.scalars(select(Device).where(among(session, Device.id, device_ids))))


def hold_playing_targets(session: Session, checked: list[Checked]) -> list[BroadcastTarget]:
    """Load the broadcast targets the batch's states say are sounding, held like devices.

    Each state's ``note_playing`` looks its target up by key: after a "now" to a
    thousand loudspeakers their "playing" states were a thousand SELECTs on the
    ingest thread, in the seconds the fan-out still runs. Held in the identity map,
    they are one SELECT for the batch. A programme item names no broadcast: nothing is
    found for it and its lookup queries as before, so a batch of programme plays costs
    this one query more, not one per item.
    """
    items: set[str] = set()
    devices: set[str] = set()
    for item in checked:
        if item.rejection is not None or item.verified is None or item.parsed is None:
            continue
        body = item.verified.body
        if isinstance(body, DeviceState) and body.playing_item_id is not None:
            items.add(body.playing_item_id)
            devices.add(item.parsed.device_id)
    if not items:
        return []
    query = select(BroadcastTarget).where(
        among(session, BroadcastTarget.broadcast_id, items),
        among(session, BroadcastTarget.device_id, devices),
    )
    return list(session.scalars(query))


def _begin_writing(session: Session) -> None:
    """Open the batch's transaction for writing now (SQLite).

    Python's sqlite3 sends BEGIN only before the first INSERT/UPDATE/DELETE, so a
    savepoint opened after mere SELECTs (the domain's duplicate-safe inserts) is the
    outermost transaction, and releasing it commits, with an fsync: one batch would
    be many commits, and not atomic. A no-op UPDATE makes sqlite3 begin here, and
    takes the write lock (waiting on the busy timeout, as any writer does).
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE devices SET id = id WHERE 1 = 0"))
