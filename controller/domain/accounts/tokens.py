"""API tokens: random bearer secrets, kept only as their sha256.

A secret is 32 random bytes (``wct_`` + base64url), so a plain sha256 of it cannot be
reversed or guessed, and a request finds its token by an index on that digest — no
slow hash per request, no comparison that leaks by timing. The secret is returned
once, when the token is made; afterwards a token is known by its id and prefix.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import ApiToken, User, new_id
from controller.domain.errors import Conflict, InvalidInput, NotFound

SECRET_PREFIX = "wct_"  # noqa: S105 - marks a Wardcast token; not a secret
DISPLAY_PREFIX_CHARS = 12
MAX_PERSONAL_DAYS = 366
MAX_ACTIVE_PERSONAL = 50


class TokenKind(StrEnum):
    """Where a token comes from."""

    PERSONAL = "personal"  # made by its owner for a script or the CLI; long-lived
    LOGIN = "login"  # issued by signing in; short-lived


@dataclass(frozen=True)
class IssuedToken:
    """A token just made: its row, and the secret, which is never shown again."""

    token: ApiToken
    secret: str


def digest(secret: str) -> str:
    """The sha256 hex of a secret: what is stored and looked up."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def is_active(token: ApiToken, now: datetime) -> bool:
    """Neither revoked nor expired."""
    return token.revoked_at is None and token.expires_at > now


def issue(
    session: Session, user: User, name: str, kind: TokenKind, lifetime: timedelta, now: datetime
) -> IssuedToken:
    """Make a token for ``user``; the caller shows ``secret`` once."""
    name = " ".join(name.split())[:100]
    if not name:
        raise InvalidInput("a token needs a name (what it is for)")
    if kind is TokenKind.PERSONAL:
        if lifetime <= timedelta(0) or lifetime > timedelta(days=MAX_PERSONAL_DAYS):
            raise InvalidInput(f"a personal token lives 1 to {MAX_PERSONAL_DAYS} days")
        if len(active_tokens(session, user, now, TokenKind.PERSONAL)) >= MAX_ACTIVE_PERSONAL:
            raise Conflict(
                f"{user.username} already has {MAX_ACTIVE_PERSONAL} personal tokens; "
                "revoke one first"
            )
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        id=new_id("tok"),
        user_id=user.id,
        name=name,
        kind=kind.value,
        token_sha256=digest(secret),
        prefix=secret[:DISPLAY_PREFIX_CHARS],
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(row)
    session.flush()
    return IssuedToken(row, secret)


def find(session: Session, secret: str) -> ApiToken | None:
    """The token whose secret this is, active or not; None for an unknown secret."""
    if not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        return None
    return session.scalar(select(ApiToken).where(ApiToken.token_sha256 == digest(secret)))


def tokens_of(session: Session, user: User) -> Sequence[ApiToken]:
    """Every token of a user, newest first (revoked and expired ones too)."""
    query = select(ApiToken).where(ApiToken.user_id == user.id)
    return session.scalars(query.order_by(ApiToken.created_at.desc(), ApiToken.id)).all()


def active_tokens(
    session: Session, user: User, now: datetime, kind: TokenKind | None = None
) -> list[ApiToken]:
    """A user's tokens that still work."""
    return [
        t
        for t in tokens_of(session, user)
        if is_active(t, now) and (kind is None or t.kind == kind.value)
    ]


def revoke(session: Session, user: User, token_id: str, now: datetime) -> ApiToken:
    """Revoke one of ``user``'s tokens (idempotent); NotFound if it is not theirs."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(f"{user.username} has no token {token_id!r}")
    if token.revoked_at is None:
        token.revoked_at = now
    return token


def revoke_all(
    session: Session,
    user: User,
    now: datetime,
    kind: TokenKind | None = None,
    keep: str | None = None,
) -> int:
    """Revoke a user's active tokens (of one kind, and but one); how many were revoked."""
    revoked = 0
    for token in active_tokens(session, user, now, kind):
        if token.id != keep:
            token.revoked_at = now
            revoked += 1
    return revoked


def forget_expired_logins(session: Session, user: User, now: datetime) -> None:
    """Delete sign-in tokens expired over a week ago, so sign-ins do not pile up rows."""
    cutoff = now - timedelta(days=7)
    for token in tokens_of(session, user):
        if token.kind == TokenKind.LOGIN and token.expires_at < cutoff:
            session.delete(token)
