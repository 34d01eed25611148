"""Wires the controller's parts together, and starts and stops them in order.

One ``ControllerRuntime`` per process: the HTTP app, the CLI and the tests all
build it from one ``Settings``. Start order matters: broker, database, keys, MQTT
link, then the bridge, so no device message arrives before it can be stored.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterable
from datetime import timedelta

from controller.audio import MediaStore
from controller.db.models import new_id
from controller.db.session import Database
from controller.domain.broadcasts.service import BroadcastService
from controller.domain.content.bulletins import BulletinService
from controller.domain.content.chimes import ensure_chime
from controller.domain.emergencies.service import EmergencyService
from controller.domain.evidence.chain import open_gaps
from controller.domain.plans.service import PlanPublisher
from controller.maintenance import Maintenance
from controller.messaging.bridge import ControllerBridge
from controller.messaging.broker import EmbeddedBroker
from controller.messaging.outbound import MqttOutbound, controller_availability
from controller.settings import Settings
from wardcast_protocol.clock import Clock, SystemClock
from wardcast_protocol.messages import Command, ResendEvents
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.transport import BrokerAddress, MqttLink, Transport

log = logging.getLogger(__name__)


class ControllerRuntime:
    """Every long-lived part of the controller."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        transport: Transport | None = None,
        run_maintenance: bool = True,
        prepare_chime: bool = True,
    ) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.embedded_broker: EmbeddedBroker | None = None
        self.broker_url = settings.broker_url
        self._given_transport = transport
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = Database(settings.resolved_database_url)
        self.key = SigningKey.load_or_create(settings.resolved_controller_key_path)
        self.media = MediaStore(settings.media_dir)
        self.plans = PlanPublisher(settings)
        self.bulletins = BulletinService(settings, self.media)
        self.transport: Transport | None = None
        self.outbound: MqttOutbound | None = None
        self.bridge: ControllerBridge | None = None
        self.broadcasts: BroadcastService | None = None
        self.maintenance: Maintenance | None = None
        self.emergencies: EmergencyService | None = None
        self.run_maintenance = run_maintenance
        self.prepare_chime = prepare_chime

    def start(self) -> None:
        """Start the broker if embedded, migrate, connect, and begin listening."""
        self.db.migrate()
        transport = self._given_transport
        if transport is None:
            if self.broker_url is None:
                self.embedded_broker = EmbeddedBroker(
                    state_dir=self.settings.data_dir / "broker", persistence=True
                ).start()
                self.broker_url = self.embedded_broker.url
            address = BrokerAddress.parse(self.broker_url)
            key, clock = self.key, self.clock
            transport = MqttLink(
                address,
                client_id=f"wardcast-controller-{socket.gethostname()}"[:64],
                will=controller_availability(key, clock.now(), online=False),
                birth=lambda: controller_availability(key, clock.now(), online=True),
            )
        self.transport = transport
        self.outbound = MqttOutbound(transport, self.key, self.clock)
        self.bridge = ControllerBridge(transport, self.db, self.outbound, self.plans, self.clock)
        self.broadcasts = BroadcastService(
            self.db, self.settings, self.outbound, self.plans, self.clock
        )
        self.emergencies = EmergencyService(
            self.db,
            self.bulletins,
            self.broadcasts,
            self.outbound,
            self.clock,
            self.settings.command_expiry_s,
        )
        self.bridge.start()
        transport.start()
        if isinstance(transport, MqttLink) and not transport.wait_connected(10):
            log.warning("broker %s not reachable yet; will keep retrying", self.broker_url)
        if self.prepare_chime:
            self._prepare_chime()
        # Catch up on whatever changed while the controller was down, then keep the
        # horizon rolling on a clock.
        self.recompile()
        if self.run_maintenance:
            self.maintenance = Maintenance(self)
            self.maintenance.start()
        log.info("controller started (broker %s, db %s)", self.broker_url, self.db.url)

    def _prepare_chime(self) -> None:
        try:
            with self.db.session() as session:
                self.plans.chime_sha256 = ensure_chime(
                    session, self.media, self.settings.loudness_target_lufs, self.clock.now()
                )
        except Exception:
            # Without ffmpeg there is no chime; broadcasts still work, programmes wait.
            log.exception("could not prepare the chime; programme sessions are not compiled")

    def recompile(self, device_ids: Iterable[str] | None = None) -> int:
        """Recompile plans (all devices by default); publish those that changed."""
        if self.outbound is None:
            raise RuntimeError("controller runtime not started")
        with self.plans.lock, self.db.session() as session:
            ids = list(device_ids) if device_ids is not None else self.plans.all_devices(session)
            changed = self.plans.refresh(session, ids, self.clock.now())
            session.commit()
            for plan in changed:
                self.outbound.publish_plan(plan)
        return len(changed)

    def stop(self) -> None:
        """Disconnect and stop what this runtime started."""
        if self.maintenance is not None:
            self.maintenance.stop()
        if self.transport is not None:
            self.transport.stop()
        if self.embedded_broker is not None:
            self.embedded_broker.stop()
        self.db.dispose()

    def request_gaps(self) -> int:
        """Ask each device with open evidence gaps to resend them; returns devices asked."""
        if self.outbound is None:
            raise RuntimeError("controller runtime not started")
        now = self.clock.now()
        again_after = timedelta(seconds=self.settings.gap_request_interval_s)
        asked: set[str] = set()
        with self.db.session() as session:
            for gap in open_gaps(session):
                if gap.requested_at is not None and now - gap.requested_at < again_after:
                    continue
                command = Command(
                    command_id=new_id("cmd"),
                    issued_at=now,
                    expires_at=now + again_after,
                    order=ResendEvents(from_seq=gap.from_seq, to_seq=gap.to_seq),
                )
                self.outbound.send_command(gap.device_id, command)
                gap.requested_at = now
                asked.add(gap.device_id)
        return len(asked)

    def require_emergencies(self) -> EmergencyService:
        """The emergency service (only after ``start``)."""
        if self.emergencies is None:
            raise RuntimeError("controller runtime not started")
        return self.emergencies

    def require_broadcasts(self) -> BroadcastService:
        """The broadcast service (only after ``start``)."""
        if self.broadcasts is None:
            raise RuntimeError("controller runtime not started")
        return self.broadcasts
