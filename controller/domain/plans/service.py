"""Plans: what each device should play, compiled from broadcasts and the ward's programme.

A plan is the device's whole near future, replaced as a unit and versioned, so an
agent that missed messages converges on the truth with the next one it receives.
The version only moves when the content does (a hash of the items decides), so a
periodic or post-restart recompilation that finds nothing new publishes nothing.

:class:`PlanService` is the one place that runs "lock → change → recompile → commit →
publish": whoever changes what devices play (broadcasts, programmes, queues, the
clock, a device coming back online) does so inside :meth:`PlanService.changing`.
Invariant: a device is told only after the commit, so it never plays something the
controller could lose; and plan versions are published in order, under one lock.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.audio.store import MediaSigner, MediaUrls
from controller.db.models import Broadcast, BroadcastTarget, Device, PlanSnapshot
from controller.db.session import Database
from controller.domain.plans.compile import CompileContext, WardCompiler, load_context
from controller.domain.plans.planned import record_plan
from controller.domain.ports import Outbound
from controller.settings import Settings
from wardcast_protocol.clock import Clock
from wardcast_protocol.messages import MediaRef, Plan, PlanItem, Priority, SourceLevel, Trigger
from wardcast_protocol.topics import is_valid_ward_code

MAX_PLAN_ITEMS = 5000


def media_ref(broadcast: Broadcast, urls: MediaUrls) -> MediaRef:
    """The media reference of a broadcast's bulletin, as agents fetch it (signed URL)."""
    media = broadcast.bulletin.media
    return MediaRef(
        sha256=media.sha256,
        url=urls.url(media.sha256, media.extension),
        duration_s=media.duration_s,
        size_bytes=media.size_bytes,
        content_type=media.content_type,
    )


def plan_item(broadcast: Broadcast, urls: MediaUrls) -> PlanItem:
    """One broadcast as a plan item (the same item on every targeted device)."""
    return PlanItem(
        item_id=broadcast.id,
        broadcast_id=broadcast.id,
        bulletin_id=broadcast.bulletin_id,
        title=broadcast.bulletin.title,
        media=media_ref(broadcast, urls),
        planned_start=broadcast.planned_start,
        priority=Priority(broadcast.priority),
        source_level=SourceLevel(broadcast.bulletin.source_level),
        trigger=Trigger(broadcast.trigger),
    )


def broadcast_items(
    session: Session, device: Device, since: datetime, urls: MediaUrls
) -> list[PlanItem]:
    """Scheduled (not 'now') broadcasts targeting ``device`` from ``since`` on."""
    query = (
        select(Broadcast)
        .join(BroadcastTarget, BroadcastTarget.broadcast_id == Broadcast.id)
        .where(
            BroadcastTarget.device_id == device.id,
            Broadcast.immediate.is_(False),
            Broadcast.cancelled_at.is_(None),  # its status moves on; a cancel removes it
            Broadcast.planned_start >= since,
        )
        .order_by(Broadcast.planned_start, Broadcast.id)
        .limit(MAX_PLAN_ITEMS)
    )
    return [plan_item(b, urls) for b in session.scalars(query)]


def content_hash(items: Iterable[PlanItem], ward_code: str | None = None) -> str:
    """A stable digest of a plan's items (and ward: a moved device gets a new plan)."""
    dumped: list[Any] = [item.model_dump(mode="json") for item in items]
    if ward_code is not None:
        dumped.append({"ward_code": ward_code})
    return hashlib.sha256(json.dumps(dumped, sort_keys=True).encode()).hexdigest()


def plan_ward(device: Device) -> str | None:
    """The ward a plan names, so the agent listens to its broadcast channel."""
    ward = device.ward_code
    return ward if ward is not None and is_valid_ward_code(ward) else None


class PlanCompiler:
    """Compiles plans inside a transaction and decides which changed (publishes nothing)."""

    def __init__(self, settings: Settings, signer: MediaSigner) -> None:
        self._settings = settings
        self._signer = signer
        self.chime_sha256: str | None = None
        self.notes: list[str] = []

    def compile(
        self,
        session: Session,
        device: Device,
        now: datetime,
        ctx: CompileContext,
        compilers: dict[str, WardCompiler],
    ) -> list[PlanItem]:
        """The items of ``device``'s plan now (history kept a few hours, horizon ahead)."""
        since = now - timedelta(hours=self._settings.plan_history_h)
        until = now + timedelta(hours=self._settings.plan_horizon_h)
        items = broadcast_items(session, device, since, ctx.urls)
        if device.ward_code is not None and self.chime_sha256 is not None:
            compiler = compilers.get(device.ward_code)
            if compiler is None:
                compiler = WardCompiler(
                    session, device.ward_code, ctx, self._settings.max_session_minutes
                )
                compilers[device.ward_code] = compiler
            items += compiler.items_for(device, since, until)
        items.sort(key=lambda i: (i.planned_start, i.item_id))
        return items[:MAX_PLAN_ITEMS]

    def refresh(self, session: Session, device_ids: Iterable[str], now: datetime) -> list[Plan]:
        """Recompile these devices; bump and return the plans whose content changed.

        Call inside the changing transaction (``PlanService.changing`` does); the
        returned plans are published after the commit.
        """
        ctx = load_context(session, self._signer.at(now), self.chime_sha256 or "")
        compilers: dict[str, WardCompiler] = {}
        changed: list[Plan] = []
        for device_id in device_ids:
            device = session.get(Device, device_id)
            if device is None:
                continue
            items = self.compile(session, device, now, ctx, compilers)
            digest = content_hash(items, plan_ward(device))
            snapshot = session.get(PlanSnapshot, device.id)
            if snapshot is not None and snapshot.content_hash == digest:
                continue
            device.plan_version += 1
            if snapshot is None:
                snapshot = PlanSnapshot(device_id=device.id)
                session.add(snapshot)
            snapshot.version, snapshot.content_hash = device.plan_version, digest
            snapshot.compiled_at, snapshot.item_count = now, len(items)
            record_plan(session, device, items, now)
            changed.append(
                Plan(
                    device_id=device.id,
                    version=device.plan_version,
                    generated_at=now,
                    items=tuple(items),
                    ward_code=plan_ward(device),
                )
            )
        self.notes = ctx.notes[-200:]
        return changed

    def current(self, session: Session, device_id: str, now: datetime) -> Plan | None:
        """The device's plan as it stands (for republishing on reconnect)."""
        device = session.get(Device, device_id)
        if device is None:
            return None
        ctx = load_context(session, self._signer.at(now), self.chime_sha256 or "")
        items = self.compile(session, device, now, ctx, {})
        return Plan(
            device_id=device.id,
            version=device.plan_version,
            generated_at=now,
            items=tuple(items),
            ward_code=plan_ward(device),
        )


@dataclass
class PlanChange:
    """One transaction that changes what devices play (see ``PlanService.changing``)."""

    session: Session
    now: datetime
    devices: set[str] = field(default_factory=set)
    everyone: bool = False
    published: int = 0  # plans that changed and were published, once committed
    _after_commit: list[Callable[[], None]] = field(default_factory=list)

    def recompile(self, device_ids: Iterable[str] | None = None) -> None:
        """Recompile these devices (all when None) when the change commits."""
        if device_ids is None:
            self.everyone = True
        else:
            self.devices.update(device_ids)

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run ``action`` (e.g. send a command) once the change is committed."""
        self._after_commit.append(action)


class PlanService:
    """Recompiles devices' plans and publishes what changed, after the commit.

    The lock makes "compile, bump version, commit, publish" atomic within the
    controller, so a plan with a lower version can never be published after a higher
    one and end up as the retained state.
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        outbound: Outbound,
        clock: Clock,
        signer: MediaSigner,
    ) -> None:
        self._db = db
        self._outbound = outbound
        self._clock = clock
        self._signer = signer
        self.compiler = PlanCompiler(settings, signer)
        self.lock = threading.RLock()

    def media_urls(self, now: datetime) -> MediaUrls:
        """Media URLs signed at ``now``, as plans and commands carry them."""
        return self._signer.at(now)

    @property
    def notes(self) -> list[str]:
        """What the last compilation could not fit or air (for operators and tests)."""
        return self.compiler.notes

    def set_chime(self, sha256: str | None) -> None:
        """The prepared chime; programme sessions compile only once it is known."""
        self.compiler.chime_sha256 = sha256

    @contextmanager
    def changing(self) -> Iterator[PlanChange]:
        """A transaction whose devices are recompiled, committed, then told.

        Inside, make the change with ``change.session`` and name the devices it
        affects with ``change.recompile(ids)``; on a clean exit the plans are
        recompiled in the same transaction, it commits, and only then are changed
        plans published and ``after_commit`` actions run. On an exception nothing
        is committed and nobody is told.
        """
        with self.lock, self._db.session() as session:
            change = PlanChange(session=session, now=self._clock.now())
            yield change
            ids: Iterable[str] = (
                self.all_devices(session) if change.everyone else sorted(change.devices)
            )
            plans = self.compiler.refresh(session, ids, change.now)
            session.commit()
            for action in change._after_commit:
                action()
            for plan in plans:
                self._outbound.publish_plan(plan)
            change.published = len(plans)

    def recompile(self, device_ids: Iterable[str] | None = None) -> int:
        """Recompile plans (all devices by default); publish those that changed."""
        with self.changing() as change:
            change.recompile(device_ids)
        return change.published

    def republish(self, device_id: str) -> None:
        """Send a device its plan again (on reconnect): recompiled if it moved, else as is.

        Cheap, and heals a lost retained copy: if the plan moved while the device was
        away it gets a new version; if not, the same content goes out again under the
        same version.
        """
        with self.lock, self._db.session() as session:
            now = self._clock.now()
            changed = self.compiler.refresh(session, [device_id], now)
            plan = changed[0] if changed else self.current(session, device_id, now)
            session.commit()
            if plan is not None:
                self._outbound.publish_plan(plan)

    def current(self, session: Session, device_id: str, now: datetime | None = None) -> Plan | None:
        """The device's plan as it stands."""
        return self.compiler.current(session, device_id, now or self._clock.now())

    def ward_devices(self, session: Session, ward_code: str) -> list[str]:
        """Ids of the devices placed in a ward."""
        return list(session.scalars(select(Device.id).where(Device.ward_code == ward_code)))

    def all_devices(self, session: Session) -> list[str]:
        """Every device id."""
        return list(session.scalars(select(Device.id).order_by(Device.id)))
