"""Accounts: argon2 passwords, sha256 tokens, sign-in, lockout, scope, and the last admin."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from controller.db.models import ApiToken, User
from controller.domain.accounts import tokens, users
from controller.domain.accounts.service import LOCK_AFTER, AccountService
from controller.domain.accounts.users import NewUser, Scope, UserChanges
from controller.domain.actors import SYSTEM, Actor, Forbidden, Role, Unauthorized
from controller.domain.errors import Conflict, InvalidInput, NotFound
from controller.domain.places import service as places
from tests.unit.controller_support import Harness, make_harness

PASSWORD = "mật-khẩu-đủ-dài"


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    with harness.runtime.db.session() as session:
        places.upsert_province(session, "01", "Hà Nội")
        session.flush()
        places.upsert_district(session, "002", "01", "Hoàn Kiếm")
        places.upsert_district(session, "003", "01", "Ba Đình")
        session.flush()
        for code, district in (("00037", "002"), ("00038", "002"), ("00100", "003")):
            places.upsert_ward(session, code, district, code, "Asia/Ho_Chi_Minh")
    yield harness
    harness.runtime.stop()


def make(h: Harness, username: str, *roles: Role, scope: Scope | None = None) -> User:
    with h.runtime.db.session() as session:
        new = NewUser(username, PASSWORD, list(roles), scope or Scope())
        return users.create_user(session, SYSTEM, new, h.clock.now())


def accounts(h: Harness) -> AccountService:
    return h.runtime.accounts


def test_a_password_is_kept_as_an_argon2id_hash(h: Harness) -> None:
    user = make(h, "can-bo", Role.OFFICER)
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_sign_in_issues_a_short_lived_token_kept_as_its_sha256(h: Harness) -> None:
    make(h, "can-bo", Role.OFFICER)
    issued = accounts(h).login("Can-Bo", PASSWORD)  # usernames are not case-sensitive
    assert issued.secret.startswith("wct_") and issued.token.kind == "login"
    assert issued.token.expires_at == h.clock.now() + timedelta(hours=8)
    with h.runtime.db.session() as session:
        stored = session.scalars(select(ApiToken.token_sha256)).all()
    assert stored == [hashlib.sha256(issued.secret.encode()).hexdigest()]
    actor, token_id = accounts(h).actor_for(issued.secret)
    assert (actor.name, actor.roles, token_id) == (
        "can-bo",
        frozenset({Role.OFFICER}),
        issued.token.id,
    )


@pytest.mark.parametrize(("username", "password"), [("can-bo", "wrong-password"), ("ai", PASSWORD)])
def test_a_wrong_password_or_username_is_one_refusal(
    h: Harness, username: str, password: str
) -> None:
    make(h, "can-bo", Role.OFFICER)
    with pytest.raises(Unauthorized, match="wrong username or password"):
        accounts(h).login(username, password)


async def test_repeated_wrong_passwords_lock_the_account_for_a_while(h: Harness) -> None:
    make(h, "can-bo", Role.OFFICER)
    for _ in range(LOCK_AFTER):
        with pytest.raises(Unauthorized):
            accounts(h).login("can-bo", "wrong-password")
    with pytest.raises(Unauthorized, match="locked until"):
        accounts(h).login("can-bo", PASSWORD)  # even the right one, for now
    await h.clock.advance(16 * 60)
    assert accounts(h).login("can-bo", PASSWORD).secret


async def test_tokens_stop_when_revoked_expired_or_the_account_is_deactivated(h: Harness) -> None:
    make(h, "admin-2", Role.ADMIN)
    make(h, "can-bo", Role.OFFICER)
    with h.runtime.db.session() as session:
        user = users.get_user(session, "can-bo")
        kind = tokens.TokenKind.PERSONAL
        one = tokens.issue(session, user, "one", kind, timedelta(days=1), h.clock.now())
        two = tokens.issue(session, user, "two", kind, timedelta(days=30), h.clock.now())
        three = tokens.issue(session, user, "three", kind, timedelta(days=30), h.clock.now())
    with h.runtime.db.session() as session:
        actor = users.actor_of(session, users.get_user(session, "can-bo"))
        users.revoke_token(session, actor, "can-bo", two.token.id, h.clock.now())
    with pytest.raises(Unauthorized, match="revoked"):
        accounts(h).actor_for(two.secret)
    await h.clock.advance(2 * 86400)
    with pytest.raises(Unauthorized, match="expired"):
        accounts(h).actor_for(one.secret)
    assert accounts(h).actor_for(three.secret)[0].name == "can-bo"
    admin = Actor("admin-2", frozenset({Role.ADMIN}))
    with h.runtime.db.session() as session:
        users.update_user(session, admin, "can-bo", UserChanges(active=False), h.clock.now())
    with pytest.raises(Unauthorized):
        accounts(h).actor_for(three.secret)
    with pytest.raises(Unauthorized, match="not known"):
        accounts(h).actor_for("wct_" + "x" * 43)


async def test_last_use_is_recorded_but_not_on_every_request(h: Harness) -> None:
    make(h, "can-bo", Role.OFFICER)
    issued = accounts(h).login("can-bo", PASSWORD)
    accounts(h).actor_for(issued.secret)
    first = h.clock.now()
    await h.clock.advance(10)
    accounts(h).actor_for(issued.secret)
    with h.runtime.db.session() as session:
        row = session.get(ApiToken, issued.token.id)
        assert row is not None and row.last_used_at == first
    await h.clock.advance(60)
    accounts(h).actor_for(issued.secret)
    with h.runtime.db.session() as session:
        row = session.get(ApiToken, issued.token.id)
        assert row is not None and row.last_used_at == h.clock.now()


def test_scope_resolves_districts_and_provinces_to_their_wards(h: Harness) -> None:
    make(h, "phuong", Role.OFFICER, scope=Scope(wards=["00037"]))
    make(h, "quan", Role.EVALUATOR, scope=Scope(districts=["002"]))
    make(h, "tinh", Role.EVALUATOR, scope=Scope(provinces=["01"]))
    make(h, "ca-nuoc", Role.EVALUATOR, scope=Scope(all_wards=True))
    make(h, "admin-2", Role.ADMIN, scope=Scope(wards=["00037"]))
    with h.runtime.db.session() as session:
        wards = {u: users.actor_of(session, users.get_user(session, u)).wards for u in (
            "phuong", "quan", "tinh", "ca-nuoc", "admin-2")}  # fmt: skip
    assert wards == {
        "phuong": {"00037"},
        "quan": {"00037", "00038"},
        "tinh": {"00037", "00038", "00100"},
        "ca-nuoc": None,
        "admin-2": None,  # administrators act on every ward
    }


@pytest.mark.parametrize(
    ("new", "error", "words"),
    [
        (NewUser("Cán Bộ", PASSWORD, [Role.OFFICER]), InvalidInput, "lowercase"),
        (NewUser("can-bo", "short", [Role.OFFICER]), InvalidInput, "at least 10"),
        (NewUser("can-bo", "can-bo", [Role.OFFICER]), InvalidInput, "10"),
        (NewUser("can-bo", PASSWORD, []), InvalidInput, "at least one role"),
        (NewUser("can-bo", PASSWORD, [Role.OFFICER], Scope(["99999"])), InvalidInput, "99999"),
    ],
)
def test_a_bad_account_is_refused_clearly(
    h: Harness, new: NewUser, error: type[Exception], words: str
) -> None:
    with h.runtime.db.session() as session, pytest.raises(error, match=words):
        users.create_user(session, SYSTEM, new, h.clock.now())


def test_only_administrators_manage_accounts_and_a_username_is_taken_once(h: Harness) -> None:
    make(h, "can-bo", Role.OFFICER)
    officer = Actor("can-bo", frozenset({Role.OFFICER}), frozenset({"00037"}))
    with h.runtime.db.session() as session:
        with pytest.raises(Forbidden, match="'admin' role"):
            users.create_user(
                session, officer, NewUser("x1", PASSWORD, [Role.ADMIN]), h.clock.now()
            )
        with pytest.raises(Conflict, match="taken"):
            users.create_user(
                session, SYSTEM, NewUser("can-bo", PASSWORD, [Role.OFFICER]), h.clock.now()
            )
        with pytest.raises(Forbidden):
            users.account_tokens(session, officer, "someone-else")
        with pytest.raises(NotFound):
            users.get_user(session, "nobody")


def test_the_last_administrator_stays(h: Harness) -> None:
    make(h, "boss", Role.ADMIN)
    boss = Actor("boss", frozenset({Role.ADMIN}))
    demote = UserChanges(roles=[Role.OFFICER])
    with h.runtime.db.session() as session, pytest.raises(Conflict, match="last active admin"):
        users.update_user(session, boss, "boss", demote, h.clock.now())
    with h.runtime.db.session() as session, pytest.raises(Conflict):
        users.update_user(session, boss, "boss", UserChanges(active=False), h.clock.now())
    make(h, "boss-2", Role.ADMIN)
    with h.runtime.db.session() as session:
        assert users.update_user(session, boss, "boss", demote, h.clock.now()).roles == ["officer"]


def test_a_reset_revokes_every_token_and_a_change_only_other_sign_ins(h: Harness) -> None:
    make(h, "can-bo", Role.OFFICER)
    here, elsewhere = accounts(h).login("can-bo", PASSWORD), accounts(h).login("can-bo", PASSWORD)
    with h.runtime.db.session() as session:
        actor = users.actor_of(session, users.get_user(session, "can-bo"))
        script = users.make_personal_token(session, actor, "script", 30, h.clock.now())
    with h.runtime.db.session() as session:
        with pytest.raises(InvalidInput, match="current password"):
            users.change_own_password(session, actor, "wrong", "new-password-1", h.clock.now())
        users.change_own_password(
            session, actor, PASSWORD, "new-password-1", h.clock.now(), here.token.id
        )
    assert accounts(h).actor_for(here.secret)[0].name == "can-bo"
    assert accounts(h).actor_for(script.secret)[0].name == "can-bo"
    with pytest.raises(Unauthorized):
        accounts(h).actor_for(elsewhere.secret)
    with h.runtime.db.session() as session:
        users.reset_password(session, SYSTEM, "can-bo", "reset-password-2", h.clock.now())
    for secret in (here.secret, script.secret):
        with pytest.raises(Unauthorized):
            accounts(h).actor_for(secret)
    assert accounts(h).login("can-bo", "reset-password-2").secret


def test_the_first_admin_is_made_once_and_can_be_recovered(h: Harness) -> None:
    assert accounts(h).bootstrap("bootstrap-pass-1") is True
    assert accounts(h).bootstrap("another-pass-2") is False  # accounts exist: nothing more
    with pytest.raises(Conflict, match="--reset"):
        accounts(h).create_admin("admin", "another-pass-2")
    for _ in range(LOCK_AFTER):
        with pytest.raises(Unauthorized):
            accounts(h).login("admin", "wrong-password")
    accounts(h).create_admin("admin", "recovered-pass-3", reset=True)
    actor, _ = accounts(h).actor_for(accounts(h).login("admin", "recovered-pass-3").secret)
    assert actor.is_admin and actor.wards is None
