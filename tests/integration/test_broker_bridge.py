"""The province-to-centre bridge of docs/scale.md, run as the page shows it.

Two real mosquittos: the "centre" and a "province" whose config is the page's bridge
file, with its address pointed at the centre. First on an open, plain centre (the TLS
line dropped): what devices say goes up under the same topics, to a shared
subscription at the centre; what the centre publishes under the province's prefix
comes down to the device's own topic.

Then the whole path, as a nation runs it: a controller at the centre with
``province_downlink`` on; the centre closed as the controller's embedded broker is
(TLS with the controller's CA, its password and ACL files); the bridge over TLS
(``bridge_cafile``: the centre's CA) with its province's login (``wardcast broker
bridge-login``); the province's broker TLS-only with a CA of its own and closed by
the files ``wardcast broker province-files`` writes, its address and CA given to its
devices at enrolment (``wardcast broker province-url --ca-file``). A device of the
province enrols, gets that address and CA, logs in there with its own login, pinning
that CA (a device of another province cannot log in, nor can anyone), and receives the
controller's plan and command on their plain topics; its availability reaches the
controller; the bridge's login can neither read another province's downlink nor
publish a plan; a device moved away has its plan cleared there and is listed by
``wardcast broker moved-devices``.
"""

from __future__ import annotations

import queue
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from controller.cli.main import app
from controller.composition import ControllerRuntime
from controller.db.models import Device
from controller.domain.actors import SYSTEM
from controller.domain.devices.bridges import issue_bridge_login
from controller.domain.devices.enrolment import Credentials
from controller.domain.devices.service import register_device
from controller.domain.places import service as places
from controller.messaging.broker import BrokerSecurity, EmbeddedBroker
from controller.messaging.broker_accounts import (
    CONTROLLER_USERNAME,
    bridge_username,
    load_or_create_secret,
    mosquitto_hash,
    new_password,
)
from controller.messaging.broker_host import free_port, hand_to_broker, let_broker_reach
from controller.messaging.broker_tls import BrokerTls, default_names, ensure_tls
from controller.settings import Settings
from tests.support.enrolled import try_connect
from wardcast_protocol.envelope import CONTROLLER_SENDER, open_envelope, seal
from wardcast_protocol.messages import Availability, Command, Kind, Plan, ResendEvents
from wardcast_protocol.mqtt_link import MqttLink
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.subscriptions import ReceivedMessage
from wardcast_protocol.topics import (
    DeviceChannel,
    all_devices,
    device_topic,
    downlink_topic,
    shared_subscription,
)
from wardcast_protocol.transport import BrokerAddress

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

DOC = Path(__file__).resolve().parents[2] / "docs" / "scale.md"
PREFIX = "prov/hcm/"
_TLS = ("bridge_cafile",)
_LOGIN = ("remote_username", "remote_password")


def bridge_config(
    centre: EmbeddedBroker, password: str | None = None, ca_file: Path | None = None
) -> list[str]:
    """The page's bridge file, aimed at ``centre``; with ``password``, its login kept;
    with ``ca_file`` (the centre's CA), its TLS line kept."""
    block = re.search(r"```conf\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert block is not None, "docs/scale.md lost its bridge file"
    lines = []
    for line in block.group(1).splitlines():
        if line.startswith("address "):
            line = f"address {centre.host}:{centre.port}"
        if line.startswith("remote_password ") and password is not None:
            line = f"remote_password {password}"
        if line.startswith("bridge_cafile ") and ca_file is not None:
            line = f"bridge_cafile {ca_file}"
        dropped = (_TLS if ca_file is None else ()) + (_LOGIN if password is None else ())
        if not line.startswith(dropped):
            lines.append(line)
    return lines


class ProvinceBroker(EmbeddedBroker):
    """A loopback mosquitto with extra config lines (the bridge); plain and open, or
    with ``security`` closed as the controller's own broker is (TLS with its own CA,
    a password and an ACL file)."""

    def __init__(self, extra: list[str], security: BrokerSecurity | None = None) -> None:
        super().__init__(security=security)
        self._extra = extra

    def config_text(self) -> str:
        """The loopback broker's config, then the bridge."""
        return super().config_text() + "\n".join(self._extra) + "\n"


def _link(broker: EmbeddedBroker, name: str) -> MqttLink:
    link = MqttLink(BrokerAddress.parse(broker.url), name)
    link.start()
    assert link.wait_connected(10)
    return link


def _until_received(
    link: MqttLink, topic: str, payload: bytes, got: queue.Queue[ReceivedMessage]
) -> ReceivedMessage:
    """Publish until it arrives: the bridge connects in its own time."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        link.publish(topic, payload)
        try:
            return got.get(timeout=0.5)
        except queue.Empty:
            continue
    raise AssertionError(f"{topic} never came across the bridge")


def test_the_pages_bridge_carries_devices_up_and_the_province_prefix_down() -> None:
    with EmbeddedBroker() as centre, ProvinceBroker(bridge_config(centre)) as province:
        controller = _link(centre, "centre-controller")
        device = _link(province, "province-device")
        try:
            up: queue.Queue[ReceivedMessage] = queue.Queue()
            down: queue.Queue[ReceivedMessage] = queue.Queue()
            shared = shared_subscription("wardcast", all_devices(DeviceChannel.EVENT))
            controller.subscribe(shared, up.put)
            device.subscribe(device_topic("to-1", DeviceChannel.PLAN), down.put)
            event_topic = device_topic("to-1", DeviceChannel.EVENT)
            heard = _until_received(device, event_topic, b"event", up)
            assert (heard.topic, heard.payload) == (event_topic, b"event")
            plan_topic = device_topic("to-1", DeviceChannel.PLAN)
            came = _until_received(controller, PREFIX + plan_topic, b"plan", down)
            assert (came.topic, came.payload) == (plan_topic, b"plan")
        finally:
            controller.stop()
            device.stop()


def _tls(directory: Path) -> BrokerTls:
    """A broker's CA and certificate, made as the controller makes its own; the
    province's mosquitto (user "mosquitto" when run as root) reads the centre's CA."""
    tls = ensure_tls(directory, default_names())
    let_broker_reach(tls.ca_cert)
    return tls


def _wait(got: queue.Queue[ReceivedMessage], what: str) -> ReceivedMessage:
    try:
        return got.get(timeout=20)
    except queue.Empty:
        raise AssertionError(f"{what} never came") from None


def _place(runtime: ControllerRuntime, key: SigningKey) -> None:
    with runtime.db.session() as session:
        for province, ward in (("hcm", "w-hcm"), ("hni", "w-hni")):
            places.upsert_province(session, province, province)
            places.upsert_district(session, f"d-{province}", province, province)
            places.upsert_ward(session, ward, f"d-{province}", ward, "Asia/Ho_Chi_Minh")
        for device_id, ward in (("to-1", "w-hcm"), ("to-2", "w-hni")):
            register_device(session, device_id, device_id, key.public_key_b64, runtime.clock.now())
            places.place_device(session, device_id, ward, None)


def _cli(settings: Settings, *args: str) -> str:
    """``wardcast broker ...`` run on this controller's data, as an operator would."""
    env = {
        "WARDCAST_DATA_DIR": str(settings.data_dir),
        "WARDCAST_BROKER_URL": settings.broker_url,
        "WARDCAST_BROKER_CA_FILE": str(settings.broker_ca_file),
        "WARDCAST_PROVINCE_DOWNLINK": "true",
        "WARDCAST_DATABASE_URL": None,
        "WARDCAST_BROKER_PUBLIC_URL": None,
    }
    result = CliRunner().invoke(app, ["broker", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


def _enrol(runtime: ControllerRuntime, device_id: str, key: SigningKey) -> Credentials:
    issued = runtime.enrolment.issue_code(SYSTEM, device_id)
    assert issued.code is not None
    return runtime.enrolment.enrol(device_id, issued.code, key.public_key_b64)


def _device_link(given: Credentials, client_id: str, pinned: Path) -> MqttLink:
    """A link that logs in as the device, where its enrolment sent it, trusting only
    the CA it was given (``pinned``: that CA, as the agent keeps it)."""
    address = BrokerAddress.parse(
        given.broker_url, username=given.username, password=given.password, ca_file=pinned
    )
    link = MqttLink(address, client_id)
    link.start()
    assert link.wait_connected(10)
    return link


def _province_files(settings: Settings, directory: Path) -> tuple[Path, Path]:
    """The province broker's files, by ``wardcast broker province-files``."""
    passwd, acl = (
        Path(p) for p in _cli(settings, "province-files", "hcm", "--dir", str(directory)).split()
    )
    let_broker_reach(passwd)
    hand_to_broker(directory, 0o755)
    return passwd, acl


def test_a_centre_controller_reaches_a_province_device_through_its_bridge_login(
    tmp_path: Path,
) -> None:
    secret = load_or_create_secret(tmp_path / "mqtt-controller.secret")
    port, tls, hcm_tls = free_port(), _tls(tmp_path / "centre-tls"), _tls(tmp_path / "hcm-tls")
    settings = Settings(
        data_dir=tmp_path,
        broker_url=f"mqtts://{CONTROLLER_USERNAME}:{secret}@127.0.0.1:{port}",
        broker_ca_file=tls.ca_cert,
        province_downlink=True,
        gtts_enabled=False,
        environment="test",
    )
    runtime = ControllerRuntime(settings, run_maintenance=False, prepare_chime=False)
    key, password = SigningKey.generate(), new_password()
    runtime.db.migrate()
    _place(runtime, key)
    with runtime.db.session() as session:
        issue_bridge_login(session, "hcm", mosquitto_hash(password), runtime.clock.now())
    accounts = runtime.broker.accounts
    accounts.write_files()
    centre = EmbeddedBroker(
        port, security=BrokerSecurity(accounts.password_file, accounts.acl_file, tls)
    )
    logins = tmp_path / "hcm-broker" / "passwd", tmp_path / "hcm-broker" / "acl"
    province = ProvinceBroker(
        bridge_config(centre, password, tls.ca_cert), BrokerSecurity(*logins, hcm_tls)
    )
    # The province's address and CA, given to its devices at enrolment; the others:
    # the centre's.
    _cli(settings, "province-url", "hcm", province.url, "--ca-file", str(hcm_tls.ca_cert))
    to_1, to_2 = _enrol(runtime, "to-1", key), _enrol(runtime, "to-2", key)
    assert (to_1.broker_url, to_1.ca_pem) == (province.url, hcm_tls.ca_pem())
    assert province.url.startswith("mqtts://")
    assert (to_2.broker_url, to_2.ca_pem) == (f"mqtts://127.0.0.1:{port}", tls.ca_pem())
    pinned = tmp_path / "to-1-broker-ca.pem"
    pinned.write_text(to_1.ca_pem or "", encoding="ascii")
    assert _province_files(settings, tmp_path / "hcm-broker") == logins
    with centre, province:
        runtime.start()
        # A device logs in at its province's broker with its own login; one of
        # another province cannot, nor can anyone without a login.
        to_2_there = BrokerAddress.parse(
            province.url, username="to-2", password=to_2.password, ca_file=pinned
        )
        assert try_connect(to_2_there, "probe-to-2") == "Not authorized"
        anonymous = BrokerAddress.parse(province.url, ca_file=pinned)
        assert try_connect(anonymous, "probe-anon") == "Not authorized"
        device = _device_link(to_1, "province-device", pinned)
        spy = MqttLink(
            BrokerAddress.parse(
                centre.url, username=bridge_username("hcm"), password=password, ca_file=tls.ca_cert
            ),
            "spy-with-the-hcm-bridge-login",
        )
        spy.start()
        try:
            plans: queue.Queue[ReceivedMessage] = queue.Queue()
            commands: queue.Queue[ReceivedMessage] = queue.Queue()
            device.subscribe(device_topic("to-1", DeviceChannel.PLAN), plans.put)
            device.subscribe(device_topic("to-1", DeviceChannel.COMMAND), commands.put)
            runtime.plans.republish("to-1")
            runtime.plans.republish("to-2")  # under prov/hni/: not this bridge's

            def controller_key(sender: str) -> str | None:
                return runtime.key.public_key_b64 if sender == CONTROLLER_SENDER else None

            # Down, over the bridge's TLS: the retained plan, published at the centre
            # under prov/hcm/, reaches the device on its own topic, signed.
            came = _wait(plans, "to-1's plan")
            assert came.topic == device_topic("to-1", DeviceChannel.PLAN)
            opened = open_envelope(came.payload, Kind.PLAN, controller_key)
            assert isinstance(opened.body, Plan) and opened.body.device_id == "to-1"
            kept: queue.Queue[ReceivedMessage] = queue.Queue()
            later = _device_link(to_1, "province-device-later", pinned)
            later.subscribe(device_topic("to-1", DeviceChannel.PLAN), kept.put)
            retained = _wait(kept, "the plan retained at the province")
            kept_plan = open_envelope(retained.payload, Kind.PLAN, controller_key).body
            assert isinstance(kept_plan, Plan)
            assert (kept_plan.device_id, kept_plan.version) == ("to-1", opened.body.version)
            later.stop()
            now = runtime.clock.now()
            command = Command(
                command_id="cmd-bridge-1",
                device_ids=("to-1",),
                issued_at=now,
                expires_at=now + timedelta(seconds=60),
                order=ResendEvents(from_seq=1, to_seq=2),
            )
            runtime.outbound.send_command("to-1", command)
            assert _wait(commands, "to-1's command").topic == device_topic(
                "to-1", DeviceChannel.COMMAND
            )
            # Up, with the bridge's login: the device's availability reaches the controller.
            online = seal(Kind.AVAILABILITY, Availability(state="online"), "to-1", key, now)
            device.publish(device_topic("to-1", DeviceChannel.AVAILABILITY), online, retain=True)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                with runtime.db.session() as session:
                    seen = session.get(Device, "to-1")
                    if seen is not None and seen.last_seen_at is not None:
                        break
                time.sleep(0.05)
            else:
                raise AssertionError("to-1's availability never reached the controller")
            # The bridge's login reads its own province's downlink, not another's ...
            assert spy.wait_connected(10)
            ours: queue.Queue[ReceivedMessage] = queue.Queue()
            theirs: queue.Queue[ReceivedMessage] = queue.Queue()
            spy.subscribe(downlink_topic(all_devices(DeviceChannel.PLAN), "hni"), theirs.put)
            spy.subscribe(downlink_topic(all_devices(DeviceChannel.PLAN), "hcm"), ours.put)
            _wait(ours, "hcm's retained plan, to its own bridge login")
            assert theirs.empty()  # to-2's plan is retained under prov/hni/ all along
            # ... and cannot speak as the controller: a plan it publishes goes nowhere.
            heard: queue.Queue[ReceivedMessage] = queue.Queue()
            watcher = _link_as_controller(centre, secret, tls.ca_cert)
            try:
                watcher.subscribe(all_devices(DeviceChannel.PLAN), heard.put)
                watcher.subscribe(all_devices(DeviceChannel.SECURITY), heard.put)
                spy.publish(device_topic("to-1", DeviceChannel.PLAN), b"forged")
                spy.publish(device_topic("to-1", DeviceChannel.SECURITY), b"marker")
                assert _wait(heard, "the bridge's uplink").payload == b"marker"
                assert heard.empty()
            finally:
                watcher.stop()
            # Moved to another province: its plan retained at the old one is cleared,
            # and it is listed to be enrolled again (its province has no broker: the centre).
            with runtime.db.session() as session:
                places.place_device(session, "to-1", "w-hni", None)
            runtime.plans.republish("to-1")
            while _wait(plans, "the old province's plan cleared").payload != b"":
                continue  # the plans published before (at start, and republished)
            gone: queue.Queue[ReceivedMessage] = queue.Queue()
            late = _device_link(to_1, "province-device-latest", pinned)
            late.subscribe(device_topic("to-1", DeviceChannel.PLAN), gone.put)
            with pytest.raises(queue.Empty):
                gone.get(timeout=1)
            late.stop()
            moved = f"to-1\t{province.url}\t{to_2.broker_url}"
            assert _cli(settings, "moved-devices").splitlines() == [moved]
        finally:
            spy.stop()
            device.stop()
            runtime.stop()


def _link_as_controller(centre: EmbeddedBroker, secret: str, ca_file: Path) -> MqttLink:
    address = BrokerAddress.parse(
        centre.url, username=CONTROLLER_USERNAME, password=secret, ca_file=ca_file
    )
    link = MqttLink(address, "centre-watcher")
    link.start()
    assert link.wait_connected(10)
    return link
