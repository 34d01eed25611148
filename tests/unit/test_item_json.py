"""An item's JSON is made once per item object, and is always that item's."""

from __future__ import annotations

from datetime import UTC, datetime

from edge_agent.controller_stand_in import plan_item
from edge_agent.outbox_rows import item_json
from wardcast_protocol.messages import MediaRef

MEDIA = MediaRef(url="http://x/a.ogg", sha256="a" * 64, size_bytes=10, duration_s=1)


def test_each_item_reads_as_itself_however_many_come_and_go() -> None:
    start = datetime(2026, 3, 2, 5, tzinfo=UTC)
    items = [plan_item(f"it-{n}", MEDIA, start) for n in range(200)]  # past the cache's size
    for item in items + items[::-1]:
        assert item_json(item) == item.model_dump_json()
    again = plan_item("it-0", MEDIA, start)  # equal, another object
    assert item_json(again) == item_json(items[0])
    assert item_json(items[0]) is item_json(items[0])  # made once, then reused
