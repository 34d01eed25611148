"""A ward's programme (chương trình phát thanh) as a document: the published schema.

These models are the schema: ``schedules/schema.json`` is generated from them
(:func:`json_schema`), YAML files are validated by them, and the controller keeps
the validated document as it was applied. Every model forbids unknown fields, so a
misspelt key is an error rather than a silently ignored setting.

Times are local wall-clock times in the programme's ``timezone``; they are written
``"05:30"``. Whether sessions clash, run too long or fall in quiet hours is not a
question of shape, and is answered by :func:`controller.domain.programmes.conflicts.check`.
The field types are in ``fields.py``, a relay's tuning in ``relay_tuning.py``.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from controller.domain.programmes.fields import (
    DEFAULT_TIMEZONE,
    BulletinId,
    Code,
    DocumentModel,
    LocalTime,
    Name,
    Slug,
    Text,
    TimeRange,
    stream_url_problem,
    timezone_problem,
)
from controller.domain.programmes.relay_tuning import (
    DeadAfterS,
    PrebufferS,
    RelayTuning,
    SilenceDb,
    dead_after_field,
    prebuffer_field,
    silence_field,
)
from controller.domain.programmes.rrules import RRuleSyntaxError, parse_rrule

SCHEMA_ID = "urn:wardcast:programme:v1"
ALL_ZONES = "all"

Weekday = Literal["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
ALL_WEEKDAYS: tuple[Weekday, ...] = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
SourceLevelName = Literal["central", "provincial", "district", "commune"]


class WardRules(DocumentModel):
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


class ChimeItem(DocumentModel):
    """The opening or closing chime (nhạc hiệu) of a session."""

    kind: Literal["chime"] = Field(title="Kind", description="Always 'chime'.")
    which: Literal["opening", "closing"] = Field(
        title="Which chime", description="'opening' or 'closing'."
    )


class RelayItem(DocumentModel):
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
    prebuffer_s: PrebufferS = prebuffer_field()
    dead_after_s: DeadAfterS = dead_after_field()
    silence_db: SilenceDb = silence_field()

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


class BulletinsItem(DocumentModel):
    """The approved bulletins queued for this session; priority ones first."""

    kind: Literal["bulletins"] = Field(title="Kind", description="Always 'bulletins'.")
    max_minutes: float | None = Field(
        default=None,
        gt=0,
        le=240,
        title="Longest",
        description="At most this many minutes of queued bulletins (none: the session's cap).",
    )


class FixedBulletinItem(DocumentModel):
    """One particular bulletin, every time (e.g. a recorded weekly programme)."""

    kind: Literal["bulletin"] = Field(title="Kind", description="Always 'bulletin'.")
    bulletin_id: BulletinId = Field(title="Bulletin", description="The bulletin's id or code.")


RundownItem = Annotated[
    ChimeItem | RelayItem | BulletinsItem | FixedBulletinItem, Field(discriminator="kind")
]


class SessionDef(DocumentModel):
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


class TargetDef(DocumentModel):
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


class ProgrammeDoc(DocumentModel):
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
