"""The report's breakdowns: per category, per bulletin (coverage), per device, per ward.

Within one ward they are arranged from the ward's own rollup rows; over many wards
they come from the per-ward rollups (categories, coverage shares), so a province is
not read device by device except for its device list.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from controller.db.models import Bulletin, Device
from controller.domain.reports import queries
from controller.domain.reports.figures import WARD_MEASURES, Figures
from controller.domain.reports.model import (
    CategoryOut,
    CoverageOut,
    DeviceOut,
    TargetOut,
    WardOut,
    rate,
)
from controller.domain.reports.queries import Scope


def categories(f: Figures) -> list[CategoryOut]:
    """Bulletins and their plays per category (from the bulletin rows within one ward)."""
    if not f.scope.single_ward:
        rows = queries.categories(f.session, f.scope, f.period.first, f.period.last)
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
    for row in f.bulletin_rows:
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


def coverage(f: Figures) -> list[CoverageOut]:
    """Per bulletin of one ward: the groups it targeted and those that heard it, least first."""
    if not f.scope.single_ward:
        return []  # over many wards: each ward's line carries its coverage share
    rows = f.bulletin_rows
    titles = _titles(f.session, {r.bulletin_id for r in rows})
    uncovered = queries.uncovered_groups(f.session, f.scope, f.period.first, f.period.last)
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


def devices(f: Figures) -> list[DeviceOut]:
    """Every device that had plays or stands in the scope now, by id."""
    scope, first, last = f.scope, f.period.first, f.period.last
    rows = {r.device_id: r for r in queries.plays_by_device(f.session, scope, first, last)}
    known = {d.id: d for d in _devices_in(f.session, scope)}
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


def wards(f: Figures, targets: dict[str, list[TargetOut]]) -> list[WardOut]:
    """One line per ward of a district or province, with its targets' verdicts counted."""
    sessions: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for srow in f.session_rows:
        sessions[srow.ward_code][0] += int(srow.planned)
        sessions[srow.ward_code][1] += int(srow.played)
    counts = _device_counts(f.session, [w.code for w in f.scope.wards])
    shares = queries.coverage_by_ward(f.session, f.scope, f.period.first, f.period.last)
    out = []
    for ward in sorted(f.scope.wards, key=lambda w: w.code):
        values = f.by_ward.get(ward.code, (0,) * len(WARD_MEASURES))
        p = {name: int(values[i] or 0) for i, name in enumerate(WARD_MEASURES)}
        verdicts = targets.get(ward.code, [])
        covered, targeted = shares.get(ward.code, (0, 0))
        out.append(
            WardOut(
                ward_code=ward.code,
                name=ward.name,
                devices=counts.get(ward.code, 0),
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
