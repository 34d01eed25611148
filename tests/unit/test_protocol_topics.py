"""The topic tree: building and parsing round-trip; unsafe device ids never parse."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from paho.mqtt.client import topic_matches_sub

from tests.unit.test_protocol_strategies import FAST, device_ids
from wardcast_protocol import topics
from wardcast_protocol.topics import DeviceChannel, DeviceTopic

channels = st.sampled_from(DeviceChannel)
id_chars = st.sampled_from("abcXYZ019_.-")


def _raw_topic(device_id: str, channel: DeviceChannel) -> str:
    """A topic built by hand, bypassing device_topic's own validation."""
    return f"{topics.ROOT}/device/{device_id}/{channel.value}"


@FAST
@given(device_ids, channels)
def test_device_topic_and_parse_round_trip(device_id: str, channel: DeviceChannel) -> None:
    topic = topics.device_topic(device_id, channel)
    assert topics.parse(topic) == DeviceTopic(device_id, channel)
    assert topic_matches_sub(topics.all_devices(channel), topic)
    assert not topic_matches_sub(topics.all_devices(channel), topic + "/x")


# Ids that must never reach a topic: MQTT wildcards and separators, a leading dot
# (".", "..", hidden files), empty, too long.
unsafe_ids = st.one_of(
    st.tuples(
        st.text(id_chars, max_size=10),
        st.sampled_from(["/", "+", "#", " ", "\x00", "é"]),
        st.text(id_chars, max_size=10),
    ).map("".join),
    st.sampled_from(["", ".", "..", "../etc", "./a", ".hidden", "-a", "_a", "a/../b"]),
    st.text(id_chars, min_size=65, max_size=100).map(lambda s: "a" + s),
)


@FAST
@given(unsafe_ids, channels)
def test_unsafe_device_ids_never_parse_and_are_refused(
    device_id: str, channel: DeviceChannel
) -> None:
    assert not topics.is_valid_device_id(device_id)
    assert topics.parse(_raw_topic(device_id, channel)) is None
    with pytest.raises(ValueError):
        topics.device_topic(device_id, channel)


def test_the_longest_id_is_64_characters() -> None:
    assert topics.parse(_raw_topic("a" * 64, DeviceChannel.STATE)) is not None
    assert topics.parse(_raw_topic("a" * 65, DeviceChannel.STATE)) is None


@pytest.mark.parametrize(
    "topic",
    [
        "",
        topics.ROOT,
        f"{topics.ROOT}/device/tdp-01",
        f"{topics.ROOT}/device/tdp-01/reboot",
        f"{topics.ROOT}/device/tdp-01/state/extra",
        f"{topics.ROOT}/device/+/state",
        f"{topics.ROOT}/device/#",
        "wardcast/v0/device/tdp-01/state",
        f"/{topics.ROOT}/device/tdp-01/state",
        topics.CONTROLLER_AVAILABILITY,
    ],
)
def test_other_topics_do_not_parse(topic: str) -> None:
    assert topics.parse(topic) is None


def test_a_trailing_newline_is_not_part_of_a_valid_topic() -> None:
    assert not topics.is_valid_device_id("tdp-01\n")
    assert topics.parse(_raw_topic("tdp-01", DeviceChannel.STATE) + "\n") is None


def test_state_is_retained_and_commands_events_acks_never() -> None:
    assert {DeviceChannel.AVAILABILITY, DeviceChannel.STATE, DeviceChannel.PLAN} == set(
        topics.RETAINED
    )
    for channel in (DeviceChannel.COMMAND, DeviceChannel.EVENT, DeviceChannel.ACK):
        assert channel not in topics.RETAINED


def test_the_root_carries_the_protocol_version() -> None:
    from wardcast_protocol.version import PROTOCOL_VERSION

    assert f"wardcast/v{PROTOCOL_VERSION}" == topics.ROOT
    assert topics.CONTROLLER_AVAILABILITY.startswith(topics.ROOT + "/")


# Levels drawn from a small alphabet so that filters and topics often meet.
_levels = st.sampled_from(["a", "b", "", "$SYS", "$x", "wardcast"])
_filter_levels = st.one_of(_levels, st.just("+"))


@st.composite
def _filters(draw: st.DrawFn) -> str:
    levels = draw(st.lists(_filter_levels, min_size=1, max_size=4))
    if draw(st.booleans()):
        levels.append("#")
    return "/".join(levels)


@FAST  # no deadline: a loaded CI worker must not fail an example on time alone
@given(_filters(), st.lists(_levels, min_size=1, max_size=5).map("/".join))
def test_the_compiled_filter_matches_exactly_as_paho_does(topic_filter: str, topic: str) -> None:
    # paho's own matcher is the reference; the compiled one only avoids its cost.
    assert topics.TopicFilter(topic_filter).matches(topic) == topic_matches_sub(topic_filter, topic)


@pytest.mark.parametrize(
    ("topic_filter", "topic", "expected"),
    [
        ("wardcast/v1/ward/w1/#", "wardcast/v1/ward/w1", True),  # "#" also the parent level
        ("wardcast/v1/ward/+/command", "wardcast/v1/ward/w1/command", True),
        ("wardcast/v1/ward/+/command", "wardcast/v1/ward/w1/command/x", False),
        ("wardcast/+", "wardcast", False),
        ("#", "$SYS/broker/uptime", False),  # wildcards first never match a $ topic
        ("+/broker/uptime", "$SYS/broker/uptime", False),
        ("$SYS/#", "$SYS/broker/uptime", True),
        ("$share/ingest/wardcast/v1/device/+/evidence", "wardcast/v1/device/d1/evidence", True),
    ],
)
def test_the_compiled_filter_on_the_cases_that_matter(
    topic_filter: str, topic: str, expected: bool
) -> None:
    assert topics.TopicFilter(topic_filter).matches(topic) is expected
