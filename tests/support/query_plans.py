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


def postgres_rows_examined(session: Any, statement: Any, table: str) -> tuple[int, list[str]]:
    """PostgreSQL's count of ``table``'s rows a statement touched, and how it reached them.

    Runs ``EXPLAIN (ANALYZE, FORMAT JSON)`` on the statement as compiled for the session:
    each node reading ``table`` counts the rows it returned (over all its loops) and
    those its filters threw away. A read by key touches what it returns; a read that
    walks a device's history, or the whole table, touches that history too. PostgreSQL
    gives a node's rows per loop as a rounded average, so the count is near, not exact:
    enough to tell a look-up from a walk.
    """
    compiled = statement.compile(session.get_bind())
    explained = session.connection().exec_driver_sql(
        "EXPLAIN (ANALYZE, FORMAT JSON) " + str(compiled), compiled.params
    )
    plan = explained.scalar_one()  # psycopg hands the JSON back parsed
    assert isinstance(plan, list), type(plan)
    touched, ways = 0, []

    def walk(node: dict[str, Any]) -> None:
        nonlocal touched
        if node.get("Relation Name") == table:
            loops = node.get("Actual Loops", 1)
            touched += node.get("Actual Rows", 0) * loops
            touched += node.get("Rows Removed by Filter", 0) * loops
            touched += node.get("Rows Removed by Index Recheck", 0) * loops
            ways.append(node["Node Type"])
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return touched, ways
