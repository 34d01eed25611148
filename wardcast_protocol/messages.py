"""Message schemas: one pydantic model per message body.

Every model forbids unknown fields and is frozen: a message is a fact, not a form.
Timestamps are timezone-aware and normalised to UTC on the way in, so a device in
any zone and a controller in any zone agree on what an instant is.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

SHA256_HEX = r"^[0-9a-f]{64}$"


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""An aware datetime, normalised to UTC. Naive datetimes are refused."""

Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]

# A device id is used inside topics and file names: keep it to a safe alphabet, so
# that "+", "#", "/" or ".." can never reach a topic filter or a path.
DEVICE_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"

DeviceId = Annotated[str, Field(min_length=1, max_length=64, pattern=rf"^{DEVICE_ID_PATTERN}$")]
"""A device's id, as it appears in its topics (``topics.DEVICE_ID_PATTERN``)."""


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Priority(StrEnum):
    """Circular 39/2020 priority levels (mức ưu tiên)."""

    NORMAL = "normal"  # thông thường: played in the scheduled programme
    PRIORITY = "priority"  # ưu tiên: first within the next programme
    EMERGENCY = "emergency"  # khẩn cấp: immediately, preempting anything


class SourceLevel(StrEnum):
    """Where content comes from (cấp nguồn tin); evaluators count these separately."""

    CENTRAL = "central"
    PROVINCIAL = "provincial"
    DISTRICT = "district"
    COMMUNE = "commune"


class Trigger(StrEnum):
    """What caused a play: evidence records it beside the play (after Rivendell)."""

    MANUAL = "manual"
    PROGRAMME = "programme"
    EMERGENCY = "emergency"


class Outcome(StrEnum):
    """How a planned play ended."""

    COMPLETED = "completed"
    PARTIAL = "partial"
    PREEMPTED = "preempted"
    FAILED = "failed"
    SKIPPED = "skipped"


class MediaRef(_Message):
    """A content-addressed audio file the agent downloads and verifies before use."""

    sha256: str = Field(pattern=SHA256_HEX, description="Hex sha256 of the file's bytes.")
    url: str = Field(min_length=1, max_length=2048, description="Where to fetch it (HTTP).")
    duration_s: float = Field(gt=0, le=6 * 3600, description="Length of the audio.")
    size_bytes: int = Field(gt=0, description="Exact size of the file.")
    content_type: str = Field(default="audio/ogg", max_length=64)


class RelaySpec(_Message):
    """Relay a live stream (a national or provincial station) for a time window.

    The item's ``media`` is then the local fallback: played when the stream is dead
    or silent, so the loudspeakers never just go quiet.
    """

    url: str = Field(
        min_length=8, max_length=2048, pattern=r"^https?://", description="HTTP(S) stream URL."
    )
    station: str = Field(default="", max_length=100, description="e.g. 'VOV1'.")
    window_s: float = Field(gt=0, le=6 * 3600, description="How long to relay.")
    prebuffer_s: float = Field(
        default=5.0, ge=0, le=60, description="Connect and buffer this long before the window."
    )
    silence_db: float = Field(
        default=-50.0, ge=-90, le=0, description="Below this level (dBFS) counts as silence."
    )
    dead_after_s: float = Field(
        default=10.0, gt=0, le=600, description="No sound for this long: play the fallback."
    )


class PlanItem(_Message):
    """One thing to play at one wall-clock instant."""

    item_id: Identifier = Field(description="Unique within the controller; evidence refers to it.")
    broadcast_id: Identifier
    bulletin_id: Identifier | None = None
    title: str = Field(default="", max_length=300)
    media: MediaRef
    planned_start: UtcDatetime
    priority: Priority = Priority.NORMAL
    source_level: SourceLevel = SourceLevel.COMMUNE
    trigger: Trigger = Trigger.MANUAL
    relay: RelaySpec | None = Field(
        default=None, description="Set for a live relay; `media` is then its fallback."
    )
    session_key: str | None = Field(
        default=None,
        max_length=120,
        description="The programme session occurrence this item belongs to, if any.",
    )


class Plan(_Message):
    """A device's whole plan: retained, replaced as a unit, newer versions win."""

    device_id: Identifier
    version: int = Field(ge=0)
    generated_at: UtcDatetime
    items: tuple[PlanItem, ...] = Field(default=(), max_length=5000)
    ward_code: str | None = Field(
        default=None,
        max_length=16,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="The ward this device serves: it listens to that ward's broadcast "
        "channel (one command naming many devices).",
    )


class PlayNow(_Message):
    """Play this item at once (a broadcast "now" or an emergency)."""

    action: Literal["play_now"] = "play_now"
    item: PlanItem


class StopItem(_Message):
    """Stop an item if it is playing, and drop it from the plan."""

    action: Literal["stop"] = "stop"
    item_id: Identifier
    reason: str = Field(default="", max_length=300)


class ResendEvents(_Message):
    """Publish again the events with these sequence numbers still in the outbox.

    The controller asks when it sees a gap in a device's chain; an agent resends
    unacknowledged events by itself too, this only makes it prompt and targeted.
    """

    action: Literal["resend"] = "resend"
    from_seq: int = Field(ge=1)
    to_seq: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> ResendEvents:
        if self.to_seq < self.from_seq or self.to_seq - self.from_seq > 100_000:
            raise ValueError("to_seq must be ≥ from_seq, and the range at most 100,000")
        return self


class Command(_Message):
    """A one-shot instruction: never retained, carries an id and an expiry, names its devices.

    ``device_ids`` binds the signed command to the devices it is for: an agent acts
    only on a command naming its own id, so a command captured on one device's topic
    and replayed on another's is refused there. With ``command_id`` (each agent
    remembers the ids it has seen until they expire) a command is used once.
    """

    command_id: Identifier
    device_ids: tuple[DeviceId, ...] = Field(
        min_length=1,
        max_length=1000,
        description="The devices this command is for; an agent refuses it unless named.",
    )
    issued_at: UtcDatetime
    expires_at: UtcDatetime
    order: PlayNow | StopItem | ResendEvents = Field(discriminator="action")


class RelayStats(_Message):
    """What happened during a relay window: evidence of how much was really relayed."""

    stream_url: str = Field(max_length=2048)
    relayed_s: float = Field(ge=0, description="Seconds of the stream actually played.")
    gap_count: int = Field(default=0, ge=0, description="Drops, dead or silent spells.")
    gap_s: float = Field(default=0, ge=0, description="Seconds lost to those gaps.")
    reconnects: int = Field(default=0, ge=0)
    fallback_used: bool = False
    fallback_s: float = Field(default=0, ge=0, description="Seconds of the fallback played.")


class PlaybackEvent(_Message):
    """One play's evidence, as the device saw it (as-played log row).

    Planned values stand beside actual ones so that a report can reconcile them.
    ``seq`` and ``prev_hash`` chain a device's events so gaps and reordering show.
    """

    event_id: Identifier
    device_id: Identifier
    seq: int = Field(ge=1, description="Per-device sequence number, from 1, no gaps.")
    prev_hash: str = Field(
        pattern=r"^([0-9a-f]{64}|)$",
        description="sha256 of the previous event's signed bytes; empty for seq 1.",
    )
    item_id: Identifier
    broadcast_id: Identifier
    bulletin_id: Identifier | None = None
    trigger: Trigger
    priority: Priority = Priority.NORMAL
    source_level: SourceLevel = SourceLevel.COMMUNE
    media_sha256: str | None = Field(default=None, pattern=SHA256_HEX)
    planned_start: UtcDatetime
    planned_duration_s: float = Field(ge=0)
    actual_start: UtcDatetime | None = None
    played_duration_s: float = Field(ge=0)
    outcome: Outcome
    reason: str | None = Field(default=None, max_length=500)
    plan_version: int | None = Field(default=None, ge=0)
    amplifier_on: bool | None = None
    volume: int | None = Field(default=None, ge=0, le=100)
    relay: RelayStats | None = None
    session_key: str | None = Field(default=None, max_length=120)
    recorded_at: UtcDatetime


class EventAck(_Message):
    """The controller has these events or reports: the agent may now forget them.

    ``event_ids`` were stored as evidence. ``refused_event_ids`` arrived signed and
    whole but name an item this controller never planned or commanded for the device:
    kept as a security record, never as evidence, and not worth resending.
    ``report_ids`` are security reports the controller stored.
    """

    event_ids: tuple[Identifier, ...] = Field(default=(), max_length=1000)
    refused_event_ids: tuple[Identifier, ...] = Field(
        default=(),
        max_length=1000,
        description="Events kept as security records, not evidence (no plan named the item).",
    )
    report_ids: tuple[Identifier, ...] = Field(
        default=(), max_length=1000, description="Security reports stored."
    )

    @model_validator(mode="after")
    def _names_something(self) -> EventAck:
        if not (self.event_ids or self.refused_event_ids or self.report_ids):
            raise ValueError("an ack names at least one event or report")
        return self


SecurityReason = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_]+$")]
"""A short refusal code, e.g. ``not_addressed``, ``replayed``, ``bad_signature``."""


class SecurityReport(_Message):
    """Something an agent refused, reported for the controller's security records.

    An agent refuses a command not addressed to it, replayed, expired, issued too far in
    its future or delivered retained, and anything that fails verification; it writes
    each refusal to its security log (nhật ký an ninh) *before* sending this report, and
    resends it until the controller acknowledges ``report_id``. Never evidence.
    """

    report_id: Identifier
    at: UtcDatetime = Field(description="When the agent refused it, by its own clock.")
    reason: SecurityReason
    topic: str = Field(max_length=300, description="Where the refused message arrived.")
    detail: str = Field(default="", max_length=500)
    command_id: Identifier | None = Field(default=None, description="The refused command's id.")
    item_id: Identifier | None = Field(
        default=None, description="The item the refused command would have played or stopped."
    )


class Availability(_Message):
    """Online or offline; the offline form is also the MQTT last will."""

    state: Literal["online", "offline"]


class DeviceState(_Message):
    """What an agent runs now: retained, so the controller sees it on connect."""

    plan_version: int | None = Field(default=None, ge=0)
    device_time: UtcDatetime = Field(description="The device's clock when it sent this.")
    cached_media: int = Field(default=0, ge=0)
    pending_events: int = Field(default=0, ge=0)
    agent_version: str = Field(default="", max_length=64)
    broadcast_ward: str | None = Field(
        default=None,
        max_length=16,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="The ward whose broadcast channel this agent listens to; the "
        "controller sends it ward-wide commands only once it says so.",
    )
    playing_item_id: Identifier | None = Field(
        default=None,
        description="The item sounding now, if any (sent just after a play starts, off "
        "its timing path): how the controller knows a device is playing before the "
        "play's event arrives at its end.",
    )


class Kind(StrEnum):
    """The message kinds; each is also the name of the per-device channel carrying it.

    ``channels.CHANNELS`` gives each kind its body model, direction, retained flag and
    size limit: add a kind here and its row there (an import-time check insists).
    """

    AVAILABILITY = "availability"
    STATE = "state"
    PLAN = "plan"
    COMMAND = "command"
    EVENT = "event"
    ACK = "ack"
    SECURITY = "security"
