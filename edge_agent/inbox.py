"""Everything the controller sends a device is opened here, and only here.

A payload becomes a ``Plan``, ``Command`` or ``EventAck`` only after its size, shape,
protocol version, kind, sender and Ed25519 signature (against the controller key the
device was provisioned with) all check out; otherwise ``RejectedMessage`` says why,
and the agent logs the reason and carries on. Which channels an agent accepts, and
what each carries, is the protocol's channel table (``channels.AGENT_INBOUND``).
"""

from __future__ import annotations

from wardcast_protocol.channels import AGENT_INBOUND
from wardcast_protocol.envelope import CONTROLLER_SENDER, RejectedMessage, open_envelope
from wardcast_protocol.messages import Command, EventAck, Plan
from wardcast_protocol.topics import parse, parse_ward

Inbound = Plan | Command | EventAck


def open_inbound(
    topic: str,
    payload: bytes,
    device_id: str,
    controller_public_key: str,
    *,
    ward_code: str | None = None,
) -> Inbound | None:
    """The verified body of a message for ``device_id``; None for a cleared retained topic.

    ``ward_code``: the ward whose broadcast channel this device listens to; a command
    there is opened like one on its own topic (whom it names is the caller's check).
    Raises ``RejectedMessage`` (reason ``unexpected_topic``, ``wrong_device`` or any of
    ``open_envelope``'s) for anything that must not be acted on.
    """

    def keys(sender: str) -> str | None:
        return controller_public_key if sender == CONTROLLER_SENDER else None

    ward = parse_ward(topic)
    if ward is not None and ward_code is not None and ward.ward_code == ward_code:
        ward_body = open_envelope(payload, ward.channel.kind, keys, CONTROLLER_SENDER).body
        if not isinstance(ward_body, Command):  # pragma: no cover - WARD_CHANNELS
            raise RejectedMessage("wrong_kind", type(ward_body).__name__)
        return ward_body
    parsed = parse(topic)
    if parsed is None or parsed.channel not in AGENT_INBOUND or parsed.device_id != device_id:
        raise RejectedMessage("unexpected_topic", f"not a topic of {device_id!r}: {topic!r}")
    if not payload and parsed.spec.retained:
        return None  # an operator cleared the retained message: keep what we have

    body = open_envelope(payload, parsed.channel, keys, CONTROLLER_SENDER).body
    if isinstance(body, Plan) and body.device_id != device_id:
        raise RejectedMessage("wrong_device", f"plan is for {body.device_id!r}")
    if not isinstance(body, Plan | Command | EventAck):  # pragma: no cover - BODY_MODELS
        raise RejectedMessage("wrong_kind", type(body).__name__)
    return body
