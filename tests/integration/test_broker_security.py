"""Security drills against the controller's own closed broker (real mosquitto, TLS, ACLs).

Each test is an attack from the issue, tried again: what the broker does now.
"""

from __future__ import annotations

import os
import queue
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from controller.composition import ControllerRuntime
from controller.domain.actors import SYSTEM
from controller.messaging.broker_tls import default_names, ensure_tls
from edge_agent.fleet import AgentFleet
from tests.support.enrolled import controller_address, enrol, link, try_connect
from wardcast_protocol.envelope import seal
from wardcast_protocol.messages import DeviceState, Kind
from wardcast_protocol.subscriptions import ReceivedMessage
from wardcast_protocol.topics import DeviceChannel, all_devices, device_topic
from wardcast_protocol.transport import BrokerAddress

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def _state(device_id: str, signer_id: str, runtime: ControllerRuntime, path: Path) -> bytes:
    """A well-formed state message, signed by ``signer_id``'s own key."""
    from wardcast_protocol.signing import SigningKey

    key = SigningKey.load_or_create(path / signer_id / "device.key")
    body = DeviceState(plan_version=0, device_time=datetime.now(UTC), pending_events=0)
    return seal(Kind.STATE, body, signer_id, key, runtime.clock.now())


def test_anonymous_wrong_and_plain_connections_are_refused(
    closed_controller: ControllerRuntime, tmp_path: Path
) -> None:
    device = enrol(closed_controller, "to-1", tmp_path / "to-1")
    good = device.address()
    assert try_connect(good, "probe-ok") == "Success"
    anonymous = BrokerAddress(good.host, good.port, ca_file=good.ca_file, tls=True)
    assert try_connect(anonymous, "probe-anon") == "Not authorized"
    wrong = BrokerAddress(good.host, good.port, "to-1", "guess", good.ca_file, True)
    assert try_connect(wrong, "probe-wrong") == "Not authorized"
    # The controller's name with a device's password is no way in either.
    borrowed = BrokerAddress(
        good.host, good.port, controller_address(closed_controller).username, "guess",
        good.ca_file, True,
    )  # fmt: skip
    assert try_connect(borrowed, "probe-borrowed") == "Not authorized"
    # No plain listener at all: MQTT without TLS gets no CONNACK.
    plain = BrokerAddress(good.host, good.port, "to-1", device.credentials.password)
    assert try_connect(plain, "probe-plain", timeout_s=3) != "Success"


def test_tls_works_with_the_pinned_ca_and_fails_with_another(
    closed_controller: ControllerRuntime, tmp_path: Path
) -> None:
    device = enrol(closed_controller, "to-1", tmp_path / "to-1")
    assert try_connect(device.address(), "probe-pinned") == "Success"
    by_name = BrokerAddress.parse(
        device.credentials.broker_url.replace("127.0.0.1", "localhost"),
        username="to-1",
        password=device.credentials.password,
        ca_file=tmp_path / "to-1" / "broker-ca.pem",
    )
    assert try_connect(by_name, "probe-by-name") == "Success"  # localhost is in the cert
    other = ensure_tls(tmp_path / "other-ca", default_names())
    refused = try_connect(device.address(ca_file=other.ca_cert), "probe-other-ca")
    assert refused.startswith("tls:") and "CERTIFICATE_VERIFY_FAILED" in refused


def test_a_device_cannot_publish_or_read_another_devices_topics(
    closed_controller: ControllerRuntime, tmp_path: Path
) -> None:
    a = enrol(closed_controller, "to-a", tmp_path / "to-a")
    b = enrol(closed_controller, "to-b", tmp_path / "to-b")
    heard: queue.Queue[ReceivedMessage] = queue.Queue()
    observer = link(controller_address(closed_controller), "observer")
    observer.subscribe(all_devices(DeviceChannel.STATE), heard.put)
    observer.subscribe(all_devices(DeviceChannel.COMMAND), heard.put)
    observer.subscribe(device_topic("to-a", DeviceChannel.PLAN), heard.put)
    a_link, b_link = link(a.address(), "agent-a"), link(b.address(), "agent-b")
    a_reads: queue.Queue[ReceivedMessage] = queue.Queue()
    b_reads: queue.Queue[ReceivedMessage] = queue.Queue()
    try:
        assert observer.wait_connected(5) and a_link.wait_connected(5) and b_link.wait_connected(5)
        a_link.subscribe(device_topic("to-b", DeviceChannel.PLAN), a_reads.put)  # refused
        a_link.subscribe(device_topic("to-b", DeviceChannel.COMMAND), a_reads.put)  # refused
        a_link.subscribe("#", a_reads.put)  # nothing it may not read is delivered through it
        b_link.subscribe(device_topic("to-b", DeviceChannel.COMMAND), b_reads.put)
        time.sleep(0.3)
        rejected_before = closed_controller.bridge.rejected
        # A speaks for B (signed with A's key, or even with a stolen B key: the broker
        # refuses by topic, before any signature is looked at).
        a_link.publish(
            device_topic("to-b", DeviceChannel.STATE),
            _state("to-b", "to-a", closed_controller, tmp_path),
        )
        a_link.publish(
            device_topic("to-b", DeviceChannel.STATE),
            _state("to-b", "to-b", closed_controller, tmp_path),
        )
        # A sends B a "command", and itself a plan: downlink is the controller's alone.
        a_link.publish(device_topic("to-b", DeviceChannel.COMMAND), b"forged")
        a_link.publish(device_topic("to-a", DeviceChannel.PLAN), b"forged", retain=True)
        # What A may do reaches the controller: its own state.
        a_link.publish(
            device_topic("to-a", DeviceChannel.STATE),
            _state("to-a", "to-a", closed_controller, tmp_path),
        )
        first = heard.get(timeout=5)
        assert first.topic == device_topic("to-a", DeviceChannel.STATE)
        # The controller publishes B's plan (retained): B may read it, A may not.
        observer.publish(device_topic("to-b", DeviceChannel.PLAN), b"plan-for-b", retain=True)
        b_link.subscribe(device_topic("to-b", DeviceChannel.PLAN), b_reads.put)
        got = b_reads.get(timeout=5)
        assert got.payload == b"plan-for-b"
        time.sleep(1.0)
        assert heard.empty(), "a forged state reached the controller's subscription"
        assert a_reads.empty(), "A read B's topics"
        assert b_reads.empty(), "B received A's forged command"
        assert closed_controller.bridge.rejected == rejected_before  # nothing even arrived
    finally:
        for made in (a_link, b_link, observer):
            made.stop()


def test_revoking_a_device_closes_its_session_and_refuses_its_next_connect(
    closed_controller: ControllerRuntime, tmp_path: Path
) -> None:
    device = enrol(closed_controller, "to-1", tmp_path / "to-1")
    changes: queue.Queue[tuple[bool, float]] = queue.Queue()
    agent = link(device.address(), "wardcast-agent-to-1")
    agent.add_connection_handler(lambda up: changes.put((up, time.monotonic())))
    try:
        assert changes.get(timeout=5)[0] is True
        revoked_at = time.monotonic()
        closed_controller.enrolment.revoke(SYSTEM, "to-1")
        up, when = changes.get(timeout=5)
        kicked_s = when - revoked_at
        print(f"revocation closed the session in {kicked_s * 1000:.1f} ms")
        assert up is False and kicked_s < 2.0
        # paho keeps retrying every second: none of its attempts gets in.
        time.sleep(3)
        assert changes.empty() and not agent.connected
        assert try_connect(device.address(), "wardcast-agent-to-1") == "Not authorized"
    finally:
        agent.stop()


def test_a_killed_broker_is_brought_back_on_the_same_port_and_agents_return(
    closed_controller: ControllerRuntime, tmp_path: Path
) -> None:
    broker = closed_controller.embedded_broker
    assert broker is not None and broker.pid is not None
    device = enrol(closed_controller, "to-1", tmp_path / "to-1")
    fleet = AgentFleet([device.agent_config()]).start()
    try:
        assert fleet.wait_ready(10)
        old_pid, port = broker.pid, broker.port
        killed_at = time.monotonic()
        os.kill(old_pid, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if broker.pid not in (None, old_pid) and closed_controller.broker_connected():
                break
            time.sleep(0.05)
        back_s = time.monotonic() - killed_at
        print(f"broker back and the controller reconnected {back_s:.2f} s after kill -9")
        assert broker.pid not in (None, old_pid) and broker.port == port
        assert closed_controller.broker_connected()
        assert closed_controller.broker.restarts == 1
        # The agent's paho backs off up to 30 s; on a fresh broker it is back within that.
        assert fleet.wait_ready(35), "the agent did not reconnect to the restarted broker"
    finally:
        fleet.stop()
