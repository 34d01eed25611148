"""The generated sections of docs/protocol.md: tables from the models, then the examples.

Every table of fields, topics and limits is read from wardcast_protocol (the models'
JSON schemas, the channel table), never written by hand, so the document cannot say
what the code does not. ``SECTIONS`` names each region the document marks
``BEGIN GENERATED <name>``; scripts/protocol_examples.py fills them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from sim.protocol_doc.demo_messages import DEMO_KEYS
from sim.protocol_doc.sealed_examples import build_examples
from wardcast_protocol import topics
from wardcast_protocol.channels import CHANNELS, MAX_PAYLOAD_BYTES, WARD_CHANNELS, Direction
from wardcast_protocol.envelope import signed_digest
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
    SecurityReport,
    SourceLevel,
    StopItem,
    Trigger,
)
from wardcast_protocol.transport import QOS

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
