"""The channel table is the one description of the channels; everything else agrees with it."""

from __future__ import annotations

import dataclasses

import pytest
from pydantic import BaseModel

from wardcast_protocol import channels, envelope, topics
from wardcast_protocol.channels import (
    AGENT_INBOUND,
    BODY_MODELS,
    CHANNELS,
    CONTROLLER_INBOUND,
    MAX_PAYLOAD_BYTES,
    RETAINED,
    ChannelSpec,
    Direction,
    inbound_channels,
)
from wardcast_protocol.messages import Kind
from wardcast_protocol.topics import DeviceChannel


def test_every_channel_has_exactly_one_spec_keyed_by_its_own_name() -> None:
    assert list(CHANNELS) == list(Kind)
    assert all(kind is spec.channel for kind, spec in CHANNELS.items())
    assert len({spec.body for spec in CHANNELS.values()}) == len(Kind)


def test_a_kind_is_its_device_channel() -> None:
    # One enum: a device's sub-topic is named after the kind of message it carries.
    assert DeviceChannel is Kind
    for kind in Kind:
        assert topics.device_topic("tdp-01", kind).endswith(f"/{kind.value}")


def test_the_table_cannot_be_changed_at_run_time() -> None:
    with pytest.raises(TypeError):
        CHANNELS[Kind.PLAN] = CHANNELS[Kind.ACK]  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        CHANNELS[Kind.COMMAND].retained = True  # type: ignore[misc]


def test_a_missing_or_doubled_row_fails_at_import() -> None:
    specs = tuple(CHANNELS.values())
    with pytest.raises(RuntimeError, match="exactly one ChannelSpec"):
        channels._table(specs[:-1])
    with pytest.raises(RuntimeError, match="exactly one ChannelSpec"):
        channels._table((*specs, specs[0]))


def test_derived_tables_agree_with_the_table() -> None:
    assert set(BODY_MODELS) == set(MAX_PAYLOAD_BYTES) == set(Kind)
    for kind, spec in CHANNELS.items():
        assert BODY_MODELS[kind] is spec.body
        assert issubclass(spec.body, BaseModel)
        assert MAX_PAYLOAD_BYTES[kind] == spec.max_payload_bytes > 0
        assert (kind in RETAINED) is spec.retained
    assert topics.RETAINED == RETAINED
    # The envelope checks against the same objects, not a copy that could drift.
    assert vars(envelope)["BODY_MODELS"] is BODY_MODELS
    assert vars(envelope)["MAX_PAYLOAD_BYTES"] is MAX_PAYLOAD_BYTES


def test_each_channel_flows_one_way_and_each_side_takes_the_other_sides() -> None:
    assert set(CONTROLLER_INBOUND).isdisjoint(AGENT_INBOUND)
    assert set(CONTROLLER_INBOUND) | set(AGENT_INBOUND) == set(Kind)
    assert inbound_channels(Direction.DEVICE_TO_CONTROLLER) == CONTROLLER_INBOUND
    assert inbound_channels(Direction.CONTROLLER_TO_DEVICE) == AGENT_INBOUND
    assert set(CONTROLLER_INBOUND) == {Kind.AVAILABILITY, Kind.STATE, Kind.EVENT, Kind.SECURITY}
    assert set(AGENT_INBOUND) == {Kind.PLAN, Kind.COMMAND, Kind.ACK}


def test_retained_exactly_for_state_channels() -> None:
    # State is retained so a (re)connecting peer sees the present at once; a
    # retained command would re-execute after every restart.
    assert {Kind.AVAILABILITY, Kind.STATE, Kind.PLAN} == RETAINED


@pytest.mark.parametrize("kind", [Kind.COMMAND, Kind.EVENT, Kind.ACK, Kind.SECURITY])
def test_commands_events_and_acks_are_never_retained(kind: Kind) -> None:
    assert not CHANNELS[kind].retained
    assert kind not in topics.RETAINED


def test_a_parsed_topic_knows_its_spec() -> None:
    parsed = topics.parse(topics.device_topic("tdp-01", Kind.EVENT))
    assert parsed is not None
    assert parsed.spec is CHANNELS[Kind.EVENT]
    assert parsed.spec.direction is Direction.DEVICE_TO_CONTROLLER


def test_the_one_parser_accepts_every_channel_of_the_table_and_nothing_else() -> None:
    for kind in CHANNELS:
        parsed = topics.parse(f"{topics.ROOT}/device/tdp-01/{kind.value}")
        assert parsed == topics.DeviceTopic("tdp-01", kind)
    assert topics.parse(f"{topics.ROOT}/device/tdp-01/status") is None


def test_spec_is_a_frozen_slotted_value() -> None:
    spec = ChannelSpec(Kind.ACK, BODY_MODELS[Kind.ACK], Direction.CONTROLLER_TO_DEVICE, False, 1)
    assert not hasattr(spec, "__dict__")
