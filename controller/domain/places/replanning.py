"""Place changes that devices' plans follow at once.

A device's plan depends on where it is placed: its ward's programme (in the ward's time
zone), the sessions whose zones take in its group, the ward channel its agent listens
on. A device moved to another ward, a ward's time zone corrected, a zone redrawn, a
ward imported: until now the plans followed only at the next standing recompile (every
10 minutes by default), so a loudspeaker moved to another ward went on airing its old
ward's programme, at its old ward's times, meanwhile. Each such change now runs inside
``PlanService.changing`` and names the devices it may move; their plans are recompiled
in the same transaction and published after the commit (those that did not change are
not published: the digest decides).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from sqlalchemy.orm import Session

from controller.domain.plans.service import PlanService

T = TypeVar("T")


class PlaceChanges:
    """Runs a change of places in the plans' transaction, then replans what it moved."""

    def __init__(self, plans: PlanService) -> None:
        self._plans = plans

    def apply(
        self,
        change: Callable[[Session], T],
        *,
        wards: Iterable[str | None] = (),
        devices: Iterable[str] = (),
    ) -> T:
        """``change(session)``, committed with the plans of ``devices`` and of every
        device placed in ``wards`` (as the change leaves them) recompiled; its result."""
        with self._plans.changing() as changing:
            result = change(changing.session)
            changing.session.flush()  # the wards' devices as the change placed them
            moved = set(devices)
            for ward_code in {w for w in wards if w is not None}:
                moved.update(self._plans.ward_devices(changing.session, ward_code))
            changing.recompile(moved)
        return result
