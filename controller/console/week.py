"""A ward's week as the schedule page shows it: sessions with rundowns and queues, one-offs.

Read-only and built from the domain: the programme and its recurrence
(``controller.domain.programmes``), the queue and the conflicts through
``programmes.access`` (ward checked first), broadcasts through ``broadcasts.access``
and their status through ``broadcasts.progress``. Days are the ward's own calendar
days (Monday first), so a session at 05:30 is on the day the ward lives it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Broadcast, Bulletin, QueuedBulletin
from controller.domain.actors import Actor
from controller.domain.broadcasts.access import visible_broadcasts
from controller.domain.broadcasts.progress import progress_of, target_wards
from controller.domain.broadcasts.service import CANCELLABLE
from controller.domain.broadcasts.targets import TargetSpec
from controller.domain.errors import NotFound
from controller.domain.programmes import Conflict, RecurrenceError, SessionDef, occurrences
from controller.domain.programmes.access import check_for, programme_of, queue_of
from controller.domain.programmes.schema import ProgrammeDoc
from wardcast_protocol.messages import Trigger

# Broadcasts looked at for one week: the latest planned first, enough for a busy ward.
BROADCAST_WINDOW = 1000


@dataclass
class Airing:
    """One session on one day: when, its rundown, and the bulletins queued for that day."""

    session: SessionDef
    at: datetime
    queued: list[tuple[QueuedBulletin, str]] = field(default_factory=list)  # (entry, title)


@dataclass
class OneOff:
    """A one-off broadcast to (part of) the ward, with its status now."""

    broadcast: Broadcast
    status: str
    cancellable: bool
    where: TargetSpec


@dataclass
class Day:
    """A calendar day of the ward, with what airs in it."""

    day: date
    airings: list[Airing] = field(default_factory=list)
    one_offs: list[OneOff] = field(default_factory=list)


@dataclass
class Week:
    """The week's days and the programme's problems."""

    first: date
    days: list[Day]
    programme: ProgrammeDoc | None
    conflicts: list[Conflict]
    queue: list[tuple[QueuedBulletin, str]]


def monday_of(day: date) -> date:
    """The Monday that starts ``day``'s week."""
    return day - timedelta(days=day.weekday())


def bounds(first: date, tz: str) -> tuple[datetime, datetime]:
    """The week's start and end (UTC) in the ward's zone."""
    zone = ZoneInfo(tz)
    start = datetime.combine(first, time(0), zone)
    return start.astimezone(UTC), datetime.combine(first + timedelta(days=7), time(0), zone)


def _titles(session: Session, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = session.execute(select(Bulletin.id, Bulletin.title).where(Bulletin.id.in_(ids)))
    return {bulletin_id: title for bulletin_id, title in rows}


def _reaches(session: Session, broadcast: Broadcast, ward_code: str) -> bool:
    spec = broadcast.target_spec or {}
    if spec.get("ward_code") == ward_code:
        return True
    return ward_code in target_wards(session, broadcast.id).values()


def one_offs(
    session: Session, actor: Actor, ward_code: str, start: datetime, end: datetime, now: datetime
) -> list[OneOff]:
    """The ward's broadcasts planned within [start, end), with status and whether to cancel."""
    found = []
    for b in visible_broadcasts(session, actor, limit=BROADCAST_WINDOW):
        planned = b.planned_start if b.planned_start.tzinfo else b.planned_start.replace(tzinfo=UTC)
        if not start <= planned < end or not _reaches(session, b, ward_code):
            continue
        progress = progress_of(session, b, now)
        status = progress.status
        found.append(
            OneOff(
                broadcast=b,
                status=status.value,
                cancellable=status in CANCELLABLE and b.trigger != Trigger.EMERGENCY.value,
                where=TargetSpec.from_record(b.target_spec, list(progress.device_ids)),
            )
        )
    return sorted(found, key=lambda o: o.broadcast.planned_start)


def build_week(
    session: Session, actor: Actor, ward_code: str, tz: str, first: date, now: datetime
) -> Week:
    """The ward's week from Monday ``first``: every airing, queue, conflict and one-off."""
    start, end = bounds(first, tz)
    zone = ZoneInfo(tz)
    days = [Day(first + timedelta(days=n)) for n in range(7)]
    by_date = {d.day: d for d in days}
    doc: ProgrammeDoc | None = None
    conflicts: list[Conflict] = []
    queue: list[tuple[QueuedBulletin, str]] = []
    try:
        doc = programme_of(session, ward_code, actor)[1]
    except NotFound:
        doc = None
    if doc is not None:
        entries = queue_of(session, ward_code, actor)
        titles = _titles(session, {q.bulletin_id for q in entries})
        queue = [(q, titles.get(q.bulletin_id, q.bulletin_id)) for q in entries]
        conflicts = check_for(session, ward_code, doc, now, actor).conflicts
        days_allowed = doc.rules.broadcast_days or None
        for definition in doc.sessions:
            try:
                times = occurrences(definition, doc.timezone, start, end, days_allowed)
            except RecurrenceError:
                continue  # the conflicts list says why
            for at in times:
                local = at.astimezone(zone).date()
                if local not in by_date:
                    continue
                airing = Airing(definition, at)
                airing.queued = [
                    (q, title)
                    for q, title in queue
                    if q.session_code == definition.code and q.first_date <= local <= q.last_date
                ]
                by_date[local].airings.append(airing)
    for one in one_offs(session, actor, ward_code, start, end, now):
        local = one.broadcast.planned_start
        local = (local if local.tzinfo else local.replace(tzinfo=UTC)).astimezone(zone)
        if local.date() in by_date:
            by_date[local.date()].one_offs.append(one)
    for d in days:
        d.airings.sort(key=lambda a: a.at)
    return Week(first, days, doc, conflicts, queue)
