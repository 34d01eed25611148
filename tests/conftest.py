"""Shared fixtures: the real broker for the integration tier, fake clock and transport for unit.

Two brokers: ``broker`` is a plain, open mosquitto for tests whose subject is something
else (links, agents, relays); ``closed_controller`` runs the controller's own closed
broker (TLS, logins, ACLs), which every security drill must use.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from controller.composition import ControllerRuntime
from controller.messaging.broker import EmbeddedBroker
from controller.messaging.broker_host import free_port
from controller.settings import Settings
from tests.support.local_postgres import LocalPostgres
from wardcast_protocol.clock import FakeClock
from wardcast_protocol.fake_transport import FakeBroker


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashes() -> Iterator[None]:
    """argon2id at the product's cost takes ~0.1 s a hash (0.5 s on a loaded 2-core machine),
    and the console and role tests sign in hundreds of times: in-process tests hash at the
    lowest cost argon2 allows. The product's own parameters are still what
    ``passwords.PasswordHasher()`` gives (tests/unit/test_accounts.py reads the stored
    hash's algorithm, not its cost); demo processes the e2e tests start hash at full cost."""
    from argon2 import PasswordHasher

    from controller.domain.accounts import passwords

    product = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    passwords._dummy_hash.cache_clear()
    yield
    passwords._hasher = product
    passwords._dummy_hash.cache_clear()


@pytest.fixture(autouse=True, scope="session")
def _sqlite_schema_from_a_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Migrating an empty SQLite file through all of Alembic's revisions takes 0.15-0.2 s,
    and the suite migrates hundreds of them (the unit tier: 236-260 s migrating each, 184 s
    from the template). An empty SQLite file is given a copy of one file migrated once per run,
    then ``Database.migrate`` runs as always and finds it at head (~0.02 s). The revisions
    themselves still run in full: on the template, on every PostgreSQL database, in the
    migration tests (which drive Alembic themselves) and in every process a test starts."""
    from sqlalchemy import text

    from controller.db.session import Database

    migrate_for_real = Database.migrate
    template = tmp_path_factory.mktemp("schema") / "template.db"
    db = Database(f"sqlite:///{template}")
    migrate_for_real(db)
    db.dispose()  # the last connection's close folds the WAL into the file

    def migrate_from_template(self: Database) -> None:
        path = self.url.split("///", 1)[-1] if self.url.startswith("sqlite") else ""
        if path and path != ":memory:":
            with self.engine.connect() as conn:
                empty = not conn.execute(text("SELECT count(*) FROM sqlite_master")).scalar()
            if empty:
                self.engine.dispose()
                for leftover in (path, f"{path}-wal", f"{path}-shm"):
                    Path(leftover).unlink(missing_ok=True)
                shutil.copyfile(template, path)
        migrate_for_real(self)

    Database.migrate = migrate_from_template  # type: ignore[method-assign]
    yield
    Database.migrate = migrate_for_real  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _root_logger_as_before() -> Iterator[None]:
    """A command run in-process installs its log handler on the root logger (and sets
    its level): take them back after each test, so no test logs into the next one's."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        if handler.get_name() in ("wardcast", "wardcast-agent"):  # ours, not pytest's own
            root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def broker() -> Iterator[EmbeddedBroker]:
    """A real, plain mosquitto (anonymous, no TLS) on a free loopback port, stopped after."""
    with EmbeddedBroker() as running:
        yield running


@pytest.fixture
def fake_clock() -> FakeClock:
    """A clock that moves only when the test advances it."""
    return FakeClock()


@pytest.fixture
def fake_broker() -> FakeBroker:
    """An in-memory broker recording every publish."""
    return FakeBroker()


@pytest.fixture(scope="session")
def postgres() -> Iterator[LocalPostgres]:
    """One real PostgreSQL cluster on loopback for the whole run."""
    with LocalPostgres() as cluster:
        yield cluster


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh empty database on each backend the controller supports."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'wardcast.db'}"
    cluster: LocalPostgres = request.getfixturevalue("postgres")
    # Unique, not numbered per process: the batch fixture's numbered names once met
    # themselves on a cluster in a two-worker run (tests/integration/conftest.py).
    return cluster.create_database(f"wardcast_{uuid.uuid4().hex[:16]}")


@pytest.fixture
def broker_tmp_path() -> Iterator[Path]:
    """A temporary folder the broker's own user can reach, for a closed broker's files.

    Run as root, mosquitto drops to user "mosquitto", which must walk down to its
    password file whenever it reloads it. pytest's tmp_path lives under a folder that
    every new pytest session makes private again (0700), which would lock a running
    broker out of its files the moment someone else starts a test run.
    """
    path = Path(tempfile.mkdtemp(prefix="wardcast-test-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def closed_controller(broker_tmp_path: Path) -> Iterator[ControllerRuntime]:
    """A controller running its embedded broker as in production: TLS with its own CA,
    a login per device, ACLs, anonymous refused; a free port, a fast watchdog, no HTTP."""
    settings = Settings(
        data_dir=broker_tmp_path / "controller",
        broker_port=free_port(),
        broker_watchdog_interval_s=0.2,
        gtts_enabled=False,
        environment="test",
    )
    runtime = ControllerRuntime(settings, run_maintenance=False, prepare_chime=False)
    runtime.start()
    try:
        yield runtime
    finally:
        runtime.stop()
