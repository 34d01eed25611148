"""The MQTT topic tree, defined once.

    wardcast/v1/controller/availability      retained  controller -> all, last will "offline"
    wardcast/v1/device/{id}/{channel}        one sub-topic per channel of ``channels.CHANNELS``
    wardcast/v1/ward/{ward_code}/{channel}   one per ``channels.WARD_CHANNELS``: a ward's devices
    prov/{province_code}/<one of the above>  controller -> device, at the centre of a nation
                                             whose provinces' brokers are bridged to it

What each channel carries, who sends it and whether it is retained is the channel
table's business (``channels.CHANNELS``); this module only spells and parses topics.
Incoming topics are matched by one regular expression (``parse``), never split by hand.
The broker's access rules for devices are spelled here too (``device_acl``), from the
table's directions, so a new channel is closed or open at the broker by its row alone.

A province's broker bridged to the centre (docs/scale.md) takes down only what the
centre publishes under its own prefix (``downlink_topic``) and delivers it without
the prefix: agents never see it, and never subscribe to anything but the plain tree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from wardcast_protocol import channels, messages
from wardcast_protocol.channels import ChannelSpec, Direction, WardChannelSpec
from wardcast_protocol.messages import Kind
from wardcast_protocol.version import PROTOCOL_VERSION

ROOT = f"wardcast/v{PROTOCOL_VERSION}"

DEVICE_ID_PATTERN = messages.DEVICE_ID_PATTERN
"""A device id is used inside topics and file names: a safe alphabet, so that "+", "#",
"/" or ".." never reach a topic filter or a path (defined with the messages, which
name devices too: a command's ``device_ids``)."""
_DEVICE_ID_RE = re.compile(DEVICE_ID_PATTERN)

DeviceChannel = Kind
"""The per-device sub-topics: one per message kind, named after it."""

RETAINED: frozenset[Kind] = channels.RETAINED
"""Which channels are retained (derived from the channel table)."""

CONTROLLER_AVAILABILITY = f"{ROOT}/controller/availability"

_DEVICE_TOPIC_RE = re.compile(
    rf"{re.escape(ROOT)}/device/(?P<device_id>{DEVICE_ID_PATTERN})/"
    rf"(?P<channel>{'|'.join(re.escape(c.value) for c in channels.CHANNELS)})"
)


WARD_CODE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,15}"
"""A ward code as the controller's places accept it; topic-safe like a device id."""
_WARD_CODE_RE = re.compile(WARD_CODE_PATTERN)

_WARD_TOPIC_RE = re.compile(
    rf"{re.escape(ROOT)}/ward/(?P<ward_code>{WARD_CODE_PATTERN})/"
    rf"(?P<channel>{'|'.join(re.escape(name) for name in channels.WARD_CHANNELS)})"
)


def is_valid_device_id(device_id: str) -> bool:
    """True when ``device_id`` is safe to put in a topic and a file name."""
    # fullmatch, not match with "$": "$" also matches before a trailing newline.
    return bool(_DEVICE_ID_RE.fullmatch(device_id))


def device_topic(device_id: str, channel: DeviceChannel) -> str:
    """The topic of one channel of one device."""
    if not is_valid_device_id(device_id):
        raise ValueError(f"invalid device id {device_id!r}")
    return f"{ROOT}/device/{device_id}/{channel.value}"


def is_valid_ward_code(ward_code: str) -> bool:
    """True when ``ward_code`` is safe to put in a topic."""
    return bool(_WARD_CODE_RE.fullmatch(ward_code))


def ward_topic(ward_code: str, channel: WardChannelSpec = channels.WARD_COMMAND) -> str:
    """The topic of one ward-wide channel: every device of the ward subscribes to it."""
    if not is_valid_ward_code(ward_code):
        raise ValueError(f"invalid ward code {ward_code!r}")
    return f"{ROOT}/ward/{ward_code}/{channel.name}"


@dataclass(frozen=True, slots=True)
class WardTopic:
    """A parsed ward-wide topic."""

    ward_code: str
    channel: WardChannelSpec


def parse_ward(topic: str) -> WardTopic | None:
    """Parse a ward-wide topic; None for anything that is not one."""
    m = _WARD_TOPIC_RE.fullmatch(topic)
    if m is None:
        return None
    return WardTopic(m["ward_code"], channels.WARD_CHANNELS[m["channel"]])


def ward_acl(ward_code: str) -> tuple[str, ...]:
    """What a device of ``ward_code`` may read besides its own topics: its ward's channels.

    Not a ``%u`` pattern (Mosquitto cannot derive a ward from a login), so the broker's
    ACL file names each device with its ward's topics.
    """
    return tuple(ward_topic(ward_code, spec) for spec in channels.WARD_CHANNELS.values())


def all_devices(channel: DeviceChannel) -> str:
    """The subscription filter for one channel of every device (the controller's view)."""
    return f"{ROOT}/device/+/{channel.value}"


@dataclass(frozen=True, slots=True)
class DeviceTopic:
    """A parsed per-device topic."""

    device_id: str
    channel: DeviceChannel

    @property
    def spec(self) -> ChannelSpec:
        """The channel's row of the table: body model, direction, retained, size cap."""
        return channels.CHANNELS[self.channel]


def parse(topic: str) -> DeviceTopic | None:
    """Parse a per-device topic; None for anything that is not one."""
    m = _DEVICE_TOPIC_RE.fullmatch(topic)
    if m is None:
        return None
    return DeviceTopic(m["device_id"], DeviceChannel(m["channel"]))


ACL_PLACEHOLDERS = ("%u", "%c")
"""Mosquitto's pattern substitutions: the connecting client's username or client id."""


@dataclass(frozen=True, slots=True)
class DeviceAcl:
    """What one device may do at the broker, as topic patterns for one placeholder.

    ``publish``: its own device-to-controller channels (it cannot speak for another
    device, nor send itself a plan or a command). ``subscribe``: its own
    controller-to-device channels. Its ward's broadcast topics are per device, not a
    pattern: ``ward_acl``.
    """

    publish: tuple[str, ...]
    subscribe: tuple[str, ...]


def device_topic_pattern(channel: DeviceChannel, placeholder: str = "%u") -> str:
    """One channel's topic with the device id replaced by a broker ACL placeholder."""
    if placeholder not in ACL_PLACEHOLDERS:
        raise ValueError(f"ACL placeholder must be one of {ACL_PLACEHOLDERS}, got {placeholder!r}")
    return f"{ROOT}/device/{placeholder}/{channel.value}"


def device_acl(placeholder: str = "%u") -> DeviceAcl:
    """A device's broker ACL, derived from the channel table's directions."""
    return DeviceAcl(
        publish=tuple(
            device_topic_pattern(c, placeholder)
            for c in channels.inbound_channels(Direction.DEVICE_TO_CONTROLLER)
        ),
        subscribe=tuple(
            device_topic_pattern(c, placeholder)
            for c in channels.inbound_channels(Direction.CONTROLLER_TO_DEVICE)
        ),
    )


def everything() -> str:
    """The filter of the whole Wardcast tree (the controller's own account)."""
    return f"{ROOT}/#"


SHARE_PREFIX = "$share/"  # MQTT v5 shared subscriptions: $share/<group>/<filter>


def shared_subscription(group: str, topic_filter: str) -> str:
    """``topic_filter`` taken by a group of subscribers, each message by one of them
    (replicas of the controller sharing ingest, docs/scale.md)."""
    if not group or any(c in group for c in "/+#"):
        raise ValueError(f"a share group is one topic level without wildcards, got {group!r}")
    return f"{SHARE_PREFIX}{group}/{topic_filter}"


def unshared(topic_filter: str) -> str:
    """The filter messages are matched against: without a ``$share/<group>/`` prefix."""
    if topic_filter.startswith(SHARE_PREFIX):
        return topic_filter.split("/", 2)[2]
    return topic_filter


class TopicFilter:
    """A topic filter split into its levels once, then matched by comparing levels.

    Same rules as paho's ``topic_matches_sub`` (``+`` one level, ``#`` the rest or
    nothing, wildcards in the first level never match a ``$`` topic), which builds a
    trie for every call: on an agent that was a tenth of the CPU spent per received
    command, paid again for every handler.
    """

    __slots__ = ("_levels", "_wild_first")

    def __init__(self, topic_filter: str) -> None:
        self._levels = tuple(unshared(topic_filter).split("/"))
        self._wild_first = self._levels[0] in ("+", "#")

    def matches(self, topic: str) -> bool:
        """True when a message published on ``topic`` is for this filter."""
        if self._wild_first and topic.startswith("$"):
            return False
        parts = topic.split("/")
        count = len(parts)
        for i, level in enumerate(self._levels):
            if level == "#":
                return True
            if i >= count or (level != "+" and level != parts[i]):
                return False
        return count == len(self._levels)


PROVINCE_PREFIX = "prov"
"""Downlink to a province's bridged broker is published at the centre under
``prov/<province_code>/``; the province's bridge strips it (docs/scale.md)."""

PROVINCE_CODE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"
"""A province code as the controller's places accept it (API or import): topic-safe,
and safe in a broker login name."""
_PROVINCE_CODE_RE = re.compile(PROVINCE_CODE_PATTERN)


def is_valid_province_code(province_code: str) -> bool:
    """True when ``province_code`` is safe to put in a topic (and a broker login)."""
    return bool(_PROVINCE_CODE_RE.fullmatch(province_code))


def downlink_topic(topic: str, province_code: str | None) -> str:
    """``topic`` as the controller publishes it for a device of ``province_code``:
    under ``prov/<code>/``, taken down by that province's bridge only; None: as is
    (a device reached on the centre's own broker)."""
    if province_code is None:
        return topic
    if not is_valid_province_code(province_code):
        raise ValueError(f"invalid province code {province_code!r}")
    return f"{PROVINCE_PREFIX}/{province_code}/{topic}"


def province_downlink_filter(province_code: str) -> str:
    """Everything the centre publishes for one province's devices (its bridge's view)."""
    return downlink_topic(everything(), province_code)


def any_province_downlink() -> str:
    """Every province's downlink (what the controller publishes at the centre)."""
    return f"{PROVINCE_PREFIX}/+/{everything()}"


@dataclass(frozen=True, slots=True)
class BridgeAcl:
    """What a province broker's bridge may do at the centre's broker.

    ``subscribe``: its own province's downlink only (``prov/<code>/...``), never
    another province's. ``publish``: the device-to-controller channels of any device
    (Mosquitto cannot tell which devices are behind a bridge; their signatures are
    checked by the controller all the same), never a plan, a command or an ack.
    """

    publish: tuple[str, ...]
    subscribe: tuple[str, ...]


def bridge_acl(province_code: str) -> BridgeAcl:
    """A province bridge's broker ACL at the centre, from the channel table's directions."""
    return BridgeAcl(
        publish=tuple(
            all_devices(c) for c in channels.inbound_channels(Direction.DEVICE_TO_CONTROLLER)
        ),
        subscribe=(province_downlink_filter(province_code),),
    )
