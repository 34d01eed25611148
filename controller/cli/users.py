"""``wardcast users``: accounts made on the server itself, straight in its database.

The first administrator cannot be made through the API (nobody can sign in yet), and an
operator who lost every admin password must get back in: these commands open the
database the settings name (``WARDCAST_DATABASE_URL``, else ``WARDCAST_DATA_DIR``),
bring it up to date, and act there. Whoever can run them can read that database anyway,
so they add no way in that was not already open. Everything else about accounts is the
API's (``/api/v1/users``, ``/api/v1/me``).

    wardcast users create-admin admin                 # asks for the password twice
    echo "$PASSWORD" | wardcast users create-admin admin --password-stdin
    wardcast users create-admin admin --reset         # new password, admin role, unlocked
    wardcast users create-token admin --name backups  # prints a personal token, once
"""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from controller.cli.client import fail

if TYPE_CHECKING:
    from controller.db.session import Database

app = typer.Typer(
    help="Tài khoản trên máy chủ này — accounts on this server's database.", no_args_is_help=True
)

UsernameArgument = Annotated[str, typer.Argument(help="The account's username.")]


def _database() -> Database:
    """The settings' database, migrated (imported here: the command line starts fast)."""
    from controller.db.session import Database
    from controller.settings import Settings

    db = Database(Settings().resolved_database_url)
    db.migrate()
    return db


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@app.command("create-admin")
def create_admin(
    username: UsernameArgument = "admin",
    display_name: Annotated[str, typer.Option(help="A name for people to read.")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    reset: Annotated[
        bool,
        typer.Option(help="The account exists: give it this password, the admin role, unlock it."),
    ] = False,
) -> None:
    """Tạo quản trị viên đầu tiên — create the first administrator (or recover one)."""
    from controller.domain.accounts.service import AccountService
    from controller.domain.errors import DomainError
    from wardcast_protocol.clock import SystemClock

    password = _password(password_stdin)
    db = _database()
    try:
        user = AccountService(db, SystemClock()).create_admin(
            username, password, display_name=display_name, reset=reset
        )
    except DomainError as exc:
        fail(exc.message)
    finally:
        db.dispose()
    typer.echo(f"administrator {user.username} is ready; sign in with POST /api/v1/auth/token")


@app.command("create-token")
def create_token(
    username: UsernameArgument,
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
    days: Annotated[int, typer.Option(min=1, max=366, help="How long it works.")] = 90,
) -> None:
    """Cấp mã truy cập cá nhân — print a new personal token (shown once), for scripts."""
    from controller.domain.accounts import tokens, users
    from controller.domain.errors import DomainError
    from wardcast_protocol.clock import SystemClock

    db = _database()
    try:
        with db.session() as session:
            user = users.get_user(session, username)
            if not user.active:
                fail(f"the account {user.username} is deactivated")
            kind, lifetime = tokens.TokenKind.PERSONAL, timedelta(days=days)
            issued = tokens.issue(session, user, name, kind, lifetime, SystemClock().now())
    except DomainError as exc:
        fail(exc.message)
    finally:
        db.dispose()
    typer.echo(
        f"token {issued.token.id} of {username}, until {issued.token.expires_at:%Y-%m-%d}:",
        err=True,
    )
    typer.echo(issued.secret)
