"""Generate the code-derived parts of docs/protocol.md from wardcast_protocol.

Every table of fields, topics and limits, and every example payload in the protocol
document is produced here from the models themselves; the examples are real envelopes,
sealed with fixed demo keys, so a reader can check them with any Ed25519 library.

    python scripts/protocol_examples.py            # print the generated sections
    python scripts/protocol_examples.py --write    # rewrite them in docs/protocol.md
    python scripts/protocol_examples.py --check    # exit 1 if the document is stale

tests/unit/test_protocol_docs.py runs the same comparison, so the document cannot drift
from the code without a failing test.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from wardcast_protocol import topics
from wardcast_protocol.channels import CHANNELS, MAX_PAYLOAD_BYTES, WARD_CHANNELS, Direction
from wardcast_protocol.envelope import CONTROLLER_SENDER, seal_signed, signed_digest
from wardcast_protocol.messages import (
    Availability,
    Command,
    DeviceState,
    EventAck,
    Kind,
    MediaRef,
    Outcome,
    Plan,
    PlanItem,
    PlaybackEvent,
    PlayNow,
    Priority,
    RelaySpec,
    RelayStats,
    SecurityReport,
    SourceLevel,
    StopItem,
    Trigger,
)
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.transport import QOS

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "protocol.md"

DEMO_DEVICE = "hoaminh-tdp03"
"""The demo device: residential group (tổ dân phố) 3 of a ward."""


def demo_key(name: str) -> SigningKey:
    """A fixed, publicly known key for ``name``: for examples only, never for a device.

    Derived from the name so that the examples are reproducible byte for byte
    (Ed25519 signatures are deterministic).
    """
    seed = hashlib.sha256(f"wardcast demo key: {name}".encode()).digest()
    return SigningKey.from_b64(base64.b64encode(seed).decode("ascii"))


DEMO_KEYS: dict[str, SigningKey] = {
    name: demo_key(name) for name in (CONTROLLER_SENDER, DEMO_DEVICE)
}


def demo_public_key(sender: str) -> str | None:
    """Key lookup for ``open_envelope`` that knows only the demo senders."""
    key = DEMO_KEYS.get(sender)
    return key.public_key_b64 if key else None


# --- example messages -------------------------------------------------------------

# 05:00 in Asia/Ho_Chi_Minh (UTC+7) on the morning of the examples; stored as UTC.
MORNING = datetime(2026, 11, 22, 22, 0, tzinfo=UTC)


def _at(minutes: float) -> datetime:
    return MORNING + timedelta(minutes=minutes)


def _media(name: str, duration_s: float, size_bytes: int) -> MediaRef:
    sha = hashlib.sha256(name.encode()).hexdigest()
    return MediaRef(
        sha256=sha,
        url=f"http://controller:8000/media/{sha}.ogg",
        duration_s=duration_s,
        size_bytes=size_bytes,
    )


PROVINCIAL_NEWS = PlanItem(
    item_id="it-20261123-0500-tdp03",
    broadcast_id="bc-20261123-morning",
    bulletin_id="bl-2291",
    title="Bản tin Đài Phát thanh - Truyền hình thành phố",
    media=_media("provincial news", 900.0, 3_601_220),
    planned_start=_at(0),
    priority=Priority.NORMAL,
    source_level=SourceLevel.PROVINCIAL,
    trigger=Trigger.PROGRAMME,
)
VACCINATION_NOTICE = PlanItem(
    item_id="it-20261123-0530-tdp03",
    broadcast_id="bc-20261123-morning",
    bulletin_id="bl-2304",
    title="Thông báo lịch tiêm chủng mở rộng tháng 12",
    media=_media("vaccination notice", 180.0, 722_914),
    planned_start=_at(30),
    priority=Priority.PRIORITY,
    source_level=SourceLevel.COMMUNE,
    trigger=Trigger.PROGRAMME,
)
FLOOD_WARNING = PlanItem(
    item_id="it-emg-0007",
    broadcast_id="bc-emg-0007",
    bulletin_id="bl-emg-0007",
    title="Cảnh báo khẩn cấp: lũ trên sông Cu Đê, di dời ngay",
    media=_media("flood warning", 95.5, 381_904),
    planned_start=_at(31),
    priority=Priority.EMERGENCY,
    source_level=SourceLevel.DISTRICT,
    trigger=Trigger.EMERGENCY,
)

VOV_RELAY = PlanItem(
    item_id="it-20261123-0600-tdp03-vov1",
    broadcast_id="bc-20261123-morning",
    title="Tiếp sóng Thời sự VOV1",
    media=_media("vov1 fallback: recorded morning news", 1800.0, 7_204_118),
    planned_start=_at(60),
    priority=Priority.NORMAL,
    source_level=SourceLevel.CENTRAL,
    trigger=Trigger.PROGRAMME,
    relay=RelaySpec(
        url="https://stream.example.vn/vov1.mp3",
        station="VOV1",
        window_s=1800.0,
        prebuffer_s=5.0,
        silence_db=-50.0,
        dead_after_s=10.0,
    ),
    session_key="hoaminh/2026-11-23/morning",
)
"""A relay: ``media`` is the local fallback, played while the stream is dead or silent."""


def _event(seq: int, prev_hash: str, item: PlanItem, **fields: Any) -> PlaybackEvent:
    values: dict[str, Any] = {
        "event_id": f"ev-{DEMO_DEVICE}-{seq:06d}",
        "device_id": DEMO_DEVICE,
        "seq": seq,
        "prev_hash": prev_hash,
        "item_id": item.item_id,
        "broadcast_id": item.broadcast_id,
        "bulletin_id": item.bulletin_id,
        "trigger": item.trigger,
        "priority": item.priority,
        "source_level": item.source_level,
        "media_sha256": item.media.sha256,
        "planned_start": item.planned_start,
        "planned_duration_s": item.media.duration_s,
        "session_key": item.session_key,
        "plan_version": 42,
        "amplifier_on": True,
        "volume": 80,
    }
    values.update(fields)
    return PlaybackEvent(**values)


@dataclass(frozen=True)
class Example:
    """One sealed example: what is sent, by whom, on which topic, and why."""

    name: str
    kind: Kind
    sender: str
    topic: str
    sent_at: datetime
    body: BaseModel
    note: str
    wire: bytes = b""
    signed: str = ""


def _dev(channel: topics.DeviceChannel) -> str:
    return topics.device_topic(DEMO_DEVICE, channel)


def _seal(example: Example) -> Example:
    key = DEMO_KEYS[example.sender]
    wire, signed = seal_signed(example.kind, example.body, example.sender, key, example.sent_at)
    return Example(**{**example.__dict__, "wire": wire, "signed": signed})


def build_examples() -> list[Example]:
    """Every example, sealed, in the order the document shows them.

    Events are sealed one by one because each one's ``prev_hash`` is the digest of
    the previous one's signed document: the chain is real, not made up.
    """
    ch = topics.DeviceChannel
    ex: list[Example] = [
        Example(
            "availability-online",
            Kind.AVAILABILITY,
            DEMO_DEVICE,
            _dev(ch.AVAILABILITY),
            _at(-5),
            Availability(state="online"),
            "The birth message, published (retained) on every connect.",
        ),
        Example(
            "availability-offline",
            Kind.AVAILABILITY,
            DEMO_DEVICE,
            _dev(ch.AVAILABILITY),
            _at(-5),
            Availability(state="offline"),
            "The last will, registered (retained) at connect; the broker publishes it "
            "when the device vanishes. Its `sent_at` is when it was sealed, not when "
            "the device was lost.",
        ),
        Example(
            "controller-online",
            Kind.AVAILABILITY,
            CONTROLLER_SENDER,
            topics.CONTROLLER_AVAILABILITY,
            _at(-10),
            Availability(state="online"),
            "The controller's own availability; agents keep playing their plan either way.",
        ),
        Example(
            "state",
            Kind.STATE,
            DEMO_DEVICE,
            _dev(ch.STATE),
            _at(-4),
            DeviceState(
                plan_version=42,
                device_time=_at(-4) + timedelta(seconds=0.4),
                cached_media=17,
                pending_events=0,
                agent_version="0.1.0",
            ),
            "What the agent runs now; the controller compares `device_time` with its "
            "own clock to see drift.",
        ),
        Example(
            "plan",
            Kind.PLAN,
            CONTROLLER_SENDER,
            _dev(ch.PLAN),
            _at(-720),
            Plan(
                device_id=DEMO_DEVICE,
                version=42,
                generated_at=_at(-720),
                items=(PROVINCIAL_NEWS, VACCINATION_NOTICE),
            ),
            "The morning session of one residential group (times are 05:00 and 05:30 in "
            "Asia/Ho_Chi_Minh, carried as UTC).",
        ),
        Example(
            "plan-relay",
            Kind.PLAN,
            CONTROLLER_SENDER,
            _dev(ch.PLAN),
            _at(5),
            Plan(
                device_id=DEMO_DEVICE,
                version=43,
                generated_at=_at(5),
                items=(PROVINCIAL_NEWS, VACCINATION_NOTICE, VOV_RELAY),
            ),
            "The same session with a relay of VOV1 at 06:00 for 30 minutes: the agent "
            "connects `prebuffer_s` early; the item's `media` is the local fallback.",
        ),
        Example(
            "command-play-now",
            Kind.COMMAND,
            CONTROLLER_SENDER,
            _dev(ch.COMMAND),
            _at(31),
            Command(
                command_id="cmd-emg-0007-tdp03",
                device_ids=(DEMO_DEVICE,),
                issued_at=_at(31),
                expires_at=_at(36),
                order=PlayNow(item=FLOOD_WARNING),
            ),
            "An emergency: play at once, preempting whatever is playing.",
        ),
        Example(
            "command-stop",
            Kind.COMMAND,
            CONTROLLER_SENDER,
            _dev(ch.COMMAND),
            _at(40),
            Command(
                command_id="cmd-stop-0012-tdp03",
                device_ids=(DEMO_DEVICE,),
                issued_at=_at(40),
                expires_at=_at(45),
                order=StopItem(item_id="it-20261123-0545-tdp03", reason="Huỷ theo yêu cầu"),
            ),
            "Stop an item (if playing) and drop it from the plan.",
        ),
    ]
    sealed = [_seal(e) for e in ex]

    plays = [
        (
            PROVINCIAL_NEWS,
            {
                "actual_start": _at(0) + timedelta(seconds=0.12),
                "played_duration_s": 900.0,
                "outcome": Outcome.COMPLETED,
                "recorded_at": _at(15) + timedelta(seconds=0.2),
            },
            "A play that completed as planned; the first event of the chain.",
        ),
        (
            VACCINATION_NOTICE,
            {
                "actual_start": _at(30) + timedelta(seconds=0.08),
                "played_duration_s": 62.5,
                "outcome": Outcome.PREEMPTED,
                "reason": "preempted by emergency command cmd-emg-0007-tdp03",
                "recorded_at": _at(31) + timedelta(seconds=2.6),
            },
            "Preempted by the emergency: planned and played durations stand side by side.",
        ),
        (
            FLOOD_WARNING,
            {
                "actual_start": _at(31) + timedelta(seconds=2.6),
                "played_duration_s": 95.5,
                "outcome": Outcome.COMPLETED,
                "recorded_at": _at(33) + timedelta(seconds=0.2),
            },
            "The emergency itself.",
        ),
    ]
    prev_hash = ""
    event_ids: list[str] = []
    for seq, (item, fields, note) in enumerate(plays, start=1):
        event = _event(seq, prev_hash, item, **fields)
        sent = _seal(
            Example(
                f"event-seq{seq}",
                Kind.EVENT,
                DEMO_DEVICE,
                _dev(ch.EVENT),
                event.recorded_at,
                event,
                note,
            )
        )
        sealed.append(sent)
        event_ids.append(event.event_id)
        prev_hash = signed_digest(sent.signed)

    sealed.append(
        _seal(
            Example(
                "ack",
                Kind.ACK,
                CONTROLLER_SENDER,
                _dev(ch.ACK),
                _at(33) + timedelta(seconds=0.3),
                EventAck(event_ids=tuple(event_ids)),
                "Sent only after all three events are stored; the agent may now delete them.",
            )
        )
    )

    relayed = _event(
        len(event_ids) + 1,
        prev_hash,
        VOV_RELAY,
        media_sha256=VOV_RELAY.media.sha256,  # named because the fallback did play
        planned_duration_s=1800.0,
        plan_version=43,
        actual_start=_at(60) + timedelta(seconds=0.05),
        played_duration_s=1789.5,
        outcome=Outcome.COMPLETED,
        reason="relayed 1745.5 of 1800 s; 2 gap(s) totalling 54.5 s; fallback played "
        "44.0 s; stream ended; ffmpeg exited 1: https://stream.example.vn/vov1.mp3: "
        "Connection refused",
        relay=RelayStats(
            stream_url="https://stream.example.vn/vov1.mp3",
            relayed_s=1745.5,
            gap_count=2,
            gap_s=54.5,
            reconnects=3,
            fallback_used=True,
            fallback_s=44.0,
        ),
        recorded_at=_at(90) + timedelta(seconds=0.3),
    )
    sealed.append(
        _seal(
            Example(
                f"event-seq{relayed.seq}",
                Kind.EVENT,
                DEMO_DEVICE,
                _dev(ch.EVENT),
                relayed.recorded_at,
                relayed,
                "A relay's evidence: the window is the planned duration, relayed plus "
                "fallback seconds the played one; the stream dropped twice, once long "
                "enough for the fallback. At least 95 % relayed: completed.",
            )
        )
    )
    return [*sealed, *_security_examples()]


def _security_examples() -> list[Example]:
    """A refusal the agent reports, and the controller's ack of it."""
    ch = topics.DeviceChannel
    report = SecurityReport(
        report_id="sr-hoaminh-tdp03-000001",
        at=_at(95),
        reason="not_addressed",
        topic=_dev(ch.COMMAND),
        detail="command names ['hoaminh-tdp01'], not this device",
        command_id="cmd-now-0031-tdp01",
        item_id="it-now-0031",
    )
    return [
        _seal(
            Example(
                "security-not-addressed",
                Kind.SECURITY,
                DEMO_DEVICE,
                _dev(ch.SECURITY),
                _at(95),
                report,
                "A `play_now` signed for another device was republished on this device's "
                "command topic: refused, written to the security log, then reported.",
            )
        ),
        _seal(
            Example(
                "ack-security-report",
                Kind.ACK,
                CONTROLLER_SENDER,
                _dev(ch.ACK),
                _at(95) + timedelta(seconds=0.2),
                EventAck(report_ids=(report.report_id,)),
                "The report is stored as a security record; the agent stops resending it.",
            )
        ),
    ]


# --- rendering --------------------------------------------------------------------

_KNOWN_PATTERNS = {
    "^[A-Za-z0-9_.:-]+$": "identifier: 1-64 of `A-Z a-z 0-9 _ . : -`",
    "^[0-9a-f]{64}$": "sha256, lower-case hex",
    "^([0-9a-f]{64}|)$": "sha256, lower-case hex, or empty",
}


def _type_of(prop: dict[str, Any]) -> tuple[str, list[str]]:
    """A short type name and the constraints of one JSON-schema property."""
    notes: list[str] = []
    if "anyOf" in prop:
        parts = [_type_of(p) for p in prop["anyOf"]]
        names = [name for name, _ in parts if name != "null"]
        for _, sub in parts:
            notes.extend(sub)
        return " \\| ".join([*names, "null"] if len(names) < len(parts) else names), notes
    if "oneOf" in prop:
        return " \\| ".join(_type_of(p)[0] for p in prop["oneOf"]), notes
    if "$ref" in prop:
        return prop["$ref"].rsplit("/", 1)[-1], notes
    name = str(prop.get("type", "any"))
    if prop.get("format") == "date-time":
        name = "UTC date-time"
        notes.append("aware; normalised to UTC, naive refused")
    if name == "array":
        item_name, item_notes = _type_of(prop.get("items", {}))
        name = f"array of {item_name}"
        notes.extend(f"each: {n}" for n in item_notes)
    if "enum" in prop:
        notes.append("one of " + ", ".join(f"`{v}`" for v in prop["enum"]))
    if "const" in prop:
        notes.append(f'always `"{prop["const"]}"`')
    if "pattern" in prop:
        if prop["pattern"] not in _KNOWN_PATTERNS or prop.get("maxLength", 64) != 64:
            notes.append(f"pattern `{prop['pattern']}`")
        else:
            return name, [*notes, _KNOWN_PATTERNS[prop["pattern"]]]
    for key, words in (
        ("minLength", "min length"),
        ("maxLength", "max length"),
        ("minItems", "min items"),
        ("maxItems", "max items"),
        ("minimum", "≥"),
        ("exclusiveMinimum", ">"),
        ("maximum", "≤"),
    ):
        if key in prop:
            notes.append(f"{words} {prop[key]}")
    return name, notes


def field_table(model: type[BaseModel]) -> str:
    """A markdown table of a model's fields, from its JSON schema."""
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    rows = ["| field | type | required / default | notes |", "| --- | --- | --- | --- |"]
    for name, prop in schema["properties"].items():
        type_name, notes = _type_of(prop)
        if "description" in prop:
            notes.insert(0, prop["description"].rstrip("."))
        default = "required" if name in required else f"`{json.dumps(prop.get('default'))}`"
        rows.append(f"| `{name}` | {type_name} | {default} | {'; '.join(notes)} |")
    return "\n".join(rows)


def _enum_lines() -> str:
    lines = []
    for enum in (Priority, SourceLevel, Trigger, Outcome):
        values = ", ".join(f"`{m.value}`" for m in enum)
        lines.append(f"- **{enum.__name__}** — {(enum.__doc__ or '').rstrip('.')}: {values}")
    return "\n".join(lines)


# How the table's directions read in the document: (direction, who signs).
_DIRECTION_WORDS: dict[Direction, tuple[str, str]] = {
    Direction.DEVICE_TO_CONTROLLER: ("agent → controller", "device id"),
    Direction.CONTROLLER_TO_DEVICE: ("controller → agent", "`controller`"),
}


def topics_section() -> str:
    """The topic table, from the channel table (channels.CHANNELS) and topics.py."""
    rows = [
        "| topic | kind | direction | sender | retained | QoS |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| `{topics.CONTROLLER_AVAILABILITY}` | `availability` | controller → all "
        f"| `controller` | yes | {QOS} |",
    ]
    for channel, spec in CHANNELS.items():
        direction, sender = _DIRECTION_WORDS[spec.direction]
        retained = "yes" if spec.retained else "**never**"
        rows.append(
            f"| `{topics.ROOT}/device/{{device_id}}/{channel.value}` | `{channel}` "
            f"| {direction} | {sender} | {retained} | {QOS} |"
        )
    for name, ward in WARD_CHANNELS.items():
        retained = "yes" if ward.spec.retained else "**never**"
        rows.append(
            f"| `{topics.ROOT}/ward/{{ward_code}}/{name}` | `{ward.kind}` "
            f"| controller → a ward's agents | `controller` | {retained} | {QOS} |"
        )
    return "\n".join(rows)


def limits_section() -> str:
    """The size limits, from the channel table (MAX_PAYLOAD_BYTES)."""
    rows = ["| kind | max payload (bytes) |", "| --- | ---: |"]
    rows += [f"| `{kind}` | {limit:,} |" for kind, limit in MAX_PAYLOAD_BYTES.items()]
    return "\n".join(rows)


def keys_section() -> str:
    """The demo keys, so that a reader can verify the examples."""
    rows = ["| sender | public key (base64, raw 32 bytes) | private key (demo only!) |"]
    rows.append("| --- | --- | --- |")
    for name, key in DEMO_KEYS.items():
        rows.append(f"| `{name}` | `{key.public_key_b64}` | `{key.private_b64()}` |")
    return "\n".join(rows)


_MODELS_BY_KIND: dict[Kind, list[type[BaseModel]]] = {
    Kind.AVAILABILITY: [Availability],
    Kind.STATE: [DeviceState],
    Kind.PLAN: [Plan, PlanItem, MediaRef],
    Kind.COMMAND: [Command, PlayNow, StopItem],
    Kind.EVENT: [PlaybackEvent],
    Kind.ACK: [EventAck],
    Kind.SECURITY: [SecurityReport],
}


def messages_section() -> str:
    """Per kind: the field tables, then each example's body and its sealed envelope."""
    examples = build_examples()
    out = ["### Enumerations", "", _enum_lines(), ""]
    for kind, models in _MODELS_BY_KIND.items():
        out += [f"### `{kind}`", ""]
        for model in models:
            doc = (model.__doc__ or "").strip().splitlines()[0]
            out += [f"**{model.__name__}** — {doc}", "", field_table(model), ""]
        for e in (e for e in examples if e.kind is kind):
            body = json.dumps(e.body.model_dump(mode="json"), indent=2, ensure_ascii=False)
            out += [
                f"#### Example `{e.name}`",
                "",
                f"{e.note} Topic `{e.topic}`, sender `{e.sender}`.",
                "",
                f"<!-- example kind={kind} form=body name={e.name} -->",
                "```json",
                body,
                "```",
                "",
                f"The envelope exactly as sent (sha256 of `signed`: `{signed_digest(e.signed)}`):",
                "",
                f"<!-- example kind={kind} form=envelope name={e.name} -->",
                "```json",
                e.wire.decode("utf-8"),
                "```",
                "",
            ]
    return "\n".join(out).rstrip() + "\n"


SECTIONS: dict[str, Callable[[], str]] = {
    "keys": keys_section,
    "topics": topics_section,
    "limits": limits_section,
    "messages": messages_section,
}


def _region(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- BEGIN GENERATED {name} -->\n)(.*?)(<!-- END GENERATED {name} -->)", re.S
    )


def _replacer(text: str) -> Callable[[re.Match[str]], str]:
    return lambda m: m[1] + text + m[3]


def render(doc: str) -> str:
    """``doc`` with every generated region replaced by fresh output."""
    for name, make in SECTIONS.items():
        pattern = _region(name)
        if not pattern.search(doc):
            raise SystemExit(f"{DOC_PATH}: no region 'BEGIN GENERATED {name}'")
        text = make().rstrip("\n") + "\n"
        # A function, not a replacement string: the text holds backslashes.
        doc = pattern.sub(_replacer(text), doc)
    return doc


def main(argv: list[str] | None = None) -> int:
    """Print, write or check the generated sections."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help="update docs/protocol.md")
    group.add_argument("--check", action="store_true", help="fail if docs/protocol.md is stale")
    args = parser.parse_args(argv)
    if not (args.write or args.check):
        for name, make in SECTIONS.items():
            text = make().rstrip("\n")
            sys.stdout.write(f"<!-- BEGIN GENERATED {name} -->\n{text}\n")
            sys.stdout.write(f"<!-- END GENERATED {name} -->\n\n")
        return 0
    current = DOC_PATH.read_text(encoding="utf-8")
    fresh = render(current)
    if args.write:
        DOC_PATH.write_text(fresh, encoding="utf-8")
        return 0
    if fresh != current:
        sys.stderr.write(f"{DOC_PATH} is stale: run python scripts/protocol_examples.py --write\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
