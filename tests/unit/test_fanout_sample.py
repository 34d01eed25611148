"""Which devices a sampled fan-out runs as agents (``bench.fanout.sampled``), and how its
plain listeners tell one order from another (``fanout_workers.order_item``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench.fanout import sampled
from bench.fanout_workers import order_item
from edge_agent.config import AgentConfig
from wardcast_protocol.envelope import seal
from wardcast_protocol.messages import (
    Command,
    Kind,
    MediaRef,
    PlanItem,
    PlayNow,
    Priority,
    SourceLevel,
    Trigger,
)
from wardcast_protocol.signing import SigningKey

KEY = SigningKey.generate().public_key_b64


def _configs(n: int, tmp_path: Path) -> list[AgentConfig]:
    return [
        AgentConfig(
            device_id=f"dev-{i:04d}",
            broker_url="mqtt://127.0.0.1:1883",
            data_dir=tmp_path / str(i),
            controller_public_key=KEY,
        )
        for i in range(n)
    ]


def test_a_sample_is_spread_over_the_devices_and_the_rest_listen(tmp_path: Path) -> None:
    configs = _configs(1000, tmp_path)
    agents, listening = sampled(configs, 20)
    indexes = [configs.index(c) for c in agents]
    assert indexes == list(range(0, 1000, 50))  # every 50th: first, middle and last fiftieth
    assert len(listening) == 980
    assert set(listening).isdisjoint(c.device_id for c in agents)
    assert set(listening) | {c.device_id for c in agents} == {c.device_id for c in configs}


@pytest.mark.parametrize("sample", [0, -1, 5, 9])
def test_no_sample_or_one_as_large_as_the_fleet_runs_every_agent(
    tmp_path: Path, sample: int
) -> None:
    configs = _configs(5, tmp_path)
    assert sampled(configs, sample) == (configs, [])


def test_an_uneven_sample_takes_exactly_that_many(tmp_path: Path) -> None:
    configs = _configs(7, tmp_path)
    agents, listening = sampled(configs, 3)
    assert len(agents) == 3 and len(listening) == 4


def _sealed(command_id: str, item_id: str) -> bytes:
    now = datetime.now(UTC)
    media = MediaRef(sha256="ab" * 32, url="http://x/m.ogg", duration_s=1.0, size_bytes=10)
    item = PlanItem(
        item_id=item_id,
        broadcast_id=item_id,
        title='Sơ tán "ngay"',
        media=media,
        planned_start=now,
        priority=Priority.EMERGENCY,
        source_level=SourceLevel.COMMUNE,
        trigger=Trigger.EMERGENCY,
    )
    order = PlayNow(item=item)
    command = Command(
        command_id=command_id,
        device_ids=("dev-0001",),
        issued_at=now,
        expires_at=now + timedelta(minutes=1),
        order=order,
    )
    return seal(Kind.COMMAND, command, "controller", SigningKey.generate(), now)


def test_a_listener_tells_orders_by_their_item_and_a_copy_sent_again_by_its_item_too() -> None:
    # The controller may send an order again on the ward's channel (to a device back
    # online that is owed it); counting messages then mistook it for the next round's.
    first, again = _sealed("cmd-1", "bc-round-1"), _sealed("cmd-2", "bc-round-1")
    assert order_item(first) == order_item(again) == "bc-round-1"
    assert order_item(_sealed("cmd-3", "bc-round-2")) == "bc-round-2"
    assert order_item(b"round-1\n" + b"x" * 100) is None  # the raw baseline's payload
