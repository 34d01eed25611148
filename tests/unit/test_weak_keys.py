"""Keys that sign nothing are refused when a device registers.

The curve's eight small-order points are found here from first principles (the
group order times random points), not copied from a list, and each is refused; so are
non-canonical encodings; keys made by ``cryptography`` never are.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from controller.domain.devices.service import register_device
from controller.domain.errors import InvalidInput
from tests.unit.controller_support import make_harness
from wardcast_protocol.signing import InvalidKey, SigningKey, check_device_key, verify
from wardcast_protocol.weak_keys import Point, _add, decode_point, is_small_order

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493  # the prime subgroup's order
IDENTITY = b"\x01" + bytes(31)


def times(n: int, point: Point) -> Point:
    result: Point = (0, 1, 1, 0)
    while n:
        if n & 1:
            result = _add(result, point)
        point, n = _add(point, point), n >> 1
    return result


def encode(point: Point) -> bytes:
    x_, y_, z, _ = point
    inverse = pow(z, P - 2, P)
    x, y = x_ * inverse % P, y_ * inverse % P
    return (y | (x & 1) << 255).to_bytes(32, "little")


def small_order_points() -> set[bytes]:
    """Every point T with 8T = 0: L times random points lands in that subgroup."""
    found: set[bytes] = set()
    while len(found) < 8:
        point = decode_point(os.urandom(32))
        if point is not None:
            torsion = times(L, point)
            found |= {encode(times(k, torsion)) for k in range(8)}
    return found


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_the_eight_small_order_points_are_refused() -> None:
    points = small_order_points()
    assert len(points) == 8 and IDENTITY in points
    for raw in points:
        assert is_small_order(raw)
        with pytest.raises(InvalidKey):
            check_device_key(b64(raw))


def test_non_canonical_encodings_are_refused() -> None:
    for y in (P, P + 1, 2**255 - 1):  # y >= p: 0 and 1 written a second way, and beyond
        with pytest.raises(InvalidKey):
            check_device_key(b64(y.to_bytes(32, "little")))


def test_real_keys_pass() -> None:
    for _ in range(50):
        key = SigningKey.generate().public_key_b64
        assert check_device_key(key) == key
        assert not is_small_order(base64.b64decode(key))


def test_why_the_identity_key_is_refused() -> None:
    """OpenSSL accepts (R = neutral point, S = 0) as its signature of anything."""
    forged = b64(IDENTITY + bytes(32))
    Ed25519PublicKey.from_public_bytes(IDENTITY)  # a key to cryptography
    assert verify(b64(IDENTITY), b"any message at all", forged)
    with pytest.raises(InvalidKey, match="small-order"):
        check_device_key(b64(IDENTITY))


def test_a_device_cannot_register_with_one(tmp_path: Path) -> None:
    h = make_harness(tmp_path)
    with h.runtime.db.session() as session, pytest.raises(InvalidInput, match="small-order"):
        register_device(session, "to-9", "to-9", b64(IDENTITY), h.clock.now())
