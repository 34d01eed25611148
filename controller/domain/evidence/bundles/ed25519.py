"""Ed25519 checks: libsodium's speed, ``cryptography``'s verdict.

The offline verifier checks a bundle's rows with it, and the controller's ingest every
incoming message (``messaging.bridge``): cffi lets go of the GIL while libsodium
verifies, so the checking thread no longer holds up the storing one. Standard library,
``cryptography`` and, when it is installed, PyNaCl (libsodium). Signatures are most of
a verifier's work, and libsodium checks one in about two thirds of the time OpenSSL
takes (47 µs against 73 µs on the development machine, with ``bench.verify``'s rows).

The two libraries do not accept exactly the same signatures. RFC 8032 lets a verifier
refuse small-order points and non-canonical encodings; libsodium does, OpenSSL does not
(it accepts, for one, the identity key's "signature" of any message). Everything
libsodium accepts, OpenSSL accepts: the same cofactorless equation, fewer refusals.
So a signature libsodium refuses is asked again of ``cryptography``, and the verdict is
always ``cryptography``'s, whichever library is installed: only a bad row pays twice,
and a bundle reads the same on every evaluator's machine.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from functools import lru_cache
from types import ModuleType

from wardcast_protocol.signing import verify


def _load_sodium() -> ModuleType | None:
    try:
        import nacl.bindings  # optional: the verifier runs without it
    except ImportError:  # pragma: no cover - PyNaCl is in the controller's set
        return None
    return nacl.bindings


_SODIUM = _load_sodium()


@lru_cache(maxsize=4096)
def _raw_key(public_key_b64: str) -> bytes | None:
    try:
        raw = base64.b64decode(public_key_b64, validate=True)
    except binascii.Error:
        return None
    return raw if len(raw) == 32 else None


def _sodium_accepts(raw_key: bytes, data: bytes, signature_b64: str) -> bool:
    assert _SODIUM is not None
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        if len(signature) != 64:
            return False
        _SODIUM.crypto_sign_open(signature + data, raw_key)
    except Exception:  # any refusal (bad signature, bad length) is "ask cryptography"
        return False
    return True


def signature_valid(public_key_b64: str, data: bytes, signature_b64: str) -> bool:
    """``cryptography``'s verdict on one signature, found by libsodium when it can."""
    raw = _raw_key(public_key_b64) if _SODIUM is not None else None
    if raw is not None and _sodium_accepts(raw, data, signature_b64):
        return True
    return verify(public_key_b64, data, signature_b64)


def signatures_valid(public_key_b64: str, items: Iterable[tuple[bytes, str]]) -> list[bool]:
    """The verdicts on ``(data, signature)`` pairs by one key (a worker process's batch)."""
    return [signature_valid(public_key_b64, data, sig) for data, sig in items]


def sodium_available() -> bool:
    """Whether libsodium does the first check (PyNaCl is installed)."""
    return _SODIUM is not None
