"""What applying a programme would change, in lines an officer can read.

``+`` adds, ``-`` removes, ``~`` changes. Sessions and targets are matched by code,
so renaming a session's ``name`` is a change but changing its ``code`` is a removal
and an addition (queued bulletins are attached to the code). The result is empty
exactly when the two documents are equal, which is what makes ``schedules apply``
after ``schedules export`` a no-op.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time
from typing import Any

from pydantic import BaseModel

from controller.domain.programmes.fields import TimeRange, format_time
from controller.domain.programmes.relay_tuning import RelayTuning
from controller.domain.programmes.schema import (
    BulletinsItem,
    ChimeItem,
    FixedBulletinItem,
    ProgrammeDoc,
    RelayItem,
    SessionDef,
    TargetDef,
    WardRules,
)

_QUOTED = frozenset({"name", "description", "station"})


def describe_tuning(
    prebuffer_s: float | None, dead_after_s: float | None, silence_db: float | None
) -> str:
    """Relay tuning in words ('' when none is set): 'dead air 15 s, silence below -45 dBFS'."""
    parts = []
    if prebuffer_s is not None:
        parts.append(f"prebuffer {prebuffer_s:g} s")
    if dead_after_s is not None:
        parts.append(f"dead air {dead_after_s:g} s")
    if silence_db is not None:
        parts.append(f"silence below {silence_db:g} dBFS")
    return ", ".join(parts)


def describe_item(item: BaseModel) -> str:
    """One rundown item in words: 'opening chime', 'relay VOV1 (central) 30 min …'."""
    if isinstance(item, ChimeItem):
        return f"{item.which} chime"
    if isinstance(item, RelayTuning):
        return describe_tuning(item.prebuffer_s, item.dead_after_s, item.silence_db) or "(none)"
    if isinstance(item, RelayItem):
        fallback = f", fallback '{item.fallback_bulletin}'" if item.fallback_bulletin else ""
        tuning = describe_tuning(item.prebuffer_s, item.dead_after_s, item.silence_db)
        return (
            f"relay {item.station} ({item.source_level}) {item.minutes:g} min "
            f"from {item.url}{fallback}{', ' + tuning if tuning else ''}"
        )
    if isinstance(item, BulletinsItem):
        limit = f" up to {item.max_minutes:g} min" if item.max_minutes else ""
        return f"queued bulletins{limit}"
    if isinstance(item, FixedBulletinItem):
        return f"bulletin '{item.bulletin_id}'"
    return repr(item)


def _value(name: str, value: Any) -> str:
    """A field's value as it reads in a diff line."""
    if value is None:
        return "(none)"
    if isinstance(value, time):
        return format_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, TimeRange):
        return f"{format_time(value.start)}–{format_time(value.end)}"
    if isinstance(value, BaseModel):
        return describe_item(value)
    if isinstance(value, list):
        return ", ".join(_value(name, item) for item in value) if value else "(none)"
    if name in _QUOTED:
        return f"'{value}'"
    return str(value)


def summarise_session(session: SessionDef) -> str:
    """A session on one line: code, name, time, rule, zones and rundown."""
    rundown = "; ".join(describe_item(item) for item in session.rundown)
    extras = ""
    if session.exdates:
        extras += f", {len(session.exdates)} exdate{'s' if len(session.exdates) > 1 else ''}"
    if session.max_minutes is not None:
        extras += f", at most {session.max_minutes:g} min"
    return (
        f"'{session.code}' ({session.name}) at {format_time(session.start)}, {session.rrule}, "
        f"zones {', '.join(session.zones)}{extras}: {rundown}"
    )


def _summarise_target(target: TargetDef) -> str:
    level = f" ({target.source_level})" if target.source_level else ""
    return (
        f"'{target.code}': {target.kind}{level} at least {target.minimum:g} — {target.description}"
    )


def _field_changes(label: str, old: BaseModel, new: BaseModel, skip: str = "") -> list[str]:
    """``~ label: field old -> new`` for every field that differs."""
    lines: list[str] = []
    for name in type(new).model_fields:
        before, after = getattr(old, name), getattr(new, name)
        if name == skip or before == after:
            continue
        if name == "exdates":
            added = [d.isoformat() for d in after if d not in before]
            removed = [d.isoformat() for d in before if d not in after]
            parts = [f"+{d}" for d in added] + [f"-{d}" for d in removed]
            if parts:
                lines.append(f"~ {label}: exdates {' '.join(parts)}")
            if sorted(before) == sorted(after):
                lines.append(f"~ {label}: exdates reordered")
        elif name == "rundown" and len(before) == len(after):
            for k, (was, now) in enumerate(zip(before, after, strict=True)):
                if was != now:
                    lines.append(
                        f"~ {label}: rundown[{k}] {describe_item(was)} -> {describe_item(now)}"
                    )
        elif name == "rundown":
            lines.append(
                f"~ {label}: rundown {'; '.join(describe_item(i) for i in before)} -> "
                f"{'; '.join(describe_item(i) for i in after)}"
            )
        else:
            lines.append(f"~ {label}: {name} {_value(name, before)} -> {_value(name, after)}")
    return lines


def _keyed(codes: Sequence[str]) -> list[tuple[str, int]]:
    """(code, n) keys so that duplicate codes still match one to one."""
    seen: dict[str, int] = {}
    keys: list[tuple[str, int]] = []
    for code in codes:
        seen[code] = seen.get(code, 0) + 1
        keys.append((code, seen[code]))
    return keys


def _list_changes(
    kind: str,
    old: Sequence[SessionDef | TargetDef],
    new: Sequence[SessionDef | TargetDef],
) -> list[str]:
    old_keys, new_keys = _keyed([i.code for i in old]), _keyed([i.code for i in new])
    old_by = dict(zip(old_keys, old, strict=True))
    new_by = dict(zip(new_keys, new, strict=True))
    lines: list[str] = []
    for key in old_keys:
        if key not in new_by:
            lines.append(f"- {kind} '{key[0]}' ({_name_of(old_by[key])})")
    for key in new_keys:
        item = new_by[key]
        if key not in old_by:
            lines.append(f"+ {kind} {_summary(item)}")
        else:
            lines += _field_changes(f"{kind} '{key[0]}'", old_by[key], item, skip="code")
    kept_old = [key for key in old_keys if key in new_by]
    kept_new = [key for key in new_keys if key in old_by]
    if kept_old != kept_new:
        lines.append(
            f"~ {kind} order: {', '.join(k[0] for k in kept_old)} -> "
            f"{', '.join(k[0] for k in kept_new)}"
        )
    return lines


def _name_of(item: SessionDef | TargetDef) -> str:
    return item.name if isinstance(item, SessionDef) else item.description


def _summary(item: SessionDef | TargetDef) -> str:
    return summarise_session(item) if isinstance(item, SessionDef) else _summarise_target(item)


def diff(current: ProgrammeDoc | None, new: ProgrammeDoc) -> list[str]:
    """Human-readable changes from ``current`` (None: nothing held yet) to ``new``."""
    if current is None:
        lines = [f"+ programme '{new.name}' for ward {new.ward} ({new.timezone})"]
        rules = new.rules
        if rules != WardRules():
            relays = f"; relays: {_value('', rules.relay_defaults)}" if rules.relay_defaults else ""
            lines += [
                f"+ rules: broadcast days {_value('', rules.broadcast_days)}; quiet hours "
                f"{_value('', rules.quiet_hours)}; sessions at most "
                f"{rules.max_session_minutes} min{relays}"
            ]
        lines += [f"+ session {summarise_session(s)}" for s in new.sessions]
        lines += [f"+ target {_summarise_target(t)}" for t in new.targets]
        return lines
    if current == new:
        return []
    lines = []
    for name in ("ward", "name", "timezone"):
        before, after = getattr(current, name), getattr(new, name)
        if before != after:
            lines.append(f"~ {name}: {_value(name, before)} -> {_value(name, after)}")
    for name in WardRules.model_fields:
        before, after = getattr(current.rules, name), getattr(new.rules, name)
        if before != after:
            lines.append(f"~ rules.{name}: {_value(name, before)} -> {_value(name, after)}")
    lines += _list_changes("session", current.sessions, new.sessions)
    lines += _list_changes("target", current.targets, new.targets)
    # Every field is compared above; this guards the promise "empty only when equal".
    return lines or ["~ programme changed"]
