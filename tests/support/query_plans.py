"""SQLite's own plan for the reads of the tables that grow with each device's history.

A read that finds its rows by the device alone walks every play, broadcast or event
that device ever had; one that ranges over a device's ``planned_start <`` walks its
past; a scan walks everybody's. Both are
fast on a new database and slow after months, so timing a test would not see them: the
query planner's answer does (``EXPLAIN QUERY PLAN``, on the same statement and
parameters the code ran). See docs/scale.md, "A ward after months".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event

HISTORY_TABLES = ("planned_plays", "broadcast_targets", "playback_evidence")


def reads_of(engine: Engine, action: Callable[[], object]) -> list[tuple[str, Any]]:
    """The SELECTs ``action`` runs on ``HISTORY_TABLES``, with their parameters."""
    reads: list[tuple[str, Any]] = []

    def note(_conn: object, _cursor: object, statement: str, params: Any, *_rest: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and any(
            table in statement for table in HISTORY_TABLES
        ):
            reads.append((statement, params))

    event.listen(engine, "before_cursor_execute", note)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return reads


def assert_no_history_walked(engine: Engine, reads: list[tuple[str, Any]]) -> None:
    """For each read: no scan of those tables, no range over a device's past, nothing
    found by its device alone."""
    with engine.connect() as conn:
        for statement, params in reads:
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params).all()
            steps = [str(s[3]) for s in plan if any(t in str(s[3]) for t in HISTORY_TABLES)]
            for step in steps:
                assert not step.startswith("SCAN"), (step, statement)
                device_past = "device_id=? AND planned_start<" in step
                assert not device_past, (step, statement)
                assert "(device_id=?)" not in step, (step, statement)


def vm_steps(engine: Engine, action: Callable[[], object]) -> int:
    """The work SQLite did for ``action``'s statements, in virtual-machine instructions
    (counted in steps of 10): where a plan's text cannot tell one seek from a walk (a
    max down a key reads the same as a scan of it), the work grows with what is walked."""
    steps = 0
    touched: list[Any] = []

    def tick() -> int:
        nonlocal steps
        steps += 1
        return 0  # go on

    def note(conn: Any, *_rest: object) -> None:
        driver = conn.connection.driver_connection
        if driver not in touched:
            driver.set_progress_handler(tick, 10)
            touched.append(driver)

    event.listen(engine, "before_cursor_execute", note)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", note)
        for driver in touched:
            driver.set_progress_handler(None, 0)
    return steps
