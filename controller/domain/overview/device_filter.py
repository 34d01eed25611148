"""Finding the loudspeakers that need a look among a thousand: filter, count, page.

A province's reader has hundreds or thousands of devices; one list of all of them (a
megabyte of HTML at 1,000) hides the three that went silent before dawn. So the list
is narrowed by ward, by state and by a piece of the id or name, and each state is
counted among the devices the other filters keep, so "offline: 12" is always a
click away and says how many there are before it is clicked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from controller.domain.overview.devices import STATES, DeviceStatus


@dataclass(frozen=True)
class DeviceFilter:
    """What to keep: one ward, one state, a piece of the id, name or group (any case)."""

    ward_code: str | None = None
    state: str | None = None
    text: str = ""

    def __post_init__(self) -> None:
        if self.state is not None and self.state not in STATES:
            raise ValueError(f"unknown device state {self.state!r}; one of {', '.join(STATES)}")

    def place_and_text(self, status: DeviceStatus) -> bool:
        """Whether ``status`` is kept by the ward and the text (the state aside)."""
        if self.ward_code is not None and status.ward_code != self.ward_code:
            return False
        needle = self.text.strip().casefold()
        if not needle:
            return True
        return any(
            needle in (value or "").casefold()
            for value in (status.device_id, status.name, status.group_code)
        )


@dataclass(frozen=True)
class DeviceSelection:
    """One page of the devices a filter keeps, and what it counted on the way."""

    rows: list[DeviceStatus]
    matched: int  # devices the whole filter keeps (every page)
    total: int  # devices the reader may see, before any filter
    # Devices in each state among those the ward and text keep.
    by_state: dict[str, int] = field(default_factory=dict)


def select_devices(
    statuses: Sequence[DeviceStatus], wanted: DeviceFilter, limit: int, offset: int
) -> DeviceSelection:
    """The devices ``wanted`` keeps, in the order given, ``limit`` from ``offset``."""
    placed = [s for s in statuses if wanted.place_and_text(s)]
    counts = Counter(s.state for s in placed)
    kept = placed if wanted.state is None else [s for s in placed if s.state == wanted.state]
    return DeviceSelection(
        rows=kept[offset : offset + limit],
        matched=len(kept),
        total=len(statuses),
        by_state={state: counts.get(state, 0) for state in STATES},
    )
