"""The timed calls of ``bench.reports``: a report as the controller builds it, and the
baseline beside it — a plain SQL aggregate of the same rows (planned plays counted,
evidence counted by outcome) for the same wards and period, straight from the raw tables.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from bench.reports_data import PROVINCE, YEAR
from controller.db.models import (
    Device,
    District,
    PlannedPlay,
    PlaybackEvidence,
    Ward,
)
from controller.db.session import Database
from controller.domain.reports.rollups import RollupRules
from controller.domain.reports.service import ReportRequest, build_report


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds ``action`` took, and what it returned."""
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def timed_report(db: Database, request: ReportRequest, now: datetime) -> tuple[float, Any]:
    """One report as the controller builds it; (seconds, report)."""

    def run() -> Any:
        with db.session() as session:
            return build_report(session, request, now, RollupRules())

    return timed(run)


@dataclass(frozen=True)
class Scope:
    """What a report covers, for the baseline: its wards and its UTC bounds."""

    label: str
    request: ReportRequest
    province: bool
    start: datetime
    end: datetime


def scopes(ward: str) -> list[Scope]:
    """The two reports timed: the ward's year and the province's November."""
    year_start = datetime(YEAR - 1, 12, 31, 17, tzinfo=UTC)  # 1 January, 00:00 at UTC+7
    month_start = datetime(YEAR, 10, 31, 17, tzinfo=UTC)
    return [
        Scope(
            "ward_year",
            ReportRequest(f"year:{YEAR}", ward=ward),
            False,
            year_start,
            year_start.replace(year=YEAR + 1),
        ),
        Scope(
            "province_month",
            ReportRequest(f"month:{YEAR}-11", province=PROVINCE),
            True,
            month_start,
            datetime(YEAR, 11, 30, 17, tzinfo=UTC),
        ),
    ]


def timed_baseline(db: Database, scope: Scope, ward: str) -> tuple[float, Any]:
    """A plain SQL aggregate of the same rows: plays planned, evidence by outcome."""

    def run() -> Any:
        with db.session() as session:
            wards: Any = (
                select(Ward.code)
                .join(District, District.code == Ward.district_code)
                .where(District.province_code == PROVINCE)
                if scope.province
                else select(Ward.code).where(Ward.code == ward)
            )
            p, e = PlannedPlay, PlaybackEvidence
            planned = session.scalar(
                select(func.count()).where(
                    p.ward_code.in_(wards),
                    p.planned_start >= scope.start,
                    p.planned_start < scope.end,
                )
            )
            devices = select(Device.id).where(Device.ward_code.in_(wards))
            outcomes = session.execute(
                select(e.outcome, func.count())
                .where(
                    e.device_id.in_(devices),
                    e.planned_start >= scope.start,
                    e.planned_start < scope.end,
                )
                .group_by(e.outcome)
            ).all()
            return planned, {outcome: count for outcome, count in outcomes}

    return timed(run)


def median_of(action: Callable[[], tuple[float, Any]], times: int) -> float:
    """The median seconds of ``times`` calls of ``action``."""
    return statistics.median(action()[0] for _ in range(times))
