"""Signing in, and who holds a token: the part of accounts every request goes through.

``AccountService`` owns its transactions, so the HTTP layer can ask "who is this?"
before a route opens its own session. A sign-in issues a short-lived ``login`` token;
the console's cookie sessions (a later issue) are the same tokens carried in a cookie,
so ``login`` and ``actor_for`` are all they need.

Repeated wrong passwords lock an account for a while (``LOCK_AFTER`` failures in a
row, ``LOCK_FOR``); an unknown username costs the same time as a wrong password.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, select

from controller.db.models import User, new_id
from controller.db.session import Database
from controller.domain.accounts import tokens
from controller.domain.accounts.passwords import (
    check_password,
    hash_password,
    needs_rehash,
    verify_password,
    waste_a_verification,
)
from controller.domain.accounts.tokens import IssuedToken, TokenKind
from controller.domain.accounts.users import USERNAME, USERNAME_RULE, actor_of
from controller.domain.actors import Actor, Role, Unauthorized
from controller.domain.errors import Conflict, InvalidInput
from wardcast_protocol.clock import Clock

log = logging.getLogger(__name__)

LOCK_AFTER = 10
LOCK_FOR = timedelta(minutes=15)
# Writing last_used_at on every request would make every read a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
SIGN_IN_HINT = "sign in with POST /api/v1/auth/token, or send a personal token"


class AccountService:
    """Sign-in, token lookup, and the first administrator."""

    def __init__(self, db: Database, clock: Clock, *, login_ttl_s: int = 8 * 3600) -> None:
        self._db = db
        self._clock = clock
        self.login_ttl = timedelta(seconds=login_ttl_s)

    def login(self, username: str, password: str, name: str = "sign-in") -> IssuedToken:
        """Check a username and password; a fresh short-lived token, or Unauthorized."""
        now = self._clock.now()
        issued: IssuedToken | None = None
        with self._db.session() as session:
            user = session.scalar(select(User).where(User.username == username.strip().lower()))
            if user is None or not user.active:
                waste_a_verification(password)
                raise Unauthorized("wrong username or password")
            if user.locked_until is not None and user.locked_until > now:
                raise Unauthorized(
                    f"too many wrong passwords: {user.username} is locked until "
                    f"{user.locked_until.isoformat(timespec='minutes')} (or an admin resets it)"
                )
            if verify_password(user.password_hash, password):
                user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
                if needs_rehash(user.password_hash):
                    user.password_hash = hash_password(password)
                tokens.forget_expired_logins(session, user, now)
                issued = tokens.issue(session, user, name, TokenKind.LOGIN, self.login_ttl, now)
            else:
                # Counted and committed before refusing (raising here would roll it back).
                user.failed_logins += 1
                if user.failed_logins >= LOCK_AFTER:
                    user.locked_until, user.failed_logins = now + LOCK_FOR, 0
                    log.warning(
                        "account %s locked after %d wrong passwords", user.username, LOCK_AFTER
                    )
        if issued is None:
            raise Unauthorized("wrong username or password")
        return issued

    def actor_for(self, secret: str) -> tuple[Actor, str]:
        """Who holds this token, and the token's id; Unauthorized if it does not work."""
        now = self._clock.now()
        with self._db.session() as session:
            token = tokens.find(session, secret)
            if token is None:
                raise Unauthorized(f"this token is not known; {SIGN_IN_HINT}")
            if token.revoked_at is not None:
                raise Unauthorized(f"this token was revoked; {SIGN_IN_HINT}")
            if token.expires_at <= now:
                raise Unauthorized(f"this token expired; {SIGN_IN_HINT}")
            user = session.get(User, token.user_id)
            if user is None or not user.active:
                raise Unauthorized("this account is deactivated")
            if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
                token.last_used_at = now
            return actor_of(session, user), token.id

    def has_users(self) -> bool:
        """Whether any account exists yet."""
        with self._db.session() as session:
            return bool(session.scalar(select(func.count()).select_from(User)))

    def create_admin(
        self, username: str, password: str, *, display_name: str = "", reset: bool = False
    ) -> User:
        """Create an administrator straight in the database (the bootstrap path).

        With ``reset``, an existing account gets this password, the admin role, is
        reactivated and unlocked — how an operator who lost every admin password gets
        back in, from the server's own shell.
        """
        now = self._clock.now()
        username = username.strip().lower()
        if USERNAME.fullmatch(username) is None:
            raise InvalidInput(f"username {username!r}: {USERNAME_RULE}")
        check_password(password, username)
        with self._db.session() as session:
            user = session.scalar(select(User).where(User.username == username))
            if user is not None and not reset:
                raise Conflict(f"the account {username!r} exists (reset it with --reset)")
            if user is None:
                user = User(
                    id=new_id("usr"),
                    username=username,
                    display_name=display_name,
                    roles=[Role.ADMIN.value],
                    wards=[],
                    districts=[],
                    provinces=[],
                    all_wards=False,
                    created_at=now,
                    created_by="wardcast users create-admin",
                )
                session.add(user)
            elif Role.ADMIN.value not in user.roles:
                user.roles = sorted({*user.roles, Role.ADMIN.value})
            user.password_hash = hash_password(password)
            user.password_changed_at, user.active = now, True
            user.failed_logins, user.locked_until = 0, None
            session.flush()
        log.warning("administrator %s created or reset from the server", username)
        return user

    def bootstrap(self, password: str | None, username: str = "admin") -> bool:
        """Development only: with no account at all, create ``admin`` with this password."""
        if not password or self.has_users():
            return False
        self.create_admin(username, password, display_name="Quản trị (bootstrap)")
        return True
