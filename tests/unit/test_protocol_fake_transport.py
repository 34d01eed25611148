"""FakeBroker / FakeTransport behave like the broker the unit tier stands in for."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.unit.test_protocol_strategies import FAST
from wardcast_protocol.fake_transport import FakeBroker, FakeTransport, Published


def _inbox(link: FakeTransport, topic_filter: str) -> list[tuple[str, bytes, bool]]:
    received: list[tuple[str, bytes, bool]] = []
    link.subscribe(topic_filter, lambda m: received.append((m.topic, m.payload, m.retained)))
    return received


def test_a_late_subscriber_gets_retained_state_flagged_as_retained() -> None:
    broker = FakeBroker()
    pub = broker.link("controller")
    pub.start()
    pub.publish("w/device/a/plan", b"plan-a", retain=True)
    pub.publish("w/device/b/plan", b"plan-b", retain=True)
    pub.publish("w/device/a/command", b"not retained")
    sub = broker.link("agent-a")
    sub.start()
    got = _inbox(sub, "w/device/a/+")
    assert got == [("w/device/a/plan", b"plan-a", True)]


def test_live_messages_match_wildcards_and_are_not_flagged_retained() -> None:
    broker = FakeBroker()
    ctl = broker.link("controller")
    ctl.start()
    got = _inbox(ctl, "w/device/+/event")
    agent = broker.link("agent")
    agent.start()
    agent.publish("w/device/a/event", b"e1")
    agent.publish("w/device/b/event", b"e2", retain=True)
    agent.publish("w/device/a/state", b"s")
    assert got == [("w/device/a/event", b"e1", False), ("w/device/b/event", b"e2", False)]


def test_an_empty_retained_payload_clears_the_retained_message() -> None:
    broker = FakeBroker()
    link = broker.link("controller")
    link.start()
    link.publish("w/device/a/plan", b"plan", retain=True)
    link.publish("w/device/a/plan", b"", retain=True)
    assert broker.retained == {}


def test_publishes_while_offline_are_queued_and_sent_in_order_on_reconnect() -> None:
    broker = FakeBroker()
    ctl = broker.link("controller")
    ctl.start()
    got = _inbox(ctl, "w/#")
    agent = broker.link("agent")
    states: list[bool] = []
    agent.add_connection_handler(states.append)
    agent.start()
    agent.go_offline()
    agent.publish("w/e", b"1")
    agent.publish("w/e", b"2", expiry_s=30)
    assert got == []
    assert broker.log == []  # nothing reached the broker yet
    agent.go_online()
    assert got == [("w/e", b"1", False), ("w/e", b"2", False)]
    assert broker.log == [
        Published("agent", "w/e", b"1", False, None),
        Published("agent", "w/e", b"2", False, 30),
    ]
    assert states == [True, False, True]


def test_an_offline_link_receives_nothing() -> None:
    broker = FakeBroker()
    agent = broker.link("agent")
    agent.start()
    got = _inbox(agent, "w/#")
    agent.stop()
    broker.link("controller").start()
    broker.links[-1].publish("w/x", b"missed")
    assert got == []


def test_published_filters_the_log_by_topic_prefix() -> None:
    broker = FakeBroker()
    link = broker.link("c")
    link.start()
    link.publish("w/device/a/plan", b"1", retain=True)
    link.publish("w/device/b/plan", b"2")
    assert [p.payload for p in broker.published("w/device/a/")] == [b"1"]
    assert len(broker.published()) == 2


@FAST
@given(
    st.lists(
        st.tuples(st.sampled_from(["w/a", "w/b", "w/c/d"]), st.binary(max_size=4)), max_size=20
    )
)
def test_a_subscriber_sees_the_last_retained_value_of_each_topic(
    publishes: list[tuple[str, bytes]],
) -> None:
    broker = FakeBroker()
    pub = broker.link("pub")
    pub.start()
    expected: dict[str, bytes] = {}
    for topic, payload in publishes:
        pub.publish(topic, payload, retain=True)
        if payload:
            expected[topic] = payload
        else:
            expected.pop(topic, None)
    sub = broker.link("sub")
    sub.start()
    got = _inbox(sub, "w/#")
    assert {topic: payload for topic, payload, _ in got} == expected
    assert all(retained for _, _, retained in got)


def test_reconnecting_replays_retained_state_like_mqtt_link() -> None:
    broker = FakeBroker()
    agent = broker.link("agent")
    agent.start()
    got = _inbox(agent, "w/device/a/plan")
    agent.go_offline()
    ctl = broker.link("controller")
    ctl.start()
    ctl.publish("w/device/a/plan", b"plan-2", retain=True)
    agent.go_online()
    # As with mosquitto: the session's queued QoS 1 copy, then the retained copy
    # that re-subscribing brings.
    assert got == [("w/device/a/plan", b"plan-2", False), ("w/device/a/plan", b"plan-2", True)]
