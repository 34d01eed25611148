"""The protocol's side of a closed broker: addresses with credentials and TLS, device ACLs."""

from __future__ import annotations

import pytest

from wardcast_protocol.channels import AGENT_INBOUND, CONTROLLER_INBOUND
from wardcast_protocol.topics import device_acl, device_topic, device_topic_pattern
from wardcast_protocol.transport import BrokerAddress


def test_mqtts_is_tls_with_its_own_default_port() -> None:
    address = BrokerAddress.parse("mqtts://broker.example")
    assert (address.host, address.port, address.tls) == ("broker.example", 8883, True)
    assert address.url == "mqtts://broker.example:8883"


def test_a_pinned_ca_turns_tls_on_and_credentials_never_show() -> None:
    address = BrokerAddress.parse(
        "mqtt://127.0.0.1:9000", username="to-1", password="s3cret", ca_file="/x/ca.pem"
    )
    assert address.tls and address.ca_file == "/x/ca.pem"
    assert (address.username, address.password) == ("to-1", "s3cret")
    assert "s3cret" not in repr(address) and "s3cret" not in address.url


def test_credentials_in_the_url_are_read_and_explicit_ones_win() -> None:
    assert BrokerAddress.parse("mqtt://u:p@h:1").password == "p"
    assert BrokerAddress.parse("mqtt://u:p@h:1", password="q").password == "q"


@pytest.mark.parametrize("url", ["http://h:1", "mqtt://", "mqtt://h:notaport"])
def test_what_is_not_a_broker_url_is_refused(url: str) -> None:
    with pytest.raises(ValueError):
        BrokerAddress.parse(url)


def test_a_device_publishes_its_uplink_and_subscribes_its_downlink_only() -> None:
    acl = device_acl("%u")
    assert acl.publish == tuple(device_topic_pattern(c) for c in CONTROLLER_INBOUND)
    assert acl.subscribe == tuple(device_topic_pattern(c) for c in AGENT_INBOUND)
    # The patterns are the real topics with the device id substituted by the broker.
    for channel in (*CONTROLLER_INBOUND, *AGENT_INBOUND):
        pattern = device_topic_pattern(channel, "%c")
        assert pattern.replace("%c", "to-1") == device_topic("to-1", channel)
    assert not set(acl.publish) & set(acl.subscribe)
    assert all("+" not in t and "#" not in t for t in (*acl.publish, *acl.subscribe))


def test_only_mosquitto_placeholders_are_accepted() -> None:
    with pytest.raises(ValueError):
        device_acl("+")
