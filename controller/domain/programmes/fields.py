"""The programme document's field types: codes, local times, one-line text, checks.

What every part of a programme (chương trình phát thanh) is written with — a ward or
zone code, a local wall-clock time ``"05:30"``, a name on one line, a time range —
and the offline checks of a time zone and a stream URL, which the conflicts check
and the recurrence reuse. Apart from ``schema.py`` (the document's parts) so the
models read as the document they describe, not as the validators they need.

Invariant: every model forbids unknown fields (:class:`DocumentModel`), so a misspelt
key is an error rather than a silently ignored setting.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from datetime import time
from functools import lru_cache
from pathlib import PurePosixPath
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"

# The same code shape as the places API, so a zone or ward code written here is one
# the controller can hold.
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"  # wardcast_protocol's Identifier

# Playlists point at streams rather than being one; players on the devices want the
# stream itself. HLS (.m3u8) is a stream format that ffmpeg plays, so it is allowed.
PLAYLIST_SUFFIXES = frozenset({".m3u", ".pls", ".asx", ".xspf", ".wax", ".wvx", ".ram"})
NOT_AUDIO_SUFFIXES = frozenset(
    {".html", ".htm", ".jpg", ".jpeg", ".png", ".gif", ".svg", ".pdf", ".txt", ".json", ".zip"}
)

_TIME_TEXT = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?$")


def _code_from_number(value: Any) -> Any:
    """YAML reads ``ward: 26734`` as a number; a code is text, so take its digits."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    return value


def _parse_local_time(value: Any) -> Any:
    """Accept ``"05:30"``, ``"5:30"`` or ``"05:30:00"``; refuse numbers and offsets.

    Numbers are refused because pydantic would read 1020 as seconds since midnight,
    and YAML 1.1 reads an unquoted 17:00 as the number 1020 (base 60).
    """
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise PydanticCustomError(
                "local_time", "a local wall-clock time has no UTC offset: write '05:30'"
            )
        return value
    if isinstance(value, str):
        match = _TIME_TEXT.fullmatch(value.strip())
        if match:
            hour, minute, second, fraction = match.groups()
            try:
                return time(
                    int(hour),
                    int(minute),
                    int(second or 0),
                    int((fraction or "0").ljust(6, "0")),
                )
            except ValueError:
                pass
        raise PydanticCustomError(
            "local_time",
            '{value} is not a time of day; write it as "05:30"',
            {"value": repr(value)},
        )
    raise PydanticCustomError(
        "local_time",
        'a time of day is written in quotes, like "05:30" (got {value})',
        {"value": repr(value)},
    )


def format_time(value: time) -> str:
    """``HH:MM`` (``HH:MM:SS`` only when there are seconds): how times are written back."""
    if value.second or value.microsecond:
        return value.isoformat()
    return value.strftime("%H:%M")


LocalTime = Annotated[
    time,
    BeforeValidator(_parse_local_time),
    PlainSerializer(format_time, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
            "examples": ["05:30", "17:00"],
        }
    ),
]
"""A local wall-clock time, written "HH:MM"."""

# The pattern goes before the validator: the other way round, pydantic leaves it out
# of the JSON Schema (it still validates).
Code = Annotated[str, Field(pattern=CODE_PATTERN), BeforeValidator(_code_from_number)]
Slug = Annotated[str, Field(pattern=SLUG_PATTERN), BeforeValidator(_code_from_number)]
BulletinId = Annotated[str, Field(pattern=ID_PATTERN), BeforeValidator(_code_from_number)]


def _plain_text(value: str) -> str:
    """Names and descriptions are one line of visible text: no control characters."""
    if not value.strip():
        raise PydanticCustomError("blank", "this text is empty")
    if any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in value):
        raise PydanticCustomError(
            "control_character", "this text has a line break or control character"
        )
    return value


Text = Annotated[str, AfterValidator(_plain_text)]
Name = Annotated[Text, Field(min_length=1, max_length=200)]


class DocumentModel(BaseModel):
    """A part of a programme document: unknown fields and infinities are refused."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def timezone_problem(key: str) -> str | None:
    """Why ``key`` is not a usable IANA time zone, or None if it is one."""
    try:
        ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        near = difflib.get_close_matches(key, sorted(_zone_names()), n=1, cutoff=0.8)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        return (
            f"unknown time zone {key!r}: use an IANA zone name such as {DEFAULT_TIMEZONE!r}{hint}"
        )
    return None


def stream_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a live audio stream, or None if it may be one.

    Only the shape is judged here (offline): scheme, host, and file types that are
    never a stream. Whether the stream is alive is for the device, which falls back
    to the relay's fallback bulletin when it is not.
    """
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        return "a stream URL has no spaces or line breaks"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        return f"not a valid URL ({exc})"
    if parts.scheme.lower() not in ("http", "https"):
        return "a stream URL starts with http:// or https://"
    if not parts.hostname:
        return "the stream URL has no host name"
    suffix = PurePosixPath(parts.path).suffix.lower()
    if suffix in PLAYLIST_SUFFIXES:
        return (
            f"this is a playlist ({suffix}), not a stream: open it and use the stream URL it lists"
        )
    if suffix in NOT_AUDIO_SUFFIXES:
        return f"this looks like a {suffix} file, not an audio stream"
    return None


class TimeRange(DocumentModel):
    """A span of local wall-clock time; one that ends before it starts crosses midnight."""

    start: LocalTime = Field(title="Start", description="Local time the range begins.")
    end: LocalTime = Field(
        title="End",
        description="Local time the range ends (exclusive); before `start` = the next day.",
    )

    @model_validator(mode="after")
    def _not_empty(self) -> TimeRange:
        if self.start == self.end:
            raise PydanticCustomError("empty_range", "a range needs different start and end times")
        return self
