"""The parts replicas of the controller stand on (docs/scale.md), without a broker.

Two real processes on PostgreSQL and mosquitto: tests/integration/test_replicas.py.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from controller.leadership import Leadership
from wardcast_protocol.subscriptions import ReceivedMessage, Subscriptions
from wardcast_protocol.topics import DeviceChannel, all_devices, shared_subscription, unshared


def test_a_shared_subscription_delivers_its_topics_to_the_handler() -> None:
    topic_filter = shared_subscription("wardcast", all_devices(DeviceChannel.EVENT))
    assert topic_filter.startswith("$share/wardcast/")
    assert unshared(topic_filter) == all_devices(DeviceChannel.EVENT)
    subscriptions = Subscriptions("test")
    got: list[ReceivedMessage] = []
    subscriptions.add(topic_filter, got.append)
    message = ReceivedMessage("wardcast/v1/device/to-1/event", b"{}", False)
    assert subscriptions.dispatch(message) == 1 and got == [message]


@pytest.mark.parametrize("group", ["", "a/b", "a+", "#"])
def test_a_share_group_is_one_level_without_wildcards(group: str) -> None:
    with pytest.raises(ValueError, match="share group"):
        shared_subscription(group, all_devices(DeviceChannel.EVENT))


def test_on_sqlite_the_one_process_leads() -> None:
    leadership = Leadership(create_engine("sqlite://"))
    assert not leadership.shared and not leadership.leading
    assert leadership.try_lead() and leadership.leading and leadership.still_leading()
    leadership.step_down()  # nothing to release
