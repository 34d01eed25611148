"""Hypothesis strategies for every protocol message, and checks that they stay valid.

The other ``test_protocol_*`` modules import these strategies; the tests here make sure
each strategy builds models that pass their own validation (a strategy that silently
stops producing valid messages would make every property test vacuous).
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from wardcast_protocol.channels import BODY_MODELS
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
from wardcast_protocol.signing import SigningKey
from wardcast_protocol.topics import DEVICE_ID_PATTERN

# Fast enough for the unit tier (all protocol properties together in a few seconds).
# No deadline: the first example pays for warming up regexes and Ed25519.
FAST = settings(max_examples=60, deadline=None)
QUICK = settings(max_examples=20, deadline=None)
"""For properties that are parametrised many times over."""


def fixed_key(name: str) -> SigningKey:
    """A deterministic key, so a failing example replays with the same bytes."""
    seed = hashlib.sha256(f"test key {name}".encode()).digest()
    return SigningKey.from_b64(base64.b64encode(seed).decode())


identifiers = st.from_regex(r"[A-Za-z0-9_.:-]{1,64}", fullmatch=True)
device_ids = st.from_regex(DEVICE_ID_PATTERN, fullmatch=True)
sha256_hex = st.binary(min_size=32, max_size=32).map(bytes.hex)
short_text = st.text(max_size=40)

# Any fixed offset a real zone has used (UTC-14:00 .. UTC+14:00), minute precision.
zones = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
# Kept away from year 1 and 9999: see test_protocol_envelope's overflow test.
aware_datetimes = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=zones
)
durations = st.floats(min_value=0, max_value=6 * 3600, allow_nan=False, allow_infinity=False)

media_refs = st.builds(
    MediaRef,
    sha256=sha256_hex,
    url=st.text(min_size=1, max_size=200),
    duration_s=durations.filter(lambda d: d > 0),
    size_bytes=st.integers(min_value=1, max_value=2**40),
    content_type=st.sampled_from(["audio/ogg", "audio/mpeg", "audio/wav"]),
)
plan_items = st.builds(
    PlanItem,
    item_id=identifiers,
    broadcast_id=identifiers,
    bulletin_id=st.none() | identifiers,
    title=st.text(max_size=300),
    media=media_refs,
    planned_start=aware_datetimes,
    priority=st.sampled_from(Priority),
    source_level=st.sampled_from(SourceLevel),
    trigger=st.sampled_from(Trigger),
)
plans = st.builds(
    Plan,
    device_id=identifiers,
    version=st.integers(min_value=0, max_value=2**53),
    generated_at=aware_datetimes,
    items=st.lists(plan_items, max_size=3).map(tuple),
)
orders = st.one_of(
    st.builds(PlayNow, item=plan_items),
    st.builds(StopItem, item_id=identifiers, reason=st.text(max_size=300)),
)
commands = st.builds(
    Command,
    command_id=identifiers,
    device_ids=st.lists(device_ids, min_size=1, max_size=5).map(tuple),
    issued_at=aware_datetimes,
    expires_at=aware_datetimes,
    order=orders,
)
events = st.builds(
    PlaybackEvent,
    event_id=identifiers,
    device_id=identifiers,
    seq=st.integers(min_value=1, max_value=2**53),
    prev_hash=st.just("") | sha256_hex,
    item_id=identifiers,
    broadcast_id=identifiers,
    bulletin_id=st.none() | identifiers,
    trigger=st.sampled_from(Trigger),
    priority=st.sampled_from(Priority),
    source_level=st.sampled_from(SourceLevel),
    media_sha256=st.none() | sha256_hex,
    planned_start=aware_datetimes,
    planned_duration_s=durations,
    actual_start=st.none() | aware_datetimes,
    played_duration_s=durations,
    outcome=st.sampled_from(Outcome),
    reason=st.none() | st.text(max_size=500),
    plan_version=st.none() | st.integers(min_value=0, max_value=2**31),
    amplifier_on=st.none() | st.booleans(),
    volume=st.none() | st.integers(min_value=0, max_value=100),
    recorded_at=aware_datetimes,
)
ids = st.lists(identifiers, max_size=20).map(tuple)
acks = st.builds(
    EventAck,
    event_ids=st.lists(identifiers, min_size=1, max_size=20).map(tuple),
    refused_event_ids=ids,
    report_ids=ids,
)
security_reports = st.builds(
    SecurityReport,
    report_id=identifiers,
    at=aware_datetimes,
    reason=st.from_regex(r"[a-z0-9_]{1,32}", fullmatch=True),
    topic=st.text(max_size=300),
    detail=st.text(max_size=500),
    command_id=st.none() | identifiers,
    item_id=st.none() | identifiers,
)
availabilities = st.builds(Availability, state=st.sampled_from(["online", "offline"]))
device_states = st.builds(
    DeviceState,
    plan_version=st.none() | st.integers(min_value=0, max_value=2**31),
    device_time=aware_datetimes,
    cached_media=st.integers(min_value=0, max_value=10**6),
    pending_events=st.integers(min_value=0, max_value=10**6),
    agent_version=st.text(max_size=64),
)

BODIES: dict[Kind, st.SearchStrategy[BaseModel]] = {
    Kind.AVAILABILITY: availabilities,
    Kind.STATE: device_states,
    Kind.PLAN: plans,
    Kind.COMMAND: commands,
    Kind.EVENT: events,
    Kind.ACK: acks,
    Kind.SECURITY: security_reports,
}


@st.composite
def kinds_and_bodies(draw: st.DrawFn) -> tuple[Kind, BaseModel]:
    """A message kind and a valid body of that kind."""
    kind = draw(st.sampled_from(Kind))
    return kind, draw(BODIES[kind])


def test_there_is_a_strategy_for_every_kind() -> None:
    assert set(BODIES) == set(Kind) == set(BODY_MODELS)


@FAST
@given(kinds_and_bodies())
def test_strategies_build_valid_bodies_that_survive_a_json_round_trip(
    pair: tuple[Kind, BaseModel],
) -> None:
    kind, body = pair
    model = BODY_MODELS[kind]
    assert isinstance(body, model)
    assert model.model_validate_json(body.model_dump_json()) == body
