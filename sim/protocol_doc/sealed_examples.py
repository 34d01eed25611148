"""The protocol examples, sealed into real envelopes with the demo keys.

Each example is what is sent, by whom, on which topic and why; sealing makes it the
exact bytes on the wire. The events are chained for real (each ``prev_hash`` is the
digest of the previous one's signed document), so docs/protocol.md shows a chain a
reader can check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel

from sim.protocol_doc.demo_messages import (
    DEMO_DEVICE,
    DEMO_KEYS,
    FLOOD_WARNING,
    PROVINCIAL_NEWS,
    VACCINATION_NOTICE,
    VOV_RELAY,
    at,
    playback_event,
)
from wardcast_protocol import topics
from wardcast_protocol.envelope import CONTROLLER_SENDER, seal_signed, signed_digest
from wardcast_protocol.messages import (
    Availability,
    Command,
    DeviceState,
    EventAck,
    Kind,
    Outcome,
    Plan,
    PlayNow,
    RelayStats,
    SecurityReport,
    StopItem,
)


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
            at(-5),
            Availability(state="online"),
            "The birth message, published (retained) on every connect.",
        ),
        Example(
            "availability-offline",
            Kind.AVAILABILITY,
            DEMO_DEVICE,
            _dev(ch.AVAILABILITY),
            at(-5),
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
            at(-10),
            Availability(state="online"),
            "The controller's own availability; agents keep playing their plan either way.",
        ),
        Example(
            "state",
            Kind.STATE,
            DEMO_DEVICE,
            _dev(ch.STATE),
            at(-4),
            DeviceState(
                plan_version=42,
                device_time=at(-4) + timedelta(seconds=0.4),
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
            at(-720),
            Plan(
                device_id=DEMO_DEVICE,
                version=42,
                generated_at=at(-720),
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
            at(5),
            Plan(
                device_id=DEMO_DEVICE,
                version=43,
                generated_at=at(5),
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
            at(31),
            Command(
                command_id="cmd-emg-0007-tdp03",
                device_ids=(DEMO_DEVICE,),
                issued_at=at(31),
                expires_at=at(36),
                order=PlayNow(item=FLOOD_WARNING),
            ),
            "An emergency: play at once, preempting whatever is playing.",
        ),
        Example(
            "command-stop",
            Kind.COMMAND,
            CONTROLLER_SENDER,
            _dev(ch.COMMAND),
            at(40),
            Command(
                command_id="cmd-stop-0012-tdp03",
                device_ids=(DEMO_DEVICE,),
                issued_at=at(40),
                expires_at=at(45),
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
                "actual_start": at(0) + timedelta(seconds=0.12),
                "played_duration_s": 900.0,
                "outcome": Outcome.COMPLETED,
                "recorded_at": at(15) + timedelta(seconds=0.2),
            },
            "A play that completed as planned; the first event of the chain.",
        ),
        (
            VACCINATION_NOTICE,
            {
                "actual_start": at(30) + timedelta(seconds=0.08),
                "played_duration_s": 62.5,
                "outcome": Outcome.PREEMPTED,
                "reason": "preempted by emergency command cmd-emg-0007-tdp03",
                "recorded_at": at(31) + timedelta(seconds=2.6),
            },
            "Preempted by the emergency: planned and played durations stand side by side.",
        ),
        (
            FLOOD_WARNING,
            {
                "actual_start": at(31) + timedelta(seconds=2.6),
                "played_duration_s": 95.5,
                "outcome": Outcome.COMPLETED,
                "recorded_at": at(33) + timedelta(seconds=0.2),
            },
            "The emergency itself.",
        ),
    ]
    prev_hash = ""
    event_ids: list[str] = []
    for seq, (item, fields, note) in enumerate(plays, start=1):
        event = playback_event(seq, prev_hash, item, **fields)
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
                at(33) + timedelta(seconds=0.3),
                EventAck(event_ids=tuple(event_ids)),
                "Sent only after all three events are stored; the agent may now delete them.",
            )
        )
    )

    relayed = playback_event(
        len(event_ids) + 1,
        prev_hash,
        VOV_RELAY,
        media_sha256=VOV_RELAY.media.sha256,  # named because the fallback did play
        planned_duration_s=1800.0,
        plan_version=43,
        actual_start=at(60) + timedelta(seconds=0.05),
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
        recorded_at=at(90) + timedelta(seconds=0.3),
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
        at=at(95),
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
                at(95),
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
                at(95) + timedelta(seconds=0.2),
                EventAck(report_ids=(report.report_id,)),
                "The report is stored as a security record; the agent stops resending it.",
            )
        ),
    ]
