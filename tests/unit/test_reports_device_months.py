"""Device months: a device's days summed by month, kept equal to the days they sum.

A device list over whole months reads ``report_device_months``; these tests hold it to
what the device days say, after the days are summed and after late evidence re-sums one.
The scene (tests/unit/test_bundles_support.py) stores its events as a real device's are.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from controller.db.models import Base, Ward
from controller.db.models.rollups import ReportDeviceDay, ReportDeviceMonth
from controller.db.session import MIGRATIONS, Database
from controller.domain.reports import queries
from controller.domain.reports.rollups import RollupRules, ensure_rollups
from controller.domain.reports.rollups.months import (
    DEVICE_SUMS,
    month_end,
    months_touched,
    split_by_months,
)
from controller.domain.reports.scope import ReportRequest, resolve_scope
from tests.unit.test_bundles_support import DAY_START, WARD_A, Scene, scene

__all__ = ["scene"]  # the fixture, imported for pytest

RULES = RollupRules()
FIRST, LAST = date(2026, 1, 25), date(2026, 4, 30)  # the days summed: around the scene's


def sum_days(session: Session) -> None:
    """Sum ward A's days from late January to April, as a report over them would."""
    h_now = DAY_START + timedelta(days=90)
    ward = session.get(Ward, WARD_A)
    assert ward is not None
    ensure_rollups(session, [ward], FIRST, LAST, h_now, RULES)


def months_from_days(session: Session) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """(ward, month, device, group) -> sums and last start, added up from the device days."""
    found: dict[tuple[Any, ...], list[Any]] = {}
    for row in session.scalars(select(ReportDeviceDay)):
        key = (row.ward_code, row.local_date.replace(day=1), row.device_id, row.group_code)
        values = [getattr(row, name) for name in DEVICE_SUMS]
        old = found.setdefault(key, [0] * len(DEVICE_SUMS) + [None])
        old[:-1] = [a + b for a, b in zip(old[:-1], values, strict=True)]
        if row.last_start is not None and (old[-1] is None or row.last_start > old[-1]):
            old[-1] = row.last_start
    return {key: tuple(values) for key, values in found.items()}


def stored_months(session: Session) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """The device months as stored."""
    return {
        (m.ward_code, m.month, m.device_id, m.group_code): (
            *[getattr(m, name) for name in DEVICE_SUMS],
            m.last_start,
        )
        for m in session.scalars(select(ReportDeviceMonth))
    }


def by_device_from_days(session: Session, first: date, last: date, device: str | None) -> Any:
    """What the device list sums, straight from the device days of ``first``..``last``."""
    found: dict[tuple[str, str], list[Any]] = defaultdict(lambda: [0] * len(DEVICE_SUMS))
    query = select(ReportDeviceDay).where(
        ReportDeviceDay.local_date >= first, ReportDeviceDay.local_date <= last
    )
    for row in session.scalars(query):
        if device is None or row.device_id == device:
            sums = found[(row.ward_code, row.device_id)]
            sums[:] = [a + getattr(row, n) for a, n in zip(sums, DEVICE_SUMS, strict=True)]
    return {key: tuple(values) for key, values in found.items()}


def test_months_are_cut_at_whole_months_and_their_edges() -> None:
    assert month_end(date(2024, 2, 10)) == date(2024, 2, 29)
    assert month_end(date(2026, 12, 1)) == date(2026, 12, 31)
    assert months_touched(date(2026, 1, 31), date(2026, 3, 1)) == [
        date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1),
    ]  # fmt: skip
    assert split_by_months(date(2026, 11, 1), date(2026, 11, 30)) == ([date(2026, 11, 1)], [])
    assert split_by_months(date(2026, 1, 15), date(2026, 3, 3)) == (
        [date(2026, 2, 1)],
        [(date(2026, 1, 15), date(2026, 1, 31)), (date(2026, 3, 1), date(2026, 3, 3))],
    )
    assert split_by_months(date(2026, 3, 2), date(2026, 3, 9)) == (
        [], [(date(2026, 3, 2), date(2026, 3, 9))],
    )  # fmt: skip
    year = split_by_months(date(2026, 1, 1), date(2026, 12, 31))
    assert year == ([date(2026, m, 1) for m in range(1, 13)], [])


def test_device_months_are_the_sum_of_their_days_and_follow_a_re_sum(scene: Scene) -> None:
    h, chains = scene
    with h.runtime.db.session() as session:
        sum_days(session)
        summed = stored_months(session)
        assert summed == months_from_days(session)
        assert {key[1] for key in summed} == {date(2026, 3, 1)}  # the scene's days
        # A month row gone wrong, and a day of it marked dirty: the re-sum of that day
        # sums its whole month again from the device days.
        for month in session.scalars(select(ReportDeviceMonth)):
            month.planned += 999
    chains.send("to-2", DAY_START + timedelta(hours=9))  # late evidence marks that day dirty
    with h.runtime.db.session() as session:
        sum_days(session)
        assert stored_months(session) == months_from_days(session) == summed


def test_a_device_list_reads_the_same_figures_from_months_as_from_days(scene: Scene) -> None:
    h, _ = scene
    periods = [
        (date(2026, 3, 1), date(2026, 3, 31)),  # one whole month
        (date(2026, 3, 2), date(2026, 4, 30)),  # days of March, then April whole
        (date(2026, 2, 1), date(2026, 3, 31)),  # two whole months
        (date(2026, 2, 15), date(2026, 3, 1)),  # two edges, no whole month
        (date(2026, 3, 2), date(2026, 3, 2)),  # one day
    ]
    with h.runtime.db.session() as session:
        sum_days(session)
        for device in (None, "to-2"):
            request = ReportRequest("year:2026", ward=WARD_A, device=device)
            scope = resolve_scope(session, request)
            for first, last in periods:
                rows = queries.plays_by_device(session, scope, first, last)
                got = {
                    (r.ward_code, r.device_id): tuple(getattr(r, n) for n in DEVICE_SUMS)
                    for r in rows
                }
                assert got == by_device_from_days(session, first, last, device), (first, last)
                assert got or (first, last) != periods[0]  # March holds the scene's plays


def test_the_migration_makes_the_table_as_modelled_and_sums_the_days_already_there(
    tmp_path: Path,
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    try:
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0017")
        day = {n: 1 for n in DEVICE_SUMS} | {"ward_code": "w", "group_code": "g"}
        with db.engine.begin() as conn:
            for local_date, device in [
                ("2026-03-02", "d1"),
                ("2026-03-31", "d1"),
                ("2026-04-01", "d1"),
                ("2026-03-05", "d2"),
            ]:
                conn.execute(
                    insert(ReportDeviceDay),
                    [day | {"local_date": date.fromisoformat(local_date), "device_id": device}],
                )
        db.migrate()
        with db.engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert [d for d in diffs if ReportDeviceMonth.__tablename__ in repr(d)] == []
        with db.session() as session:
            assert {k[1:3]: v[0] for k, v in stored_months(session).items()} == {
                (date(2026, 3, 1), "d1"): 2,
                (date(2026, 4, 1), "d1"): 1,
                (date(2026, 3, 1), "d2"): 1,
            }
    finally:
        db.dispose()
