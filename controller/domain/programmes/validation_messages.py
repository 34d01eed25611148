"""Schema errors in plain words: pydantic's errors as a programme's problems.

Each pydantic error becomes one :class:`~controller.domain.programmes.problems.Problem`
at its line: a missing field, an unknown field (with the nearest field name), a
wrong kind of rundown item, a list too short. Messages schema.py wrote itself are
shown as they are.
"""

from __future__ import annotations

import difflib
from datetime import date, time
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ValidationError

from controller.domain.programmes.problems import Loc, Problem, SourceMap, format_path
from controller.domain.programmes.schema import ProgrammeDoc

# Errors whose messages we wrote ourselves (schema.py): shown as they are.
_OWN_TYPES = frozenset(
    {
        "local_time",
        "empty_range",
        "duplicate",
        "stream_url",
        "zones_all",
        "rrule",
        "starts_on",
        "timezone",
        "blank",
        "control_character",
        "target_minimum",
        "relay_tuning",
    }
)


@lru_cache(maxsize=1)
def _all_field_names() -> list[str]:
    names: set[str] = set()
    pending: list[type[BaseModel]] = [ProgrammeDoc]
    seen: set[type[BaseModel]] = set()
    while pending:
        model = pending.pop()
        if model in seen:
            continue
        seen.add(model)
        names.update(model.model_fields)
        for info in model.model_fields.values():
            for arg in _types_in(info.annotation):
                if isinstance(arg, type) and issubclass(arg, BaseModel):
                    pending.append(arg)
    return sorted(names)


def _types_in(annotation: Any) -> list[Any]:
    found = [annotation]
    for arg in getattr(annotation, "__args__", ()) or ():
        found += _types_in(arg)
    for meta in getattr(annotation, "__metadata__", ()) or ():
        found += _types_in(meta)
    return found


def _show(value: Any) -> str | None:
    if isinstance(value, str | int | float | bool | date | time) or value is None:
        shown = repr(value.isoformat() if isinstance(value, date | time) else value)
        return shown if len(shown) <= 60 else shown[:57] + "…"
    return None


def _message(error: Any) -> str:
    kind, loc = error["type"], error["loc"]
    name = loc[-1] if loc else ""
    if kind == "missing":
        return f"'{name}' is required"
    if kind == "extra_forbidden":
        near = difflib.get_close_matches(str(name), _all_field_names(), n=1, cutoff=0.7)
        return f"unknown field '{name}'" + (f"; did you mean '{near[0]}'?" if near else "")
    if kind in _OWN_TYPES:
        return str(error["msg"])
    if kind == "union_tag_invalid":
        context = error.get("ctx") or {}
        return f"unknown kind '{context.get('tag')}': use one of {context.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return "each rundown item needs a 'kind': chime, relay, bulletins or bulletin"
    context = error.get("ctx") or {}
    if kind == "too_short" and "min_length" in context:
        count = context["min_length"]
        return f"needs at least {count} item{'s' if count != 1 else ''}"
    if kind == "too_long" and "max_length" in context:
        return f"has more than {context['max_length']} items"
    message = str(error["msg"])
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        message = "expected a mapping of fields here"
    elif kind == "list_type":
        message = "expected a list here"
    shown = _show(error.get("input"))
    return f"{message} (got {shown})" if shown else message


def validation_problems(
    exc: ValidationError, source_map: SourceMap, bad: set[Loc]
) -> list[Problem]:
    """Every error in ``exc`` as a problem at its line, except inside ``bad`` places.

    ``bad`` are the places already reported as YAML problems (a duplicate key, an
    unreadable value): their schema errors would only repeat them.
    """
    problems: list[Problem] = []
    for error in exc.errors(include_url=False):
        loc, line = source_map.resolve(error["loc"])
        if any(loc[: len(b)] == b for b in bad):
            continue  # already reported as a YAML problem at that place
        problems.append(Problem(format_path(loc), line, _message(error)))
    return problems
