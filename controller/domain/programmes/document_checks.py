"""The checks a programme fails as written, before any air time is computed.

Duplicate codes, unknown zones, stream URLs, relay tuning and planned lengths are
read off the document (and the bulletins' lengths): no clock, no recurrence. They
sit apart from ``airing_checks`` and ``clashes``, which need a session's air times,
so that each can be read and tested without the other's calendar arithmetic.
:func:`controller.domain.programmes.conflicts.check` runs them all in document order.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet

from controller.domain.programmes.conflict import Conflict, duration, in_minutes
from controller.domain.programmes.content import ContentLookup
from controller.domain.programmes.fields import stream_url_problem
from controller.domain.programmes.recurrence import CHIME_S, session_cap_s, session_length_s
from controller.domain.programmes.schema import (
    ALL_ZONES,
    BulletinsItem,
    ChimeItem,
    FixedBulletinItem,
    ProgrammeDoc,
    RelayItem,
    SessionDef,
)
from wardcast_protocol.messages import RelaySpec

DEFAULT_DEAD_AFTER_S: float = RelaySpec.model_fields["dead_after_s"].default


def duplicates(doc: ProgrammeDoc) -> list[Conflict]:
    """Session or target codes used twice (``duplicate_session``, ``duplicate_target``)."""
    found: list[Conflict] = []
    kinds: tuple[tuple[str, list[str]], ...] = (
        ("session", [session.code for session in doc.sessions]),
        ("target", [target.code for target in doc.targets]),
    )
    for kind, codes in kinds:
        first: dict[str, int] = {}
        for index, code in enumerate(codes):
            if code in first:
                found.append(
                    Conflict(
                        f"duplicate_{kind}",
                        f"{kind} code '{code}' is used by {kind}s #{first[code] + 1} "
                        f"and #{index + 1}: codes must be unique",
                        f"{kind}s[{index}].code",
                    )
                )
            else:
                first[code] = index
    return found


def zone_problems(
    doc: ProgrammeDoc,
    session: SessionDef,
    path: str,
    zones: Mapping[str, AbstractSet[str]] | None,
) -> list[Conflict]:
    """Zone codes of ``session`` that the ward does not have (None ``zones``: unchecked)."""
    if zones is None:
        return []
    known = ", ".join(sorted(zones)) or "none yet; use 'all'"
    return [
        Conflict(
            "unknown_zone",
            f"session '{session.code}': zone '{code}' is not a zone of ward {doc.ward} "
            f"(its zones: {known})",
            f"{path}.zones[{k}]",
        )
        for k, code in enumerate(session.zones)
        if code != ALL_ZONES and code not in zones
    ]


def stream_problems(session: SessionDef, path: str) -> list[Conflict]:
    """Relays whose URL is not a stream URL (``bad_stream_url``)."""
    found: list[Conflict] = []
    for k, item in enumerate(session.rundown):
        if isinstance(item, RelayItem):
            problem = stream_url_problem(item.url)
            if problem:
                found.append(
                    Conflict(
                        "bad_stream_url",
                        f"session '{session.code}': relay of {item.station}: {problem}",
                        f"{path}.rundown[{k}].url",
                    )
                )
    return found


def tuning_problems(doc: ProgrammeDoc, session: SessionDef, path: str) -> list[Conflict]:
    """A relay that would give the stream its whole window before the fallback: the
    fallback could never play, whatever the stream did."""
    found: list[Conflict] = []
    for k, item in enumerate(session.rundown):
        if not isinstance(item, RelayItem):
            continue
        tuned = item.tuning(doc.rules).dead_after_s
        dead_after = DEFAULT_DEAD_AFTER_S if tuned is None else tuned
        if dead_after < item.minutes * 60:
            continue
        # Point at where the value was set: the item, the ward's defaults, or neither.
        where = f"{path}.rundown[{k}]"
        if item.dead_after_s is not None:
            where += ".dead_after_s"
        elif doc.rules.relay_defaults and doc.rules.relay_defaults.dead_after_s is not None:
            where = "rules.relay_defaults.dead_after_s"
        found.append(
            Conflict(
                "relay_tuning",
                f"session '{session.code}': relay of {item.station}: dead air is allowed for "
                f"{dead_after:g} s but the relay lasts {duration(item.minutes * 60)}, so the "
                "fallback could never play: lower dead_after_s or relay for longer",
                where,
            )
        )
    return found


def _breakdown(session: SessionDef, content: ContentLookup) -> str:
    parts: list[str] = []
    chimes = sum(isinstance(item, ChimeItem) for item in session.rundown)
    if chimes:
        parts.append(f"chimes {duration(chimes * CHIME_S)}")
    for item in session.rundown:
        if isinstance(item, RelayItem):
            parts.append(f"relay {item.station} {duration(item.minutes * 60)}")
        elif isinstance(item, BulletinsItem) and item.max_minutes:
            parts.append(f"queued bulletins up to {duration(item.max_minutes * 60)}")
        elif isinstance(item, FixedBulletinItem):
            info = content.get(item.bulletin_id)
            if info:
                parts.append(f"bulletin '{item.bulletin_id}' {duration(info.duration_s)}")
    return ", ".join(parts)


def length_problems(
    doc: ProgrammeDoc, session: SessionDef, path: str, content: ContentLookup
) -> list[Conflict]:
    """A session planned or allowed longer than its own or the ward's cap (``too_long``)."""
    found: list[Conflict] = []
    ward_max = doc.rules.max_session_minutes
    if session.max_minutes is not None and session.max_minutes > ward_max:
        found.append(
            Conflict(
                "too_long",
                f"session '{session.code}' allows {in_minutes(session.max_minutes)}, more than "
                f"the ward's maximum of {in_minutes(ward_max)}",
                f"{path}.max_minutes",
            )
        )
    length = session_length_s(session, content)
    cap = session_cap_s(session, doc.rules)
    if length > cap + 1e-6:
        whose = "the ward's" if cap == ward_max * 60 else "its"
        found.append(
            Conflict(
                "too_long",
                f"session '{session.code}' is planned to last {duration(length)}, longer than "
                f"{whose} maximum of {in_minutes(cap / 60)} "
                f"({_breakdown(session, content)})",
                f"{path}.rundown",
            )
        )
    return found
