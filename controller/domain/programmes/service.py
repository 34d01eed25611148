"""A ward's programme: check it against the ward's places and content, store it, queue into it.

Saving is all or nothing: a programme with any conflict is refused with every
conflict listed, and what was scheduled before stays exactly as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Programme, QueuedBulletin, new_id
from controller.db.session import Database
from controller.domain.actors import Actor, Role
from controller.domain.content.access import require_visible
from controller.domain.content.bulletins import find_bulletin
from controller.domain.content.workflow import airable_refusal
from controller.domain.errors import InvalidInput, NotFound
from controller.domain.places.service import get_ward, zone_map
from controller.domain.plans.service import PlanService
from controller.domain.programmes.conflict import Conflict
from controller.domain.programmes.conflicts import check
from controller.domain.programmes.content import ContentInfo
from controller.domain.programmes.diff import diff
from controller.domain.programmes.schema import ProgrammeDoc
from wardcast_protocol.clock import Clock


class ProgrammeRefused(InvalidInput):
    """The programme has conflicts; nothing was changed."""

    def __init__(self, conflicts: list[Conflict]) -> None:
        first = conflicts[0].message if conflicts else ""
        super().__init__(f"the programme has {len(conflicts)} conflict(s), e.g.: {first}")
        self.conflicts = conflicts


class _Content:
    """The content lookup conflict checks use: the controller's bulletins."""

    def __init__(self, session: Session, ward_code: str | None = None) -> None:
        self._session = session
        self._ward_code = ward_code

    def get(self, bulletin_id: str) -> ContentInfo | None:
        # A programme names a bulletin by its id or by the code people gave it.
        bulletin = find_bulletin(self._session, bulletin_id, self._ward_code)
        if bulletin is None:
            return None
        return ContentInfo(
            bulletin_id=bulletin.id,
            status=bulletin.status,
            valid_from=bulletin.valid_from,
            valid_until=bulletin.valid_until,
            duration_s=bulletin.media.duration_s,
        )


@dataclass(frozen=True)
class CheckResult:
    """Conflicts and the diff against what is stored."""

    conflicts: list[Conflict]
    diff: list[str]
    current: ProgrammeDoc | None


def current_programme(session: Session, ward_code: str) -> tuple[int, ProgrammeDoc] | None:
    """The stored programme of a ward and its version, if any."""
    row = session.get(Programme, ward_code)
    if row is None:
        return None
    return row.version, ProgrammeDoc.model_validate(row.document)


def check_programme(
    session: Session, ward_code: str, doc: ProgrammeDoc, now: datetime
) -> CheckResult:
    """Every conflict of ``doc`` for this ward, and how it differs from the stored one."""
    ward = get_ward(session, ward_code)
    conflicts: list[Conflict] = []
    if doc.ward != ward.code:
        conflicts.append(
            Conflict("wrong_ward", f"the file is for ward {doc.ward}, not {ward.code}", "ward")
        )
    conflicts += check(
        doc, zones=zone_map(session, ward.code), content=_Content(session, ward.code), now=now
    )
    stored = current_programme(session, ward.code)
    current = stored[1] if stored else None
    return CheckResult(conflicts, diff(current, doc), current)


def save_programme(
    session: Session, ward_code: str, doc: ProgrammeDoc, actor: Actor, now: datetime
) -> tuple[int, list[str]]:
    """Store ``doc`` as the ward's programme if it has no conflict; (version, diff)."""
    actor.require(Role.ADMIN, "changing a ward's programme")
    actor.require_ward(ward_code, "changing a ward's programme")
    result = check_programme(session, ward_code, doc, now)
    if result.conflicts:
        raise ProgrammeRefused(result.conflicts)
    row = session.get(Programme, ward_code)
    if row is None:
        row = Programme(ward_code=ward_code, version=0)
        session.add(row)
    if result.diff or row.version == 0:
        row.version += 1
        row.document = doc.model_dump(mode="json")
        row.updated_at, row.updated_by = now, actor.name
    # The ward's time zone follows its programme.
    get_ward(session, ward_code).timezone = doc.timezone
    session.flush()
    return row.version, result.diff


def queue_bulletin(
    session: Session,
    ward_code: str,
    session_code: str,
    bulletin_id: str,
    first: date,
    last: date,
    actor: Actor,
    now: datetime,
) -> QueuedBulletin:
    """Queue an approved bulletin into a session of the ward's programme for some days."""
    actor.require(Role.OFFICER, "queueing bulletins")
    actor.require_ward(ward_code, "queueing bulletins")
    stored = current_programme(session, ward_code)
    if stored is None:
        raise NotFound(
            f"ward {ward_code} has no programme yet",
            code="programme.missing",
            params={"ward": ward_code},
        )
    codes = [s.code for s in stored[1].sessions]
    if session_code not in codes:
        raise NotFound(
            f"no session {session_code!r} in ward {ward_code}'s programme: {codes}",
            code="queue.unknown_session",
            params={"session": session_code},
            field="session",
        )
    if last < first:
        raise InvalidInput(
            "the last day is before the first", code="queue.last_before_first", field="last"
        )
    # A day already over in the ward would be stored and never aired: refuse it.
    today = now.astimezone(ZoneInfo(stored[1].timezone)).date()
    if first < today:
        raise InvalidInput(
            f"the first day {first.isoformat()} is past: today is {today.isoformat()} "
            f"in ward {ward_code} ({stored[1].timezone}); queue from today or later",
            code="queue.past_day",
            params={"day": first.strftime("%d/%m/%Y"), "today": today.strftime("%d/%m/%Y")},
            field="first",
        )
    bulletin = find_bulletin(session, bulletin_id, ward_code)  # an id or a code
    if bulletin is None:
        raise NotFound(
            f"no bulletin with the id or code {bulletin_id!r}",
            code="queue.unknown_bulletin",
            params={"bulletin": bulletin_id},
            field="bulletin",
        )
    require_visible(actor, bulletin, "queueing")
    refusal = airable_refusal(bulletin, now, "queue")
    if refusal is not None and not (
        bulletin.status == "approved" and bulletin.valid_from and bulletin.valid_from > now
    ):
        raise refusal
    position = len(
        session.scalars(
            select(QueuedBulletin.id).where(
                QueuedBulletin.ward_code == ward_code, QueuedBulletin.session_code == session_code
            )
        ).all()
    )
    row = QueuedBulletin(
        id=new_id("q"),
        ward_code=ward_code,
        session_code=session_code,
        bulletin_id=bulletin.id,
        first_date=first,
        last_date=last,
        position=position,
        added_at=now,
        added_by=actor.name,
    )
    session.add(row)
    session.flush()
    return row


def list_queue(session: Session, ward_code: str) -> list[QueuedBulletin]:
    """The ward's queue, by session and position."""
    query = (
        select(QueuedBulletin)
        .where(QueuedBulletin.ward_code == ward_code)
        .order_by(QueuedBulletin.session_code, QueuedBulletin.position)
    )
    return list(session.scalars(query))


def unqueue(session: Session, ward_code: str, entry_id: str, actor: Actor) -> None:
    """Remove a queue entry."""
    actor.require(Role.OFFICER, "changing the queue")
    actor.require_ward(ward_code, "changing the queue")
    row = session.get(QueuedBulletin, entry_id)
    if row is None or row.ward_code != ward_code:
        raise NotFound(
            f"no queue entry {entry_id!r} in ward {ward_code}", code="queue.unknown_entry"
        )
    session.delete(row)


class ProgrammeService:
    """Programme and queue changes whose devices' plans follow at once (after the commit)."""

    def __init__(self, db: Database, plans: PlanService, clock: Clock) -> None:
        self._db = db
        self._plans = plans
        self._clock = clock

    def save(self, ward_code: str, doc: ProgrammeDoc, actor: Actor) -> tuple[int, list[str]]:
        """Store the ward's programme (all or nothing); (version, diff)."""
        with self._plans.changing() as change:
            version, changes = save_programme(change.session, ward_code, doc, actor, change.now)
            if changes:
                change.recompile(self._plans.ward_devices(change.session, ward_code))
        return version, changes

    def queue(
        self,
        ward_code: str,
        session_code: str,
        bulletin_id: str,
        first: date,
        last: date,
        actor: Actor,
    ) -> QueuedBulletin:
        """Queue an approved bulletin into a session for some days."""
        with self._plans.changing() as change:
            row = queue_bulletin(
                change.session, ward_code, session_code, bulletin_id, first, last, actor, change.now
            )
            change.recompile(self._plans.ward_devices(change.session, ward_code))
        return row

    def unqueue(self, ward_code: str, entry_id: str, actor: Actor) -> None:
        """Take a bulletin out of the queue."""
        with self._plans.changing() as change:
            unqueue(change.session, ward_code, entry_id, actor)
            change.recompile(self._plans.ward_devices(change.session, ward_code))
