"""The bridge's second stage: store a verified batch in one transaction, then ack it.

``ControllerBridge`` (``bridge.py``) takes what devices send and verifies it (size,
shape, signature against the device's key, schema); ``BatchStore`` stores what was
verified. A batch is one transaction: its events together (``evidence.batch``), the
rest message by message; any trouble undoes the batch, which is then stored again one
message at a time, each in its own savepoint, so one bad message never undoes the
others. A transaction that fails for a passing reason (a deadlock or serialization
failure between replicas, a dropped connection: ``store_retry``) is run again as a
batch, a few times, before the one-by-one fallback. Refused payloads become rejected
messages with their reason, never evidence;
an event for an item never planned for the device, and a device's own security
report, become security records.

Invariant: acknowledged only after the commit (one ack per device per batch), so a
device forgets an event only once it is stored; storage trouble is not acknowledged,
and the device sends it again.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable
from datetime import datetime
from typing import cast

from sqlalchemy.orm import Session

from controller.db.session import Database
from controller.domain.broadcasts import milestones
from controller.domain.devices import service as device_domain
from controller.domain.errors import DomainError
from controller.domain.evidence import batch as evidence_batch
from controller.domain.evidence import batch_store as evidence_store
from controller.domain.evidence import security as security_domain
from controller.domain.evidence import service as evidence_domain
from controller.domain.plans.service import PlanService
from controller.logs import bind_log_context, log_context
from controller.messaging.batch import Acks, BatchFailed, Checked, device_of, hold_devices, is_event
from controller.messaging.outbound import MqttOutbound
from controller.messaging.store_retry import RetryPolicy, transient_cause
from controller.metrics import registry as metrics
from wardcast_protocol.clock import Clock
from wardcast_protocol.envelope import Verified
from wardcast_protocol.messages import Availability, DeviceState, PlaybackEvent, SecurityReport
from wardcast_protocol.topics import DeviceChannel

Action = Callable[[], None]
"""Something owed once the batch committed (an ack's hook, a metric)."""

# The bridge's logger, as before this module was split from it: operators filter on
# it (docs/operations.md shows its records).
log = logging.getLogger("controller.messaging.bridge")


class BatchStore:
    """Stores verified batches and acknowledges them after the commit; counts outcomes."""

    def __init__(
        self,
        db: Database,
        outbound: MqttOutbound,
        plans: PlanService,
        clock: Clock,
        *,
        on_state: Callable[[str, DeviceState], None] | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._db = db
        self._outbound = outbound
        self._plans = plans
        self._clock = clock
        self._on_state_hook = on_state
        self.retry = retry or RetryPolicy()
        # Events of a batch stored together (evidence.batch); False: one by one, the reference.
        self.batch_evidence = True
        self.stored_events = 0
        self.refused_events = 0
        self.security_reports = 0
        self.rejected = 0

    def store(self, checked: list[Checked]) -> None:
        """The second stage: store a verified batch, then acknowledge what was committed."""
        what = f"storing a batch of {len(checked)} messages"
        acks, after_commit = self.retry.run(lambda final: self._attempt(checked, final), what)
        self._acknowledge(acks, after_commit)

    def _attempt(self, checked: list[Checked], final: bool) -> tuple[Acks, list[Action]]:
        """One run of the batch; a transient error escapes it (to be retried) unless ``final``."""
        try:
            # Optimistic: the whole batch in one transaction, no savepoint per message
            # (each costs a flush and two statements). Any trouble undoes it all, and
            # the batch is stored again message by message, each in its own savepoint.
            return self._store_all(checked, isolated=len(checked) == 1, final=final)
        except BatchFailed as failed:
            if not final and transient_cause(failed) is not None:
                raise  # nothing wrong with a message: the batch again, whole
            return self._store_all(checked, isolated=True, final=final)

    def _store_all(
        self, checked: list[Checked], *, isolated: bool, final: bool = True
    ) -> tuple[Acks, list[Callable[[], None]]]:
        """Store a verified batch in one transaction; the acks and actions it owes."""
        acks = Acks()
        after_commit: list[Callable[[], None]] = []
        counters = (self.stored_events, self.refused_events, self.security_reports, self.rejected)
        try:
            with self._db.session() as session:
                # The evidence batch path reads devices as values: not held for it.
                evidence_apart = self.batch_evidence and not isolated
                held = hold_devices(session, checked, events=not evidence_apart)  # noqa: F841
                created: set[str] = set()
                if isolated and len(checked) > 1:  # a failed batch, again one by one
                    devices = map(device_of, filter(is_event, checked))
                    created = evidence_store.lock_chains(session, devices, self._clock.now())
                session.info[milestones.DEFERRED_NOTES] = set()
                events = set()
                if not isolated:
                    events = self._store_events(session, checked, acks, after_commit)
                for item in checked:
                    if id(item) in events:
                        continue  # stored with the batch's other events
                    with log_context(message_id=item.message.topic):
                        self._store(session, item, acks, after_commit, isolated, final)
                evidence_store.drop_unmoved(session, created)
                milestones.note_deferred(session, self._clock.now())
        except Exception:
            # Undone (the commit too may fail), counters too: counted when stored again.
            self.stored_events, self.refused_events = counters[0], counters[1]
            self.security_reports, self.rejected = counters[2], counters[3]
            raise
        return acks, after_commit

    def _store_events(
        self,
        session: Session,
        checked: list[Checked],
        acks: Acks,
        after_commit: list[Callable[[], None]],
    ) -> set[int]:
        """Store the batch's verified events together (``evidence.batch``); their ids.

        Anything the batch path cannot decide (a fork, an event naming another device)
        fails the batch, which is then stored one by one by ``record_event``.
        """
        if not self.batch_evidence:
            return set()
        items = [i for i in checked if is_event(i)]
        arrivals = [(cast(Verified[PlaybackEvent], i.verified), device_of(i)) for i in items]
        try:
            results = evidence_batch.record_events(session, arrivals, self._clock.now())
        except Exception as exc:
            raise BatchFailed from exc
        for (verified, device_id), result in zip(arrivals, results, strict=True):
            self._tally_event(device_id, verified.body, result, acks, after_commit)
        return {id(i) for i in items}

    def _acknowledge(self, acks: Acks, after_commit: list[Callable[[], None]]) -> None:
        """After the commit: only now may a device forget what it sent."""
        acks.send(self._outbound)
        for action in after_commit:
            try:
                action()
            except Exception:
                log.exception("an action after storing a batch failed")

    def _store(
        self,
        session: Session,
        item: Checked,
        acks: Acks,
        after_commit: list[Callable[[], None]],
        isolated: bool,
        final: bool,
    ) -> None:
        message, parsed, verified = item.message, item.parsed, item.verified
        device_id = parsed.device_id if parsed is not None else None
        if item.rejection is not None:
            self._reject(session, message.topic, device_id, *item.rejection, message.payload)
            return
        if parsed is None or verified is None or device_id is None:
            return  # a cleared retained topic
        if isinstance(verified.body, PlaybackEvent):
            bind_log_context(message_id=verified.body.event_id)
        elif isinstance(verified.body, SecurityReport):
            bind_log_context(message_id=verified.body.report_id)
        said_at = verified.sent_at if message.retained else None
        try:
            # Isolated: a savepoint per message, so one bad message never undoes the rest.
            with session.begin_nested() if isolated else contextlib.nullcontext():
                if parsed.channel is DeviceChannel.EVENT:
                    event = cast(Verified[PlaybackEvent], verified)
                    self._on_event(session, device_id, event, acks, after_commit)
                elif parsed.channel is DeviceChannel.SECURITY:
                    report = cast(Verified[SecurityReport], verified)
                    security_domain.record_report(session, report, device_id, self._clock.now())
                    acks.reports.setdefault(device_id, []).append(report.body.report_id)
                    self.security_reports += 1
                elif parsed.channel is DeviceChannel.AVAILABILITY:
                    body = cast(Availability, verified.body)
                    self._on_availability(session, device_id, body, said_at, after_commit)
                else:
                    body_state = cast(DeviceState, verified.body)
                    self._on_state(session, device_id, body_state, said_at, after_commit)
        except Exception as exc:
            if not isolated:
                raise BatchFailed from exc
            if not final and transient_cause(exc) is not None:
                raise  # the transaction is in doubt, not the message: the batch again
            if isinstance(exc, DomainError):
                self._reject(
                    session, message.topic, device_id, "refused", exc.message, message.payload
                )
                return
            # Storage trouble (disk full, database gone): do NOT ack, so the device
            # keeps the event in its outbox and sends it again later.
            log.exception("could not process %s from %s", parsed.channel, device_id)
            self._reject(
                session,
                message.topic,
                device_id,
                "internal_error",
                repr(exc)[:500],
                message.payload,
            )

    def _on_event(
        self,
        session: Session,
        device_id: str,
        verified: Verified[PlaybackEvent],
        acks: Acks,
        after_commit: list[Callable[[], None]],
    ) -> None:
        result = evidence_domain.record_event(session, verified, device_id, self._clock.now())
        self._tally_event(device_id, verified.body, result, acks, after_commit)

    def _tally_event(
        self,
        device_id: str,
        event: PlaybackEvent,
        result: evidence_domain.Stored,
        acks: Acks,
        after_commit: list[Callable[[], None]],
    ) -> None:
        """Ack and count what became of one event (stored, duplicate or refused)."""
        if result is evidence_domain.Stored.REFUSED:
            # Kept as a security record, not evidence: nothing for the device to resend.
            acks.refused.setdefault(device_id, []).append(event.event_id)
            self.refused_events += 1
            return
        acks.events.setdefault(device_id, []).append(event.event_id)
        if result is evidence_domain.Stored.NEW:
            self.stored_events += 1
            # Counted once committed: a batch undone and run again is counted once.
            after_commit.append(functools.partial(metrics.evidence_stored, event.outcome))
            log.info(
                "evidence %s from %s: %s (%s)",
                event.event_id,
                device_id,
                event.outcome,
                event.item_id,
            )

    def _on_availability(
        self,
        session: Session,
        device_id: str,
        body: Availability,
        said_at: datetime | None,
        after_commit: list[Callable[[], None]],
    ) -> None:
        # A retained copy counts as heard when the device said it, not when we
        # subscribed: a stale "online" must not make a silent device look alive.
        came_online = device_domain.mark_availability(
            session, device_id, body.state == "online", self._clock.now(), said_at=said_at
        )
        log.info("device %s is %s", device_id, body.state)
        if came_online:
            after_commit.append(lambda: self._plans.republish(device_id))

    def _on_state(
        self,
        session: Session,
        device_id: str,
        body: DeviceState,
        said_at: datetime | None,
        after_commit: list[Callable[[], None]],
    ) -> None:
        device_domain.record_state(session, device_id, body, self._clock.now(), said_at=said_at)
        hook = self._on_state_hook
        if hook is not None:
            after_commit.append(lambda: hook(device_id, body))

    def _reject(
        self,
        session: Session,
        topic: str,
        device_id: str | None,
        reason: str,
        detail: str,
        payload: bytes,
    ) -> None:
        self.rejected += 1
        metrics.rejected(reason)
        log.warning("rejected message on %s: %s (%s)", topic, reason, detail[:200])
        try:
            with session.begin_nested():
                evidence_domain.record_rejection(
                    session, topic, device_id, reason, detail, payload, self._clock.now()
                )
        except Exception:
            log.exception("could not record a rejected message")
