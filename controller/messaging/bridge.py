"""The controller's ear: every message from devices comes through here.

Each payload is checked (size, shape, signature against the device's registered
key, schema) before anything is stored; a refused payload is logged and kept as a
rejected message with its reason, never as evidence. An event for an item never
planned for the device, and a device's own security report (what its agent
refused), become security records; both are acknowledged once committed, so the
device stops resending them. Nothing a device sends can crash this loop.

Messages are not handled on paho's network thread: ``handle`` hands them to an
``IngestQueue``, whose worker verifies a batch (here: the first stage) and has
``BatchStore`` (``bridge_store.py``: the second) store it in one transaction and
acknowledge after the commit (one ack per device per batch). That thread also sends
every command, so evidence arriving never delays one going out.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from controller.db.session import Database
from controller.domain.devices import service as device_domain
from controller.domain.evidence.bundles.ed25519 import signature_valid
from controller.messaging.batch import Checked, device_order
from controller.messaging.bridge_store import BatchStore
from controller.messaging.ingest import EventWorkers, IngestQueue
from controller.messaging.outbound import MqttOutbound
from controller.metrics import registry as metrics
from wardcast_protocol.channels import CONTROLLER_INBOUND
from wardcast_protocol.clock import Clock
from wardcast_protocol.envelope import RejectedMessage, open_envelope
from wardcast_protocol.messages import DeviceState
from wardcast_protocol.subscriptions import ReceivedMessage
from wardcast_protocol.topics import (
    DeviceChannel,
    DeviceTopic,
    all_devices,
    parse,
    shared_subscription,
)
from wardcast_protocol.transport import Transport

log = logging.getLogger(__name__)


class ControllerBridge:
    """Subscribes to device topics, verifies, stores evidence and acknowledges it."""

    def __init__(
        self,
        transport: Transport,
        db: Database,
        outbound: MqttOutbound,
        clock: Clock,
        *,
        on_state: Callable[[str, DeviceState], None] | None = None,
        on_online: Callable[[Sequence[str]], None] | None = None,
        share_group: str | None = None,
    ) -> None:
        self._transport = transport
        self._db = db
        self._share_group = share_group
        self._keys: dict[str, str] = {}
        self._keys_lock = threading.Lock()
        self.store = BatchStore(db, outbound, clock, on_state=on_state, on_online=on_online)
        # Two stages: signatures checked on one thread while the last batch is stored.
        self.ingest = IngestQueue(self._check_batch)
        # On PostgreSQL, events go to worker processes instead (messaging/ingest_workers.py).
        self.workers: EventWorkers | None = None

    # What the store counts, read (and, by ingest processes, added to) through the bridge.

    @property
    def batch_evidence(self) -> bool:
        """Events of a batch stored together (``evidence.batch``); False: one by one."""
        return self.store.batch_evidence

    @batch_evidence.setter
    def batch_evidence(self, value: bool) -> None:
        self.store.batch_evidence = value

    @property
    def stored_events(self) -> int:
        """Events stored as new evidence since start."""
        return self.store.messages.stored_events

    @stored_events.setter
    def stored_events(self, value: int) -> None:
        self.store.messages.stored_events = value

    @property
    def refused_events(self) -> int:
        """Events refused as evidence (kept as security records) since start."""
        return self.store.messages.refused_events

    @refused_events.setter
    def refused_events(self, value: int) -> None:
        self.store.messages.refused_events = value

    @property
    def security_reports(self) -> int:
        """Devices' security reports stored since start."""
        return self.store.messages.security_reports

    @security_reports.setter
    def security_reports(self, value: int) -> None:
        self.store.messages.security_reports = value

    @property
    def rejected(self) -> int:
        """Messages rejected (kept with their reason) since start."""
        return self.store.messages.rejected

    @rejected.setter
    def rejected(self, value: int) -> None:
        self.store.messages.rejected = value

    def subscription_filters(self) -> list[str]:
        """Every filter the controller subscribes to: the one place they are made.

        Replicas sharing ingest (``share_group``, docs/scale.md) take each through an
        MQTT v5 shared subscription, ``$share/<group>/<filter>``: the broker hands each
        message to one member of the group. Storing is idempotent (a device's event id
        once), so a redelivery to the other replica changes nothing.
        """
        filters = [all_devices(channel) for channel in CONTROLLER_INBOUND]
        if self._share_group is None:
            return filters
        return [shared_subscription(self._share_group, f) for f in filters]

    def start(self, *, worker: bool = True) -> None:
        """Subscribe to every device's device-to-controller channels (the channel table's).

        ``worker``: store on the ingest thread (False: inline, on the delivering thread).
        """
        if worker:
            self.ingest.start()
            if self.workers is not None:
                self.workers.start()
        for topic_filter in self.subscription_filters():
            self._transport.subscribe(topic_filter, self.handle)

    def stop(self) -> None:
        """Store what is queued and stop the ingest worker (after the link stopped)."""
        self.ingest.stop()
        if self.workers is not None:
            self.workers.stop()

    def forget_key(self, device_id: str) -> None:
        """Drop a cached key (after a device is re-registered)."""
        with self._keys_lock:
            self._keys.pop(device_id, None)
        if self.workers is not None:
            self.workers.forget_key(device_id)

    def _key_of(self, device_id: str) -> str | None:
        with self._keys_lock:
            cached = self._keys.get(device_id)
        if cached is not None:
            return cached
        with self._db.session() as session:
            key = device_domain.public_key_of(session, device_id)
        if key is not None:
            with self._keys_lock:
                self._keys[device_id] = key
        return key

    def _warm_keys(self, batch: list[ReceivedMessage]) -> None:
        """Read the batch's uncached device keys at once: one round trip, not one each."""
        wanted = {p.device_id for p in map(parse, (m.topic for m in batch)) if p is not None}
        with self._keys_lock:
            wanted.difference_update(self._keys)
        if not wanted:
            return
        with self._db.session() as session:
            found = device_domain.public_keys_of(session, wanted)
        with self._keys_lock:
            for device_id, key in found.items():
                self._keys.setdefault(device_id, key)

    def handle(self, message: ReceivedMessage) -> None:
        """Entry point for every received message (runs on the transport's thread).

        Only queues it. An event turned away by a full queue is not acknowledged, so
        its device sends it again; a device's availability and state are kept longer.
        """
        parsed = parse(message.topic)
        essential = parsed is not None and parsed.spec.retained
        workers = self.workers
        if workers is not None and workers.started and _is_event_topic(parsed):
            accepted = workers.submit(message)
        else:
            accepted = self.ingest.submit(message, essential=essential)
        if not accepted:
            metrics.rejected("ingest_full")
            if self.ingest.refused % 1000 == 1:
                log.warning(
                    "ingest queue full (%d waiting): %d messages deferred to the devices' resend",
                    self.ingest.pending,
                    self.ingest.refused,
                )

    # the worker: verify a batch here, then the store stores it and acks after the commit

    def _store_batch(self, batch: list[ReceivedMessage]) -> None:
        """Verify, store and acknowledge a batch, here and now (both stages at once)."""
        self._check_batch(batch)()

    def _check_batch(self, batch: list[ReceivedMessage]) -> Callable[[], None]:
        """The first stage: verify a batch; returns the second, storing and acknowledging it.

        The ingest queue runs the second on its storing thread while this one verifies
        the next batch (signatures take CPU; the store mostly waits on the database).
        """
        self._warm_keys(batch)
        # By device (stable: each device's own order kept), so replicas sharing
        # ingest lock devices' chain rows in one order and never deadlock on them.
        checked = sorted((self._check(message) for message in batch), key=device_order)
        return lambda: self.store.store(checked)

    def _check(self, message: ReceivedMessage) -> Checked:
        """Verify one message (outside the transaction: signatures take CPU, not locks)."""
        item = Checked(message, parse(message.topic))
        parsed = item.parsed
        metrics.mqtt_received(parsed.channel if parsed is not None else None)
        if parsed is None or parsed.channel not in CONTROLLER_INBOUND:
            item.rejection = ("bad_topic", "not a device-to-controller topic")
            return item
        if not message.payload and parsed.spec.retained:
            return item  # a cleared retained topic: nothing to read
        try:
            item.verified = open_envelope(
                message.payload,
                parsed.channel,
                self._key_of,
                expected_sender=parsed.device_id,
                # libsodium first (and it lets go of the GIL), cryptography's verdict.
                check_signature=signature_valid,
            )
        except RejectedMessage as exc:
            item.rejection = (exc.reason, exc.detail)
        return item


def _is_event_topic(parsed: DeviceTopic | None) -> bool:
    return parsed is not None and parsed.channel is DeviceChannel.EVENT
