"""The bridge's second stage: store a verified batch in one transaction, then ack it.

``ControllerBridge`` (``bridge.py``) takes what devices send and verifies it (size,
shape, signature against the device's key, schema); ``BatchStore`` stores what was
verified. A batch is one transaction: its events together (``evidence.batch``), the
rest message by message (``MessageStore``, ``message_store.py``: what each
message does); any trouble undoes the batch, which is then stored again one
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

import logging
from collections.abc import Callable, Sequence
from typing import cast

from sqlalchemy.orm import Session

from controller.db.session import Database
from controller.domain.broadcasts import milestones
from controller.domain.evidence import batch as evidence_batch
from controller.domain.evidence import batch_store as evidence_store
from controller.logs import log_context
from controller.messaging.batch import (
    Acks,
    BatchFailed,
    Checked,
    device_of,
    hold_devices,
    hold_playing_targets,
    is_event,
)
from controller.messaging.message_store import Action, MessageStore
from controller.messaging.outbound import MqttOutbound
from controller.messaging.store_retry import RetryPolicy, transient_cause
from wardcast_protocol.clock import Clock
from wardcast_protocol.envelope import Verified
from wardcast_protocol.messages import DeviceState, PlaybackEvent

# The bridge's logger, as before this module was split from it: operators filter on
# it (docs/operations.md shows its records).
log = logging.getLogger("controller.messaging.bridge")


class BatchStore:
    """Stores verified batches and acknowledges them after the commit; counts outcomes."""

    def __init__(
        self,
        db: Database,
        outbound: MqttOutbound,
        clock: Clock,
        *,
        on_state: Callable[[str, DeviceState], None] | None = None,
        on_online: Callable[[Sequence[str]], None] | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._db = db
        self._outbound = outbound
        self._clock = clock
        self.retry = retry or RetryPolicy()
        # Events of a batch stored together (evidence.batch); False: one by one, the reference.
        self.batch_evidence = True
        # What each message does, and the counts of what became of them.
        self.messages = MessageStore(clock, on_state=on_state, on_online=on_online)

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
        counters = self.messages.counters()
        try:
            with self._db.session() as session:
                # The evidence batch path reads devices as values: not held for it.
                evidence_apart = self.batch_evidence and not isolated
                held = hold_devices(session, checked, events=not evidence_apart)  # noqa: F841
                sounding = hold_playing_targets(session, checked)  # noqa: F841
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
                        self.messages.store(session, item, acks, after_commit, isolated, final)
                evidence_store.drop_unmoved(session, created)
                milestones.note_deferred(session, self._clock.now())
        except Exception:
            # Undone (the commit too may fail), counters too: counted when stored again.
            self.messages.restore(counters)
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
            self.messages.tally_event(device_id, verified.body, result, acks, after_commit)
        return {id(i) for i in items}

    def _acknowledge(self, acks: Acks, after_commit: list[Callable[[], None]]) -> None:
        """After the commit: only now may a device forget what it sent."""
        acks.send(self._outbound)
        for action in after_commit:
            try:
                action()
            except Exception:
                log.exception("an action after storing a batch failed")
