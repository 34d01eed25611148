"""What the domain needs from the outside, as small interfaces (ports).

The domain tells ``Outbound`` to publish a plan or send a command; the messaging
layer implements it over MQTT and unit tests with a recorder.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from wardcast_protocol.messages import Command, Plan, PlayNow, StopItem


class Outbound(Protocol):
    """Messages the controller sends to devices."""

    def publish_plan(self, plan: Plan) -> None:
        """Publish a device's plan as retained state."""
        ...

    def send_command(self, device_id: str, command: Command) -> None:
        """Send a one-shot command (never retained, expires)."""
        ...

    def send_order(
        self,
        targets: Mapping[str, str | None],
        order: PlayNow | StopItem,
        issued_at: datetime,
        expires_at: datetime,
    ) -> None:
        """Send one order to many devices (device id -> its ward), in as few signed
        commands as their addressing allows; each still names its devices, has an id
        and an expiry."""
        ...
