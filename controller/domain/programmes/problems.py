"""Where a programme file goes wrong: each problem at its path and line.

A :class:`Problem` names a place by its path (``sessions[0].start``) and its 1-based
line; :class:`ProgrammeInvalid` carries every problem found in one file. A
:class:`SourceMap` finds the line of a path, so a conflict the controller reports
by path is shown at its line too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

Loc = tuple[str | int, ...]


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
