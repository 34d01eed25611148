"""Helpers shared by the benchmarks: a controller with N simulated agents, its bulletins."""

from __future__ import annotations

import argparse
import secrets
import subprocess
import tempfile
import threading
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from controller.api.app import create_app
from controller.api.server import BackgroundServer
from controller.composition import ControllerRuntime
from controller.db.session import Database
from controller.domain.accounts import tokens, users
from controller.domain.actors import SYSTEM, Actor, Role
from controller.domain.content import workflow
from controller.domain.content.bulletins import BulletinDraft
from controller.domain.devices.service import register_device
from controller.domain.places import service as places
from controller.messaging.broker_host import free_port
from controller.settings import Settings
from edge_agent.config import AgentConfig
from tests.support.local_postgres import LocalPostgres
from wardcast_protocol.signing import SigningKey


@dataclass
class StartTimes:
    """Playback starts reported by the fleet's hook, by item, then by device."""

    by_item: dict[str, dict[str, datetime]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    changed: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)

    def record(self, device_id: str, item_id: str, at: datetime) -> None:
        """The fleet hook."""
        with self.changed:
            self.by_item.setdefault(item_id, {})[device_id] = at
            self.changed.notify_all()

    def wait(self, item_id: str, count: int, timeout_s: float) -> dict[str, datetime]:
        """Block until ``count`` devices started ``item_id`` (or timeout); what arrived."""
        with self.changed:
            self.changed.wait_for(lambda: len(self.by_item.get(item_id, {})) >= count, timeout_s)
            return dict(self.by_item.get(item_id, {}))


@dataclass
class Site:
    """A running controller (API on a free port) with N registered simulated devices."""

    runtime: ControllerRuntime
    server: BackgroundServer
    configs: list[AgentConfig]

    @property
    def device_ids(self) -> list[str]:
        """Every device id."""
        return [c.device_id for c in self.configs]

    def stop(self) -> None:
        """Stop the API and the controller."""
        self.server.stop()
        self.runtime.stop()


def start_site(
    data_dir: Path,
    broker_url: str,
    agents: int,
    *,
    settle_s: float = 0.0,
    prefix: str = "bench",
    durable_outbox: bool = False,
    ward_code: str | None = None,
    database_url: str | None = None,
) -> Site:
    """Start a controller on ``broker_url`` and provision ``agents`` device configs.

    ``ward_code``: place every device in this ward (made if need be), so a broadcast
    to them goes out as ward commands once the agents listen to their ward.
    ``database_url``: the controller's database (default: SQLite in ``data_dir``).
    """
    settings = Settings(
        data_dir=data_dir,
        broker_url=broker_url,
        http_port=free_port(),
        gtts_enabled=False,
        environment="test",
        database_url=database_url,
    )
    runtime = ControllerRuntime(settings)
    runtime.start()
    configs = []
    with runtime.db.session() as session:
        if ward_code is not None:
            places.upsert_province(session, "bench-p", "Bench province")
            places.upsert_district(session, "bench-d", "bench-p", "Bench district")
            places.upsert_ward(session, ward_code, "bench-d", "Bench ward", "Asia/Ho_Chi_Minh")
        for n in range(agents):
            device_id = f"{prefix}-{n:04d}"
            key = SigningKey.generate()
            key_path = data_dir / "agents" / device_id / "device.key"
            key.save(key_path)
            register_device(session, device_id, device_id, key.public_key_b64, runtime.clock.now())
            if ward_code is not None:
                places.place_device(session, device_id, ward_code, None)
            configs.append(
                AgentConfig(
                    device_id=device_id,
                    controller_public_key=runtime.key.public_key_b64,
                    data_dir=key_path.parent,
                    broker_url=broker_url,
                    relay_settle_s=settle_s,
                    durable_outbox=durable_outbox,
                )
            )
    server = BackgroundServer(create_app(runtime=runtime), "127.0.0.1", settings.http_port)
    return Site(runtime, server.start(), configs)


_LEADER = Actor("bench-leader", frozenset({Role.APPROVER}))


def admin_headers(site: Site) -> dict[str, str]:
    """An administrator's bearer header: nothing in the API answers without one."""
    runtime, now = site.runtime, site.runtime.clock.now()
    new = users.NewUser("bench", secrets.token_urlsafe(16), [Role.ADMIN])
    with runtime.db.session() as session:
        user = users.create_user(session, SYSTEM, new, now)
        kind, lifetime = tokens.TokenKind.PERSONAL, timedelta(days=1)
        issued = tokens.issue(session, user, "bench", kind, lifetime, now)
    return {"Authorization": f"Bearer {issued.secret}"}


def tone_bulletin(site: Site, seconds: float, tmp: Path, hz: int = 660) -> str:
    """A bulletin of a sox-generated tone (no TTS: the benchmark times delivery only);
    another ``hz``, another clip that no agent has cached."""
    wav = tmp / "tone.wav"
    subprocess.run(
        ["sox", "-n", "-r", "48000", "-c", "1", str(wav), "synth", str(seconds), "sine", str(hz)],
        check=True,
    )
    runtime = site.runtime
    now = runtime.clock.now()
    with runtime.db.session() as session:
        bulletin = runtime.bulletins.create_from_upload(
            session, BulletinDraft("Bench tone", chime=False), wav, "tone.wav", now
        )
        # Only approved content airs, and nobody approves their own: two hands.
        workflow.transition(session, bulletin, workflow.Status.SUBMITTED, SYSTEM, now)
        workflow.transition(session, bulletin, workflow.Status.APPROVED, _LEADER, now)
        return bulletin.id


def add_store_options(parser: argparse.ArgumentParser) -> None:
    """``--postgres`` (a throwaway local PostgreSQL) or ``--database-url`` (an empty
    database), else SQLite in a temporary folder: see ``migrated_database``."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--postgres", action="store_true", help="start a throwaway local PostgreSQL")
    where.add_argument("--database-url", default=None, help="an empty database to use")


def migrated_database(stack: ExitStack, args: argparse.Namespace) -> Database:
    """The store ``add_store_options`` chose, at the newest schema, closed with ``stack``."""
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="wardcast-bench-")))
    url = bench_database(stack, postgres=args.postgres, url=args.database_url)
    db = Database(url or f"sqlite:///{folder / 'bench.db'}")
    stack.callback(db.dispose)
    db.migrate()
    return db


def bench_database(stack: ExitStack, *, postgres: bool, url: str | None) -> str | None:
    """The bench's database: a throwaway local PostgreSQL started on ``stack`` when
    ``postgres``, else ``url`` (None: the controller's SQLite)."""
    if postgres:
        return stack.enter_context(LocalPostgres()).create_database("wardcast_bench")
    return url
