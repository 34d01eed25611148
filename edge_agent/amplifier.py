"""The amplifier gate: the relay switched on and settled before the first sample, off after.

Every way of making sound goes through it (both players, and a relay's stream): relay
on, volume set, and a settle delay before the first sample; relay off afterwards,
always, even on failure. The settle delay is the player's ``lead_s``: the agent starts
a planned play that much early and passes ``start_at``, so the first sample still goes
out at the planned instant.

Back to back the amplifier stays on across two plays: the gate counts its holders, and
only the last one out switches it off.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from types import TracebackType

from firmware_stubs.hardware import Hardware
from firmware_stubs.interfaces import HardwareFault
from wardcast_protocol.clock import Clock

log = logging.getLogger(__name__)


class AmplifierGate:
    """Relay on, volume set and settle before; relay off after, even on failure.

    Entering yields the current sensor's verdict (None without hardware). A relay that
    cannot be switched on raises ``HardwareFault``: there would be no sound to report.
    """

    def __init__(
        self, hardware: Hardware | None, clock: Clock, settle_s: float, volume: int | None
    ) -> None:
        self._hardware = hardware
        self._clock = clock
        self._settle_s = settle_s
        self._volume = volume
        # Two plays hold the gate while one hands over to the next, back to back: the
        # first one's exit must not switch off the amplifier the second one plays on.
        self._holders = 0
        self._settled_at: datetime | None = None

    @property
    def lead_s(self) -> float:
        """The settle delay, when there is an amplifier to wait for."""
        return self._settle_s if self._hardware is not None else 0.0

    async def __aenter__(self) -> bool | None:
        hw = self._hardware
        if hw is None:
            return None
        if self._volume is not None:
            hw.volume.set(self._volume)
        if self._holders == 0:
            try:
                hw.relay.on()
            except HardwareFault:
                self._off()
                raise
            self._settled_at = self._clock.now() + timedelta(seconds=self._settle_s)
        self._holders += 1
        try:
            # Already on for the play before: only what is left of its settling.
            settled_at = self._settled_at or self._clock.now()
            remaining = (settled_at - self._clock.now()).total_seconds()
            if remaining > 0:
                await self._clock.sleep(remaining)
        except BaseException:
            self._leave()
            raise
        return hw.sensors.amplifier_current_ok()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._leave()

    def _leave(self) -> None:
        if self._hardware is None:
            return
        self._holders = max(0, self._holders - 1)
        if self._holders == 0:
            self._settled_at = None
            self._off()

    def _off(self) -> None:
        if self._hardware is None:
            return
        try:
            self._hardware.relay.off()
        except HardwareFault as exc:
            # Nothing more to do from software; the evidence and the log carry it.
            log.error("could not switch the amplifier off: %s", exc)
