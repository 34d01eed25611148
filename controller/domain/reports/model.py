"""The report as data: what ``GET /api/v1/reports`` answers and the exports are made of.

Counts are of *plays* (one item on one device) unless a name says sessions, days or
groups. Rates are fractions 0..1, or None when there was nothing to divide by (a
device with nothing due has no availability, not 0 %).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

ScopeKind = Literal["ward", "group", "device", "district", "province"]
Lang = Literal["vi", "en"]
TargetStatus = Literal["passed", "failed", "unjudged", "not_applicable"]


class _Out(BaseModel):
    """Base of the report's parts (plain data, JSON in and out)."""


def rate(part: float, whole: float) -> float | None:
    """part / whole rounded to 4 places, or None when whole is 0."""
    return round(part / whole, 4) if whole else None


class ScopeOut(_Out):
    """What the report covers."""

    kind: ScopeKind
    code: str = Field(description="Ward code, 'ward/group', device id, district or province code.")
    name: str
    ward_code: str | None = None
    ward_name: str | None = Field(default=None, description="The ward's name (one-ward scopes).")
    group_code: str | None = None
    device_id: str | None = None
    wards: int = Field(description="How many wards the scope covers.")


class PeriodOut(_Out):
    """The period, as local dates in the wards' zone(s)."""

    label: str
    kind: str
    first: date
    last: date
    days: int
    timezone: str = Field(description="The wards' zone, or 'per ward' when they differ.")
    start_utc: datetime | None = None
    end_utc: datetime | None = None


class RulesOut(_Out):
    """How plays were judged, so every figure can be re-derived (texts in the report's language)."""

    on_time_tolerance_s: float
    missed_deadline_s: float
    plays: str = ""
    session_played: str = ""
    relay_minutes: str = ""
    coverage: str = ""
    availability: str = ""
    targets: str = ""


class PlaysOut(_Out):
    """Planned plays against their evidence."""

    planned: int = Field(description="Owed: planned and not withdrawn (or played anyway).")
    withdrawn: int = Field(description="Taken out of the plan before they were due.")
    confirmed: int = Field(description="The device sent evidence (any outcome).")
    played: int = Field(description="Confirmed as completed or partial.")
    missed: int = Field(description="No evidence by the planned end plus the deadline.")
    pending: int = Field(description="Not confirmed yet, still within the deadline.")
    on_time: int
    timed: int = Field(description="Confirmed plays with an actual start.")
    unplanned: int = Field(description="Evidence for which no plan was recorded.")
    unplanned_played: int
    confirmed_rate: float | None = Field(description="confirmed / (planned − pending).")
    played_rate: float | None = Field(description="played / (planned − pending).")
    on_time_rate: float | None = Field(description="on_time / timed.")


class SessionsOut(_Out):
    """Session occurrences (buổi phát) planned against played."""

    planned: int
    played: int
    played_rate: float | None
    device_sessions_planned: int = Field(description="Sessions counted once per device.")
    device_sessions_played: int


class OutcomesOut(_Out):
    """How the confirmed plays ended."""

    completed: int = 0
    partial: int = 0
    preempted: int = 0
    failed: int = 0
    skipped: int = 0


class SourceOut(_Out):
    """Hours by source level (cấp nguồn tin)."""

    source_level: str
    planned_relay_h: float
    relayed_h: float
    planned_content_h: float = Field(description="Hours of bulletins and chimes planned.")
    played_content_h: float
    plays_planned: int
    plays_played: int


class CategoryOut(_Out):
    """Bulletins of one category (lĩnh vực)."""

    category: str
    bulletins: int = Field(description="Distinct bulletins planned.")
    plays_planned: int
    plays_played: int
    plays_missed: int


class CoverageOut(_Out):
    """How widely one bulletin was heard: groups targeted against groups that played it."""

    ward_code: str
    bulletin_id: str
    title: str
    category: str
    targeted_groups: int
    covered_groups: int = Field(
        description="Groups that heard it: at least one play completed or partially played."
    )
    share: float | None
    uncovered: list[str] = Field(
        default_factory=list, description="Targeted groups that did not hear it (ward scopes)."
    )


class DeviceOut(_Out):
    """One loudspeaker cluster's record in the period (device availability)."""

    device_id: str
    name: str
    ward_code: str | None
    group_code: str | None
    planned: int
    confirmed: int
    played: int
    missed: int
    pending: int
    availability: float | None = Field(description="confirmed / (planned − pending).")
    on_time_rate: float | None
    sessions_planned: int
    sessions_played: int
    last_played: datetime | None
    last_seen: datetime | None
    online: bool


class DayOut(_Out):
    """One local date (summed over the scope's wards)."""

    date: date
    sessions_planned: int
    sessions_played: int
    plays_planned: int
    plays_played: int
    plays_missed: int
    relay_minutes: dict[str, float] = Field(
        default_factory=dict, description="Per source level (mean over wards for many wards)."
    )
    in_force: bool = Field(
        default=True,
        description="Whether the ward's programme (and so its targets) applied all day; "
        "for many wards: any ward's.",
    )


class TargetOut(_Out):
    """One target of a ward's programme, judged on the period (chỉ tiêu)."""

    ward_code: str
    code: str
    description: str
    kind: str
    minimum: float
    source_level: str | None
    passed: bool | None = Field(description="None: no day of the period could be judged yet.")
    status: TargetStatus = Field(
        default="unjudged",
        description="passed, failed, unjudged (no day in force has ended yet) or "
        "not_applicable (every day of the period is before the programme applied).",
    )
    judged: int = Field(description="Days (or weeks, for days_per_week) judged.")
    met: int
    unit: Literal["days", "weeks"]
    in_force_from: date | None = Field(
        default=None, description="First local day the ward's programme applied all day."
    )
    not_applicable: int = Field(
        default=0, description="Days of the period before the programme applied: not judged."
    )
    figure: str = Field(description="The figures behind the verdict, in words.")
    failing: list[str] = Field(default_factory=list, description="Days or weeks that fell short.")

    @model_validator(mode="after")
    def _status_follows_passed(self) -> TargetOut:
        """A judged target's status is its verdict, whatever else was said."""
        if self.passed is not None:
            self.status = "passed" if self.passed else "failed"
        elif self.status in ("passed", "failed"):
            self.status = "unjudged"
        return self


class WardOut(_Out):
    """One ward's line in a district or province report."""

    ward_code: str
    name: str
    devices: int
    sessions_planned: int
    sessions_played: int
    plays_planned: int
    plays_played: int
    plays_missed: int
    availability: float | None
    on_time_rate: float | None
    coverage_share: float | None = Field(
        description="Group-days on which a targeted bulletin was heard, over group-days targeted."
    )
    targets_passed: int
    targets_failed: int
    targets_unjudged: int


class Report(_Out):
    """Planned against played for one scope and period, with the ward's targets judged."""

    title: str
    lang: Lang = Field(default="vi", description="The language of the report's texts.")
    scope: ScopeOut
    period: PeriodOut
    as_of: datetime = Field(description="Plays due by this instant are judged; later: pending.")
    rules: RulesOut
    plays: PlaysOut
    sessions: SessionsOut
    outcomes: OutcomesOut
    sources: list[SourceOut]
    categories: list[CategoryOut]
    coverage: list[CoverageOut]
    devices: list[DeviceOut]
    days: list[DayOut]
    compliance: list[TargetOut]
    wards: list[WardOut] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class MissedPlay(_Out):
    """A planned play no device confirmed by its deadline: missed is evidence too."""

    device_id: str
    ward_code: str | None
    group_code: str | None
    item_id: str
    broadcast_id: str
    bulletin_id: str | None
    session_key: str | None
    kind: str
    category: str | None
    source_level: str
    priority: str
    trigger: str
    planned_start: datetime
    planned_duration_s: float


class MissedList(_Out):
    """Missed plays of a ward in a period, oldest first."""

    ward_code: str
    period: PeriodOut
    as_of: datetime
    missed_deadline_s: float
    total: int
    items: list[MissedPlay]
