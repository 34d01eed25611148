"""Passwords: argon2id hashes, and the few rules a password must meet.

Only the hash is stored (argon2-cffi's defaults, RFC 9106's low-memory profile); a
hash made with weaker parameters is upgraded the next time its owner signs in.
"""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from controller.domain.errors import InvalidInput

MIN_LENGTH = 10
# argon2 hashes any length, but a megabyte "password" is a way to burn our CPU.
MAX_LENGTH = 256

_hasher = PasswordHasher()


def check_password(password: str, username: str) -> None:
    """Refuse a password that is too short, too long, or the username itself."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(
            f"a password needs at least {MIN_LENGTH} characters",
            code="account.password_short",
            params={"min": MIN_LENGTH},
            field="password",
        )
    if len(password) > MAX_LENGTH:
        raise InvalidInput(
            f"a password has at most {MAX_LENGTH} characters",
            code="account.password_long",
            params={"max": MAX_LENGTH},
            field="password",
        )
    if password.strip().lower() == username.lower():
        raise InvalidInput(
            "a password must not be the username",
            code="account.password_is_username",
            field="password",
        )


def hash_password(password: str) -> str:
    """The argon2id hash to store."""
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash`` (False for a malformed hash too)."""
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with parameters weaker than today's."""
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash("not a real password: equalises the time of a failed sign-in")


def waste_a_verification(password: str) -> None:
    """Spend the time a real check takes, so an unknown username is not told by timing."""
    verify_password(_dummy_hash(), password)
