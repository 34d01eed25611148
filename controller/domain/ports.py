"""What the domain needs from the outside, as small interfaces (ports).

The domain tells ``Outbound`` to publish a plan or send a command; the messaging
layer implements it over MQTT and unit tests with a recorder.
"""

from __future__ import annotations

from typing import Protocol

from wardcast_protocol.messages import Command, Plan


class Outbound(Protocol):
    """Messages the controller sends to devices."""

    def publish_plan(self, plan: Plan) -> None:
        """Publish a device's plan as retained state."""
        ...

    def send_command(self, device_id: str, command: Command) -> None:
        """Send a one-shot command (never retained, expires)."""
        ...
