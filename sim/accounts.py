"""The demo's accounts: one per role, random passwords every run, and a token each.

Nothing in the API is anonymous, so the demo makes the people who use it: an
administrator, and the officer, the leader (approver) and an inspector (evaluator) of
the demo ward. Their passwords are new on every start (an account left from an earlier
run gets a fresh one) and are printed once, in the banner, with a personal token each
— what the README's ``curl`` lines and ``wardcast`` commands use.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from controller.composition import ControllerRuntime
from controller.db.models import User
from controller.domain.accounts import tokens, users
from controller.domain.accounts.users import NewUser, Scope
from controller.domain.actors import SYSTEM, Role

TOKEN_DAYS = 30


@dataclass(frozen=True)
class DemoAccount:
    """A demo account as the banner shows it (the password and token only this once)."""

    username: str
    role: Role
    display_name: str
    password: str
    token: str
    env: str  # the shell variable the banner suggests for its token


# username, role, display name, shell variable for its token
PEOPLE = (
    ("admin", Role.ADMIN, "Quản trị hệ thống", "TOKEN"),
    ("can-bo", Role.OFFICER, "Cán bộ văn hóa - thông tin", "OFFICER"),
    ("chu-tich", Role.APPROVER, "Chủ tịch UBND phường", "LEADER"),
    ("thanh-tra", Role.EVALUATOR, "Thanh tra Sở Văn hóa", "EVALUATOR"),
)


def provision_accounts(runtime: ControllerRuntime, ward: str) -> dict[Role, DemoAccount]:
    """Create (or reset) the demo's accounts, scoped to ``ward``; one per role."""
    now = runtime.clock.now()
    made: dict[Role, DemoAccount] = {}
    with runtime.db.session() as session:
        for username, role, display_name, env in PEOPLE:
            password = secrets.token_urlsafe(12)
            exists = session.scalar(select(User.id).where(User.username == username))
            if exists is None:
                scope = Scope() if role is Role.ADMIN else Scope(wards=[ward])
                new = NewUser(username, password, [role], scope, display_name)
                user = users.create_user(session, SYSTEM, new, now)
            else:
                user = users.reset_password(session, SYSTEM, username, password, now)
            lifetime = timedelta(days=TOKEN_DAYS)
            issued = tokens.issue(session, user, "demo", tokens.TokenKind.PERSONAL, lifetime, now)
            made[role] = DemoAccount(username, role, display_name, password, issued.secret, env)
    return made


def export_lines(accounts: dict[Role, DemoAccount], base: str) -> list[str]:
    """The shell lines that give a reader (or a test) the demo's address and tokens."""
    exports = [f"export B={base}"]
    exports += [f"export {a.env}={a.token}" for a in accounts.values()]
    # Passwords too, for the README's sign-in example (they are as secret as the tokens).
    exports += [f"export {password_variable(a)}={a.password}" for a in accounts.values()]
    exports.append("export WARDCAST_TOKEN=$TOKEN WARDCAST_CONTROLLER_URL=$B")
    return exports


def password_variable(account: DemoAccount) -> str:
    """The shell variable holding an account's password: OFFICER_PASSWORD, ADMIN_PASSWORD…"""
    return "ADMIN_PASSWORD" if account.role is Role.ADMIN else f"{account.env}_PASSWORD"


def write_env_file(path: Path, accounts: dict[Role, DemoAccount], base: str) -> Path:
    """Write the export lines to ``path`` (owner-only: they hold tokens), for `. path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write("# wardcast-demo: the demo's address and tokens (new every start)\n")
        out.write("\n".join(export_lines(accounts, base)) + "\n")
    path.chmod(0o600)  # an older file kept its mode through O_TRUNC
    return path


def banner_lines(accounts: dict[Role, DemoAccount], base: str) -> str:
    """The accounts part of the banner: shell lines to paste, then who is who."""
    exports = [f"  {line}" for line in export_lines(accounts, base)]
    people = [
        f"  {a.role.value:<9} {a.username:<10} password {a.password:<18} ({a.display_name}, "
        f"token in ${a.env})"
        for a in accounts.values()
    ]
    return "\n".join(
        [
            "Accounts (new passwords every start; sign in with POST /api/v1/auth/token):",
            *people,
            "Paste into a shell to use the API and the wardcast command (nothing is anonymous):",
            *exports,
        ]
    )
