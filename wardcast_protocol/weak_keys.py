"""Ed25519 public keys of small order: keys that sign nothing, so refused at enrolment.

A public key is a point of the Edwards curve. The curve has eight points of small
order (the torsion: 8·A is the neutral point), and a "key" among them proves nothing:
with the neutral point as key, the signature (R = neutral point, S = 0) verifies
against *any* message in OpenSSL, which ``cryptography`` uses (RFC 8032 lets a verifier
refuse such keys; libsodium does, OpenSSL does not). A device registered with one would
have evidence anyone could forge, so the controller refuses such keys when a device is
registered or enrols (``devices.service``, ``devices.enrolment``).

A handful of big-integer operations, run once per key registered: the point is decoded
as RFC 8032 section 5.1.3 says, then doubled three times (the curve arithmetic of its
section 5.1.4, in extended coordinates).
"""

from __future__ import annotations

_P = 2**255 - 19
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)

Point = tuple[int, int, int, int]  # extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z


def decode_point(raw: bytes) -> Point | None:
    """The curve point a 32-byte public key encodes, None if it encodes none."""
    if len(raw) != 32:
        return None
    y = int.from_bytes(raw, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    if y >= _P:
        return None  # not canonical
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    if x2 == 0:
        return None if sign else (0, y, 1, 0)
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        return None  # no square root: not on the curve
    if x & 1 != sign:
        x = _P - x
    return (x, y, 1, x * y % _P)


def _add(p: Point, q: Point) -> Point:
    a = (p[1] - p[0]) * (q[1] - q[0]) % _P
    b = (p[1] + p[0]) * (q[1] + q[0]) % _P
    c = 2 * p[3] * q[3] * _D % _P
    d = 2 * p[2] * q[2] % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _is_neutral(p: Point) -> bool:
    x, y, z, _ = p
    return x % _P == 0 and (y - z) % _P == 0


def is_small_order(raw: bytes) -> bool:
    """True for a key that is one of the curve's eight small-order points (8·A = 0).

    A key that is not a canonical curve point at all is not "small order"; whether it
    is a key is ``signing.check_public_key``'s question.
    """
    point = decode_point(raw)
    if point is None:
        return False
    for _ in range(3):
        point = _add(point, point)
    return _is_neutral(point)
