"""Accounts: sign in, one's own account and tokens, and accounts for administrators.

``POST /api/v1/auth/token`` is the one route here that needs no token: a username and
password buy a short-lived token. Everything else acts as the token's holder:
``/me…`` on their own account, ``/users…`` (administrators) on anyone's.
"""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from controller.api.deps import AccountsDep, ActorDep, AdminDep, ClockDep, CredentialDep, SessionDep
from controller.api.schemas.accounts import (
    IssuedTokenPublic,
    LoginCreate,
    LoginPublic,
    PasswordUpdate,
    TokenCreate,
    TokenPublic,
    UserCreate,
    UserPasswordUpdate,
    UserPublic,
    UserUpdate,
)
from controller.db.models import User
from controller.domain.accounts import users
from controller.domain.accounts.tokens import IssuedToken
from controller.domain.accounts.users import NewUser, Scope, UserChanges

router = APIRouter(prefix="/api/v1", tags=["accounts"])


def _no_content() -> Response:
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def issued_public(issued: IssuedToken) -> IssuedTokenPublic:
    """A token just made, with its secret (this answer is the only place it appears)."""
    public = TokenPublic.model_validate(issued.token)
    return IssuedTokenPublic(**public.model_dump(), token=issued.secret)


def scope_of(body: UserUpdate, user: User) -> Scope | None:
    """The scope after an update: lists given replace the stored ones; None if untouched."""
    fields = (body.wards, body.districts, body.provinces, body.all_wards)
    if all(f is None for f in fields):
        return None
    return Scope(
        body.wards if body.wards is not None else user.wards,
        body.districts if body.districts is not None else user.districts,
        body.provinces if body.provinces is not None else user.provinces,
        body.all_wards if body.all_wards is not None else user.all_wards,
    )


@router.post("/auth/token", responses={401: {"description": "Wrong username or password."}})
def sign_in(body: LoginCreate, accounts: AccountsDep, session: SessionDep) -> LoginPublic:
    """Exchange a username and password for a short-lived bearer token."""
    issued = accounts.login(body.username, body.password)
    user = UserPublic.model_validate(users.get_user(session, body.username))
    return LoginPublic(**issued_public(issued).model_dump(), user=user)


@router.get("/me")
def read_me(actor: ActorDep, session: SessionDep) -> UserPublic:
    """The signed-in account."""
    return UserPublic.model_validate(users.get_user(session, actor.name))


@router.put("/me/password", status_code=status.HTTP_204_NO_CONTENT)
def change_password(
    body: PasswordUpdate, credential: CredentialDep, session: SessionDep, clock: ClockDep
) -> Response:
    """Change one's password; other sign-in sessions end, this one and personal tokens stay."""
    users.change_own_password(
        session,
        credential.actor,
        body.current_password,
        body.new_password,
        clock.now(),
        keep_token_id=credential.token_id,
    )
    return _no_content()


@router.get("/me/tokens")
def read_my_tokens(actor: ActorDep, session: SessionDep) -> list[TokenPublic]:
    """One's own tokens, newest first (revoked and expired ones too)."""
    rows = users.account_tokens(session, actor, actor.name)
    return [TokenPublic.model_validate(t) for t in rows]


@router.post("/me/tokens", status_code=status.HTTP_201_CREATED)
def create_my_token(
    body: TokenCreate, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> IssuedTokenPublic:
    """A personal token for a script or the CLI; its secret is in this answer only."""
    issued = users.make_personal_token(session, actor, body.name, body.expires_in_days, clock.now())
    return issued_public(issued)


@router.delete("/me/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_my_token(
    token_id: str, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> Response:
    """Revoke one of one's own tokens (the one in use too: that is signing out)."""
    users.revoke_token(session, actor, actor.name, token_id, clock.now())
    return _no_content()


@router.get("/users")
def list_users(actor: AdminDep, session: SessionDep) -> list[UserPublic]:
    """Every account (administrators)."""
    return [UserPublic.model_validate(u) for u in users.list_users(session)]


@router.post("/users", status_code=status.HTTP_201_CREATED)
def create_user(
    body: UserCreate, actor: AdminDep, session: SessionDep, clock: ClockDep
) -> UserPublic:
    """Create an account with its roles and places (administrators)."""
    scope = Scope(body.wards, body.districts, body.provinces, body.all_wards)
    new = NewUser(body.username, body.password, body.roles, scope, body.display_name)
    return UserPublic.model_validate(users.create_user(session, actor, new, clock.now()))


@router.get("/users/{username}")
def read_user(username: str, actor: AdminDep, session: SessionDep) -> UserPublic:
    """One account (administrators)."""
    return UserPublic.model_validate(users.get_user(session, username))


@router.patch("/users/{username}")
def update_user(
    username: str, body: UserUpdate, actor: AdminDep, session: SessionDep, clock: ClockDep
) -> UserPublic:
    """Change an account's name, roles, places or activity (administrators)."""
    scope = scope_of(body, users.get_user(session, username))
    changes = UserChanges(body.display_name, body.roles, scope, body.active)
    return UserPublic.model_validate(
        users.update_user(session, actor, username, changes, clock.now())
    )


@router.put("/users/{username}/password", status_code=status.HTTP_204_NO_CONTENT)
def reset_password(
    username: str, body: UserPasswordUpdate, actor: AdminDep, session: SessionDep, clock: ClockDep
) -> Response:
    """Set someone's password (administrators); every token of theirs is revoked."""
    users.reset_password(session, actor, username, body.password, clock.now())
    return _no_content()


@router.get("/users/{username}/tokens")
def read_user_tokens(username: str, actor: AdminDep, session: SessionDep) -> list[TokenPublic]:
    """An account's tokens (administrators)."""
    return [TokenPublic.model_validate(t) for t in users.account_tokens(session, actor, username)]


@router.delete("/users/{username}/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_user_token(
    username: str, token_id: str, actor: AdminDep, session: SessionDep, clock: ClockDep
) -> Response:
    """Revoke someone's token (administrators)."""
    users.revoke_token(session, actor, username, token_id, clock.now())
    return _no_content()
