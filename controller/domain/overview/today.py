"""The day at a glance: sessions planned today, what plays now, and what needs attention.

"Today" is the ward's own calendar day (its time zone), planned plays come from
``planned_plays`` (what the controller asked devices to play), confirmations from
``playback_evidence``. A planned play is *missed* once it should have ended more than
``MISSED_GRACE`` ago with no confirmation and was not withdrawn by a later plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import ValidationError
from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from controller.db.models import Bulletin, PlannedPlay, PlaybackEvidence, SecurityRecord
from controller.domain.actors import Actor
from controller.domain.overview.devices import DeviceStatus
from controller.domain.programmes.service import current_programme
from controller.domain.reports.periods import day_start_utc, local_date

MISSED_GRACE = timedelta(minutes=5)
ALERT_WINDOW = timedelta(hours=24)
LONGEST_ITEM = timedelta(hours=4)
MAX_ROWS = 2000


@dataclass(frozen=True, slots=True)
class SessionToday:
    """One session (or one-off broadcast) planned today in a ward.

    ``title`` is what a person recognises: a programme session's name ("Buổi sáng"), a
    broadcast's bulletin title; ``broadcast_id`` is set for a one-off broadcast (its
    page is ``/broadcasts/{id}``), None for a programme session.
    """

    ward_code: str | None
    key: str
    starts_at: datetime
    ends_at: datetime
    planned: int
    confirmed: int
    devices: int
    title: str = ""
    broadcast_id: str | None = None


@dataclass(frozen=True, slots=True)
class PlayingNow:
    """An item that should be sounding now on some devices."""

    ward_code: str | None
    title: str
    started_at: datetime
    ends_at: datetime
    devices: tuple[str, ...]
    priority: str


@dataclass(frozen=True, slots=True)
class Alert:
    """Something a ward officer should look at; ``kind`` names its catalog text."""

    kind: str  # offline | clock | missed | security
    device_id: str
    at: datetime | None
    detail: str = ""


def day_bounds(now: datetime, tz: str) -> tuple[datetime, datetime]:
    """Start and end (UTC) of the calendar day holding ``now`` in zone ``tz``."""
    today = local_date(now, tz)
    return day_start_utc(today, tz), day_start_utc(today + timedelta(days=1), tz)


def _in_scope(actor: Actor) -> list[ColumnElement[bool]]:
    if actor.wards is None:
        return []
    return [PlannedPlay.ward_code.in_(actor.wards)]


def _confirmed(session: Session, plays: Sequence[PlannedPlay]) -> set[tuple[str, str]]:
    items = {p.item_id for p in plays}
    if not items:
        return set()
    rows = session.execute(
        select(PlaybackEvidence.device_id, PlaybackEvidence.item_id).where(
            PlaybackEvidence.item_id.in_(items)
        )
    )
    return {(device_id, item_id) for device_id, item_id in rows}


def sessions_today(session: Session, actor: Actor, now: datetime, tz: str) -> list[SessionToday]:
    """The day's sessions and one-off broadcasts in the actor's wards, by start."""
    start, end = day_bounds(now, tz)
    plays = session.scalars(
        select(PlannedPlay)
        .where(
            PlannedPlay.planned_start >= start,
            PlannedPlay.planned_start < end,
            PlannedPlay.withdrawn_at.is_(None),
            *_in_scope(actor),
        )
        .order_by(PlannedPlay.planned_start)
        .limit(MAX_ROWS)
    ).all()
    confirmed = _confirmed(session, plays)
    titles = _bulletin_titles(session, {p.bulletin_id for p in plays if p.bulletin_id})
    names = _session_names(session, {p.ward_code for p in plays if p.session_key and p.ward_code})
    groups: dict[tuple[str | None, str], list[PlannedPlay]] = {}
    for p in plays:
        groups.setdefault((p.ward_code, p.session_key or p.broadcast_id), []).append(p)
    found = []
    for (ward, key), rows in groups.items():
        found.append(
            SessionToday(
                ward_code=ward,
                key=key,
                starts_at=min(r.planned_start for r in rows),
                ends_at=max(
                    r.planned_start + timedelta(seconds=r.planned_duration_s) for r in rows
                ),
                planned=len(rows),
                confirmed=sum(1 for r in rows if (r.device_id, r.item_id) in confirmed),
                devices=len({r.device_id for r in rows}),
                title=_title_of(rows[0], titles, names),
                broadcast_id=None if rows[0].session_key else rows[0].broadcast_id,
            )
        )
    return sorted(found, key=lambda s: (s.starts_at, s.key))


def _bulletin_titles(session: Session, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = session.execute(select(Bulletin.id, Bulletin.title).where(Bulletin.id.in_(ids)))
    return {bulletin_id: title for bulletin_id, title in rows}


def _session_names(session: Session, wards: set[str]) -> dict[tuple[str, str], str]:
    """(ward, session code) -> the session's name in the ward's stored programme."""
    names: dict[tuple[str, str], str] = {}
    for ward in wards:
        try:
            found = current_programme(session, ward)
        except ValidationError:  # a programme stored under an older schema: codes only
            continue
        if found is not None:
            names.update({(ward, d.code): d.name for d in found[1].sessions})
    return names


def _title_of(play: PlannedPlay, titles: dict[str, str], names: dict[tuple[str, str], str]) -> str:
    """A session's name (its key is ``ward:code:date``), else the bulletin's title."""
    if play.session_key:
        parts = play.session_key.split(":")
        code = parts[1] if len(parts) == 3 else play.session_key
        return names.get((play.ward_code or "", code), code)
    if play.bulletin_id and play.bulletin_id in titles:
        return titles[play.bulletin_id]
    return play.category or play.kind


def playing_now(session: Session, actor: Actor, now: datetime) -> list[PlayingNow]:
    """Items planned to be sounding at ``now`` in the actor's wards, not yet confirmed over."""
    rows = session.execute(
        select(PlannedPlay, Bulletin.title)
        .outerjoin(Bulletin, Bulletin.id == PlannedPlay.bulletin_id)
        # A play with its confirmation is over, ended or stopped (a cancelled emergency
        # was otherwise listed as playing until its planned end).
        .outerjoin(
            PlaybackEvidence,
            and_(
                PlaybackEvidence.device_id == PlannedPlay.device_id,
                PlaybackEvidence.item_id == PlannedPlay.item_id,
            ),
        )
        .where(
            PlannedPlay.planned_start <= now,
            PlannedPlay.planned_start > now - LONGEST_ITEM,
            PlannedPlay.withdrawn_at.is_(None),
            PlaybackEvidence.id.is_(None),
            *_in_scope(actor),
        )
        .limit(MAX_ROWS)
    ).all()
    items: dict[tuple[str | None, str], list[tuple[PlannedPlay, str | None]]] = {}
    for play, title in rows:
        if play.planned_start + timedelta(seconds=play.planned_duration_s) > now:
            items.setdefault((play.ward_code, play.item_id), []).append((play, title))
    found = []
    for (ward, _item), plays in items.items():
        first, named = plays[0]
        found.append(
            PlayingNow(
                ward_code=ward,
                title=named or first.category or first.kind,
                started_at=first.planned_start,
                ends_at=first.planned_start + timedelta(seconds=first.planned_duration_s),
                devices=tuple(sorted(p.device_id for p, _ in plays)),
                priority=first.priority,
            )
        )
    return sorted(found, key=lambda p: p.started_at)


def missed_plays(session: Session, actor: Actor, now: datetime) -> list[PlannedPlay]:
    """Planned plays of the last day that ended unconfirmed, newest first."""
    rows = session.scalars(
        select(PlannedPlay)
        .outerjoin(
            PlaybackEvidence,
            and_(
                PlaybackEvidence.device_id == PlannedPlay.device_id,
                PlaybackEvidence.item_id == PlannedPlay.item_id,
            ),
        )
        .where(
            PlannedPlay.planned_start >= now - ALERT_WINDOW,
            PlannedPlay.planned_start < now - MISSED_GRACE,
            PlannedPlay.withdrawn_at.is_(None),
            PlaybackEvidence.id.is_(None),
            *_in_scope(actor),
        )
        .order_by(PlannedPlay.planned_start.desc())
        .limit(MAX_ROWS)
    ).all()
    return [
        p
        for p in rows
        if p.planned_start + timedelta(seconds=p.planned_duration_s) + MISSED_GRACE < now
    ]


def alerts(
    session: Session, actor: Actor, now: datetime, devices: Sequence[DeviceStatus]
) -> list[Alert]:
    """What needs attention in the actor's wards: offline devices, clocks off, missed
    plays and security records of the last day."""
    found: list[Alert] = []
    for d in devices:
        if d.state == "offline":
            found.append(Alert("offline", d.device_id, d.last_seen_at))
        if d.clock_suspect and d.clock_offset_s is not None:
            found.append(Alert("clock", d.device_id, d.last_seen_at, f"{d.clock_offset_s:+.1f}"))
    for p in missed_plays(session, actor, now)[:50]:
        found.append(Alert("missed", p.device_id, p.planned_start, p.broadcast_id))
    ids = [d.device_id for d in devices]
    if ids:
        records = session.scalars(
            select(SecurityRecord)
            .where(
                SecurityRecord.device_id.in_(ids),
                SecurityRecord.received_at >= now - ALERT_WINDOW,
            )
            .order_by(SecurityRecord.id.desc())
            .limit(50)
        ).all()
        found += [Alert("security", r.device_id, r.received_at, r.reason) for r in records]
    return found
