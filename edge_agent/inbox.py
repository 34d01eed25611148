"""Everything the controller sends a device is opened here, and only here.

A payload becomes a ``Plan``, ``Command`` or ``EventAck`` only after its size, shape,
protocol version, kind, sender and Ed25519 signature (against the controller key the
device was provisioned with) all check out; otherwise ``RejectedMessage`` says why,
and the agent logs the reason and carries on. Which channels an agent accepts, and
what each carries, is the protocol's channel table (``channels.AGENT_INBOUND``).
"""

from __future__ import annotations

from collections import OrderedDict

from wardcast_protocol.channels import AGENT_INBOUND
from wardcast_protocol.envelope import CONTROLLER_SENDER, RejectedMessage, open_envelope
from wardcast_protocol.messages import Command, EventAck, Kind, Plan
from wardcast_protocol.topics import parse, parse_ward

Inbound = Plan | Command | EventAck


class WardOpenings:
    """Ward commands opened once for all the agents of one process (a simulated fleet).

    A ward's command is one payload for up to 1,000 devices, and opening it (JSON,
    Ed25519 check, schema) is a pure function of the bytes, the channel and the
    controller's key: every agent would compute the very same ``Command``. A real
    device computes it once, for itself, on its own CPU; 500 simulated agents on one
    core would compute it 500 times in a row, a cost no real device has, added to the
    later ones' start. So a fleet opens it once and hands each agent the result (a
    frozen model). Only what opened cleanly is remembered, under the full input
    (payload, kind, key); a refused payload is opened, and refused, by every agent.
    Whether the command is *for this agent* is not shared: each agent still checks
    that it is named, not expired, not early, not retained and not seen before
    (``security.check_command``, ``CommandDesk.remember``). An agent on its
    own (a Pi) has no ``WardOpenings``.
    """

    def __init__(self, size: int = 8) -> None:
        self._size = size
        self._opened: OrderedDict[tuple[bytes, Kind, str], Command] = OrderedDict()

    def open(self, payload: bytes, kind: Kind, controller_public_key: str) -> Command:
        """The command ``payload`` holds, as ``open_envelope`` opens it (or raises)."""
        key = (payload, kind, controller_public_key)
        body = self._opened.get(key)
        if body is not None:
            self._opened.move_to_end(key)
            return body
        body = _open_ward(payload, kind, controller_public_key)
        self._opened[key] = body
        while len(self._opened) > self._size:
            self._opened.popitem(last=False)
        return body


def _open_ward(payload: bytes, kind: Kind, controller_public_key: str) -> Command:
    def keys(sender: str) -> str | None:
        return controller_public_key if sender == CONTROLLER_SENDER else None

    body = open_envelope(payload, kind, keys, CONTROLLER_SENDER).body
    if not isinstance(body, Command):  # pragma: no cover - WARD_CHANNELS
        raise RejectedMessage("wrong_kind", type(body).__name__)
    return body


def open_inbound(
    topic: str,
    payload: bytes,
    device_id: str,
    controller_public_key: str,
    *,
    ward_code: str | None = None,
    shared: WardOpenings | None = None,
) -> Inbound | None:
    """The verified body of a message for ``device_id``; None for a cleared retained topic.

    ``ward_code``: the ward whose broadcast channel this device listens to; a command
    there is opened like one on its own topic (whom it names is the caller's check),
    through ``shared`` when the agent is one of a fleet (see ``WardOpenings``).
    Raises ``RejectedMessage`` (reason ``unexpected_topic``, ``wrong_device`` or any of
    ``open_envelope``'s) for anything that must not be acted on.
    """

    def keys(sender: str) -> str | None:
        return controller_public_key if sender == CONTROLLER_SENDER else None

    ward = parse_ward(topic)
    if ward is not None and ward_code is not None and ward.ward_code == ward_code:
        if shared is not None:
            return shared.open(payload, ward.channel.kind, controller_public_key)
        return _open_ward(payload, ward.channel.kind, controller_public_key)
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
