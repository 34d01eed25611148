"""Account schemas: signing in, tokens (shown once), and accounts as administrators see them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from controller.domain.actors import Role

# Place codes as the places API spells them (ward 26734, district 002, province 01).
PlaceCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,15}$")]
Username = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9][a-z0-9._-]{1,63}$",
        description="2–64 characters: lowercase letters, digits, '.', '_' or '-'.",
        examples=["canbo.hangbac"],
    ),
]
Password = Annotated[str, Field(min_length=1, max_length=256)]
NewPassword = Annotated[
    str, Field(min_length=10, max_length=256, description="At least 10 characters.")
]
OneLine = Annotated[str, Field(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")]


class LoginCreate(BaseModel):
    """A username and password, exchanged for a short-lived token."""

    model_config = ConfigDict(extra="forbid")

    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Password


class TokenPublic(BaseModel):
    """A token as its owner (or an administrator) sees it: never its secret."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    kind: Literal["personal", "login"]
    prefix: str = Field(description="The secret's first characters, to recognise it.")
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class TokenCreate(BaseModel):
    """A personal token for a script or the CLI."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[OneLine, Field(min_length=1, max_length=100, examples=["báo cáo hằng tuần"])]
    expires_in_days: int = Field(default=90, ge=1, le=366, description="1 to 366 days.")


class UserPublic(BaseModel):
    """An account: who, which roles, which places (districts and provinces cover wards)."""

    model_config = ConfigDict(from_attributes=True)

    username: str
    display_name: str
    roles: list[Role]
    wards: list[str]
    districts: list[str]
    provinces: list[str]
    all_wards: bool
    active: bool
    created_at: datetime
    created_by: str
    last_login_at: datetime | None = None
    locked_until: datetime | None = None


class IssuedTokenPublic(TokenPublic):
    """A token just made: ``token`` is its secret, shown this once and never again."""

    token: str = Field(description="Send as 'Authorization: Bearer <token>'. Shown once.")
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme, not a secret


class LoginPublic(IssuedTokenPublic):
    """A sign-in: a short-lived token, and the account it acts as."""

    user: UserPublic


class UserCreate(BaseModel):
    """A new account (administrators)."""

    model_config = ConfigDict(extra="forbid")

    username: Username
    password: NewPassword
    display_name: OneLine = ""
    roles: list[Role] = Field(min_length=1, max_length=4)
    wards: list[PlaceCode] = Field(default_factory=list, max_length=1000)
    districts: list[PlaceCode] = Field(default_factory=list, max_length=1000)
    provinces: list[PlaceCode] = Field(default_factory=list, max_length=100)
    all_wards: bool = Field(
        default=False, description="Every ward (a national inspector); admins always have all."
    )


class UserUpdate(BaseModel):
    """What an administrator changes; fields left out stay as they are.

    Any of ``wards``, ``districts``, ``provinces`` given replaces that list.
    """

    model_config = ConfigDict(extra="forbid")

    display_name: OneLine | None = None
    roles: list[Role] | None = Field(default=None, min_length=1, max_length=4)
    wards: list[PlaceCode] | None = Field(default=None, max_length=1000)
    districts: list[PlaceCode] | None = Field(default=None, max_length=1000)
    provinces: list[PlaceCode] | None = Field(default=None, max_length=100)
    all_wards: bool | None = None
    active: bool | None = Field(default=None, description="False: the account and its tokens stop.")


class PasswordUpdate(BaseModel):
    """Change one's own password (other sign-in sessions end; personal tokens stay)."""

    model_config = ConfigDict(extra="forbid")

    current_password: Password
    new_password: NewPassword


class UserPasswordUpdate(BaseModel):
    """An administrator sets someone's password (every token of theirs is revoked)."""

    model_config = ConfigDict(extra="forbid")

    password: NewPassword
