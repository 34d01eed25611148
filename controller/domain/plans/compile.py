"""Plan compilation: from a ward's programme, its queue and manual broadcasts to device plans.

Each session occurrence becomes a run of plan items laid end to end from the
session's start: chimes, relay windows, the queued bulletins (priority first) and
fixed bulletins, cut at the session's cap. Item ids are derived from what the item
*is* (session occurrence, kind, content, repeat), not from its position, so a
recompilation — after a restart, an edit, a newly queued bulletin — gives every
unchanged item its old id, and agents, which never play an id twice, never replay.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.audio.store import MediaUrls
from controller.db.models import Bulletin, Device, MediaAsset, Programme, QueuedBulletin
from controller.domain.content.workflow import airable_problem
from controller.domain.places.service import ALL_GROUPS, zone_map
from controller.domain.programmes.recurrence import occurrences
from controller.domain.programmes.schema import (
    BulletinsItem,
    ChimeItem,
    FixedBulletinItem,
    ProgrammeDoc,
    RelayItem,
    SessionDef,
)
from wardcast_protocol.messages import (
    MediaRef,
    PlanItem,
    Priority,
    RelaySpec,
    SourceLevel,
    Trigger,
)

log = logging.getLogger(__name__)

ITEM_GAP_S = 1.0  # between items: lets a relay close and an amplifier breathe
CHIME_TITLES = {"opening": "Nhạc hiệu mở đầu", "closing": "Nhạc hiệu kết thúc"}


@dataclass
class CompileContext:
    """What compiling one ward needs, loaded once for all its devices."""

    urls: MediaUrls
    chime_sha256: str
    media: dict[str, MediaAsset] = field(default_factory=dict)
    bulletins: dict[str, Bulletin] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # (ward or None for every ward, code) -> bulletin: programmes may name content by code.
    codes: dict[tuple[str | None, str], Bulletin] = field(default_factory=dict)

    def bulletin(self, ref: str, ward_code: str) -> Bulletin | None:
        """An approved bulletin by id, or by code in this ward, else for every ward."""
        found = self.bulletins.get(ref) or self.codes.get((ward_code, ref))
        return found or self.codes.get((None, ref))

    def media_ref(self, sha256: str) -> MediaRef:
        """A media reference agents can fetch (by a signed URL)."""
        asset = self.media[sha256]
        return MediaRef(
            sha256=asset.sha256,
            url=self.urls.url(asset.sha256, asset.extension),
            duration_s=asset.duration_s,
            size_bytes=asset.size_bytes,
            content_type=asset.content_type,
        )


def _item_id(session_key: str, what: str, repeat: int) -> str:
    digest = hashlib.sha256(f"{session_key}|{what}|{repeat}".encode()).hexdigest()
    return f"p-{digest[:24]}"


def _session_targets(session: SessionDef, zones: dict[str, set[str]], group: str | None) -> bool:
    """Does this session reach a device in ``group``? ('all' reaches every device.)"""
    if ALL_GROUPS in session.zones:
        return True
    if group is None:
        return False
    return any(group in zones.get(code, set()) for code in session.zones)


def _queued(session: Session, ward_code: str) -> dict[str, list[QueuedBulletin]]:
    rows = session.scalars(
        select(QueuedBulletin)
        .where(QueuedBulletin.ward_code == ward_code)
        .order_by(QueuedBulletin.position, QueuedBulletin.added_at, QueuedBulletin.id)
    )
    by_session: dict[str, list[QueuedBulletin]] = {}
    for row in rows:
        by_session.setdefault(row.session_code, []).append(row)
    return by_session


class _Timeline:
    """One session occurrence being laid out: items end to end, up to the cap."""

    def __init__(self, ward_code: str, code: str, key: str, at: datetime, ends: datetime) -> None:
        self.broadcast_id = f"prog-{ward_code}-{code}"[:64]
        self.key = key
        self.cursor = at
        self.ends = ends
        self._seen: dict[str, int] = {}

    def fits(self, duration_s: float) -> bool:
        """Would an item this long end within the session's cap?"""
        return self.cursor + timedelta(seconds=duration_s) <= self.ends

    def add(self, what: str, duration_s: float, media: MediaRef, **fields: object) -> PlanItem:
        """Place an item at the cursor and move the cursor past it."""
        repeat = self._seen.get(what, 0)
        self._seen[what] = repeat + 1
        item = PlanItem.model_validate(
            {
                "item_id": _item_id(self.key, what, repeat),
                "broadcast_id": self.broadcast_id,
                "planned_start": self.cursor,
                "trigger": Trigger.PROGRAMME,
                "session_key": self.key,
                "media": media,
                **fields,
            }
        )
        self.cursor += timedelta(seconds=duration_s + ITEM_GAP_S)
        return item


class WardCompiler:
    """Compiles the programme items of one ward for each of its devices."""

    def __init__(
        self, session: Session, ward_code: str, ctx: CompileContext, max_session_minutes: int
    ) -> None:
        self.session = session
        self.ward_code = ward_code
        self.ctx = ctx
        row = session.get(Programme, ward_code)
        self.doc = ProgrammeDoc.model_validate(row.document) if row is not None else None
        self.zones = zone_map(session, ward_code)
        self.queue = _queued(session, ward_code)
        self._cache: dict[tuple[str, datetime], list[PlanItem]] = {}
        self._when: dict[tuple[str, datetime, datetime], list[datetime]] = {}
        self._max_minutes = max_session_minutes

    def items_for(self, device: Device, start: datetime, end: datetime) -> list[PlanItem]:
        """Programme items for ``device`` with planned starts in [start, end)."""
        if self.doc is None:
            return []
        items: list[PlanItem] = []
        for definition in self.doc.sessions:
            if not _session_targets(definition, self.zones, device.group_code):
                continue
            for occurrence in self._occurrences(definition, start, end):
                key = (definition.code, occurrence)
                if key not in self._cache:
                    self._cache[key] = self._occurrence(definition, occurrence)
                items.extend(self._cache[key])
        return items

    def _occurrences(
        self, definition: SessionDef, start: datetime, end: datetime
    ) -> list[datetime]:
        # A ward's devices share the window: its rules are expanded once, not per device.
        key = (definition.code, start, end)
        found = self._when.get(key)
        if found is None:
            assert self.doc is not None
            days = self.doc.rules.broadcast_days
            found = list(occurrences(definition, self.doc.timezone, start, end, days))
            self._when[key] = found
        return found

    def _occurrence(self, definition: SessionDef, at: datetime) -> list[PlanItem]:
        assert self.doc is not None
        local_day = at.astimezone(ZoneInfo(self.doc.timezone)).date()
        caps: list[float] = [self.doc.rules.max_session_minutes, self._max_minutes]
        if definition.max_minutes is not None:
            caps.append(definition.max_minutes)
        key = f"{self.ward_code}:{definition.code}:{local_day.isoformat()}"
        line = _Timeline(
            self.ward_code, definition.code, key, at, at + timedelta(minutes=min(caps))
        )
        items: list[PlanItem] = []
        for entry in definition.rundown:
            if isinstance(entry, ChimeItem):
                chime = self.ctx.media_ref(self.ctx.chime_sha256)
                if self._fits(line, f"chime:{entry.which}", chime.duration_s):
                    title = CHIME_TITLES[entry.which]
                    items.append(
                        line.add(f"chime:{entry.which}", chime.duration_s, chime, title=title)
                    )
            elif isinstance(entry, RelayItem):
                items.extend(self._relay(entry, line))
            elif isinstance(entry, FixedBulletinItem):
                items.extend(self._bulletins(line, [entry.bulletin_id], None))
            elif isinstance(entry, BulletinsItem):
                queued = [
                    r.bulletin_id
                    for r in self.queue.get(definition.code, [])
                    if r.first_date <= local_day <= r.last_date
                ]
                budget = entry.max_minutes * 60 if entry.max_minutes is not None else None
                items.extend(self._bulletins(line, queued, budget, priority_first=True))
        if all(item.media.sha256 == self.ctx.chime_sha256 and not item.relay for item in items):
            # Chimes around nothing would only wake the street: skip the occurrence.
            if items:
                self.ctx.notes.append(f"{key}: nothing to air; the session is skipped")
            return []
        return items

    def _fits(self, line: _Timeline, what: str, duration_s: float) -> bool:
        if line.fits(duration_s):
            return True
        self.ctx.notes.append(f"{line.key}: {what} does not fit in the session; left out")
        return False

    def _relay(self, entry: RelayItem, line: _Timeline) -> list[PlanItem]:
        fallback = self.ctx.chime_sha256
        if entry.fallback_bulletin:
            bulletin = self.ctx.bulletin(entry.fallback_bulletin, self.ward_code)
            if bulletin is not None and airable_problem(bulletin, line.cursor) is None:
                fallback = bulletin.media_sha256
        assert self.doc is not None
        # The ward's relay tuning, the item's own over it; unset: the protocol's defaults.
        tuning = entry.tuning(self.doc.rules).model_dump(exclude_none=True)
        spec = RelaySpec(
            url=entry.url, station=entry.station, window_s=entry.minutes * 60, **tuning
        )
        what = f"relay:{entry.station}:{entry.url}"
        if not self._fits(line, what, spec.window_s):
            return []
        return [
            line.add(
                what,
                spec.window_s,
                self.ctx.media_ref(fallback),
                relay=spec,
                title=f"Relay {entry.station}".strip(),
                source_level=SourceLevel(entry.source_level),
            )
        ]

    def _bulletins(
        self,
        line: _Timeline,
        bulletin_ids: list[str],
        budget_s: float | None,
        *,
        priority_first: bool = False,
    ) -> list[PlanItem]:
        chosen: list[Bulletin] = []
        for bulletin_id in bulletin_ids:
            bulletin = self.ctx.bulletin(bulletin_id, self.ward_code)
            if bulletin is None:
                self.ctx.notes.append(f"{line.key}: {bulletin_id} is not approved; left out")
            else:
                chosen.append(bulletin)
        if priority_first:
            # Circular 39: priority bulletins go first within the session (stable sort).
            chosen.sort(key=lambda b: 0 if b.priority == Priority.PRIORITY else 1)
        items: list[PlanItem] = []
        used = 0.0
        for bulletin in chosen:
            media = self.ctx.media_ref(bulletin.media_sha256)
            what = f"bulletin:{bulletin.id}"
            problem = airable_problem(bulletin, line.cursor)
            if problem is not None:
                self.ctx.notes.append(f"{line.key}: {problem}; left out")
                continue
            if budget_s is not None and used + media.duration_s > budget_s:
                self.ctx.notes.append(f"{line.key}: {bulletin.id} over the block's time; left out")
                continue
            if not self._fits(line, what, media.duration_s):
                continue
            priority = Priority(bulletin.priority)
            used += media.duration_s
            items.append(
                line.add(
                    what,
                    media.duration_s,
                    media,
                    bulletin_id=bulletin.id,
                    title=bulletin.title,
                    # An emergency bulletin queued in a session is aired as priority
                    # there; only the emergency path interrupts.
                    priority=Priority.PRIORITY if priority is Priority.EMERGENCY else priority,
                    source_level=SourceLevel(bulletin.source_level),
                )
            )
        return items


def load_context(session: Session, urls: MediaUrls, chime_sha256: str) -> CompileContext:
    """Media and bulletins that programmes may refer to (approved ones only)."""
    ctx = CompileContext(urls=urls, chime_sha256=chime_sha256)
    for asset in session.scalars(select(MediaAsset)):
        ctx.media[asset.sha256] = asset
    for bulletin in session.scalars(select(Bulletin).where(Bulletin.status == "approved")):
        ctx.bulletins[bulletin.id] = bulletin
        if bulletin.code:
            ctx.codes[(bulletin.ward_code, bulletin.code)] = bulletin
    return ctx
