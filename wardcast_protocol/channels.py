"""The channel table: every per-device channel of the protocol, described once.

A device's topic tree has one sub-topic per message kind (``Kind``, alias
``topics.DeviceChannel``). Each row of ``CHANNELS`` says what that channel carries:
its body model, who sends it, whether it is retained and how many bytes a receiver
reads at most. Everything else is derived from this table, never written again:

- ``BODY_MODELS`` and ``MAX_PAYLOAD_BYTES``: what ``envelope.open_envelope`` checks;
- ``RETAINED``: the retained channels (``topics.RETAINED`` too);
- ``CONTROLLER_INBOUND`` and ``AGENT_INBOUND``: what each side subscribes to and
  accepts (``inbound_channels``);
- the topic table and size limits of docs/protocol.md (``scripts/protocol_examples.py``).

Invariant: state is retained, commands are not. Availability, state and plan are
retained, so a peer that (re)connects sees the present at once; command, event, ack
and security never are, because a retained command would re-execute after every
restart (and an agent refuses any command delivered retained).

To add a message: its body model in ``messages``, a ``Kind`` member, a row here.

Beside the per-device channels, ``WARD_CHANNELS`` lists the channels one controller
publish delivers to every device of a ward (``wardcast/v1/ward/{ward_code}/...``): a
"now" or an emergency to a thousand devices is one signed command naming them all
(``Command.device_ids``), not a thousand. A ward channel carries an existing kind,
opened and checked exactly like that kind's per-device channel; only the controller
publishes on it, and a device may subscribe only to its own ward's (the broker ACL).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from pydantic import BaseModel

from wardcast_protocol.messages import (
    Availability,
    Command,
    DeviceState,
    EventAck,
    Kind,
    Plan,
    PlaybackEvent,
    SecurityReport,
)


class Direction(StrEnum):
    """Who sends on a channel, and so who subscribes to it and whose key signs it."""

    DEVICE_TO_CONTROLLER = "device_to_controller"  # signed by the device's own key
    CONTROLLER_TO_DEVICE = "controller_to_device"  # signed by the controller's key


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    """One channel: the kind it carries, its body model, direction, retention and size cap.

    ``max_payload_bytes`` bounds the whole wire payload, checked before any parsing:
    a hostile or broken peer cannot make a receiver parse megabytes.
    """

    channel: Kind
    body: type[BaseModel]
    direction: Direction
    retained: bool
    max_payload_bytes: int


_KIB = 1024

_SPECS = (
    # channel, body model, direction, retained, max payload bytes
    ChannelSpec(Kind.AVAILABILITY, Availability, Direction.DEVICE_TO_CONTROLLER, True, 4 * _KIB),
    ChannelSpec(Kind.STATE, DeviceState, Direction.DEVICE_TO_CONTROLLER, True, 8 * _KIB),
    ChannelSpec(Kind.PLAN, Plan, Direction.CONTROLLER_TO_DEVICE, True, 4 * _KIB * _KIB),
    ChannelSpec(Kind.COMMAND, Command, Direction.CONTROLLER_TO_DEVICE, False, 64 * _KIB),
    ChannelSpec(Kind.EVENT, PlaybackEvent, Direction.DEVICE_TO_CONTROLLER, False, 16 * _KIB),
    ChannelSpec(Kind.ACK, EventAck, Direction.CONTROLLER_TO_DEVICE, False, 128 * _KIB),
    ChannelSpec(Kind.SECURITY, SecurityReport, Direction.DEVICE_TO_CONTROLLER, False, 8 * _KIB),
)


def _table(specs: tuple[ChannelSpec, ...]) -> Mapping[Kind, ChannelSpec]:
    # Fail at import, not at the first message: a kind without a row (or with two)
    # would otherwise surface as a KeyError on some device months later.
    table = {spec.channel: spec for spec in specs}
    if len(table) != len(specs) or set(table) != set(Kind):
        raise RuntimeError("channels: every Kind needs exactly one ChannelSpec")
    return MappingProxyType(table)


CHANNELS: Mapping[Kind, ChannelSpec] = _table(_SPECS)
"""The one channel table, keyed by kind, in the order of ``Kind``'s declaration."""


def inbound_channels(direction: Direction) -> tuple[Kind, ...]:
    """The channels whose messages flow in ``direction``, in table order."""
    return tuple(spec.channel for spec in CHANNELS.values() if spec.direction is direction)


BODY_MODELS: Mapping[Kind, type[BaseModel]] = MappingProxyType(
    {kind: spec.body for kind, spec in CHANNELS.items()}
)
"""The body model each kind's payload must validate against."""

MAX_PAYLOAD_BYTES: Mapping[Kind, int] = MappingProxyType(
    {kind: spec.max_payload_bytes for kind, spec in CHANNELS.items()}
)
"""What a receiver reads at most, per kind, before even parsing."""

RETAINED: frozenset[Kind] = frozenset(k for k, spec in CHANNELS.items() if spec.retained)
"""The retained channels: state, never commands, events, acks or security reports."""

CONTROLLER_INBOUND: tuple[Kind, ...] = inbound_channels(Direction.DEVICE_TO_CONTROLLER)
"""What the controller subscribes to on every device, and accepts from devices."""

AGENT_INBOUND: tuple[Kind, ...] = inbound_channels(Direction.CONTROLLER_TO_DEVICE)
"""What an agent subscribes to on its own device, and accepts from the controller."""


@dataclass(frozen=True, slots=True)
class WardChannelSpec:
    """A channel shared by every device of a ward: one publish reaches them all.

    ``kind`` is the envelope kind it carries (and so its body model and size limit);
    its direction and retention are that kind's, checked at import.
    """

    name: str
    kind: Kind

    @property
    def spec(self) -> ChannelSpec:
        """The carried kind's row: body model, direction, retained flag, size cap."""
        return CHANNELS[self.kind]


def _ward_table(specs: tuple[WardChannelSpec, ...]) -> Mapping[str, WardChannelSpec]:
    table = {spec.name: spec for spec in specs}
    for spec in specs:
        # Only the controller speaks to a whole ward, and never retained: a retained
        # command would play again on every device's every reconnect.
        if spec.spec.direction is not Direction.CONTROLLER_TO_DEVICE or spec.spec.retained:
            raise RuntimeError(f"ward channel {spec.name!r}: controller to device, not retained")
    if len(table) != len(specs):
        raise RuntimeError("channels: two ward channels share a name")
    return MappingProxyType(table)


WARD_COMMAND = WardChannelSpec("command", Kind.COMMAND)
"""A command for many devices of one ward ("now", emergency, stop), naming each."""

WARD_CHANNELS: Mapping[str, WardChannelSpec] = _ward_table((WARD_COMMAND,))
"""The ward-wide channels, by name: what an agent subscribes to for its ward."""
