"""Building a report: resolve the scope, bring the rollups up to date, sum, judge targets.

Domain functions: they take a Session and raise :class:`NotFound` (404) for a ward,
group, device, district or province that does not exist and :class:`InvalidInput`
(422) for a period or a combination of names that makes no sense.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from controller.db.models import (
    Bulletin,
    Device,
    District,
    PlannedPlay,
    Programme,
    Province,
    ResidentialGroup,
    Ward,
)
from controller.db.models.rollups import ReportPlaysRollup
from controller.domain.devices.service import get_device
from controller.domain.errors import InvalidInput, NotFound
from controller.domain.places.service import get_ward
from controller.domain.programmes.schema import ProgrammeDoc
from controller.domain.reports import queries
from controller.domain.reports.compliance import DayFigures, calendar_of, judge
from controller.domain.reports.labels import SCOPE_NAMES, vi
from controller.domain.reports.model import (
    CategoryOut,
    CoverageOut,
    DayOut,
    DeviceOut,
    MissedList,
    MissedPlay,
    OutcomesOut,
    PeriodOut,
    PlaysOut,
    Report,
    RulesOut,
    ScopeOut,
    SessionsOut,
    SourceOut,
    TargetOut,
    WardOut,
    rate,
)
from controller.domain.reports.periods import Period, day_start_utc, parse_period
from controller.domain.reports.queries import PLAY_MEASURES, Scope
from controller.domain.reports.rollups import OUTCOMES, RollupRules, ensure_rollups, missed_select
from controller.domain.reports.sqlfn import is_sqlite

SOURCE_ORDER = ("central", "provincial", "district", "commune")
MISSED_LIMIT = 5000


@dataclass(frozen=True)
class ReportRequest:
    """What was asked for: one scope (ward, ward+group, device, district or province)."""

    period: str
    ward: str | None = None
    group: str | None = None
    device: str | None = None
    district: str | None = None
    province: str | None = None


def resolve_scope(session: Session, request: ReportRequest) -> Scope:
    """The scope named by the request; NotFound for unknown names."""
    named = [n for n in ("district", "province") if getattr(request, n)]
    if named and (request.ward or request.group or request.device or len(named) > 1):
        raise InvalidInput("name one scope: a ward (and group), a device, a district or a province")
    if request.device:
        device = get_device(session, request.device)
        if device.ward_code is None:
            raise InvalidInput(f"device {device.id!r} is not placed in a ward yet")
        if request.ward and request.ward != device.ward_code:
            raise InvalidInput(
                f"device {device.id!r} is in ward {device.ward_code}, not {request.ward}"
            )
        if request.group and request.group != device.group_code:
            raise InvalidInput(
                f"device {device.id!r} is in group {device.group_code}, not {request.group}"
            )
        ward = get_ward(session, device.ward_code)
        return Scope("device", device.id, device.name or device.id, (ward,), device=device)
    if request.group:
        if not request.ward:
            raise InvalidInput("a residential group is named within its ward: give the ward too")
        ward = get_ward(session, request.ward)
        group = session.scalar(
            select(ResidentialGroup).where(
                ResidentialGroup.ward_code == ward.code, ResidentialGroup.code == request.group
            )
        )
        if group is None:
            raise NotFound(f"ward {ward.code} has no residential group {request.group!r}")
        return Scope("group", f"{ward.code}/{group.code}", group.name, (ward,), group.code)
    if request.ward:
        ward = get_ward(session, request.ward)
        return Scope("ward", ward.code, ward.name, (ward,))
    if request.district:
        district = session.get(District, request.district)
        if district is None:
            raise NotFound(f"no district {request.district!r}")
        wards = session.scalars(select(Ward).where(Ward.district_code == district.code))
        return Scope("district", district.code, district.name, tuple(wards))
    if request.province:
        province = session.get(Province, request.province)
        if province is None:
            raise NotFound(f"no province {request.province!r}")
        wards = session.scalars(
            select(Ward)
            .join(District, District.code == Ward.district_code)
            .where(District.province_code == province.code)
        )
        return Scope("province", province.code, province.name, tuple(wards))
    raise InvalidInput("name what to report on: ward (and group), device, district or province")


def build_report(
    session: Session, request: ReportRequest, now: datetime, rules: RollupRules
) -> Report:
    """The report for the request's scope and period, as of ``now``."""
    period = parse_period(request.period)
    scope = resolve_scope(session, request)
    ensure_rollups(session, scope.wards, period.first, period.last, now, rules)
    return _Assembler(session, scope, period, now, rules).report()


_MEASURE = {name: i for i, name in enumerate(PLAY_MEASURES)}
_DAY_MEASURES = ("planned", "played", "missed")
_WARD_MEASURES = ("planned", "played", "missed", "pending", "confirmed", "on_time", "timed")


class _Assembler:
    """Turns the rollup query results into the report's parts.

    The sums are done by the database (a handful of GROUP BY queries); Python only
    arranges their few hundred rows, so a province-year costs little more than a
    ward-month.
    """

    def __init__(
        self, session: Session, scope: Scope, period: Period, now: datetime, rules: RollupRules
    ) -> None:
        self.session = session
        self.scope = scope
        self.period = period
        self.now = now
        self.rules = rules
        first, last = period.first, period.last
        grouped = partial(queries.plays_grouped, session, scope, first, last)
        self.by_source = grouped(("source_level", "kind"))
        self.by_date = {row[0]: row[1:] for row in grouped(("local_date",), _DAY_MEASURES)}
        self.by_ward = (
            {row[0]: row[1:] for row in grouped(("ward_code",), _WARD_MEASURES)}
            if not scope.single_ward
            else {}
        )
        # (ward, date) -> source level -> minutes relayed by that ward's longest relayer.
        self.relay: dict[tuple[str, date], dict[str, float]] = defaultdict(dict)
        for ward, day, level, longest in grouped(
            ("ward_code", "local_date", "source_level"), (), longest_relay=True
        ):
            self.relay[(ward, day)][level] = round(float(longest or 0) / 60, 1)
        self.session_rows = queries.sessions_by_day(session, scope, first, last)
        self.bulletin_rows = (
            queries.bulletins(session, scope, first, last) if scope.single_ward else []
        )
        totals = [0.0] * len(PLAY_MEASURES)
        for row in self.by_source:
            for i, value in enumerate(row[2:]):
                totals[i] += float(value or 0)
        self.totals = {name: totals[i] for name, i in _MEASURE.items()}
        self.notes: list[str] = []

    def report(self) -> Report:
        """Every part, assembled."""
        scope, period = self.scope, self.period
        zones = {w.timezone for w in scope.wards}
        zone = zones.pop() if len(zones) == 1 else None
        start, end = period.utc_bounds(zone) if zone else (None, None)
        plays = self._plays()
        compliance, by_ward_targets = self._compliance()
        kind_vi = SCOPE_NAMES[scope.kind][0]
        return Report(
            title=f"{vi('title')}: {kind_vi} {scope.name} — {period.label}",
            scope=ScopeOut(
                kind=scope.kind,
                code=scope.code,
                name=scope.name,
                ward_code=scope.wards[0].code if len(scope.wards) == 1 else None,
                group_code=scope.group_code,
                device_id=scope.device.id if scope.device else None,
                wards=len(scope.wards),
            ),
            period=PeriodOut(
                label=period.label,
                kind=period.kind,
                first=period.first,
                last=period.last,
                days=period.days,
                timezone=zone or "per ward",
                start_utc=start,
                end_utc=end,
            ),
            as_of=self.now,
            rules=RulesOut(
                on_time_tolerance_s=self.rules.tolerance_s,
                missed_deadline_s=self.rules.deadline_s,
            ),
            plays=plays,
            sessions=self._sessions(),
            outcomes=OutcomesOut(**{n: int(self.totals[n]) for n in OUTCOMES}),
            sources=self._sources(),
            categories=self._categories(),
            coverage=self._coverage(),
            devices=self._devices(),
            days=self._days(),
            compliance=compliance,
            wards=self._wards(by_ward_targets) if not scope.single_ward else [],
            notes=self._notes(plays),
        )

    def _plays(self) -> PlaysOut:
        s = {name: int(value) for name, value in self.totals.items() if not name.endswith("_s")}
        due = s["planned"] - s["pending"]
        return PlaysOut(
            planned=s["planned"],
            withdrawn=s["withdrawn"],
            confirmed=s["confirmed"],
            played=s["played"],
            missed=s["missed"],
            pending=s["pending"],
            on_time=s["on_time"],
            timed=s["timed"],
            unplanned=s["unplanned"],
            unplanned_played=s["unplanned_played"],
            confirmed_rate=rate(s["confirmed"], due),
            played_rate=rate(s["played"], due),
            on_time_rate=rate(s["on_time"], s["timed"]),
        )

    def _sessions(self) -> SessionsOut:
        rows = self.session_rows
        planned = sum(int(r.planned) for r in rows)
        played = sum(int(r.played) for r in rows)
        return SessionsOut(
            planned=planned,
            played=played,
            played_rate=rate(played, planned),
            device_sessions_planned=sum(int(r.device_planned) for r in rows),
            device_sessions_played=sum(int(r.device_played or 0) for r in rows),
        )

    def _sources(self) -> list[SourceOut]:
        # (level, kind) -> measures
        sums = {(row[0], row[1]): row[2:] for row in self.by_source}
        levels = {level for level, _ in sums}
        order = [*SOURCE_ORDER, *sorted(levels - set(SOURCE_ORDER))]

        def value(level: str, kind: str, name: str) -> float:
            found = sums.get((level, kind))
            return float(found[_MEASURE[name]] or 0) if found else 0.0

        def count(level: str, name: str) -> int:
            return int(value(level, "media", name) + value(level, "relay", name))

        return [
            SourceOut(
                source_level=level,
                planned_relay_h=round(value(level, "relay", "planned_s") / 3600, 2),
                relayed_h=round(value(level, "relay", "relayed_s") / 3600, 2),
                planned_content_h=round(value(level, "media", "planned_s") / 3600, 2),
                played_content_h=round(value(level, "media", "played_s") / 3600, 2),
                plays_planned=count(level, "planned"),
                plays_played=count(level, "played"),
            )
            for level in order
        ]

    def _categories(self) -> list[CategoryOut]:
        if not self.scope.single_ward:
            rows = queries.categories(self.session, self.scope, self.period.first, self.period.last)
            return [
                CategoryOut(
                    category=row.category or "general",
                    bulletins=int(row.bulletins),
                    plays_planned=int(row.planned or 0),
                    plays_played=int(row.played or 0),
                    plays_missed=int(row.missed or 0),
                )
                for row in sorted(rows, key=lambda r: str(r.category))
            ]
        bulletins: dict[str, set[str]] = defaultdict(set)
        sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for row in self.bulletin_rows:
            category = row.category or "general"
            bulletins[category].add(row.bulletin_id)
            for i, name in enumerate(("planned", "played", "missed")):
                sums[category][i] += int(getattr(row, name) or 0)
        return [
            CategoryOut(
                category=category,
                bulletins=len(bulletins[category]),
                plays_planned=sums[category][0],
                plays_played=sums[category][1],
                plays_missed=sums[category][2],
            )
            for category in sorted(bulletins)
        ]

    def _coverage(self) -> list[CoverageOut]:
        if not self.scope.single_ward:
            return []  # over many wards: each ward's line carries its coverage share
        rows = self.bulletin_rows
        titles = _titles(self.session, {r.bulletin_id for r in rows})
        uncovered = queries.uncovered_groups(
            self.session, self.scope, self.period.first, self.period.last
        )
        out = [
            CoverageOut(
                ward_code=r.ward_code,
                bulletin_id=r.bulletin_id,
                title=titles.get(r.bulletin_id, ""),
                category=r.category or "general",
                targeted_groups=int(r.targeted),
                covered_groups=int(r.covered),
                share=rate(int(r.covered), int(r.targeted)),
                uncovered=uncovered.get((r.ward_code, r.bulletin_id), []),
            )
            for r in rows
            if int(r.targeted) > 0
        ]
        # Least covered first: that is where an evaluator looks.
        return sorted(out, key=lambda c: (c.share if c.share is not None else 1.0, c.bulletin_id))

    def _devices(self) -> list[DeviceOut]:
        scope, first, last = self.scope, self.period.first, self.period.last
        rows = {r.device_id: r for r in queries.plays_by_device(self.session, scope, first, last)}
        known = {d.id: d for d in _devices_in(self.session, scope)}
        out: list[DeviceOut] = []
        for device_id in sorted(set(rows) | set(known)):
            row, device = rows.get(device_id), known.get(device_id)
            planned = int(row.planned) if row else 0
            pending = int(row.pending) if row else 0
            confirmed = int(row.confirmed) if row else 0
            group = (row.group_code or None) if row else None
            out.append(
                DeviceOut(
                    device_id=device_id,
                    name=(device.name if device else "") or device_id,
                    ward_code=row.ward_code if row else (device.ward_code if device else None),
                    group_code=group or (device.group_code if device else None),
                    planned=planned,
                    confirmed=confirmed,
                    played=int(row.played) if row else 0,
                    missed=int(row.missed) if row else 0,
                    pending=pending,
                    availability=rate(confirmed, planned - pending),
                    on_time_rate=rate(int(row.on_time), int(row.timed)) if row else None,
                    sessions_planned=int(row.sessions_planned) if row else 0,
                    sessions_played=int(row.sessions_played) if row else 0,
                    last_played=row.last_start if row else None,
                    last_seen=device.last_seen_at if device else None,
                    online=bool(device.online) if device else False,
                )
            )
        return out

    def _days(self) -> list[DayOut]:
        sessions: dict[date, list[int]] = defaultdict(lambda: [0, 0])
        for srow in self.session_rows:
            sessions[srow.local_date][0] += int(srow.planned)
            sessions[srow.local_date][1] += int(srow.played)
        relay: dict[date, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for (_, day), levels in self.relay.items():
            for level, value in levels.items():
                relay[day][level] += value
        wards = max(1, len(self.scope.wards))
        zero = (0, 0, 0)
        return [
            DayOut(
                date=day,
                sessions_planned=sessions[day][0],
                sessions_played=sessions[day][1],
                plays_planned=int(self.by_date.get(day, zero)[0] or 0),
                plays_played=int(self.by_date.get(day, zero)[1] or 0),
                plays_missed=int(self.by_date.get(day, zero)[2] or 0),
                relay_minutes={k: round(v / wards, 1) for k, v in sorted(relay[day].items())},
            )
            for day in self.period.dates()
        ]

    def _compliance(self) -> tuple[list[TargetOut], dict[str, list[TargetOut]]]:
        played: dict[tuple[str, date], int] = {
            (r.ward_code, r.local_date): int(r.played) for r in self.session_rows
        }
        programmes = _programmes(self.session, [w.code for w in self.scope.wards])
        results: list[TargetOut] = []
        by_ward: dict[str, list[TargetOut]] = {}
        for ward in self.scope.wards:
            doc = programmes.get(ward.code)
            if doc is None:
                if self.scope.single_ward:
                    self.notes.append(
                        f"Phường/xã {ward.code} chưa có chương trình nên chưa có chỉ tiêu / "
                        f"ward {ward.code} has no programme, so no targets to judge"
                    )
                continue
            judged = [
                d
                for d in self.period.dates()
                if day_start_utc(d + timedelta(days=1), ward.timezone) <= self.now
            ]
            figures = {
                d: DayFigures(
                    sessions_played=played.get((ward.code, d), 0),
                    relay_minutes=self.relay.get((ward.code, d), {}),
                )
                for d in judged
            }
            verdicts = judge(ward.code, doc.targets, calendar_of(doc, judged), figures)
            by_ward[ward.code] = verdicts
            results.extend(verdicts)
        return results, by_ward

    def _wards(self, targets: dict[str, list[TargetOut]]) -> list[WardOut]:
        sessions: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for srow in self.session_rows:
            sessions[srow.ward_code][0] += int(srow.planned)
            sessions[srow.ward_code][1] += int(srow.played)
        devices = _device_counts(self.session, [w.code for w in self.scope.wards])
        coverage = queries.coverage_by_ward(
            self.session, self.scope, self.period.first, self.period.last
        )
        out = []
        for ward in sorted(self.scope.wards, key=lambda w: w.code):
            values = self.by_ward.get(ward.code, (0,) * len(_WARD_MEASURES))
            p = {name: int(values[i] or 0) for i, name in enumerate(_WARD_MEASURES)}
            verdicts = targets.get(ward.code, [])
            covered, targeted = coverage.get(ward.code, (0, 0))
            out.append(
                WardOut(
                    ward_code=ward.code,
                    name=ward.name,
                    devices=devices.get(ward.code, 0),
                    sessions_planned=sessions[ward.code][0],
                    sessions_played=sessions[ward.code][1],
                    plays_planned=p["planned"],
                    plays_played=p["played"],
                    plays_missed=p["missed"],
                    availability=rate(p["confirmed"], p["planned"] - p["pending"]),
                    on_time_rate=rate(p["on_time"], p["timed"]),
                    coverage_share=rate(covered, targeted),
                    targets_passed=sum(1 for v in verdicts if v.passed is True),
                    targets_failed=sum(1 for v in verdicts if v.passed is False),
                    targets_unjudged=sum(1 for v in verdicts if v.passed is None),
                )
            )
        return out

    def _notes(self, plays: PlaysOut) -> list[str]:
        notes = list(self.notes)
        if plays.missed:
            notes.append(
                f"{plays.missed} lượt phát không được xác nhận sau hạn {self.rules.deadline_s:g} "
                f"giây / {plays.missed} planned plays were not confirmed within "
                f"{self.rules.deadline_s:g} s of their end: missed (listed by "
                "GET /api/v1/evidence/missed)"
            )
        if plays.pending:
            notes.append(
                f"{plays.pending} lượt phát còn trong hạn xác nhận / {plays.pending} plays are "
                "not yet past their confirmation deadline: pending, not missed"
            )
        if plays.unplanned:
            notes.append(
                f"{plays.unplanned} lượt phát không có trong kế hoạch / {plays.unplanned} "
                "confirmations match no recorded plan: counted as unplanned"
            )
        return notes


def _titles(session: Session, ids: set[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    ordered = sorted(i for i in ids if i)
    for i in range(0, len(ordered), 500):
        chunk = ordered[i : i + 500]
        # (a Result has .keys(), so dict.update would take it for a mapping)
        found.update(
            (row.id, row.title)
            for row in session.execute(
                select(Bulletin.id, Bulletin.title).where(Bulletin.id.in_(chunk))
            )
        )
    return found


def _programmes(session: Session, ward_codes: Sequence[str]) -> dict[str, ProgrammeDoc]:
    docs: dict[str, ProgrammeDoc] = {}
    for i in range(0, len(ward_codes), 400):
        rows = session.scalars(
            select(Programme).where(Programme.ward_code.in_(ward_codes[i : i + 400]))
        )
        docs.update({row.ward_code: ProgrammeDoc.model_validate(row.document) for row in rows})
    return docs


def _devices_in(session: Session, scope: Scope) -> list[Row[Any]]:
    """The scope's devices as they stand now (plain rows: thousands in a province)."""
    columns = (
        Device.id, Device.name, Device.ward_code, Device.group_code, Device.last_seen_at,
        Device.online,
    )  # fmt: skip
    if scope.device is not None:
        return list(session.execute(select(*columns).where(Device.id == scope.device.id)))
    found: list[Row[Any]] = []
    codes = sorted(w.code for w in scope.wards)
    for i in range(0, len(codes), 400):
        query = select(*columns).where(Device.ward_code.in_(codes[i : i + 400]))
        if scope.group_code is not None:
            query = query.where(Device.group_code == scope.group_code)
        found.extend(session.execute(query))
    return found


def _device_counts(session: Session, ward_codes: Sequence[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for i in range(0, len(ward_codes), 400):
        query = (
            select(Device.ward_code, func.count())
            .where(Device.ward_code.in_(ward_codes[i : i + 400]))
            .group_by(Device.ward_code)
        )
        counts.update({str(ward): int(n) for ward, n in session.execute(query)})
    return counts


def missed_plays(
    session: Session,
    request: ReportRequest,
    now: datetime,
    rules: RollupRules,
    limit: int = MISSED_LIMIT,
) -> MissedList:
    """Every missed play of a ward (or one of its groups or devices) in the period."""
    if not request.ward and not request.device:
        raise InvalidInput("missed plays are listed for a ward (and group) or a device")
    period = parse_period(request.period)
    scope = resolve_scope(session, request)
    ward = scope.wards[0]
    ensure_rollups(session, scope.wards, period.first, period.last, now, rules)
    # The rollups say which devices missed anything on which days, so the raw
    # tables are only searched there.
    t = ReportPlaysRollup
    query = (
        select(t.device_id, func.min(t.local_date), func.max(t.local_date), func.sum(t.missed))
        .where(*queries.where_scope(t, scope, [ward.code], period.first, period.last), t.missed > 0)
        .group_by(t.device_id)
    )
    found = session.execute(query).all()
    total = int(sum(int(row[3]) for row in found))
    items: list[MissedPlay] = []
    if found:
        devices = sorted(row[0] for row in found)
        start = day_start_utc(min(row[1] for row in found), ward.timezone)
        end = day_start_utc(max(row[2] for row in found) + timedelta(days=1), ward.timezone)
        select_missed = missed_select(
            is_sqlite(session), ward.code, devices, start, end, now, rules
        )
        if scope.group_code is not None:
            select_missed = select_missed.where(PlannedPlay.group_code == scope.group_code)
        for play in session.scalars(select_missed.limit(limit)):
            items.append(
                MissedPlay(
                    device_id=play.device_id,
                    ward_code=play.ward_code,
                    group_code=play.group_code,
                    item_id=play.item_id,
                    broadcast_id=play.broadcast_id,
                    bulletin_id=play.bulletin_id,
                    session_key=play.session_key,
                    kind=play.kind,
                    category=play.category,
                    source_level=play.source_level,
                    priority=play.priority,
                    trigger=play.trigger,
                    planned_start=play.planned_start,
                    planned_duration_s=play.planned_duration_s,
                )
            )
    start_utc, end_utc = period.utc_bounds(ward.timezone)
    return MissedList(
        ward_code=ward.code,
        period=PeriodOut(
            label=period.label,
            kind=period.kind,
            first=period.first,
            last=period.last,
            days=period.days,
            timezone=ward.timezone,
            start_utc=start_utc,
            end_utc=end_utc,
        ),
        as_of=now,
        missed_deadline_s=rules.deadline_s,
        total=total,
        items=items,
    )
