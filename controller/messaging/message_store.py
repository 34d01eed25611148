"""One verified device message stored by its channel, and what became of it counted.

``BatchStore`` (``bridge_store.py``) owns the batch: its transaction, its retries, the
order rows are locked in and the acks sent after the commit. This module is what each
message does inside that transaction — an event becomes evidence (or a security
record), a security report a security record, an availability or a state the
device's row — and what a refused message becomes: a rejected message with its
reason, never evidence. Apart so the batch's lock ordering can be read on its own.

Invariant: nothing here commits or acknowledges; it only fills the batch's ``Acks``
and its actions owed after the commit. In a batch stored one by one (``isolated``)
each message has its own savepoint, so one bad message never undoes the others.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import cast

from sqlalchemy.orm import Session

from controller.domain.devices import service as device_domain
from controller.domain.errors import DomainError
from controller.domain.evidence import security as security_domain
from controller.domain.evidence import service as evidence_domain
from controller.logs import bind_log_context
from controller.messaging.batch import Acks, BatchFailed, Checked
from controller.messaging.store_retry import transient_cause
from controller.metrics import registry as metrics
from wardcast_protocol.clock import Clock
from wardcast_protocol.envelope import Verified
from wardcast_protocol.messages import Availability, DeviceState, PlaybackEvent, SecurityReport
from wardcast_protocol.topics import DeviceChannel

Action = Callable[[], None]
"""Something owed once the batch committed (an ack's hook, a metric)."""

Counters = tuple[int, int, int, int]
"""(stored events, refused events, security reports, rejected), to undo with a batch."""

# The bridge's logger, as before this module was split from it: operators filter on
# it (docs/operations.md shows its records).
log = logging.getLogger("controller.messaging.bridge")


class CameOnline:
    """The devices of one batch that came back online, handed to ``hook`` together once
    it committed: after a broker restart a whole batch of them is owed their plans and
    the same orders, which then go out as a few statements and one command per ward,
    not one look-up each (a plan each alone cost ~10 ms: 10 s for a thousand)."""

    def __init__(self, hook: Callable[[Sequence[str]], None]) -> None:
        self.device_ids: list[str] = []
        self._hook = hook

    def __call__(self) -> None:
        self._hook(tuple(self.device_ids))


class MessageStore:
    """Stores one verified message by its channel inside a batch; counts outcomes."""

    def __init__(
        self,
        clock: Clock,
        *,
        on_state: Callable[[str, DeviceState], None] | None = None,
        on_online: Callable[[Sequence[str]], None] | None = None,
    ) -> None:
        """``on_online``: called after the commit with the devices of a batch that came
        back online (the runtime sends them their plans and what they are owed)."""
        self._clock = clock
        self._on_state_hook = on_state
        self._on_online_hook = on_online
        self.stored_events = 0
        self.refused_events = 0
        self.security_reports = 0
        self.rejected = 0

    def counters(self) -> Counters:
        """The counts now, to restore if the batch is undone."""
        return (self.stored_events, self.refused_events, self.security_reports, self.rejected)

    def restore(self, counters: Counters) -> None:
        """Undo the counts of a batch undone: counted again when it is stored again."""
        self.stored_events, self.refused_events = counters[0], counters[1]
        self.security_reports, self.rejected = counters[2], counters[3]

    def store(
        self,
        session: Session,
        item: Checked,
        acks: Acks,
        after_commit: list[Action],
        isolated: bool,
        final: bool,
    ) -> None:
        """Store one message of a batch; refused, it becomes a rejected message.

        A transient error escapes (to run the batch again) unless ``final``; in a batch
        stored whole (not ``isolated``) any error fails the batch (``BatchFailed``).
        """
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
        after_commit: list[Action],
    ) -> None:
        result = evidence_domain.record_event(session, verified, device_id, self._clock.now())
        self.tally_event(device_id, verified.body, result, acks, after_commit)

    def tally_event(
        self,
        device_id: str,
        event: PlaybackEvent,
        result: evidence_domain.Stored,
        acks: Acks,
        after_commit: list[Action],
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
        after_commit: list[Action],
    ) -> None:
        # A retained copy counts as heard when the device said it, not when we
        # subscribed: a stale "online" must not make a silent device look alive.
        came_online = device_domain.mark_availability(
            session, device_id, body.state == "online", self._clock.now(), said_at=said_at
        )
        log.info("device %s is %s", device_id, body.state)
        hook = self._on_online_hook
        if came_online and hook is not None:
            returned = next((a for a in after_commit if isinstance(a, CameOnline)), None)
            if returned is None:
                returned = CameOnline(hook)
                after_commit.append(returned)
            returned.device_ids.append(device_id)

    def _on_state(
        self,
        session: Session,
        device_id: str,
        body: DeviceState,
        said_at: datetime | None,
        after_commit: list[Action],
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
