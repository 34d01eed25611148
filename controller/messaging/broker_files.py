"""Mosquitto's own file formats, as the controller writes them for any broker.

The centre's broker (``broker_accounts``) and each province's (``province_accounts``)
read the same kinds of file: ``username:hash`` lines, Mosquitto 2's PBKDF2-SHA512
hash (``$7$``), and an ACL whose device part is the same everywhere (``%u`` patterns
from the channel table, each device's ward broadcast channel). A file is written
aside and renamed, and only when it changed, so a broker never reads half a file and
is never reloaded for nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path

from controller.messaging.broker_host import hand_to_broker
from wardcast_protocol.topics import device_acl, is_valid_ward_code, ward_acl

_ITERATIONS = 101  # mosquitto_passwd's own default; passwords are 192 random bits anyway
_SALT_BYTES = 12


def mosquitto_hash(password: str, *, salt: bytes | None = None) -> str:
    """The password-file hash Mosquitto 2 checks: ``$7$<iterations>$<salt>$<pbkdf2-sha512>``."""
    salt = salt if salt is not None else os.urandom(_SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, _ITERATIONS)
    return f"$7${_ITERATIONS}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def mosquitto_hash_matches(password: str, hashed: str) -> bool:
    """True when ``password`` matches a ``$7$`` hash (as Mosquitto would judge it)."""
    try:
        _, kind, iterations, salt_b64, digest_b64 = hashed.split("$")
        salt, digest = base64.b64decode(salt_b64), base64.b64decode(digest_b64)
        rounds = int(iterations)
    except ValueError:
        return False
    if kind != "7":
        return False
    computed = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, rounds)
    return hmac.compare_digest(computed, digest)


def new_password() -> str:
    """A fresh random MQTT password (URL-safe, 192 bits)."""
    return secrets.token_urlsafe(24)


def render_password_file(logins: Iterable[tuple[str, str]]) -> str:
    """``username:hash`` lines; usernames never contain ':' (device ids cannot)."""
    return "".join(f"{user}:{hashed}\n" for user, hashed in logins if ":" not in user)


def device_acl_lines(wards: Mapping[str, str] | None = None) -> list[str]:
    """The devices' part of an ACL: every device its own channels (``%u`` = its id) and
    its ward's broadcast channel (``wards``: device id -> ward code). The centre's file
    and each province broker's (``province_accounts``) begin with it."""
    acl = device_acl("%u")
    lines = [
        "# A device (username = device id) publishes only its own uplink channels and",
        "# subscribes only to its own downlink channels and its ward's broadcast channel.",
        "# Anything not listed is refused.",
        *(f"pattern write {topic}" for topic in acl.publish),
        *(f"pattern read {topic}" for topic in acl.subscribe),
        "",
    ]
    for device_id, ward in sorted((wards or {}).items()):
        if ":" not in device_id and is_valid_ward_code(ward):
            lines += [f"user {device_id}", *(f"topic read {t}" for t in ward_acl(ward)), ""]
    return lines


def write_for_broker(path: Path, text: str) -> bool:
    """Write ``text`` (aside, then renamed) if it differs; True when it changed."""
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    hand_to_broker(tmp)
    os.replace(tmp, path)
    return True
