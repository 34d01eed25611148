"""Transport: the small interface both sides talk through, and where the broker is.

``Transport`` is what domain code sees (publish, subscribe with a handler, connection
handlers); ``BrokerAddress`` is a broker's URL and login. Every handler gets a frozen
``ReceivedMessage``; several may subscribe, each holding its own unsubscribe callable
(``subscriptions``). This module names no MQTT client: the paho-based links live apart
(``mqtt_link.MqttLink`` for threaded code, ``asyncio_mqtt_link.AsyncioMqttLink`` for
the agents' event loops), and ``fake_transport`` serves the unit tier, so code that
only needs the interface never pulls in a network client.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from wardcast_protocol.subscriptions import ConnectionHandler, MessageHandler, Unsubscribe

__all__ = ["QOS", "BrokerAddress", "Transport"]

QOS = 1

_PLAIN_SCHEMES = ("mqtt", "tcp")
_TLS_SCHEMES = ("mqtts", "ssl")


class Transport(Protocol):
    """Publish and subscribe; what the controller and agents need of a broker."""

    @property
    def connected(self) -> bool:
        """True while connected to the broker."""
        ...

    def start(self) -> None:
        """Begin connecting (returns at once; the link keeps retrying)."""
        ...

    def stop(self) -> None:
        """Disconnect cleanly (the will is not sent)."""
        ...

    def subscribe(self, topic_filter: str, handler: MessageHandler) -> Unsubscribe:
        """Hand ``handler`` every message matching ``topic_filter`` until unsubscribed.

        Subscribes at the broker now (if connected; matching retained messages follow)
        and after every reconnect. Other handlers, on this filter or any other, are
        kept. The returned callable unsubscribes this handler; the broker is told
        once the filter's last handler is gone while connected (a link that is
        stopped keeps its broker session's subscriptions, and their queued messages).
        """
        ...

    def add_connection_handler(self, handler: ConnectionHandler) -> Unsubscribe:
        """Call ``handler`` with True on every (re)connect and False on every loss."""
        ...

    def publish(
        self, topic: str, payload: bytes, *, retain: bool = False, expiry_s: int | None = None
    ) -> None:
        """Publish at QoS 1; ``expiry_s`` sets the MQTT v5 message expiry."""
        ...


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """Where the broker is and how to log in: ``mqtt[s]://[user[:password]@]host[:port]``.

    ``tls`` is on for ``mqtts://`` or whenever ``ca_file`` is given; ``ca_file`` pins
    the broker's CA (a device trusts only the CA its controller gave it at enrolment,
    never the system's store). The password never appears in ``repr`` or ``url``.
    """

    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None
    tls: bool = False

    @classmethod
    def parse(
        cls,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        ca_file: str | Path | None = None,
    ) -> BrokerAddress:
        """Parse a broker URL; raise ValueError with a clear message if it is not one.

        ``username``/``password`` given here win over those in the URL.
        """
        parts = urlsplit(url)
        if parts.scheme not in (*_PLAIN_SCHEMES, *_TLS_SCHEMES) or not parts.hostname:
            raise ValueError(f"broker URL must look like mqtt[s]://host:port, got {url!r}")
        tls = parts.scheme in _TLS_SCHEMES or ca_file is not None
        try:
            port = parts.port or (8883 if tls else 1883)
        except ValueError as exc:
            raise ValueError(f"broker URL has a bad port: {url!r}") from exc
        return cls(
            parts.hostname,
            port,
            username if username is not None else parts.username,
            password if password is not None else parts.password,
            str(ca_file) if ca_file is not None else None,
            tls,
        )

    @property
    def url(self) -> str:
        """The URL form (without credentials)."""
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"
