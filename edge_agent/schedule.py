"""The play queue: what is still to play, and in which order.

The rule (docs/priorities.md): an EMERGENCY item that is due plays first and preempts
whatever non-emergency item plays; every other item waits its turn in ``due_at``
order (the planned start, or the moment a PlayNow arrived) - the controller has put
priority bulletins first in the session already - with ties broken by priority
(emergency, priority, normal) then item id, so two devices with the same plan play
the same order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from wardcast_protocol.messages import PlanItem, Priority

_RANK = {Priority.EMERGENCY: 0, Priority.PRIORITY: 1, Priority.NORMAL: 2}


@dataclass(frozen=True, slots=True)
class Pending:
    """An item waiting to play.

    ``plan_version`` is None for an item that came by a PlayNow command rather than
    in the plan; ``expires_at`` is that command's expiry (an order not started by
    then is dropped), None for plan items.
    """

    item: PlanItem
    due_at: datetime
    plan_version: int | None
    expires_at: datetime | None = None

    @property
    def item_id(self) -> str:
        """The item's id."""
        return self.item.item_id

    @property
    def is_emergency(self) -> bool:
        """True for an EMERGENCY (khẩn cấp) item."""
        return self.item.priority is Priority.EMERGENCY

    @property
    def from_command(self) -> bool:
        """True when a PlayNow command queued it."""
        return self.plan_version is None

    def order_key(self) -> tuple[datetime, int, str]:
        """Sort key: due time, then priority, then id."""
        return (self.due_at, _RANK[self.item.priority], self.item.item_id)


class PlayQueue:
    """Pending items by id; at most one entry per item id."""

    def __init__(self) -> None:
        self._items: dict[str, Pending] = {}

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._items

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Pending]:
        return iter(sorted(self._items.values(), key=Pending.order_key))

    def add(self, pending: Pending) -> None:
        """Queue an item, replacing an earlier entry for the same id."""
        self._items[pending.item_id] = pending

    def remove(self, item_id: str) -> Pending | None:
        """Take an item out of the queue; None if it was not there."""
        return self._items.pop(item_id, None)

    def drop_plan_items_except(self, keep: Iterable[str]) -> list[Pending]:
        """Remove plan items (not PlayNow ones) whose id is not in ``keep``."""
        wanted = set(keep)
        dropped = [
            p for p in self._items.values() if not p.from_command and p.item_id not in wanted
        ]
        for pending in dropped:
            del self._items[pending.item_id]
        return dropped

    def next_due(self, now: datetime) -> Pending | None:
        """What should play now: a due emergency first, else the first due item."""
        due = [p for p in self._items.values() if p.due_at <= now]
        if not due:
            return None
        emergencies = [p for p in due if p.is_emergency]
        return min(emergencies or due, key=Pending.order_key)

    def emergency_due(self, now: datetime) -> Pending | None:
        """The first due emergency, if any."""
        due = [p for p in self._items.values() if p.is_emergency and p.due_at <= now]
        return min(due, key=Pending.order_key) if due else None

    def next_due_at(self, *, emergencies_only: bool = False) -> datetime | None:
        """The earliest due time among queued items (or only emergencies)."""
        times = [p.due_at for p in self._items.values() if p.is_emergency or not emergencies_only]
        return min(times) if times else None

    def media_sha256s(self) -> set[str]:
        """The media every queued item needs."""
        return {p.item.media.sha256 for p in self._items.values()}
