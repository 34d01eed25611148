"""The signed envelope: round trips, tampering, wrong headers, size limits and fuzzing.

The contract under test: ``open_envelope`` either returns a verified message whose
body equals what was sealed, or raises ``RejectedMessage`` with a known reason — never
any other exception, whatever bytes arrive from the broker.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import BaseModel

from tests.unit.test_protocol_strategies import (
    FAST,
    aware_datetimes,
    device_ids,
    fixed_key,
    kinds_and_bodies,
)
from wardcast_protocol.channels import MAX_PAYLOAD_BYTES
from wardcast_protocol.envelope import (
    CONTROLLER_SENDER,
    RejectedMessage,
    open_envelope,
    seal,
    seal_signed,
    signed_digest,
)
from wardcast_protocol.messages import Availability, Kind
from wardcast_protocol.version import PROTOCOL_VERSION

DEVICE = "tdp-01"
KEYS = {DEVICE: fixed_key(DEVICE), CONTROLLER_SENDER: fixed_key(CONTROLLER_SENDER)}
NOW = datetime(2026, 11, 22, 22, 0, tzinfo=UTC)

REASONS = {
    "too_large",
    "malformed",
    "unsigned",
    "wrong_version",
    "wrong_kind",
    "wrong_sender",
    "unknown_sender",
    "bad_signature",
    "invalid_body",
}


def known_keys(sender: str) -> str | None:
    """Key lookup that knows the test device and the controller."""
    key = KEYS.get(sender)
    return key.public_key_b64 if key else None


def any_sender_has_device_key(sender: str) -> str:
    """Key lookup under which every sender name resolves, so sender flips reach the check."""
    return KEYS[DEVICE].public_key_b64


def _sign_document(document: Any, sender: str = DEVICE) -> bytes:
    """Wrap an arbitrary document, correctly signed, bypassing ``seal``'s own checks."""
    signed = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    sig = KEYS[sender].sign(signed.encode("utf-8"))
    return json.dumps({"signed": signed, "sig": sig}).encode("utf-8")


def _document(kind: Kind, body: Any, **header: Any) -> dict[str, Any]:
    doc = {
        "v": PROTOCOL_VERSION,
        "kind": kind.value,
        "sender": DEVICE,
        "sent_at": "2026-11-22T22:00:00Z",
        "body": body,
    }
    return {**doc, **header}


def _reason(payload: bytes, kind: Kind, keys: Any = known_keys, sender: str | None = None) -> str:
    with pytest.raises(RejectedMessage) as caught:
        open_envelope(payload, kind, keys, sender)
    assert caught.value.reason in REASONS
    return caught.value.reason


# --- round trip -------------------------------------------------------------------


@FAST
@given(kinds_and_bodies(), aware_datetimes, st.sampled_from([DEVICE, CONTROLLER_SENDER]))
def test_seal_then_open_returns_an_equal_body(
    pair: tuple[Kind, BaseModel], now: datetime, sender: str
) -> None:
    kind, body = pair
    wire, signed = seal_signed(kind, body, sender, KEYS[sender], now)
    assert wire == seal(kind, body, sender, KEYS[sender], now)  # deterministic
    opened = open_envelope(wire, kind, known_keys, expected_sender=sender)
    assert opened.body == body
    assert (opened.kind, opened.sender) == (kind, sender)
    assert opened.sent_at == now
    assert opened.sent_at.tzinfo is UTC
    assert opened.signed == signed
    assert opened.digest == signed_digest(signed)


def test_seal_refuses_a_body_of_another_kind() -> None:
    with pytest.raises(TypeError):
        seal(Kind.EVENT, Availability(state="online"), DEVICE, KEYS[DEVICE], NOW)


# --- tampering --------------------------------------------------------------------


@FAST
@given(kinds_and_bodies(), st.data())
def test_any_change_to_the_signed_document_is_rejected(
    pair: tuple[Kind, BaseModel], data: st.DataObject
) -> None:
    kind, body = pair
    wire, signed = seal_signed(kind, body, DEVICE, KEYS[DEVICE], NOW)
    sig = json.loads(wire)["sig"]
    raw = bytearray(signed.encode("utf-8"))
    index = data.draw(st.integers(0, len(raw) - 1), label="index")
    raw[index] ^= data.draw(st.integers(1, 255), label="xor mask")
    tampered = raw.decode("utf-8", errors="replace")
    assume(tampered != signed)
    payload = json.dumps({"signed": tampered, "sig": sig}).encode("utf-8")
    reason = _reason(payload, kind, any_sender_has_device_key, DEVICE)
    try:
        doc = json.loads(tampered)
    except json.JSONDecodeError:
        assert reason == "malformed"
        return
    header_intact = isinstance(doc, dict) and all(
        doc.get(k) == v
        for k, v in {"v": PROTOCOL_VERSION, "kind": kind.value, "sender": DEVICE}.items()
    )
    if header_intact:
        # The header still names the right key: only the signature can catch it.
        assert reason == "bad_signature"
    else:
        assert reason in {"malformed", "wrong_version", "wrong_kind", "wrong_sender"}


@FAST
@given(kinds_and_bodies(), st.data())
def test_any_change_to_the_signature_is_rejected(
    pair: tuple[Kind, BaseModel], data: st.DataObject
) -> None:
    kind, body = pair
    wire = json.loads(seal(kind, body, DEVICE, KEYS[DEVICE], NOW))
    sig = bytearray(wire["sig"].encode("ascii"))
    index = data.draw(st.integers(0, len(sig) - 1), label="index")
    sig[index] ^= data.draw(st.integers(1, 255), label="xor mask")
    text = sig.decode("utf-8", errors="replace")
    payload = json.dumps({"signed": wire["signed"], "sig": text}).encode("utf-8")
    if _decodes_to_same_signature(text, wire["sig"]):
        # Base64 leaves 4 bits of the last character unused; changing only those
        # bits spells the same signature, which is then (rightly) still valid.
        open_envelope(payload, kind, known_keys, DEVICE)
        return
    assert _reason(payload, kind, known_keys, DEVICE) in {"bad_signature", "malformed"}


def _decodes_to_same_signature(text: str, original: str) -> bool:
    try:
        return base64.b64decode(text, validate=True) == base64.b64decode(original)
    except (binascii.Error, ValueError):
        return False


@FAST
@given(kinds_and_bodies(), st.data())
def test_a_flipped_byte_anywhere_on_the_wire_never_yields_a_forged_message(
    pair: tuple[Kind, BaseModel], data: st.DataObject
) -> None:
    kind, body = pair
    wire = bytearray(seal(kind, body, DEVICE, KEYS[DEVICE], NOW))
    original = json.loads(wire)
    index = data.draw(st.integers(0, len(wire) - 1), label="index")
    wire[index] ^= data.draw(st.integers(1, 255), label="xor mask")
    try:
        opened = open_envelope(bytes(wire), kind, known_keys, DEVICE)
    except RejectedMessage as rejected:
        assert rejected.reason in REASONS
        return
    # Accepted only if the flip changed nothing that is signed: the same document
    # and the same signature bytes (e.g. an escape spelled differently).
    assert opened.signed == original["signed"]
    assert base64.b64decode(opened.sig) == base64.b64decode(original["sig"])


# --- wrong headers ----------------------------------------------------------------


@FAST
@given(kinds_and_bodies(), st.sampled_from(Kind))
def test_a_message_on_the_wrong_kind_of_topic_is_rejected(
    pair: tuple[Kind, BaseModel], other: Kind
) -> None:
    kind, body = pair
    assume(other is not kind)
    wire = seal(kind, body, DEVICE, KEYS[DEVICE], NOW)
    expected = "too_large" if len(wire) > MAX_PAYLOAD_BYTES[other] else "wrong_kind"
    assert _reason(wire, other) == expected


@FAST
@given(kinds_and_bodies(), device_ids)
def test_a_message_from_another_sender_is_rejected(
    pair: tuple[Kind, BaseModel], topic_device: str
) -> None:
    kind, body = pair
    assume(topic_device != DEVICE)
    wire = seal(kind, body, DEVICE, KEYS[DEVICE], NOW)
    assert _reason(wire, kind, known_keys, topic_device) == "wrong_sender"


@FAST
@given(kinds_and_bodies())
def test_a_sender_without_a_registered_key_is_rejected(pair: tuple[Kind, BaseModel]) -> None:
    kind, body = pair
    wire = seal(kind, body, DEVICE, KEYS[DEVICE], NOW)
    assert _reason(wire, kind, lambda sender: None) == "unknown_sender"
    # Someone else's key is as good as none.
    other = KEYS[CONTROLLER_SENDER].public_key_b64
    assert _reason(wire, kind, lambda sender: other) == "bad_signature"


# JSON values that are not the protocol version (bool and 1.0 excluded: they compare
# equal to 1 in Python; a separate test covers them).
not_the_version = st.one_of(
    st.none(),
    st.integers().filter(lambda v: v != PROTOCOL_VERSION),
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda v: v != PROTOCOL_VERSION),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
)


@FAST
@given(not_the_version)
def test_another_protocol_version_is_rejected_even_when_correctly_signed(version: Any) -> None:
    payload = _sign_document(_document(Kind.AVAILABILITY, {"state": "online"}, v=version))
    assert _reason(payload, Kind.AVAILABILITY) == "wrong_version"


def test_a_boolean_is_not_a_protocol_version() -> None:
    payload = _sign_document(_document(Kind.AVAILABILITY, {"state": "online"}, v=True))
    assert _reason(payload, Kind.AVAILABILITY) == "wrong_version"


# --- sizes and timestamps ---------------------------------------------------------


@FAST
@given(st.sampled_from(Kind), st.integers(1, 64), st.sampled_from([b"\xff", b"{", b" "]))
def test_oversize_payloads_are_rejected_before_parsing(kind: Kind, extra: int, fill: bytes) -> None:
    # Not JSON at all: a parser would say "malformed"; "too_large" proves it never ran.
    payload = fill * (MAX_PAYLOAD_BYTES[kind] + extra)
    assert _reason(payload, kind) == "too_large"


def test_a_payload_exactly_at_the_limit_is_parsed() -> None:
    payload = b" " * MAX_PAYLOAD_BYTES[Kind.EVENT]
    assert _reason(payload, Kind.EVENT) == "malformed"


@FAST
@given(aware_datetimes)
def test_sent_at_in_any_zone_opens_as_utc(moment: datetime) -> None:
    payload = _sign_document(
        _document(Kind.AVAILABILITY, {"state": "online"}, sent_at=moment.isoformat())
    )
    opened = open_envelope(payload, Kind.AVAILABILITY, known_keys)
    assert opened.sent_at == moment
    assert opened.sent_at.tzinfo is UTC


@pytest.mark.parametrize("sent_at", ["2026-11-22T22:00:00", "2026-11-22", "yesterday", None, 5])
def test_a_naive_or_missing_sent_at_is_rejected(sent_at: Any) -> None:
    payload = _sign_document(_document(Kind.AVAILABILITY, {"state": "online"}, sent_at=sent_at))
    assert _reason(payload, Kind.AVAILABILITY) == "invalid_body"


def test_a_naive_datetime_in_a_signed_body_is_rejected() -> None:
    body = {"device_time": "2026-11-22T22:00:00"}
    assert _reason(_sign_document(_document(Kind.STATE, body)), Kind.STATE) == "invalid_body"


# --- fuzzing ----------------------------------------------------------------------


@FAST
@given(st.binary(max_size=3000), st.sampled_from(Kind))
def test_arbitrary_bytes_raise_only_rejected_message(payload: bytes, kind: Kind) -> None:
    _reason(payload, kind)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)


@FAST
@given(json_values, json_values)
def test_arbitrary_json_envelopes_raise_only_rejected_message(signed: Any, sig: Any) -> None:
    for wire in ({"signed": signed, "sig": sig}, {"signed": json.dumps(signed), "sig": sig}):
        _reason(json.dumps(wire).encode(), Kind.EVENT)


@FAST
@given(st.sampled_from(Kind), json_values, json_values)
def test_correctly_signed_garbage_bodies_raise_only_rejected_message(
    kind: Kind, body: Any, sent_at: Any
) -> None:
    """Past the signature check, too, a bad body is a rejection and nothing else."""
    payload = _sign_document(_document(kind, body, sent_at=sent_at))
    try:
        open_envelope(payload, kind, known_keys)
    except RejectedMessage as rejected:
        assert rejected.reason in {"invalid_body", "too_large"}


@pytest.mark.parametrize("where", ["outer", "signed"])
def test_deeply_nested_json_is_rejected(where: str) -> None:
    nested = "[" * 5000 + "]" * 5000
    payload = nested if where == "outer" else json.dumps({"signed": nested, "sig": "x"})
    assert _reason(payload.encode(), Kind.EVENT) == "malformed"


@pytest.mark.parametrize("where", ["sent_at", "body"])
def test_instants_that_overflow_in_utc_are_rejected(where: str) -> None:
    early = "0001-01-01T00:00:00+01:00"  # valid ISO, but before year 1 in UTC
    if where == "sent_at":
        doc = _document(Kind.AVAILABILITY, {"state": "online"}, sent_at=early)
        assert _reason(_sign_document(doc), Kind.AVAILABILITY) == "invalid_body"
    else:
        doc = _document(Kind.STATE, {"device_time": early})
        assert _reason(_sign_document(doc), Kind.STATE) == "invalid_body"
