"""What the programme logic needs to know about bulletins, without a database.

The controller answers :class:`ContentLookup` from its storage; tests answer it from
a dict (:class:`DictContent`). Keeping this a protocol is what lets
:mod:`controller.domain.programmes` stay pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

APPROVED = "approved"


@dataclass(frozen=True)
class ContentInfo:
    """One bulletin as the programme checks see it.

    ``status`` is the editorial workflow's: draft, submitted, approved, rejected or
    archived. ``valid_from`` and ``valid_until`` are aware instants (None: open).
    """

    bulletin_id: str
    status: str
    valid_from: datetime | None
    valid_until: datetime | None
    duration_s: float


class ContentLookup(Protocol):
    """Finds a bulletin by id; None when there is no such bulletin."""

    def get(self, bulletin_id: str) -> ContentInfo | None:
        """The bulletin's status, validity and length, or None if it does not exist."""
        ...


class DictContent:
    """A :class:`ContentLookup` over bulletins held in memory (tests, the offline CLI)."""

    def __init__(self, items: Iterable[ContentInfo] = ()) -> None:
        self._items = {item.bulletin_id: item for item in items}

    def get(self, bulletin_id: str) -> ContentInfo | None:
        """The bulletin with this id, if held."""
        return self._items.get(bulletin_id)


NO_CONTENT = DictContent()
"""A lookup that knows no bulletin: lengths count fixed bulletins as zero seconds."""
