"""Programmes as YAML files: read with every problem and its line, written back stably.

Reading composes the YAML node tree (``yaml.SafeLoader`` only) and converts it
ourselves, which gives three things a plain ``yaml.safe_load`` cannot:

- the line of every key and list item, so each pydantic error, and each conflict the
  controller reports by path, is shown at its line in the file;
- duplicate keys are errors (``safe_load`` silently keeps the last one);
- no surprise numbers. YAML 1.1 reads an unquoted ``17:00`` as 1020 (base 60) and
  ``00037`` as 31 (octal). A programme has neither base-60 nor octal numbers, so such
  plain scalars are kept as the text that was written; ``05:30`` and ``"05:30"``
  mean the same, and so do ``ward: 00037`` and ``ward: "00037"``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time
from functools import lru_cache
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from controller.domain.programmes.fields import format_time
from controller.domain.programmes.schema import ProgrammeDoc

Loc = tuple[str | int, ...]

MAX_CHARS = 1_000_000
MAX_NODES = 100_000
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9_]+$")
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


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a programme file: where (path and 1-based line) and what."""

    path: str
    line: int | None
    message: str

    def render(self, source: str) -> str:
        """``FILE:LINE: path: message``, the shape editors and CI logs link from."""
        where = f"{source}:{self.line}" if self.line is not None else source
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ProgrammeInvalid(Exception):
    """The text is not a valid programme; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem], source: str = "<text>") -> None:
        self.problems = problems
        self.source = source
        super().__init__("\n".join(problem.render(source) for problem in problems))


def format_path(loc: Sequence[str | int]) -> str:
    """``("sessions", 0, "start")`` -> ``"sessions[0].start"``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


_PATH_PART = re.compile(r"\[(\d+)\]|\.?([^.\[\]]+)")


def parse_path(path: str) -> Loc:
    """``"sessions[0].start"`` -> ``("sessions", 0, "start")`` (inverse of format_path)."""
    parts: list[str | int] = []
    for index, name in _PATH_PART.findall(path):
        parts.append(int(index) if index else name)
    return tuple(parts)


class SourceMap:
    """Line numbers of the values in a YAML text, by path."""

    def __init__(self, lines: dict[Loc, int] | None = None) -> None:
        self._lines = lines or {}

    def resolve(self, loc: Sequence[str | int]) -> tuple[Loc, int | None]:
        """The deepest prefix of ``loc`` present in the file, and its line.

        Parts not in the file are skipped, except a last one: pydantic puts a union's
        tag in the middle of a path, and a missing field at its end.
        """
        current: Loc = ()
        kept: list[str | int] = []
        for n, part in enumerate(loc):
            candidate = (*current, part)
            if candidate in self._lines:
                current = candidate
                kept.append(part)
            elif n == len(loc) - 1:
                kept.append(part)
        return tuple(kept), self._lines.get(current)

    def line_of(self, path: str | Sequence[str | int]) -> int | None:
        """The line of ``path`` (``"sessions[1].start"``) or of its nearest parent."""
        loc = parse_path(path) if isinstance(path, str) else path
        return self.resolve(loc)[1]


class _TooBig(Exception):
    pass


class _Converter:
    """Node tree -> plain Python data, noting lines and problems on the way."""

    def __init__(self) -> None:
        self.lines: dict[Loc, int] = {}
        self.problems: list[Problem] = []
        self.bad: set[Loc] = set()
        self._nodes = 0
        self._active: set[int] = set()
        self._constructor = SafeConstructor()

    def problem(self, loc: Loc, line: int, message: str) -> None:
        self.problems.append(Problem(format_path(loc), line, message))
        self.bad.add(loc)

    def convert(self, node: Node, loc: Loc) -> Any:
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _TooBig
        line = node.start_mark.line + 1
        self.lines.setdefault(loc, line)
        if id(node) in self._active:
            self.problem(loc, line, "this value refers to itself (a recursive alias)")
            return None
        self._active.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return self._mapping(node, loc)
            if isinstance(node, SequenceNode):
                return [self._item(child, (*loc, n)) for n, child in enumerate(node.value)]
            assert isinstance(node, ScalarNode)
            return self._scalar(node, loc, line)
        finally:
            self._active.discard(id(node))

    def _item(self, node: Node, loc: Loc) -> Any:
        self.lines[loc] = node.start_mark.line + 1
        return self.convert(node, loc)

    def _mapping(self, node: MappingNode, loc: Loc) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, ScalarNode):
                self.problem(loc, key_line, "a key must be a plain name")
                continue
            if key_node.tag == _MERGE_TAG:
                self.problem(loc, key_line, "merge keys (<<) are not supported: write it out")
                continue
            key = key_node.value  # the text as written: a key is a name, never a number
            child = (*loc, key)
            if key in result:
                first = self.lines.get(child)
                self.problems.append(
                    Problem(
                        format_path(child),
                        key_line,
                        f"'{key}' is given twice (first on line {first})",
                    )
                )
                continue
            self.lines[child] = key_line
            result[key] = self.convert(value_node, child)
        return result

    def _scalar(self, node: ScalarNode, loc: Loc, line: int) -> Any:
        text = node.value
        if (
            node.style is None
            and node.tag in (_INT_TAG, _FLOAT_TAG)
            and (_SEXAGESIMAL.match(text) or _LEADING_ZERO.match(text))
        ):
            return text
        try:
            return self._constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
            reason = getattr(exc, "problem", None) or str(exc)
            self.problem(loc, line, f"cannot read {text!r}: {reason}")
            return None


def _compose(text: str) -> tuple[Node | None, list[Problem]]:
    if len(text) > MAX_CHARS:
        return None, [Problem("", None, f"the file is longer than {MAX_CHARS} characters")]
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader), []
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(part for part in (exc.context, exc.problem) if part)
        return None, [Problem("", mark.line + 1 if mark else None, f"not valid YAML: {what}")]
    except yaml.YAMLError as exc:
        return None, [Problem("", None, f"not valid YAML: {exc}")]
    except RecursionError:
        return None, [Problem("", None, "the YAML is nested too deeply")]


def _convert(text: str) -> tuple[Any, SourceMap, _Converter | None, list[Problem]]:
    node, problems = _compose(text)
    if problems:
        return None, SourceMap(), None, problems
    if node is None:
        return (
            None,
            SourceMap(),
            None,
            [Problem("", 1, "the file is empty: a programme needs ward, name and sessions")],
        )
    converter = _Converter()
    try:
        data = converter.convert(node, ())
    except (_TooBig, RecursionError):
        return (
            None,
            SourceMap(),
            None,
            [Problem("", None, "the document is too large or nested too deeply")],
        )
    if not isinstance(data, dict):
        converter.problems.append(
            Problem("", node.start_mark.line + 1, "a programme is a mapping: ward, name, sessions…")
        )
    return data, SourceMap(converter.lines), converter, converter.problems


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


def _validation_problems(
    exc: ValidationError, source_map: SourceMap, bad: set[Loc]
) -> list[Problem]:
    problems: list[Problem] = []
    for error in exc.errors(include_url=False):
        loc, line = source_map.resolve(error["loc"])
        if any(loc[: len(b)] == b for b in bad):
            continue  # already reported as a YAML problem at that place
        problems.append(Problem(format_path(loc), line, _message(error)))
    return problems


def load_with_lines(text: str, *, source: str = "<text>") -> tuple[ProgrammeDoc, SourceMap]:
    """Like :func:`load_programme`, and also the lines of the file's values by path."""
    data, source_map, converter, problems = _convert(text)
    if converter is None or not isinstance(data, dict):
        raise ProgrammeInvalid(problems, source)
    try:
        doc = ProgrammeDoc.model_validate(data)
    except ValidationError as exc:
        problems = problems + _validation_problems(exc, source_map, converter.bad)
    if problems:
        problems.sort(key=lambda p: (p.line or 0, p.path))
        raise ProgrammeInvalid(problems, source)
    return doc, source_map


def load_programme(text: str, *, source: str = "<text>") -> ProgrammeDoc:
    """Parse and validate a programme's YAML; :class:`ProgrammeInvalid` lists every problem.

    Problems carry 1-based line numbers: YAML syntax (one, where parsing stopped),
    duplicate keys, unreadable values, and every schema error.
    """
    return load_with_lines(text, source=source)[0]


def source_map(text: str) -> SourceMap:
    """The lines of a YAML text's values by path (empty if it is not valid YAML)."""
    return _convert(text)[1]


class _Dumper(yaml.SafeDumper):
    """Block style with indented lists; times quoted; whole floats as integers."""

    def ignore_aliases(self, data: Any) -> bool:
        return True  # a file for people: write shared values out, no &id001 anchors

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_time(dumper: yaml.SafeDumper, value: time) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", format_time(value), style='"')


def _represent_float(dumper: yaml.SafeDumper, value: float) -> yaml.ScalarNode:
    if value.is_integer() and abs(value) < 2**53:
        return dumper.represent_int(int(value))
    return dumper.represent_float(value)


def _represent_list(dumper: yaml.SafeDumper, items: list[Any]) -> yaml.SequenceNode:
    short = bool(items) and all(isinstance(item, str) and len(item) <= 40 for item in items)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=short)


def _represent_dict(dumper: yaml.SafeDumper, data: dict[str, Any]) -> yaml.MappingNode:
    # Small all-scalar mappings (a chime, a quiet range) read best on one line.
    scalars = all(not isinstance(value, dict | list) for value in data.values())
    short = sum(len(str(key)) + len(str(value)) + 4 for key, value in data.items()) <= 60
    return dumper.represent_mapping(
        "tag:yaml.org,2002:map", data.items(), flow_style=scalars and short
    )


_Dumper.add_representer(time, _represent_time)
_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(float, _represent_float)
_Dumper.add_representer(list, _represent_list)

HEADER = (
    "# Wardcast ward programme (chương trình phát thanh). Schema: schedules/schema.json\n"
    "# Check it with: wardcast schedules validate FILE\n"
)


def dump_programme(doc: ProgrammeDoc) -> str:
    """Stable, readable YAML for ``doc``: ``load_programme(dump_programme(d)) == d``.

    Fields keep the schema's order, unset optional fields are left out, Vietnamese is
    written as is, times as ``"HH:MM"`` and dates as ISO dates.
    """
    data = doc.model_dump(mode="python", exclude_none=True)
    body = yaml.dump(
        data,
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=100,
    )
    return HEADER + body
