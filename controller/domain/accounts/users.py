"""Accounts as administrators manage them, and the actor each account acts as.

Every change here is an administrator's act (``actor.require(Role.ADMIN, …)``), except
changing one's own password. At least one active administrator always remains: the
last one cannot be demoted or deactivated, so nobody locks the controller's owners out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import ApiToken, District, Province, User, Ward, new_id
from controller.domain.accounts import tokens
from controller.domain.accounts.passwords import check_password, hash_password, verify_password
from controller.domain.actors import Actor, Role
from controller.domain.errors import Conflict, InvalidInput, NotFound

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
USERNAME_RULE = "2–64 characters: lowercase letters, digits, '.', '_' or '-'"


@dataclass(frozen=True)
class Scope:
    """The places assigned to an account; districts and provinces cover their wards."""

    wards: Sequence[str] = ()
    districts: Sequence[str] = ()
    provinces: Sequence[str] = ()
    all_wards: bool = False


@dataclass(frozen=True)
class NewUser:
    """What an administrator gives to create an account."""

    username: str
    password: str
    roles: Sequence[Role]
    scope: Scope = Scope()
    display_name: str = ""


@dataclass(frozen=True)
class UserChanges:
    """What an administrator may change; None leaves a field as it is."""

    display_name: str | None = None
    roles: Sequence[Role] | None = None
    scope: Scope | None = None
    active: bool | None = None


def resolve_wards(session: Session, user: User) -> frozenset[str] | None:
    """The ward codes the account may act on now; None for every ward."""
    if Role.ADMIN.value in user.roles or user.all_wards:
        return None
    wards = set(user.wards)
    if user.districts:
        wards.update(
            session.scalars(select(Ward.code).where(Ward.district_code.in_(user.districts)))
        )
    if user.provinces:
        wards.update(
            session.scalars(
                select(Ward.code)
                .join(District, District.code == Ward.district_code)
                .where(District.province_code.in_(user.provinces))
            )
        )
    return frozenset(wards)


def actor_of(session: Session, user: User) -> Actor:
    """The actor an account acts as: its username, roles and resolved scope."""
    known = {r.value for r in Role}
    roles = frozenset(Role(r) for r in user.roles if r in known)
    return Actor(user.username, roles, resolve_wards(session, user), user.id)


def get_user(session: Session, username: str) -> User:
    """The account, or NotFound."""
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound(
            f"no account {username!r}", code="account.unknown", params={"username": username}
        )
    return user


def list_users(session: Session) -> Sequence[User]:
    """Every account, by username."""
    return session.scalars(select(User).order_by(User.username)).all()


def _roles(roles: Sequence[Role]) -> list[str]:
    if not roles:
        raise InvalidInput(
            "an account needs at least one role: admin, officer, approver, evaluator",
            code="account.role_missing",
            field="roles",
        )
    return sorted({Role(r).value for r in roles})


def _checked_scope(session: Session, scope: Scope) -> Scope:
    """The scope with every code checked to exist, duplicates dropped."""
    for model, codes, what, code in (
        (Ward, scope.wards, "ward", "account.unknown_ward"),
        (District, scope.districts, "district", "account.unknown_district"),
        (Province, scope.provinces, "province", "account.unknown_province"),
    ):
        missing = [c for c in dict.fromkeys(codes) if session.get(model, c) is None]
        if missing:
            raise InvalidInput(
                f"no {what} {', '.join(repr(c) for c in missing)}",
                code=code,
                params={"codes": ", ".join(missing)},
                field="wards",
            )
    return Scope(
        sorted(set(scope.wards)),
        sorted(set(scope.districts)),
        sorted(set(scope.provinces)),
        scope.all_wards,
    )


def _apply_scope(user: User, scope: Scope) -> None:
    user.wards, user.districts = list(scope.wards), list(scope.districts)
    user.provinces, user.all_wards = list(scope.provinces), scope.all_wards


def create_user(session: Session, actor: Actor, new: NewUser, now: datetime) -> User:
    """Create an account (administrators); Conflict if the username is taken."""
    actor.require(Role.ADMIN, "creating accounts")
    username = new.username.strip().lower()
    if USERNAME.fullmatch(username) is None:
        raise InvalidInput(
            f"username {new.username!r}: {USERNAME_RULE}",
            code="account.username_invalid",
            field="username",
        )
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(
            f"the username {username!r} is taken",
            code="account.username_taken",
            params={"username": username},
            field="username",
        )
    check_password(new.password, username)
    user = User(
        id=new_id("usr"),
        username=username,
        display_name=" ".join(new.display_name.split())[:200],
        password_hash=hash_password(new.password),
        roles=_roles(new.roles),
        active=True,
        created_at=now,
        created_by=actor.name,
        password_changed_at=now,
        failed_logins=0,
    )
    _apply_scope(user, _checked_scope(session, new.scope))
    session.add(user)
    session.flush()
    return user


def _other_active_admins(session: Session, user: User) -> int:
    others = session.scalars(select(User).where(User.active.is_(True), User.id != user.id))
    return sum(1 for u in others if Role.ADMIN.value in u.roles)


def update_user(
    session: Session, actor: Actor, username: str, changes: UserChanges, now: datetime
) -> User:
    """Change an account's name, roles, scope or activity (administrators).

    Deactivating an account revokes its tokens at once. The last active administrator
    cannot lose that role or be deactivated (Conflict).
    """
    actor.require(Role.ADMIN, "changing accounts")
    user = get_user(session, username)
    roles = _roles(changes.roles) if changes.roles is not None else user.roles
    active = changes.active if changes.active is not None else user.active
    stays_admin = active and Role.ADMIN.value in roles
    was_admin = Role.ADMIN.value in user.roles and user.active
    if was_admin and not stays_admin and _other_active_admins(session, user) == 0:
        raise Conflict(
            f"{user.username} is the last active administrator; make another first",
            code="account.last_admin",
            params={"username": user.username},
            field="roles",
        )
    if changes.display_name is not None:
        user.display_name = " ".join(changes.display_name.split())[:200]
    if changes.scope is not None:
        _apply_scope(user, _checked_scope(session, changes.scope))
    user.roles, user.active = roles, active
    if not active:
        tokens.revoke_all(session, user, now)
    session.flush()
    return user


def reset_password(
    session: Session, actor: Actor, username: str, password: str, now: datetime
) -> User:
    """Set a new password for someone (administrators); every token of theirs is revoked.

    A reset is what one does when an account may be in the wrong hands, so nothing
    made with the old password keeps working; it also lifts a sign-in lockout.
    """
    actor.require(Role.ADMIN, "resetting passwords")
    user = get_user(session, username)
    _set_password(user, password, now)
    tokens.revoke_all(session, user, now)
    return user


def change_own_password(
    session: Session,
    actor: Actor,
    current: str,
    new: str,
    now: datetime,
    keep_token_id: str | None = None,
) -> User:
    """Change one's own password; other sign-in sessions end, personal tokens stay."""
    user = get_user(session, actor.name)
    if not verify_password(user.password_hash, current):
        # 422, not 403: the caller is who they say (their token says so); the field is wrong.
        raise InvalidInput(
            "the current password is not right",
            code="account.current_password_wrong",
            field="current_password",
        )
    if current == new:
        raise InvalidInput(
            "the new password is the same as the current one",
            code="account.password_unchanged",
            field="new_password",
        )
    _set_password(user, new, now)
    tokens.revoke_all(session, user, now, tokens.TokenKind.LOGIN, keep=keep_token_id)
    return user


def _set_password(user: User, password: str, now: datetime) -> None:
    check_password(password, user.username)
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    user.failed_logins, user.locked_until = 0, None


def account_tokens(session: Session, actor: Actor, username: str) -> Sequence[ApiToken]:
    """An account's tokens (one's own, or anyone's for administrators), newest first."""
    if username != actor.name:
        actor.require(Role.ADMIN, "reading someone else's tokens")
    return tokens.tokens_of(session, get_user(session, username))


def make_personal_token(
    session: Session, actor: Actor, name: str, days: int, now: datetime
) -> tokens.IssuedToken:
    """A personal token for the actor's own account (shown once)."""
    user = get_user(session, actor.name)
    return tokens.issue(session, user, name, tokens.TokenKind.PERSONAL, timedelta(days=days), now)


def revoke_token(
    session: Session, actor: Actor, username: str, token_id: str, now: datetime
) -> ApiToken:
    """Revoke one token (one's own, or anyone's for administrators); idempotent."""
    if username != actor.name:
        actor.require(Role.ADMIN, "revoking someone else's tokens")
    return tokens.revoke(session, get_user(session, username), token_id, now)
