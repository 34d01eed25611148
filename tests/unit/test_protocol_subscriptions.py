"""Several handlers per transport: each gets every matching message until it unsubscribes.

Run against the fake transport, which shares ``Subscriptions`` with ``MqttLink``;
tests/integration/test_mqtt_link.py shows the same on the real broker.
"""

from __future__ import annotations

import dataclasses
import logging

import pytest

from wardcast_protocol.fake_transport import FakeBroker, FakeTransport
from wardcast_protocol.subscriptions import ReceivedMessage, Unsubscribe, is_valid_topic_filter


def _online(name: str = "agent") -> tuple[FakeBroker, FakeTransport, FakeTransport]:
    broker = FakeBroker()
    link, sender = broker.link(name), broker.link("sender")
    link.start()
    sender.start()
    return broker, link, sender


def _collect(link: FakeTransport, topic_filter: str) -> tuple[list[bytes], Unsubscribe]:
    got: list[bytes] = []
    unsubscribe = link.subscribe(topic_filter, lambda m: got.append(m.payload))
    return got, unsubscribe


def test_a_received_message_is_a_frozen_slotted_value() -> None:
    message = ReceivedMessage("w/a", b"x", retained=False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.topic = "w/b"  # type: ignore[misc]
    assert not hasattr(message, "__dict__")


def test_two_handlers_on_one_filter_both_receive() -> None:
    _, link, sender = _online()
    first: list[ReceivedMessage] = []
    second: list[ReceivedMessage] = []
    link.subscribe("w/device/a/command", first.append)
    link.subscribe("w/device/a/command", second.append)
    sender.publish("w/device/a/command", b"c1")
    expected = [ReceivedMessage("w/device/a/command", b"c1", False)]
    assert first == expected and second == expected


def test_overlapping_filters_each_get_the_message_once() -> None:
    _, link, sender = _online()
    exact, _ = _collect(link, "w/device/a/plan")
    plus, _ = _collect(link, "w/device/+/plan")
    hash_, _ = _collect(link, "w/#")
    other, _ = _collect(link, "w/device/b/#")
    sender.publish("w/device/a/plan", b"p")
    assert (exact, plus, hash_, other) == ([b"p"], [b"p"], [b"p"], [])


def test_unsubscribe_stops_delivery_to_that_handler_only() -> None:
    _, link, sender = _online()
    kept, _ = _collect(link, "w/x")
    dropped: list[bytes] = []
    unsubscribe = link.subscribe("w/x", lambda m: dropped.append(m.payload))
    sender.publish("w/x", b"1")
    unsubscribe()
    unsubscribe()  # a second call does nothing
    sender.publish("w/x", b"2")
    assert kept == [b"1", b"2"]
    assert dropped == [b"1"]
    assert link.filters == ["w/x"]  # the other handler still needs it


def test_the_same_handler_subscribed_twice_is_two_subscriptions() -> None:
    _, link, sender = _online()
    got: list[bytes] = []
    first = link.subscribe("w/x", lambda m: got.append(m.payload))
    link.subscribe("w/x", lambda m: got.append(m.payload))
    sender.publish("w/x", b"1")
    first()
    sender.publish("w/x", b"2")
    assert got == [b"1", b"1", b"2"]


def test_the_last_unsubscribe_while_connected_leaves_the_broker_too() -> None:
    broker, link, sender = _online()
    _, unsubscribe = _collect(link, "w/x")
    unsubscribe()
    assert link.filters == []
    link.go_offline()
    sender.publish("w/x", b"lost")
    assert link.pending_inbound == []
    assert broker.log[-1].payload == b"lost"


def test_unsubscribing_while_offline_keeps_the_broker_session() -> None:
    # As with mosquitto: the session's subscription lives on at the broker (an agent
    # that stops keeps its queued commands); only the local handler is gone.
    _, link, sender = _online()
    _, unsubscribe = _collect(link, "w/x")
    link.go_offline()
    unsubscribe()
    sender.publish("w/x", b"kept")
    assert link.pending_inbound == [("w/x", b"kept")]
    late, _ = _collect(link, "w/x")
    link.go_online()
    assert late == [b"kept"]


def test_a_late_handler_gets_the_retained_state_too() -> None:
    _, link, sender = _online()
    sender.publish("w/device/a/plan", b"plan-3", retain=True)
    early: list[ReceivedMessage] = []
    link.subscribe("w/device/a/plan", early.append)
    late: list[ReceivedMessage] = []
    link.subscribe("w/device/+/plan", late.append)
    assert late == [ReceivedMessage("w/device/a/plan", b"plan-3", True)]
    # Subscribing again makes the broker resend: the first handler sees it twice,
    # which retained state (idempotent by nature) allows.
    assert [m.payload for m in early] == [b"plan-3", b"plan-3"]


def test_a_failing_handler_is_logged_and_the_others_still_receive(
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, link, sender = _online()

    def broken(message: ReceivedMessage) -> None:
        raise RuntimeError("handler bug")

    before, _ = _collect(link, "w/x")
    link.subscribe("w/x", broken)
    after, _ = _collect(link, "w/x")
    with caplog.at_level(logging.ERROR, logger="wardcast_protocol.subscriptions"):
        sender.publish("w/x", b"1")
        sender.publish("w/x", b"2")
    assert before == after == [b"1", b"2"]
    failures = [r for r in caplog.records if "broken" in r.getMessage()]
    assert len(failures) == 2 and all(r.exc_info for r in failures)


def test_connection_handlers_are_many_and_each_can_leave() -> None:
    _, link, _ = _online()
    first: list[bool] = []
    second: list[bool] = []
    link.add_connection_handler(first.append)
    leave = link.add_connection_handler(second.append)

    def broken(up: bool) -> None:
        raise RuntimeError("handler bug")

    link.add_connection_handler(broken)
    link.go_offline()
    leave()
    link.go_online()
    assert first == [False, True]
    assert second == [False]


@pytest.mark.parametrize("bad", ["", "w/#/x", "w/a#", "w/+a/b", "#/w", "w/++"])
def test_an_invalid_topic_filter_is_refused_at_once(bad: str) -> None:
    _, link, _ = _online()
    with pytest.raises(ValueError, match="invalid MQTT topic filter"):
        link.subscribe(bad, lambda m: None)
    assert link.filters == []


@pytest.mark.parametrize("good", ["#", "+", "w/#", "w/+/x", "+/+/#", "w/device/a/plan"])
def test_valid_topic_filters_are_accepted(good: str) -> None:
    assert is_valid_topic_filter(good)


@pytest.mark.parametrize(
    ("topic_filter", "topic", "matches"),
    [
        ("wardcast/v1/device/+/event", "wardcast/v1/device/tdp-01/event", True),
        ("wardcast/v1/device/+/event", "wardcast/v1/device/tdp-01/state", False),
        ("wardcast/v1/device/+/event", "wardcast/v1/device/tdp-01/event/x", False),
        ("wardcast/v1/device/tdp-01/#", "wardcast/v1/device/tdp-01/plan", True),
        ("wardcast/v1/device/tdp-01/#", "wardcast/v1/device/tdp-01", True),
        ("wardcast/v1/device/tdp-01/#", "wardcast/v1/device/tdp-02/plan", False),
        ("+/+", "w/x", True),
        ("+", "w/x", False),
        ("#", "w/x/y", True),
    ],
)
def test_dispatch_follows_mqtt_wildcards(topic_filter: str, topic: str, matches: bool) -> None:
    _, link, sender = _online()
    got, _ = _collect(link, topic_filter)
    sender.publish(topic, b"m")
    assert got == ([b"m"] if matches else [])
