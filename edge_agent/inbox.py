"""Everything the controller sends a device is opened here, and only here.

A payload becomes a ``Plan``, ``Command`` or ``EventAck`` only after its size, shape,
protocol version, kind, sender and Ed25519 signature (against the controller key the
device was provisioned with) all check out; otherwise ``RejectedMessage`` says why,
and the agent logs the reason and carries on.
"""

from __future__ import annotations

from wardcast_protocol.envelope import CONTROLLER_SENDER, RejectedMessage, open_envelope
from wardcast_protocol.messages import Command, EventAck, Kind, Plan
from wardcast_protocol.topics import DeviceChannel, parse

INBOUND: dict[DeviceChannel, Kind] = {
    DeviceChannel.PLAN: Kind.PLAN,
    DeviceChannel.COMMAND: Kind.COMMAND,
    DeviceChannel.ACK: Kind.ACK,
}
"""The channels an agent subscribes to, and the message kind each carries."""

Inbound = Plan | Command | EventAck


def open_inbound(
    topic: str, payload: bytes, device_id: str, controller_public_key: str
) -> Inbound | None:
    """The verified body of a message for ``device_id``; None for a cleared retained topic.

    Raises ``RejectedMessage`` (reason ``unexpected_topic``, ``wrong_device`` or any of
    ``open_envelope``'s) for anything that must not be acted on.
    """
    parsed = parse(topic)
    kind = INBOUND.get(parsed.channel) if parsed else None
    if parsed is None or kind is None or parsed.device_id != device_id:
        raise RejectedMessage("unexpected_topic", f"not a topic of {device_id!r}: {topic!r}")
    if not payload:
        return None  # an operator cleared the retained message: keep what we have

    def keys(sender: str) -> str | None:
        return controller_public_key if sender == CONTROLLER_SENDER else None

    body = open_envelope(payload, kind, keys, CONTROLLER_SENDER).body
    if isinstance(body, Plan) and body.device_id != device_id:
        raise RejectedMessage("wrong_device", f"plan is for {body.device_id!r}")
    if not isinstance(body, Plan | Command | EventAck):  # pragma: no cover - BODY_MODELS
        raise RejectedMessage("wrong_kind", type(body).__name__)
    return body
