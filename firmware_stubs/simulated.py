"""In-memory drivers for the simulator and the tests.

Each records its transitions with a timestamp, so a test can check *when* the relay
closed relative to playback, and each can be told to fail the way real hardware
does: a relay that is stuck open, a driver that raises, an amplifier that draws no
current.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from firmware_stubs.interfaces import HardwareFault, check_volume

Now = Callable[[], datetime]


def utc_now() -> datetime:
    """The machine clock, UTC-aware (the default time source of the drivers)."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Transition:
    """One recorded change: what was set, to which value, when."""

    at: datetime
    what: str
    value: object


@dataclass
class SimulatedRelay:
    """An amplifier relay in memory.

    ``stuck`` models a welded or broken relay: calls succeed but the contact does
    not move (``is_on`` reports what was asked, the current sensor tells the
    truth). ``fail_with`` makes the next calls raise, like an unwritable GPIO.
    """

    now: Now = utc_now
    stuck: bool = False
    fail_with: HardwareFault | None = None
    transitions: list[Transition] = field(default_factory=list)
    _commanded: bool = False
    _contact_closed: bool = False

    def on(self) -> None:
        """Close the relay (recorded)."""
        self._set(True)

    def off(self) -> None:
        """Open the relay (recorded)."""
        self._set(False)

    def is_on(self) -> bool:
        """What was last commanded."""
        return self._commanded

    @property
    def contact_closed(self) -> bool:
        """Whether the contact really closed (differs from ``is_on`` when stuck)."""
        return self._contact_closed

    def _set(self, value: bool) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self._commanded = value
        if not self.stuck:
            self._contact_closed = value
        self.transitions.append(Transition(self.now(), "relay", value))


@dataclass
class SimulatedVolume:
    """A volume control in memory (recorded)."""

    now: Now = utc_now
    level: int = 80
    transitions: list[Transition] = field(default_factory=list)

    def get(self) -> int:
        """The current level."""
        return self.level

    def set(self, level: int) -> None:
        """Set the level (0-100)."""
        self.level = check_volume(level)
        self.transitions.append(Transition(self.now(), "volume", level))


@dataclass
class SimulatedSensors:
    """Sensors that read the simulated relay's real contact.

    ``amplifier_dead`` models a blown amplifier or fuse: the relay closes but no
    current flows, the failure a field officer most needs to see in the evidence.
    """

    relay: SimulatedRelay
    amplifier_dead: bool = False
    temperature: float = 42.0

    def amplifier_current_ok(self) -> bool:
        """True when the contact is closed and the amplifier is alive."""
        return self.relay.contact_closed and not self.amplifier_dead

    def temperature_c(self) -> float:
        """The configured temperature."""
        return self.temperature


@dataclass
class SimulatedWatchdog:
    """A watchdog that only records kicks; ``expired`` says if it would have fired."""

    timeout_s: float = 60.0
    now: Now = utc_now
    kicks: list[datetime] = field(default_factory=list)

    def kick(self) -> None:
        """Record a kick."""
        self.kicks.append(self.now())

    def expired(self, at: datetime | None = None) -> bool:
        """True if no kick happened within ``timeout_s`` before ``at`` (default now)."""
        at = at or self.now()
        if not self.kicks:
            return False
        return (at - self.kicks[-1]).total_seconds() > self.timeout_s
