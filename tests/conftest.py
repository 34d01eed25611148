"""Shared fixtures: the real broker for the integration tier, fake clock and transport for unit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from controller.messaging.broker import EmbeddedBroker
from tests.support.local_postgres import LocalPostgres
from wardcast_protocol.clock import FakeClock
from wardcast_protocol.fake_transport import FakeBroker


@pytest.fixture
def broker() -> Iterator[EmbeddedBroker]:
    """A real mosquitto on a free loopback port, stopped after the test."""
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


_databases = iter(range(1_000_000))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh empty database on each backend the controller supports."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'wardcast.db'}"
    cluster: LocalPostgres = request.getfixturevalue("postgres")
    return cluster.create_database(f"wardcast_{next(_databases)}")
