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

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.audio.store import MediaSigner, MediaUrls
from controller.db.among import among
from controller.db.models import Device, PlanSnapshot
from controller.db.session import Database
from controller.domain.plans.compile import CompileContext, WardCompiler, load_context
from controller.domain.plans.items import (
    MAX_PLAN_ITEMS,
    PlanDigests,
    plan_ward,
    scheduled_items,
)
from controller.domain.plans.planned import record_plans
from controller.domain.ports import Outbound
from controller.settings import Settings
from wardcast_protocol.clock import Clock
from wardcast_protocol.messages import Plan, PlanItem

# Devices recompiled together: their rows read with one statement each (a batch's ids
# are bound as parameters, within SQLite's limit).
REFRESH_BATCH = 500


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
        scheduled: list[PlanItem] | None = None,
    ) -> list[PlanItem]:
        """The items of ``device``'s plan now (history kept a few hours, horizon ahead);
        ``scheduled``: its broadcasts' items, when read with other devices'."""
        since = now - timedelta(hours=self._settings.plan_history_h)
        until = now + timedelta(hours=self._settings.plan_horizon_h)
        if scheduled is None:
            scheduled = scheduled_items(session, [device.id], since, ctx.urls).get(device.id, [])
        items = list(scheduled)
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

    def refresh(
        self,
        session: Session,
        device_ids: Iterable[str],
        now: datetime,
        *,
        unchanged: list[Plan] | None = None,
    ) -> list[Plan]:
        """Recompile these devices; bump and return the plans whose content changed
        (and add those that did not to ``unchanged``, if given, as they stand).

        Call inside the changing transaction (``PlanService.changing`` does); the
        returned plans are published after the commit. Devices go in batches, each
        read and written with a few statements whatever its size.
        """
        ctx = load_context(session, self._signer.at(now), self.chime_sha256 or "")
        compilers: dict[str, WardCompiler] = {}
        digests = PlanDigests()
        changed: list[Plan] = []
        ordered = list(dict.fromkeys(device_ids))
        for start in range(0, len(ordered), REFRESH_BATCH):
            batch = ordered[start : start + REFRESH_BATCH]
            changed += self._refresh_batch(session, batch, now, ctx, compilers, digests, unchanged)
        self.notes = ctx.notes[-200:]
        return changed

    def _refresh_batch(
        self,
        session: Session,
        device_ids: list[str],
        now: datetime,
        ctx: CompileContext,
        compilers: dict[str, WardCompiler],
        digests: PlanDigests,
        unchanged: list[Plan] | None,
    ) -> list[Plan]:
        chosen = select(Device).where(among(session, Device.id, device_ids))
        devices = {d.id: d for d in session.scalars(chosen)}
        snapshots = {
            s.device_id: s
            for s in session.scalars(
                select(PlanSnapshot).where(among(session, PlanSnapshot.device_id, device_ids))
            )
        }
        since = now - timedelta(hours=self._settings.plan_history_h)
        scheduled = scheduled_items(session, device_ids, since, ctx.urls)
        changed: list[Plan] = []
        moved: list[tuple[Device, Sequence[PlanItem]]] = []
        for device_id in device_ids:
            device = devices.get(device_id)
            if device is None:
                continue
            items = self.compile(session, device, now, ctx, compilers, scheduled.get(device_id, []))
            digest = digests.digest(items, plan_ward(device))
            snapshot = snapshots.get(device.id)
            if snapshot is not None and snapshot.content_hash == digest:
                if unchanged is not None:
                    unchanged.append(_plan(device, items, now))
                continue
            device.plan_version += 1
            if snapshot is None:
                snapshot = PlanSnapshot(device_id=device.id)
                session.add(snapshot)
            snapshot.version, snapshot.content_hash = device.plan_version, digest
            snapshot.compiled_at, snapshot.item_count = now, len(items)
            moved.append((device, items))
            changed.append(_plan(device, items, now))
        record_plans(session, moved, now)
        return changed

    def current(self, session: Session, device_id: str, now: datetime) -> Plan | None:
        """The device's plan as it stands (for republishing on reconnect)."""
        device = session.get(Device, device_id)
        if device is None:
            return None
        ctx = load_context(session, self._signer.at(now), self.chime_sha256 or "")
        return _plan(device, self.compile(session, device, now, ctx, {}), now)


def _plan(device: Device, items: Sequence[PlanItem], now: datetime) -> Plan:
    """``device``'s plan of ``items`` under its current version."""
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

    @contextmanager
    def commanding(self) -> Iterator[PlanChange]:
        """A transaction that sends orders once committed and changes no plan.

        It takes no plans' lock: a "now" (an emergency among them) adds no item to a
        plan, so it need not wait while another officer's broadcast is compiled into a
        thousand plans or a broker restart's republish signs them (measured by
        ``bench.plans``: 0.7 s and 0.3 s of waiting at 1,000 devices). It still commits
        before its orders go out, and asking it to recompile is a mistake it refuses.
        """
        with self._db.session() as session:
            change = PlanChange(session=session, now=self._clock.now())
            yield change
            if change.everyone or change.devices:
                raise RuntimeError("a command's transaction cannot recompile plans: changing()")
            session.commit()
            for action in change._after_commit:
                action()

    def recompile(self, device_ids: Iterable[str] | None = None) -> int:
        """Recompile plans (all devices by default); publish those that changed."""
        with self.changing() as change:
            change.recompile(device_ids)
        return change.published

    def republish(self, device_ids: str | Sequence[str]) -> None:
        """Send devices their plans again (on reconnect): recompiled if they moved, else
        as they are.

        Cheap, and heals a lost retained copy: if a plan moved while its device was
        away it gets a new version; if not, the same content goes out again under the
        same version. Devices back together are compiled together.
        """
        ids = [device_ids] if isinstance(device_ids, str) else list(device_ids)
        with self.lock, self._db.session() as session:
            same: list[Plan] = []
            changed = self.compiler.refresh(session, ids, self._clock.now(), unchanged=same)
            session.commit()
            for plan in (*changed, *same):
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
