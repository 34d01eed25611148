"""The rows the outbox keeps, as the agent holds them: values, no SQLite.

An event as sealed and stored (``StoredEvent``), a play started and not yet reported
(``JournalRow``), a "now" accepted and not yet played (``QueuedPlay``), and the JSON
the latter two keep of their item (``item_json``). They live apart from ``Outbox``
because they travel beyond it: the evidence seals a ``StoredEvent`` and the uplink
resends it without ever opening the database, the commands build a ``QueuedPlay``,
the play journal reads back the ``JournalRow``s a crash left. ``Outbox``
(``edge_agent/outbox.py``) alone turns them into rows and back, in transactions whose
invariants its docstring states.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from wardcast_protocol.messages import PlanItem


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One sealed event as kept in the outbox."""

    seq: int
    event_id: str
    wire: bytes
    digest: str


@dataclass(frozen=True, slots=True)
class JournalRow:
    """A play that started and has no event yet."""

    item_id: str
    started_at: datetime
    item_json: str
    plan_version: int | None
    sounding_at: datetime | None = None  # its first sample
    progress_at: datetime | None = None  # the last instant it was known to be sounding
    ended_json: str | None = None  # how it ended, once it did (its event not yet written)

    @property
    def played_s(self) -> float:
        """Seconds known to have sounded before the play was cut (0 if it never did)."""
        if self.sounding_at is None or self.progress_at is None:
            return 0.0
        return max(0.0, (self.progress_at - self.sounding_at).total_seconds())


_ITEM_JSON: dict[int, tuple[PlanItem, str]] = {}  # by id(item), the item kept alive with it
_ITEM_JSON_KEPT = 64


def item_json(item: PlanItem) -> str:
    """The JSON a row keeps of ``item``, serialized once per item object.

    A "now" is written twice before it sounds (its command row, its journal row), and
    a simulated fleet's agents share one parsed command: one serialization for all.
    Items are frozen, so an item object's JSON never changes; the entry holds the item,
    so its id cannot be reused by another while the entry lives.
    """
    hit = _ITEM_JSON.get(id(item))
    if hit is not None and hit[0] is item:
        return hit[1]
    text = item.model_dump_json()
    if len(_ITEM_JSON) >= _ITEM_JSON_KEPT:
        _ITEM_JSON.clear()
    _ITEM_JSON[id(item)] = (item, text)
    return text


@dataclass(frozen=True, slots=True)
class QueuedPlay:
    """A PlayNow item accepted but not yet played."""

    item_id: str
    item_json: str
    due_at: datetime
    expires_at: datetime | None = None
