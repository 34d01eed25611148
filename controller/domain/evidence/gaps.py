"""Asking devices again for evidence missing from their chains (xin gửi lại bằng chứng).

A gap is recorded when a device's sequence numbers jump; the device still holds the
missing events in its outbox (it deletes one only on our ack), so a ``ResendEvents``
command brings them back. Asking is throttled per gap: a device on a flaky 4G link
is not flooded with the same request every tick.
"""

from __future__ import annotations

from datetime import timedelta

from controller.db.models import new_id
from controller.db.session import Database
from controller.domain.evidence.chain import open_gaps
from controller.domain.ports import Outbound
from wardcast_protocol.clock import Clock
from wardcast_protocol.messages import Command, ResendEvents


class GapRequests:
    """Sends ``ResendEvents`` for open gaps, at most once per interval per gap."""

    def __init__(self, db: Database, outbound: Outbound, clock: Clock, interval_s: int) -> None:
        self._db = db
        self._outbound = outbound
        self._clock = clock
        self._again_after = timedelta(seconds=interval_s)

    def request(self) -> int:
        """Ask each device with open gaps to resend them; returns the devices asked."""
        now = self._clock.now()
        asked: set[str] = set()
        with self._db.session() as session:
            for gap in open_gaps(session):
                if gap.requested_at is not None and now - gap.requested_at < self._again_after:
                    continue
                command = Command(
                    command_id=new_id("cmd"),
                    device_ids=(gap.device_id,),
                    issued_at=now,
                    expires_at=now + self._again_after,
                    order=ResendEvents(from_seq=gap.from_seq, to_seq=gap.to_seq),
                )
                self._outbound.send_command(gap.device_id, command)
                gap.requested_at = now
                asked.add(gap.device_id)
        return len(asked)
