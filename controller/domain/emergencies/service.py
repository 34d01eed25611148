"""Emergencies (khẩn cấp): play now everywhere targeted; update and cancel, CAP-style.

- Alert: the text is spoken, approved by the acting leader in the same step (a flood
  at 5 a.m. does not wait for a second signature: the leader *is* the approval),
  and broadcast now with emergency priority, which interrupts whatever plays.
- Update: the earlier message(s) it references stop on every device, the new one
  plays. Cancel: they stop; nothing new plays.
- status Test is recorded and never sounded; Exercise sounds, titled as a drill.
- The same (sender, identifier, sent) twice is the same message: it is not replayed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Bulletin, Device, Emergency, new_id
from controller.db.session import Database
from controller.domain.actors import Actor, Role
from controller.domain.broadcasts.milestones import mark_cancelled
from controller.domain.broadcasts.service import BroadcastRequest, BroadcastService
from controller.domain.content.bulletins import BulletinDraft, BulletinService
from controller.domain.content.workflow import approve_emergency, retire_emergency
from controller.domain.emergencies.access import check_referenced, scoped_targets
from controller.domain.errors import InvalidInput, NotFound
from controller.domain.places.service import zone_map
from controller.domain.ports import Outbound
from wardcast_protocol.clock import Clock
from wardcast_protocol.messages import Priority, SourceLevel, StopItem

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmergencyMessage:
    """A CAP-shaped emergency, with where it should sound."""

    identifier: str
    sender: str
    sent: datetime
    msg_type: str = "Alert"  # Alert | Update | Cancel
    status: str = "Actual"  # Actual | Exercise | Test
    references: Sequence[str] = ()
    expires: datetime | None = None
    event: str = ""
    urgency: str = "Immediate"
    severity: str = "Severe"
    headline: str = ""
    description: str = ""
    source_level: SourceLevel = SourceLevel.COMMUNE
    ward_code: str | None = None
    zones: Sequence[str] = ()
    device_ids: Sequence[str] = ()


class EmergencyService:
    """Turns emergency messages into immediate broadcasts and stop commands."""

    def __init__(
        self,
        db: Database,
        bulletins: BulletinService,
        broadcasts: BroadcastService,
        outbound: Outbound,
        clock: Clock,
        command_expiry_s: int,
    ) -> None:
        self._db = db
        self._bulletins = bulletins
        self._broadcasts = broadcasts
        self._outbound = outbound
        self._clock = clock
        self._expiry_s = command_expiry_s

    def receive(self, message: EmergencyMessage, actor: Actor) -> tuple[Emergency, bool]:
        """Act on a message; returns (record, new). A repeat returns the first record."""
        actor.require(Role.APPROVER, "sending an emergency")
        now = self._clock.now()
        if message.status not in ("Actual", "Exercise", "Test"):
            raise InvalidInput(f"status {message.status!r}: use Actual, Exercise or Test")
        if message.msg_type not in ("Alert", "Update", "Cancel"):
            raise InvalidInput(f"msg_type {message.msg_type!r}: use Alert, Update or Cancel")
        if message.expires is not None and message.expires <= now:
            raise InvalidInput(
                "this message has already expired", code="emergency.expired", field="expires"
            )
        if message.msg_type != "Alert" and not message.references:
            raise InvalidInput(f"an {message.msg_type} must reference the message(s) it changes")
        if message.msg_type != "Cancel" and not message.description.strip():
            raise InvalidInput(
                "an alert needs the text to speak (description)",
                code="emergency.text_missing",
                field="description",
            )
        with self._db.session() as session:
            repeat = session.scalar(
                select(Emergency).where(
                    Emergency.sender == message.sender,
                    Emergency.identifier == message.identifier,
                    Emergency.sent == message.sent,
                )
            )
            if repeat is not None:
                return repeat, False
            named = bool(message.device_ids) or message.ward_code is not None
            targets = scoped_targets(session, actor, named, self._targets(session, message))
            earlier = self._referenced(session, message)
            check_referenced(session, actor, earlier)
        for old in earlier:
            self._stop(old, f"{message.msg_type.lower()}d by {message.identifier}", actor, now)
        record = Emergency(
            id=new_id("em"),
            identifier=message.identifier,
            sender=message.sender,
            sent=message.sent,
            status=message.status,
            msg_type=message.msg_type,
            references=list(message.references),
            expires=message.expires,
            event=message.event,
            urgency=message.urgency,
            severity=message.severity,
            headline=message.headline,
            description=message.description,
            device_ids=targets,
            state="recorded",
            created_at=now,
            created_by=actor.name,
        )
        if message.msg_type != "Cancel" and message.status != "Test":
            self._sound(record, message, actor, targets, now)
        with self._db.session() as session:
            session.add(record)
            for old in earlier:
                stored = session.get(Emergency, old.id)
                if stored is not None:
                    stored.state = "cancelled" if message.msg_type == "Cancel" else "superseded"
        log.warning(
            "emergency %s %s (%s) to %d devices: %s",
            message.msg_type,
            message.identifier,
            message.status,
            len(targets),
            record.state,
        )
        return record, True

    def _targets(self, session: Session, message: EmergencyMessage) -> list[str]:
        if message.device_ids:
            known = set(session.scalars(select(Device.id).where(Device.id.in_(message.device_ids))))
            missing = sorted(set(message.device_ids) - known)
            if missing:
                raise NotFound(
                    f"unknown device ids: {', '.join(missing)}",
                    code="target.unknown_devices",
                    params={"devices": ", ".join(missing)},
                    field="devices",
                )
            return sorted(known)
        query = select(Device)
        if message.ward_code is not None:
            query = query.where(Device.ward_code == message.ward_code)
        devices = list(session.scalars(query.order_by(Device.id)))
        if message.zones:
            if message.ward_code is None:
                raise InvalidInput(
                    "zones need the ward they belong to", code="target.ward_missing", field="ward"
                )
            zones = zone_map(session, message.ward_code)
            unknown = [z for z in message.zones if z not in zones]
            if unknown:
                raise NotFound(
                    f"unknown zones in ward {message.ward_code}: {unknown}",
                    code="target.unknown_zones",
                    params={"zones": ", ".join(unknown), "ward": message.ward_code},
                    field="zones",
                )
            groups = set().union(*(zones[z] for z in message.zones))
            devices = [d for d in devices if d.group_code in groups]
        if not devices:
            raise InvalidInput("no device is targeted", code="target.none", field="targets")
        return [d.id for d in devices]

    def _referenced(self, session: Session, message: EmergencyMessage) -> list[Emergency]:
        if not message.references:
            return []
        found = list(
            session.scalars(select(Emergency).where(Emergency.identifier.in_(message.references)))
        )
        missing = sorted(set(message.references) - {e.identifier for e in found})
        if missing:
            raise NotFound(
                f"referenced messages not found: {', '.join(missing)}",
                code="emergency.unknown_reference",
            )
        return found

    def _sound(
        self,
        record: Emergency,
        message: EmergencyMessage,
        actor: Actor,
        targets: list[str],
        now: datetime,
    ) -> None:
        drill = message.status == "Exercise"
        title = (("[Diễn tập] " if drill else "") + (message.headline or message.event))[:300]
        text = ("Đây là diễn tập. " if drill else "") + message.description
        draft = BulletinDraft(
            title=title or "Khẩn cấp",
            priority=Priority.EMERGENCY,
            source_level=message.source_level,
            chime=True,
            created_by=actor.name,
            category="emergency",
            ward_code=message.ward_code,
            valid_until=message.expires,
        )
        with self._db.session() as session:
            bulletin = self._bulletins.create_from_text(session, draft, text, now)
            approve_emergency(session, bulletin, actor, now)
            bulletin_id = bulletin.id
        broadcast = self._broadcasts.schedule(
            BroadcastRequest(bulletin_id, targets, None, Priority.EMERGENCY, actor.name)
        )
        record.bulletin_id, record.broadcast_id, record.state = bulletin_id, broadcast.id, "playing"

    def _stop(self, old: Emergency, reason: str, actor: Actor, now: datetime) -> None:
        if old.broadcast_id is None:
            return
        with self._db.session() as session:
            rows = session.execute(
                select(Device.id, Device.ward_code).where(Device.id.in_(old.device_ids))
            )
            wards = {device_id: ward for device_id, ward in rows}
        # One signed stop per listening ward, naming its devices (as the alert went).
        self._outbound.send_order(
            {device_id: wards.get(device_id) for device_id in old.device_ids},
            StopItem(item_id=old.broadcast_id, reason=reason[:300]),
            now,
            now + timedelta(seconds=self._expiry_s),
        )
        with self._db.session() as session:
            # Its broadcast reads "cancelled" from now; what already played stays evidence.
            mark_cancelled(session, old.broadcast_id, actor.name, now, reason)
            bulletin = session.get(Bulletin, old.bulletin_id) if old.bulletin_id else None
            if bulletin is not None:
                retire_emergency(session, bulletin, actor, now, reason)


def list_emergencies(session: Session, limit: int = 100) -> list[Emergency]:
    """Most recent first."""
    query = select(Emergency).order_by(Emergency.created_at.desc()).limit(limit)
    return list(session.scalars(query))
