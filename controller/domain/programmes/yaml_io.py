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

The problems themselves, and the :class:`~controller.domain.programmes.problems.SourceMap`
of lines by path, live in ``problems``; pydantic's errors are put in plain words
by ``validation_messages``.
"""

from __future__ import annotations

import re
from datetime import time
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from controller.domain.programmes.fields import format_time
from controller.domain.programmes.problems import (
    Loc,
    Problem,
    ProgrammeInvalid,
    SourceMap,
    format_path,
)
from controller.domain.programmes.schema import ProgrammeDoc
from controller.domain.programmes.validation_messages import validation_problems

MAX_CHARS = 1_000_000
MAX_NODES = 100_000
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9_]+$")


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


def load_with_lines(text: str, *, source: str = "<text>") -> tuple[ProgrammeDoc, SourceMap]:
    """Like :func:`load_programme`, and also the lines of the file's values by path."""
    data, source_map, converter, problems = _convert(text)
    if converter is None or not isinstance(data, dict):
        raise ProgrammeInvalid(problems, source)
    try:
        doc = ProgrammeDoc.model_validate(data)
    except ValidationError as exc:
        problems = problems + validation_problems(exc, source_map, converter.bad)
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
