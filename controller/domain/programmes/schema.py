"""A ward's programme (chương trình phát thanh) as a document: the published schema.

These models are the schema: ``schedules/schema.json`` is generated from them
(:func:`json_schema`), YAML files are validated by them, and the controller keeps
the validated document as it was applied. Every model forbids unknown fields, so a
misspelt key is an error rather than a silently ignored setting.

Times are local wall-clock times in the programme's ``timezone``; they are written
``"05:30"``. Whether sessions clash, run too long or fall in quiet hours is not a
question of shape, and is answered by :func:`controller.domain.programmes.conflicts.check`.
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from datetime import date, time
from functools import lru_cache
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from controller.domain.programmes.rrules import RRuleSyntaxError, parse_rrule
from wardcast_protocol.messages import RelaySpec

SCHEMA_ID = "urn:wardcast:programme:v1"
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
ALL_ZONES = "all"

Weekday = Literal["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
ALL_WEEKDAYS: tuple[Weekday, ...] = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
SourceLevelName = Literal["central", "provincial", "district", "commune"]

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


class _Doc(BaseModel):
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


class TimeRange(_Doc):
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


# How a device judges a relayed stream. Bounds a station engineer would set: a
# dead-air limit under 2 s takes a network hiccup for a dead stream, and over two
# minutes of dead air is not a relay any more; programme sits around -20 dBFS, so a
# silence threshold above that takes the programme itself for silence.
PREBUFFER_S = (0.0, 60.0)
DEAD_AFTER_S = (2.0, 120.0)
SILENCE_DB = (-90.0, -20.0)
# Unset, a value is the protocol's default (what the device assumes).
_SPEC = RelaySpec.model_fields


def _in_range(name: str, bounds: tuple[float, float], unit: str, why: str) -> AfterValidator:
    low, high = bounds

    def check(value: float | None) -> float | None:
        if value is not None and not low <= value <= high:
            raise PydanticCustomError(
                "relay_tuning",
                "{name} is {low} to {high} {unit}: {why} (got {value})",
                {
                    "name": name,
                    "low": f"{low:g}",
                    "high": f"{high:g}",
                    "unit": unit,
                    "why": why,
                    "value": f"{value:g}",
                },
            )
        return value

    return AfterValidator(check)


PrebufferS = Annotated[
    float | None,
    _in_range("prebuffer_s", PREBUFFER_S, "s", "how long before the relay the device connects"),
]
DeadAfterS = Annotated[
    float | None,
    _in_range(
        "dead_after_s",
        DEAD_AFTER_S,
        "s",
        "under 2 s a network hiccup would count as a dead stream, over 2 minutes the "
        "loudspeakers would stay quiet too long",
    ),
]
SilenceDb = Annotated[
    float | None,
    _in_range(
        "silence_db",
        SILENCE_DB,
        "dBFS",
        "programme sits around -20 dBFS, so a higher threshold would take it for silence",
    ),
]


def _prebuffer_field() -> Any:
    return Field(
        default=None,
        title="Prebuffer",
        description=(
            "Seconds before the relay the device connects to the stream "
            f"(default {_SPEC['prebuffer_s'].default:g})."
        ),
        json_schema_extra={"minimum": PREBUFFER_S[0], "maximum": PREBUFFER_S[1]},
    )


def _dead_after_field() -> Any:
    return Field(
        default=None,
        title="Dead air allowed",
        description=(
            "Seconds of dead air or silence before the fallback plays; also the longest "
            f"wait between tries of a failing stream (default {_SPEC['dead_after_s'].default:g})."
        ),
        json_schema_extra={"minimum": DEAD_AFTER_S[0], "maximum": DEAD_AFTER_S[1]},
    )


def _silence_field() -> Any:
    return Field(
        default=None,
        title="Silence level",
        description=(
            "Below this level (dBFS) the stream counts as silent "
            f"(default {_SPEC['silence_db'].default:g})."
        ),
        json_schema_extra={"minimum": SILENCE_DB[0], "maximum": SILENCE_DB[1]},
    )


class RelayTuning(_Doc):
    """How the devices judge a relayed stream (tiếp sóng); unset values: the defaults."""

    prebuffer_s: PrebufferS = _prebuffer_field()
    dead_after_s: DeadAfterS = _dead_after_field()
    silence_db: SilenceDb = _silence_field()

    def over(self, defaults: RelayTuning | None) -> RelayTuning:
        """These values, and ``defaults``' where these are unset."""
        if defaults is None:
            return self
        mine = self.model_dump(exclude_none=True)
        return RelayTuning.model_validate({**defaults.model_dump(exclude_none=True), **mine})


class WardRules(_Doc):
    """The ward's own rules for its programme (quy định của phường/xã)."""

    broadcast_days: list[Weekday] = Field(
        default_factory=lambda: list(ALL_WEEKDAYS),
        min_length=1,
        max_length=7,
        title="Broadcast days",
        description="Days of the week on which sessions may air (MO..SU).",
    )
    quiet_hours: list[TimeRange] = Field(
        default_factory=list,
        max_length=8,
        title="Quiet hours",
        description="Local times in which no session may air, e.g. 22:00-05:00.",
    )
    max_session_minutes: int = Field(
        default=60,
        ge=1,
        le=240,
        title="Longest session",
        description="No session may last longer than this many minutes.",
    )
    relay_defaults: RelayTuning | None = Field(
        default=None,
        title="Relay defaults",
        description=(
            "Tuning of every relay of the ward (prebuffer_s, dead_after_s, silence_db); "
            "a relay item may set its own."
        ),
    )

    @field_validator("broadcast_days")
    @classmethod
    def _unique_days(cls, days: list[Weekday]) -> list[Weekday]:
        twice = sorted({d for d in days if days.count(d) > 1})
        if twice:
            raise PydanticCustomError(
                "duplicate", "{days} listed more than once", {"days": ", ".join(twice)}
            )
        return days


class ChimeItem(_Doc):
    """The opening or closing chime (nhạc hiệu) of a session."""

    kind: Literal["chime"] = Field(title="Kind", description="Always 'chime'.")
    which: Literal["opening", "closing"] = Field(
        title="Which chime", description="'opening' or 'closing'."
    )


class RelayItem(_Doc):
    """A relay (tiếp sóng) of a live station stream for a time window."""

    kind: Literal["relay"] = Field(title="Kind", description="Always 'relay'.")
    station: Text = Field(min_length=1, max_length=100, title="Station", description="e.g. 'VOV1'.")
    source_level: SourceLevelName = Field(
        title="Source level",
        description="Who produces the programme: central, provincial, district or commune.",
    )
    url: str = Field(
        min_length=8,
        max_length=2048,
        pattern=r"^[hH][tT][tT][pP][sS]?://",
        title="Stream URL",
        description="The live stream (http:// or https://; not a .m3u/.pls playlist).",
    )
    minutes: float = Field(
        gt=0, le=240, title="Minutes", description="How long to relay, in minutes."
    )
    fallback_bulletin: BulletinId | None = Field(
        default=None,
        title="Fallback bulletin",
        description="Bulletin (id or code) played instead if the stream is dead or silent.",
    )
    prebuffer_s: PrebufferS = _prebuffer_field()
    dead_after_s: DeadAfterS = _dead_after_field()
    silence_db: SilenceDb = _silence_field()

    def tuning(self, rules: WardRules) -> RelayTuning:
        """This relay's tuning: its own values, else the ward's ``relay_defaults``."""
        own = RelayTuning(
            prebuffer_s=self.prebuffer_s, dead_after_s=self.dead_after_s, silence_db=self.silence_db
        )
        return own.over(rules.relay_defaults)

    @field_validator("url")
    @classmethod
    def _a_stream(cls, url: str) -> str:
        problem = stream_url_problem(url)
        if problem:
            raise PydanticCustomError("stream_url", "{problem}", {"problem": problem})
        return url


class BulletinsItem(_Doc):
    """The approved bulletins queued for this session; priority ones first."""

    kind: Literal["bulletins"] = Field(title="Kind", description="Always 'bulletins'.")
    max_minutes: float | None = Field(
        default=None,
        gt=0,
        le=240,
        title="Longest",
        description="At most this many minutes of queued bulletins (none: the session's cap).",
    )


class FixedBulletinItem(_Doc):
    """One particular bulletin, every time (e.g. a recorded weekly programme)."""

    kind: Literal["bulletin"] = Field(title="Kind", description="Always 'bulletin'.")
    bulletin_id: BulletinId = Field(title="Bulletin", description="The bulletin's id or code.")


RundownItem = Annotated[
    ChimeItem | RelayItem | BulletinsItem | FixedBulletinItem, Field(discriminator="kind")
]


class SessionDef(_Doc):
    """One recurring session (buổi phát) and its rundown, in the ward's time zone."""

    code: Slug = Field(
        title="Code",
        description="Short unique name within the programme: a-z, 0-9 and '-', e.g. 'sang'.",
    )
    name: Name = Field(title="Name", description="What officers call it, e.g. 'Buổi sáng'.")
    zones: list[Code] = Field(
        default_factory=lambda: [ALL_ZONES],
        min_length=1,
        max_length=100,
        title="Zones",
        description="Zone codes of the ward that hear it, or ['all'] for every group.",
    )
    rrule: str = Field(
        min_length=1,
        max_length=500,
        title="Recurrence",
        description=(
            "RFC 5545 RRULE without DTSTART, e.g. 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR'. "
            "No BYHOUR/BYMINUTE/BYSECOND: the time is `start`."
        ),
    )
    start: LocalTime = Field(title="Start", description='Local start time, e.g. "05:30".')
    starts_on: date | None = Field(
        default=None,
        validate_default=True,
        ge=date(2000, 1, 1),
        le=date(2099, 12, 31),
        title="First date",
        description=(
            "First local date of the recurrence: INTERVAL and COUNT count from it. "
            "Without it they count from Monday 2001-01-01."
        ),
    )
    exdates: list[date] = Field(
        default_factory=list,
        max_length=1000,
        title="Exception dates",
        description="Local dates with no session (holidays), e.g. 2026-09-02.",
    )
    rundown: list[RundownItem] = Field(
        min_length=1,
        max_length=50,
        title="Rundown",
        description="What airs, in order: chimes, relays, queued bulletins, fixed bulletins.",
    )
    max_minutes: float | None = Field(
        default=None,
        gt=0,
        le=240,
        title="Longest",
        description="This session's own cap in minutes (at most the ward's maximum).",
    )

    @field_validator("zones")
    @classmethod
    def _zones(cls, zones: list[str]) -> list[str]:
        if ALL_ZONES in zones and len(zones) > 1:
            raise PydanticCustomError("zones_all", "'all' already covers every zone: list it alone")
        twice = sorted({z for z in zones if zones.count(z) > 1})
        if twice:
            raise PydanticCustomError(
                "duplicate", "zone {zones} listed more than once", {"zones": ", ".join(twice)}
            )
        return zones

    @field_validator("rrule")
    @classmethod
    def _rrule(cls, text: str) -> str:
        try:
            parse_rrule(text)
        except RRuleSyntaxError as exc:
            raise PydanticCustomError("rrule", "{reason}", {"reason": str(exc)}) from None
        return text

    @field_validator("starts_on")
    @classmethod
    def _count_needs_a_first_date(cls, value: date | None, info: ValidationInfo) -> date | None:
        text = info.data.get("rrule")
        if value is None and isinstance(text, str) and parse_rrule(text).count is not None:
            raise PydanticCustomError(
                "starts_on",
                "the rrule has COUNT, which counts sessions from a first date: set starts_on",
            )
        return value

    @field_validator("exdates")
    @classmethod
    def _unique_dates(cls, days: list[date]) -> list[date]:
        seen: set[date] = set()
        for day in days:
            if day in seen:
                raise PydanticCustomError(
                    "duplicate", "{day} is listed more than once", {"day": day.isoformat()}
                )
            seen.add(day)
        return days


class TargetDef(_Doc):
    """What the province expects of the ward (chỉ tiêu), read by the evidence reports.

    ``minimum`` is in the target's own unit: sessions a day (sessions_per_day), days
    with a session a week (days_per_week), or minutes of relay a day (relay_daily).
    """

    code: Slug = Field(title="Code", description="Short unique name, e.g. 'hai-buoi-moi-ngay'.")
    description: Text = Field(
        min_length=1, max_length=500, title="Description", description="The target in words."
    )
    kind: Literal["sessions_per_day", "days_per_week", "relay_daily"] = Field(
        title="Kind", description="What is counted."
    )
    minimum: float = Field(
        ge=0, le=10_000, title="Minimum", description="The least acceptable value per period."
    )
    source_level: SourceLevelName | None = Field(
        default=None,
        title="Source level",
        description="For relay_daily: count only relays from this level.",
    )

    @field_validator("minimum")
    @classmethod
    def _possible(cls, minimum: float, info: ValidationInfo) -> float:
        # A target no programme can meet is a typo, not an ambition.
        most = {"sessions_per_day": 10, "days_per_week": 7, "relay_daily": 24 * 60}
        kind = info.data.get("kind")
        if isinstance(kind, str) and minimum > most[kind]:
            raise PydanticCustomError(
                "target_minimum",
                "{kind} can be at most {most}",
                {"kind": kind, "most": most[kind]},
            )
        return minimum


class ProgrammeDoc(_Doc):
    """A ward's whole programme: its rules, sessions and targets (one YAML file)."""

    ward: Code = Field(title="Ward", description='The ward\'s code, e.g. "00037".')
    name: Name = Field(title="Name", description="A title for the programme.")
    timezone: str = Field(
        default=DEFAULT_TIMEZONE,
        max_length=64,
        title="Time zone",
        description="IANA zone the times are in (Asia/Ho_Chi_Minh unless the ward says).",
    )
    rules: WardRules = Field(
        default_factory=WardRules,
        title="Rules",
        description="Broadcast days, quiet hours and the longest session.",
    )
    sessions: list[SessionDef] = Field(
        max_length=50, title="Sessions", description="The recurring sessions."
    )
    targets: list[TargetDef] = Field(
        default_factory=list,
        max_length=20,
        title="Targets",
        description="What the ward must achieve, for the evidence reports.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, key: str) -> str:
        problem = timezone_problem(key)
        if problem:
            raise PydanticCustomError("timezone", "{problem}", {"problem": problem})
        return key


def json_schema() -> dict[str, Any]:
    """The published JSON Schema of a programme document (``schedules/schema.json``)."""
    schema = ProgrammeDoc.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "Wardcast ward programme",
    }


def json_schema_text() -> str:
    """:func:`json_schema` as the text of ``schedules/schema.json``."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
