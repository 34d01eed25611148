"""The composition root: every long-lived part of the controller, built in one place.

One ``ControllerRuntime`` per process: the HTTP app, the demo, benchmarks and tests
all build it from one ``Settings``. The constructor builds every service (nothing is
filled in later, nothing is optional but the embedded broker); ``start`` only starts
them, in an order that matters: database, broker (its logins come from the database),
MQTT subscriptions, connection, then the first recompilation and the clock, so no
device message arrives before it can be stored and no plan is published before the
database is migrated.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Sequence
from datetime import timedelta

from controller.audio import MediaStore
from controller.audio.store import MediaSigner
from controller.db.session import Database
from controller.domain.accounts.service import AccountService
from controller.domain.broadcasts.service import BroadcastService
from controller.domain.content.bulletins import BulletinService
from controller.domain.content.chimes import ensure_chime
from controller.domain.devices.enrolment import EnrolmentService
from controller.domain.devices.registry import DeviceRegistry
from controller.domain.emergencies.service import EmergencyService
from controller.domain.evidence.gaps import GapRequests
from controller.domain.places.replanning import PlaceChanges
from controller.domain.plans.service import PlanService
from controller.domain.programmes.service import ProgrammeService
from controller.domain.reports import rollups
from controller.maintenance import Maintenance
from controller.messaging.bridge import ControllerBridge
from controller.messaging.broker import EmbeddedBroker
from controller.messaging.broker_stack import build_broker_stack
from controller.messaging.downlink import Downlink, ProvinceDirectory
from controller.messaging.fanout import WardListeners
from controller.messaging.ingest_workers import ingest_workers_for
from controller.messaging.outbound import MqttOutbound, controller_availability
from controller.settings import Settings
from wardcast_protocol.clock import Clock, SystemClock
from wardcast_protocol.messages import DeviceState
from wardcast_protocol.mqtt_link import MqttLink
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.transport import Transport

log = logging.getLogger(__name__)

# The controller is one client (one per replica): it may retry its broker often. paho's
# default doubling to 30 s held an emergency sent during a broker restart for up to
# 30 s after the broker was back (tests/integration/test_outage_drill.py).
CONTROLLER_RECONNECT_MAX_S = 2
# How long ``start`` waits for the broker before going on without it (paho keeps
# trying, and keeps what is published meanwhile).
BROKER_WAIT_S = 10.0


class ControllerRuntime:
    """The controller's services, wired once; ``start``/``stop`` run them."""

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
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = Database(settings.resolved_database_url)
        self.key = SigningKey.load_or_create(settings.resolved_controller_key_path)
        self.media = MediaStore(settings.media_dir)
        self.media_signer = MediaSigner.load_or_create(
            settings.media_url_key_path, settings.resolved_public_base_url, settings.media_url_ttl_s
        )
        self.accounts = AccountService(self.db, self.clock, login_ttl_s=settings.login_token_ttl_s)
        # With no broker configured (and no transport given, as in tests) the
        # controller runs Debian's mosquitto itself, closed: TLS, logins, ACLs.
        self.broker = build_broker_stack(settings, self.db, connect=transport is None)
        self.embedded_broker: EmbeddedBroker | None = self.broker.embedded
        self.broker_url: str | None = self.broker.broker_url
        self.transport: Transport = transport or self._mqtt_link()
        # Which ward's broadcast channel each device says it listens to (its state):
        # the outbound addresses a ward at once, the bridge keeps this current.
        self.listeners = WardListeners()
        # Under prov/<province>/ when provinces' brokers are bridged here (docs/scale.md).
        self.downlink = Downlink(ProvinceDirectory(self.db) if settings.province_downlink else None)
        self.outbound = MqttOutbound(
            self.transport, self.key, self.clock, self.listeners, self.downlink
        )
        self.plans = PlanService(self.db, settings, self.outbound, self.clock, self.media_signer)
        self.bulletins = BulletinService(settings, self.media)
        self.broadcasts = BroadcastService(self.db, settings, self.plans, self.outbound, self.clock)
        self.emergencies = EmergencyService(
            self.db,
            self.bulletins,
            self.broadcasts,
            self.outbound,
            self.clock,
            settings.command_expiry_s,
        )
        self.programmes = ProgrammeService(self.db, self.plans, self.clock)
        self.place_changes = PlaceChanges(self.plans)
        self.gaps = GapRequests(self.db, self.outbound, self.clock, settings.gap_request_interval_s)
        self.bridge = ControllerBridge(
            self.transport,
            self.db,
            self.outbound,
            self.clock,
            on_state=self._heard_state,
            on_online=self._came_online,
            share_group=settings.mqtt_share_group,
        )
        # On PostgreSQL, events are verified and stored by worker processes (a real link only).
        if isinstance(self.transport, MqttLink):
            self.bridge.workers = ingest_workers_for(settings, self.transport, self.bridge)
        self.devices = DeviceRegistry(self.clock, on_key_written=self.bridge.forget_key)
        self.enrolment = EnrolmentService(
            self.db,
            self.devices,
            self.broker.device_access,
            self.clock,
            controller_url=settings.resolved_public_base_url,
            controller_public_key=self.key.public_key_b64,
            code_ttl=timedelta(hours=settings.enrolment_code_ttl_h),
        )
        self.maintenance: Maintenance | None = (
            Maintenance(
                self.db.engine,
                self,
                recompile_interval_s=settings.recompile_interval_s,
                gap_request_interval_s=settings.gap_request_interval_s,
                rollup_interval_s=settings.rollup_interval_s,
                rollup_backfill_interval_s=settings.rollup_backfill_interval_s,
                leader_poll_s=settings.leader_poll_s,
            )
            if run_maintenance
            else None
        )
        self._prepare_chime = prepare_chime

    def _mqtt_link(self) -> MqttLink:
        assert self.broker.controller_address is not None
        key, clock = self.key, self.clock
        return MqttLink(
            self.broker.controller_address,
            # One id per replica: the broker drops a connection whose id comes again.
            client_id=f"wardcast-controller-{self.settings.replica_id or socket.gethostname()}"[
                :64
            ],
            will=controller_availability(key, clock.now(), online=False),
            birth=lambda: controller_availability(key, clock.now(), online=True),
            reconnect_max_s=CONTROLLER_RECONNECT_MAX_S,
        )

    def _heard_state(self, device_id: str, state: DeviceState) -> None:
        """A device says which ward's broadcasts it listens to: believed once the
        broker lets it read them (a moved device's ACL is rewritten first)."""
        ward = state.broadcast_ward
        if ward is not None and not self.broker.accounts.grants_ward(device_id, ward):
            ward = None  # not its ward (yet): its own topic keeps reaching it
        self.listeners.heard(device_id, ward)

    def _came_online(self, device_ids: Sequence[str]) -> None:
        """Devices back online (one ingest batch's) get their plans again, recompiled if
        they moved meanwhile (heals a lost retained copy). They may also have lost an
        order held only in memory (an agent restarted between receiving and storing
        it): what they are still owed goes again; copies of what a device has are
        ignored by their item id (docs/priorities.md)."""
        try:
            self.plans.republish(device_ids)
        except Exception:
            # Ingest goes on: the standing recompile or a later reconnect sends it.
            log.exception("could not send %d devices their plans again", len(device_ids))
        try:
            self.broadcasts.resend_owed(device_ids)
        except Exception:
            # Ingest goes on: a later reconnect, or a controller's start, sends it again.
            log.exception("could not send %d devices the orders they are owed", len(device_ids))

    def start(self) -> None:
        """Start the broker if embedded, migrate, connect, and begin listening."""
        self.db.migrate()
        # After the migration: the broker's password file is written from the database.
        self.broker.start()
        self._bootstrap_admin()
        # A real broker link stores on the ingest worker; the fake transport of the
        # unit tier delivers synchronously, and so is stored inline.
        self.bridge.start(worker=isinstance(self.transport, MqttLink))
        self.transport.start()
        if isinstance(self.transport, MqttLink) and not self.transport.wait_connected(
            BROKER_WAIT_S
        ):
            log.warning("broker %s not reachable yet; will keep retrying", self.broker_url)
        if self._prepare_chime:
            self._make_chime()
        # Catch up on whatever changed while the controller was down, then keep the
        # horizon rolling on a clock: the replica that runs the jobs does (docs/scale.md).
        if self.maintenance is None or self.maintenance.try_lead():
            self.plans.recompile()
        # A "now" that waited in a stopped controller's link (the broker down) died with
        # it; which replica held it is not stored, so each one sends at its start what is
        # still owed (devices ignore a copy of an item they have; docs/priorities.md).
        self._resend_owed_orders()
        if self.maintenance is not None:
            self.maintenance.start()
        log.info("controller started (broker %s, db %s)", self.broker_url, self.db.url)

    def _resend_owed_orders(self) -> None:
        try:
            self.broadcasts.resend_owed()
        except Exception:
            # The controller must start anyway: the officer's view shows what is owed.
            log.exception("could not send again the orders a restart may have lost")

    def _bootstrap_admin(self) -> None:
        """Development only (settings refuse it in production): a first admin by env."""
        secret = self.settings.bootstrap_admin_password
        if secret is not None and self.accounts.bootstrap(secret.get_secret_value()):
            log.warning("created the account 'admin' from WARDCAST_BOOTSTRAP_ADMIN_PASSWORD")

    def _make_chime(self) -> None:
        try:
            with self.db.session() as session:
                sha256 = ensure_chime(
                    session, self.media, self.settings.loudness_target_lufs, self.clock.now()
                )
            self.plans.set_chime(sha256)
        except Exception:
            # Without ffmpeg there is no chime; broadcasts still work, programmes wait.
            log.exception("could not prepare the chime; programme sessions are not compiled")

    def stop(self) -> None:
        """Disconnect and stop what this runtime started."""
        if self.maintenance is not None:
            self.maintenance.stop()
        self.transport.stop()
        self.bridge.stop()  # what was received before the link stopped is stored
        self.broker.stop()
        self.db.dispose()

    def broker_connected(self) -> bool:
        """Whether the link to the MQTT broker is up now (for the health check)."""
        return self.transport.connected

    # MaintenanceJobs: what the scheduled jobs may call.
    def recompile_plans(self) -> int:
        """Recompile every plan and publish what changed."""
        return self.plans.recompile()

    def request_evidence_gaps(self) -> int:
        """Ask devices to resend events missing from their chains."""
        return self.gaps.request()

    def keep_rollups_current(self) -> int:
        """Re-sum the report days marked dirty by new evidence and plans, and recent days."""
        with self.db.session() as session:
            return rollups.keep_current(session, self.clock.now(), rollups.RollupRules())

    def backfill_rollups(self) -> int:
        """Sum every report day never summed, a month per transaction."""
        summed = 0
        with self.db.session() as session:
            for done in rollups.backfill(session, self.clock.now(), rollups.RollupRules()):
                session.commit()  # a month at a time: reports are not held up behind a year
                summed += done
        return summed
