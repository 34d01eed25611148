"""Which devices a sampled fan-out runs as agents (``bench.fanout.sampled``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.fanout import sampled
from edge_agent.config import AgentConfig
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
