"""Received messages and the handlers that subscribe to them, shared by every transport.

A transport hands each message to every handler whose topic filter matches it, as
a frozen ``ReceivedMessage`` (after Home Assistant's ``ReceiveMessage``). Several
handlers may subscribe, to the same filter or to overlapping ones; each gets the
callable that unsubscribes it, so a second subscriber never silently replaces the
first. A handler that raises is logged and skipped: the others still get the
message, and a transport's network thread never dies of a handler's bug.

``Subscriptions`` is safe to change from any thread while messages are dispatched:
dispatch reads an immutable snapshot, so a handler removed during a dispatch may
still see that one message, never a later one. Overlapping filters on one link may
bring a message twice (mosquitto sends a copy per matching subscription, and each
copy goes to every matching handler): harmless, as every QoS 1 receiver already
de-duplicates.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from wardcast_protocol.topics import TopicFilter

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """One message as the broker delivered it."""

    topic: str
    payload: bytes
    retained: bool  # True when the broker sent a stored (retained) copy, not a live publish


MessageHandler = Callable[[ReceivedMessage], None]
"""Called with every message matching the filter it subscribed with."""

ConnectionHandler = Callable[[bool], None]
"""Called with True on every (re)connect, False on every loss of connection."""

Unsubscribe = Callable[[], None]
"""Undoes one subscription; calling it again does nothing."""


def is_valid_topic_filter(topic_filter: str) -> bool:
    """True for an MQTT topic filter: ``+`` and ``#`` fill whole levels, ``#`` only the last."""
    if not topic_filter or len(topic_filter.encode("utf-8")) > 65535:
        return False
    levels = topic_filter.split("/")
    whole = all(level in ("+", "#") or not ({"+", "#"} & set(level)) for level in levels)
    return whole and "#" not in levels[:-1]


@dataclass(eq=False, slots=True)
class _Entry:
    """One subscription; compared by identity, so one handler may subscribe twice."""

    topic_filter: str
    handler: MessageHandler
    # Compiled once: a shared subscription's messages carry the topic, not $share/.
    matcher: TopicFilter


@dataclass(eq=False, slots=True)
class _ConnectionEntry:
    handler: ConnectionHandler


class Subscriptions:
    """The handlers of one transport, by topic filter, and its connection handlers."""

    def __init__(self, owner: str) -> None:
        self._owner = owner  # the client id, for the log
        self._lock = threading.Lock()
        # Replaced, never mutated: dispatch iterates a snapshot without the lock.
        self._entries: tuple[_Entry, ...] = ()
        self._connection: tuple[_ConnectionEntry, ...] = ()

    def add(self, topic_filter: str, handler: MessageHandler) -> _Entry:
        """Register ``handler`` for ``topic_filter``; ValueError for an invalid filter."""
        if not is_valid_topic_filter(topic_filter):
            raise ValueError(f"invalid MQTT topic filter {topic_filter!r}")
        entry = _Entry(topic_filter, handler, TopicFilter(topic_filter))
        with self._lock:
            self._entries = (*self._entries, entry)
        return entry

    def remove(self, entry: _Entry) -> bool:
        """Drop one subscription; True when it was the last one on its filter."""
        with self._lock:
            if not any(e is entry for e in self._entries):
                return False
            self._entries = tuple(e for e in self._entries if e is not entry)
            return all(e.topic_filter != entry.topic_filter for e in self._entries)

    def filters(self) -> list[str]:
        """The distinct filters that have a handler, in subscription order."""
        return list(dict.fromkeys(e.topic_filter for e in self._entries))

    def dispatch(self, message: ReceivedMessage) -> int:
        """Call every handler whose filter matches; how many were called."""
        called = 0
        for entry in self._entries:
            if entry.matcher.matches(message.topic):
                called += 1
                self._safely(entry.handler, message, message.topic)
        if not called:
            log.debug("%s: no handler for %s", self._owner, message.topic)
        return called

    def add_connection_handler(self, handler: ConnectionHandler) -> Unsubscribe:
        """Call ``handler`` on every connect and loss of connection, until unsubscribed."""
        entry = _ConnectionEntry(handler)
        with self._lock:
            self._connection = (*self._connection, entry)

        def unsubscribe() -> None:
            with self._lock:
                self._connection = tuple(e for e in self._connection if e is not entry)

        return unsubscribe

    def connection_changed(self, up: bool) -> None:
        """Tell every connection handler the link went up (True) or down (False)."""
        for entry in self._connection:
            self._safely(entry.handler, up, "connection up" if up else "connection lost")

    def _safely(self, handler: Callable[[T], None], arg: T, what: str) -> None:
        # One handler's bug must neither starve the others nor kill the network thread.
        try:
            handler(arg)
        except Exception:
            name = getattr(handler, "__qualname__", repr(handler))
            log.exception("%s: handler %s failed on %s", self._owner, name, what)
