"""Ed25519 keys: each device signs its events, the controller signs what it sends.

Keys travel as base64 of the raw 32 bytes: short enough to paste into a form or a
provisioning file. Private keys are written with mode 0600.
"""

from __future__ import annotations

import base64
import binascii
import os
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from wardcast_protocol.weak_keys import decode_point, is_small_order

_RAW = serialization.Encoding.Raw


class InvalidKey(ValueError):
    """A key that cannot be read."""


class SigningKey:
    """A private Ed25519 key with its public half."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        raw = private.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw)
        self.public_key_b64 = base64.b64encode(raw).decode("ascii")

    @classmethod
    def generate(cls) -> SigningKey:
        """A fresh random key."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_b64(cls, text: str) -> SigningKey:
        """Load from base64 of the raw 32 private bytes."""
        try:
            raw = base64.b64decode(text.strip(), validate=True)
            return cls(Ed25519PrivateKey.from_private_bytes(raw))
        except (binascii.Error, ValueError) as exc:
            raise InvalidKey(f"not an Ed25519 private key: {exc}") from exc

    @classmethod
    def load_or_create(cls, path: Path) -> SigningKey:
        """Load the key at ``path``, creating it (mode 0600) on first use."""
        if path.exists():
            return cls.from_b64(path.read_text(encoding="ascii"))
        key = cls.generate()
        key.save(path)
        return key

    def private_b64(self) -> str:
        """Base64 of the raw private bytes (for provisioning files only)."""
        raw = self._private.private_bytes(
            _RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        return base64.b64encode(raw).decode("ascii")

    def save(self, path: Path) -> None:
        """Write the private key with owner-only permissions, atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(self.private_b64() + "\n")
        os.replace(tmp, path)

    def sign(self, data: bytes) -> str:
        """Base64 signature of ``data``."""
        return base64.b64encode(self._private.sign(data)).decode("ascii")


@lru_cache(maxsize=4096)
def _public_key(public_key_b64: str) -> Ed25519PublicKey:
    raw = base64.b64decode(public_key_b64, validate=True)
    return Ed25519PublicKey.from_public_bytes(raw)


def check_public_key(public_key_b64: str) -> str:
    """Return the key unchanged if it is a valid Ed25519 public key, else raise."""
    try:
        _public_key(public_key_b64.strip())
    except (binascii.Error, ValueError) as exc:
        raise InvalidKey(f"not an Ed25519 public key (base64 of 32 bytes): {exc}") from exc
    return public_key_b64.strip()


def check_device_key(public_key_b64: str) -> str:
    """``check_public_key``, and refuse a key that signs nothing (``weak_keys``).

    For keys a device registers with: a small-order key, or one that is not the
    canonical encoding of a curve point, is refused, since OpenSSL would accept forged
    evidence under some of them. A key made by any Ed25519 implementation is neither.
    """
    key = check_public_key(public_key_b64)
    raw = base64.b64decode(key, validate=True)
    if decode_point(raw) is None:
        raise InvalidKey("not an Ed25519 public key: not the canonical encoding of a curve point")
    if is_small_order(raw):
        raise InvalidKey(
            "refused: a small-order Ed25519 key, under which a signature proves nothing"
        )
    return key


def verify(public_key_b64: str, data: bytes, signature_b64: str) -> bool:
    """True when ``signature_b64`` is a valid signature of ``data`` by that key."""
    try:
        key = _public_key(public_key_b64)
        signature = base64.b64decode(signature_b64, validate=True)
        key.verify(signature, data)
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True
