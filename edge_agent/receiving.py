"""What arrives from the controller, opened and handed to whom it concerns.

Apart from ``core`` because it is the agent's one way in, with its own state: the
ward broadcast channel this device listens to (named by its plan). A message is
opened by ``inbox`` (signature, schema, topic); anything refused is counted, goes to
the security log and is reported; a plan goes to ``plan_intake``; a command, if it
names this device, and an ack go to ``commands``. A ward-wide command that does not
name this device is meant for its neighbours and is ignored quietly.

It runs on the agent's loop only: the agent hops a transport's callbacks onto it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from edge_agent.commands import CommandDesk
from edge_agent.inbox import WardOpenings, open_inbound
from edge_agent.logs import bind_log_context, log_context
from edge_agent.plan_intake import PlanIntake
from edge_agent.security import Refused
from edge_agent.stats import AgentStats
from wardcast_protocol.envelope import RejectedMessage
from wardcast_protocol.messages import Command, Plan
from wardcast_protocol.subscriptions import ReceivedMessage, Unsubscribe
from wardcast_protocol.topics import parse_ward, ward_topic
from wardcast_protocol.transport import Transport

log = logging.getLogger(__name__)


class Receiver:
    """Opens one agent's inbound messages and dispatches them; keeps its ward channel."""

    def __init__(
        self,
        *,
        device_id: str,
        controller_public_key: str,
        transport: Transport,
        stats: AgentStats,
        intake: PlanIntake,
        commands: CommandDesk,
        on_message: Callable[[ReceivedMessage], None],
        ward_openings: Callable[[], WardOpenings | None],
    ) -> None:
        self._device_id = device_id
        self._controller_key = controller_public_key
        self._transport = transport
        self._stats = stats
        self._intake = intake
        self._commands = commands
        self._on_message = on_message
        self._ward_openings = ward_openings
        # The ward broadcast channel this agent listens to (from its plan), if any.
        self.ward: str | None = None
        self._ward_unsubscribe: Unsubscribe | None = None

    def handle_message(self, topic: str, payload: bytes, retained: bool = False) -> None:
        """Open one message and act on it (on the agent's loop)."""
        # Its log records carry message_id: the topic, then the command's id once opened.
        with log_context(message_id=topic):
            self._open_message(topic, payload, retained)

    def _open_message(self, topic: str, payload: bytes, retained: bool) -> None:
        try:
            body = open_inbound(
                topic,
                payload,
                self._device_id,
                self._controller_key,
                ward_code=self.ward,
                shared=self._ward_openings(),
            )
        except RejectedMessage as exc:
            self._stats.rejected[exc.reason] += 1
            self._commands.refuse(Refused(exc.reason, exc.detail), topic)  # logged there
            return
        if body is None:
            log.info("%s: %s cleared; keeping what we have", self._device_id, topic)
        elif isinstance(body, Plan):
            self._intake.accept(body)
        elif isinstance(body, Command) and not self._for_me(body, topic):
            return
        elif isinstance(body, Command):
            bind_log_context(message_id=body.command_id)
            self._commands.accept(body, topic, retained)
        else:
            self._commands.accept_ack(body)

    def listen_to_ward(self, ward_code: str | None) -> None:
        """Subscribe to the ward's broadcast channel the plan names (and leave the old).

        The state published next says which ward this agent listens to; only then
        does the controller address it there rather than on its own topic.
        """
        if ward_code == self.ward:
            return
        if self._ward_unsubscribe is not None:
            self._ward_unsubscribe()
            self._ward_unsubscribe = None
        self.ward = ward_code
        if ward_code is not None:
            self._ward_unsubscribe = self._transport.subscribe(
                ward_topic(ward_code), self._on_message
            )
            log.info("%s: listening to ward %s's broadcasts", self._device_id, ward_code)

    def leave_ward(self) -> None:
        """Drop the ward subscription (the agent has stopped its transport)."""
        if self._ward_unsubscribe is not None:
            self._ward_unsubscribe()
            self._ward_unsubscribe, self.ward = None, None

    def _for_me(self, command: Command, topic: str) -> bool:
        """False for a ward-wide command that does not name this device: meant for its
        neighbours, so ignored quietly (on its own topic that would be a refusal)."""
        return self._device_id in command.device_ids or parse_ward(topic) is None
