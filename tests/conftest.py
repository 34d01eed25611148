"""Shared fixtures: the real broker for the integration tier, fake clock and transport for unit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from controller.messaging.broker import EmbeddedBroker
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
