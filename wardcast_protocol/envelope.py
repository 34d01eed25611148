"""The signed envelope every message travels in.

Wire form (UTF-8 JSON)::

    {"signed": "<JSON document as a string>", "sig": "<base64 Ed25519 signature>"}

The signature covers the exact UTF-8 bytes of ``signed``; nothing is re-serialised
before verifying, so a verifier in any language, years later, checks the same bytes
the sender signed. The signed document is::

    {"v": 1, "kind": "event", "sender": "<device id or 'controller'>",
     "sent_at": "2026-11-22T05:00:00Z", "body": {...}}

Evidence stores ``signed`` and ``sig`` verbatim, so an evaluator can check every row
offline against the device's public key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

from wardcast_protocol.channels import BODY_MODELS, MAX_PAYLOAD_BYTES
from wardcast_protocol.messages import Kind
from wardcast_protocol.signing import SigningKey, verify
from wardcast_protocol.version import PROTOCOL_VERSION

CONTROLLER_SENDER = "controller"

M = TypeVar("M", bound=BaseModel)

KeyLookup = Callable[[str], str | None]
"""Maps a sender name to its base64 public key, or None when unknown."""


class RejectedMessage(Exception):
    """A payload that must not be acted on; ``reason`` is a short machine word."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Verified(Generic[M]):
    """A message whose signature checked out, with the exact bytes that were signed."""

    kind: Kind
    sender: str
    sent_at: datetime
    body: M
    signed: str
    sig: str

    @property
    def digest(self) -> str:
        """sha256 hex of the signed bytes: what the next event's ``prev_hash`` names."""
        return signed_digest(self.signed)


def signed_digest(signed: str) -> str:
    """sha256 hex of a signed document's UTF-8 bytes."""
    return hashlib.sha256(signed.encode("utf-8")).hexdigest()


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def seal(kind: Kind, body: BaseModel, sender: str, key: SigningKey, now: datetime) -> bytes:
    """Sign ``body`` as ``sender`` and return the wire bytes."""
    return seal_signed(kind, body, sender, key, now)[0]


def seal_signed(
    kind: Kind, body: BaseModel, sender: str, key: SigningKey, now: datetime
) -> tuple[bytes, str]:
    """Like ``seal``, also returning the signed document (whose digest chains events)."""
    if now.tzinfo is None:
        raise ValueError("seal needs an aware 'now'; a naive time would be read as local time")
    if not isinstance(body, BODY_MODELS[kind]):
        raise TypeError(f"{type(body).__name__} is not a {kind} body")
    document = {
        "v": PROTOCOL_VERSION,
        "kind": kind.value,
        "sender": sender,
        "sent_at": _iso(now),
        "body": body.model_dump(mode="json"),
    }
    signed = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    wire = {"signed": signed, "sig": key.sign(signed.encode("utf-8"))}
    return json.dumps(wire, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), signed


def open_envelope(
    payload: bytes,
    expected_kind: Kind,
    keys: KeyLookup,
    expected_sender: str | None = None,
    check_signature: Callable[[str, bytes, str], bool] = verify,
) -> Verified[BaseModel]:
    """Check and parse a wire payload; raise ``RejectedMessage`` with a reason if bad.

    ``check_signature``: ``signing.verify``'s contract (key, bytes, signature); the
    controller passes one that asks libsodium first and keeps ``cryptography``'s verdict.

    Order matters: size first (cheap), then shape, then the signature, and only then
    the body's schema, so an unsigned payload is never parsed into a model.
    """
    limit = MAX_PAYLOAD_BYTES[expected_kind]
    if len(payload) > limit:
        raise RejectedMessage("too_large", f"{len(payload)} bytes > {limit}")
    wire = _loads(payload, "payload")
    if not isinstance(wire, dict) or set(wire) != {"signed", "sig"}:
        raise RejectedMessage("unsigned", "payload is not a signed envelope")
    signed, sig = wire["signed"], wire["sig"]
    if not isinstance(signed, str) or not isinstance(sig, str):
        raise RejectedMessage("malformed", "signed and sig must be strings")
    document = _loads(signed, "signed document")
    if not isinstance(document, dict):
        raise RejectedMessage("malformed", "signed document is not an object")
    version = document.get("v")
    # type() and not ==: JSON true would otherwise pass as version 1.
    if type(version) is not int or version != PROTOCOL_VERSION:
        raise RejectedMessage("wrong_version", f"protocol version {version!r}")
    if document.get("kind") != expected_kind.value:
        raise RejectedMessage("wrong_kind", f"{document.get('kind')!r} on a {expected_kind} topic")
    sender = document.get("sender")
    if not isinstance(sender, str):
        raise RejectedMessage("malformed", "sender missing")
    if expected_sender is not None and sender != expected_sender:
        raise RejectedMessage("wrong_sender", f"{sender!r} on {expected_sender!r}'s topic")
    public_key = keys(sender)
    if public_key is None:
        raise RejectedMessage("unknown_sender", f"no registered key for {sender!r}")
    if not check_signature(public_key, signed.encode("utf-8"), sig):
        raise RejectedMessage("bad_signature", f"signature does not match {sender!r}'s key")
    try:
        sent_at = datetime.fromisoformat(str(document.get("sent_at")))
        if sent_at.tzinfo is None:
            raise ValueError("sent_at has no zone")
        body = BODY_MODELS[expected_kind].model_validate(document.get("body"))
        sent_at = sent_at.astimezone(UTC)
    except (ValueError, ValidationError, OverflowError) as exc:
        # OverflowError: an aware instant near year 1 or 9999 that leaves the range in UTC.
        raise RejectedMessage("invalid_body", str(exc)[:500]) from exc
    return Verified(expected_kind, sender, sent_at, body, signed, sig)


def _loads(text: str | bytes, what: str) -> object:
    """json.loads that turns every way JSON can fail into a rejection.

    RecursionError matters: "[[[[…" a few thousand deep is a tiny payload that would
    otherwise escape as an unexpected exception, before any signature is checked.
    """
    try:
        return json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise RejectedMessage("malformed", f"{what} is not JSON: {str(exc)[:200]}") from exc
