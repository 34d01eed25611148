"""One MQTT connection, made only to hear what the broker answers.

The agent's site check (``wardcast-agent check``) and the broker security drills both
ask a broker "would you take this login, over this TLS?" without keeping a session:
connect once with MQTT v5, wait for the CONNACK (or a disconnect), hang up. The
connection is made here once; each caller words a failure its own way (an installer
reads the site check's, a test matches the drills'), so failures to connect are raised,
not worded.
"""

from __future__ import annotations

import ssl
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from wardcast_protocol.transport import BrokerAddress


def probe_client(address: BrokerAddress, client_id: str) -> mqtt.Client:
    """A client with ``address``'s login and TLS (its CA pinned), not yet connected.

    Apart from :func:`connect_once` so that a CA file that cannot be read fails here,
    outside a caller's handling of a failed connection.
    """
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    if address.username is not None:
        client.username_pw_set(address.username, address.password)
    if address.tls:
        client.tls_set(ca_certs=address.ca_file, cert_reqs=ssl.CERT_REQUIRED)
    return client


def connect_once(client: mqtt.Client, address: BrokerAddress, timeout_s: float) -> str | None:
    """The broker's answer to one connection: "Success", its reason ("Not authorized"…),
    "disconnected: …", or None when nothing came within ``timeout_s``. Hangs up after.

    Raises ``ssl.SSLError`` when the TLS handshake fails and ``OSError`` when the socket
    cannot connect (both before any answer).
    """
    answered = threading.Event()
    outcome: list[str] = []  # written on paho's network thread, read after the event

    def on_connect(c: mqtt.Client, u: object, f: object, reason: object, p: object) -> None:
        outcome.append(str(reason))
        answered.set()

    def on_disconnect(c: mqtt.Client, u: object, f: object, reason: object, p: object) -> None:
        outcome.append(f"disconnected: {reason}")
        answered.set()

    client.on_connect = on_connect
    client.on_disconnect = on_disconnect
    client.connect(address.host, address.port, keepalive=10)
    client.loop_start()
    try:
        return outcome[0] if answered.wait(timeout_s) and outcome else None
    finally:
        client.disconnect()
        client.loop_stop()
