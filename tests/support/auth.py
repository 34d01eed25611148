"""Signing in, for tests: accounts made straight in the database, and their bearer headers.

Every API test authenticates through here, so a test says *who* acts (``"officer"`` of
ward 00037, an ``"admin"``) and nothing about how tokens are made. Accounts are created
once per runtime and username; each call issues a fresh personal token.

    client.headers.update(auth_headers(runtime))                 # an administrator
    officer = auth_headers(runtime, "officer", wards=["00037"])   # a scoped officer
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select

from controller.composition import ControllerRuntime
from controller.db.models import User
from controller.db.session import Database
from controller.domain.accounts import tokens, users
from controller.domain.accounts.users import NewUser, Scope
from controller.domain.actors import SYSTEM, Role
from wardcast_protocol.clock import SystemClock

PASSWORD = "test-password-0123"  # a test account's, never a real one
TOKEN_DAYS = 365


def username_for(role: Role | str, wards: Sequence[str] = ()) -> str:
    """The default username of a test account: its role and wards, e.g. officer-00037."""
    return "-".join([Role(role).value, *wards]).lower()


def issue_token(
    db: Database,
    now: datetime,
    role: Role | str = Role.ADMIN,
    *,
    wards: Sequence[str] = (),
    username: str | None = None,
    roles: Sequence[Role | str] = (),
    all_wards: bool = False,
) -> str:
    """A bearer token of the account ``username`` (created with these roles if new).

    ``wards`` is the account's scope; ``all_wards`` gives a non-administrator every ward
    (administrators always have them all).
    """
    name = username or username_for(role, wards)
    with db.session() as session:
        user = session.scalar(select(User).where(User.username == name))
        if user is None:
            held = [Role(r) for r in (roles or [role])]
            scope = Scope(wards=list(wards), all_wards=all_wards)
            new = NewUser(name, PASSWORD, held, scope, name)
            user = users.create_user(session, SYSTEM, new, now)
        kind, days = tokens.TokenKind.PERSONAL, timedelta(days=TOKEN_DAYS)
        return tokens.issue(session, user, "test", kind, days, now).secret


def bearer(token: str) -> dict[str, str]:
    """The header that carries a token."""
    return {"Authorization": f"Bearer {token}"}


def auth_headers(
    runtime: ControllerRuntime,
    role: Role | str = Role.ADMIN,
    *,
    wards: Sequence[str] = (),
    username: str | None = None,
    roles: Sequence[Role | str] = (),
    all_wards: bool = False,
) -> dict[str, str]:
    """Authorization headers of a test account on this (started) runtime."""
    now = runtime.clock.now()
    token = issue_token(
        runtime.db, now, role, wards=wards, username=username, roles=roles, all_wards=all_wards
    )
    return bearer(token)


def token_for_database(
    database_url: str,
    role: Role | str = Role.ADMIN,
    *,
    username: str | None = None,
    all_wards: bool = False,
) -> str:
    """A token for a controller running elsewhere on this database (migrated first)."""
    db = Database(database_url)
    try:
        db.migrate()
        now = SystemClock().now()
        return issue_token(db, now, role, username=username, all_wards=all_wards)
    finally:
        db.dispose()
