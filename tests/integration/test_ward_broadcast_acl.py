"""Ward broadcast channels on the controller's closed broker: a device reads only its
own ward's, nobody but the controller publishes there, and a moved device's ACL
follows it before the controller addresses it on the new ward's channel."""

from __future__ import annotations

import queue
import time
from datetime import UTC, datetime
from pathlib import Path

from controller.composition import ControllerRuntime
from controller.domain.places import service as places
from tests.support.enrolled import controller_address, enrol, link
from wardcast_protocol.messages import DeviceState
from wardcast_protocol.subscriptions import ReceivedMessage
from wardcast_protocol.topics import ward_topic


def _place(runtime: ControllerRuntime, placements: dict[str, str]) -> None:
    with runtime.db.session() as session:
        places.upsert_province(session, "p1", "Province")
        places.upsert_district(session, "d1", "p1", "District")
        for ward in sorted(set(placements.values())):
            places.upsert_ward(session, ward, "d1", ward, "Asia/Ho_Chi_Minh")
        for device_id, ward in placements.items():
            places.place_device(session, device_id, ward, None)


def test_a_device_reads_only_its_own_wards_channel_and_never_publishes_there(
    closed_controller: ControllerRuntime, tmp_path: Path
) -> None:
    runtime = closed_controller
    a = enrol(runtime, "to-a", tmp_path / "to-a")
    b = enrol(runtime, "to-b", tmp_path / "to-b")
    _place(runtime, {"to-a": "w1", "to-b": "w2"})
    runtime.broker.accounts.sync()  # the files follow the database (and the broker reloads)
    a_reads: queue.Queue[ReceivedMessage] = queue.Queue()
    b_reads: queue.Queue[ReceivedMessage] = queue.Queue()
    controller = link(controller_address(runtime), "observer")
    a_link, b_link = link(a.address(), "agent-a"), link(b.address(), "agent-b")
    try:
        assert controller.wait_connected(5) and a_link.wait_connected(5)
        assert b_link.wait_connected(5)
        for topic in (ward_topic("w1"), ward_topic("w2")):
            a_link.subscribe(topic, a_reads.put)
            b_link.subscribe(topic, b_reads.put)
        time.sleep(0.3)
        a_link.publish(ward_topic("w1"), b"forged by a device")  # dropped by the broker
        controller.publish(ward_topic("w1"), b"for w1")
        controller.publish(ward_topic("w2"), b"for w2")
        assert a_reads.get(timeout=5).payload == b"for w1"
        assert b_reads.get(timeout=5).payload == b"for w2"
        time.sleep(1.0)
        assert a_reads.empty(), "a device read another ward's channel, or a forged command"
        assert b_reads.empty(), "a device read another ward's channel, or a forged command"
    finally:
        for made in (a_link, b_link, controller):
            made.stop()


def test_a_moved_device_is_addressed_on_its_new_ward_once_the_broker_lets_it_read(
    closed_controller: ControllerRuntime, tmp_path: Path
) -> None:
    runtime = closed_controller
    enrol(runtime, "to-a", tmp_path / "to-a")
    _place(runtime, {"to-a": "w1"})  # placed after the files were written: not yet granted
    assert f"topic read {ward_topic('w1')}" not in runtime.broker.accounts.acl_file.read_text()
    state = DeviceState(device_time=datetime.now(UTC), broadcast_ward="w1")
    runtime._heard_state("to-a", state)  # what the bridge calls after storing its state
    assert runtime.listeners.listening("to-a") == "w1"
    assert (
        f"user to-a\ntopic read {ward_topic('w1')}" in runtime.broker.accounts.acl_file.read_text()
    )
    # A device claiming a ward the controller does not have it in is not believed.
    runtime._heard_state("to-a", DeviceState(device_time=datetime.now(UTC), broadcast_ward="w9"))
    assert runtime.listeners.listening("to-a") is None
