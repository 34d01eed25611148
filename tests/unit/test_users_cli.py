"""``wardcast users``: the first administrator and a token, made on the server's database."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from controller.cli.main import app
from controller.db.session import Database
from controller.domain.accounts.service import AccountService
from wardcast_protocol.clock import SystemClock

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WARDCAST_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("WARDCAST_DATABASE_URL", raising=False)
    return tmp_path


def accounts(data_dir: Path) -> AccountService:
    return AccountService(Database(f"sqlite:///{data_dir / 'wardcast.db'}"), SystemClock())


def test_create_admin_then_a_token_that_works(data_dir: Path) -> None:
    made = runner.invoke(app, ["users", "create-admin", "quan-tri", "--password-stdin"],
                         input="mot-mat-khau-dai\n")  # fmt: skip
    assert made.exit_code == 0, made.output
    assert accounts(data_dir).login("quan-tri", "mot-mat-khau-dai").secret
    token = runner.invoke(app, ["users", "create-token", "quan-tri", "--name", "sao-luu"])
    assert token.exit_code == 0, token.output
    secret = token.stdout.strip().splitlines()[-1]
    actor, _ = accounts(data_dir).actor_for(secret)
    assert actor.name == "quan-tri" and actor.is_admin


def test_an_existing_account_is_reset_only_when_asked(data_dir: Path) -> None:
    args = ["users", "create-admin", "quan-tri", "--password-stdin"]
    assert runner.invoke(app, args, input="mot-mat-khau-dai\n").exit_code == 0
    again = runner.invoke(app, args, input="mat-khau-thu-hai\n")
    assert again.exit_code == 2 and "--reset" in again.stderr
    reset = runner.invoke(app, [*args, "--reset"], input="mat-khau-thu-hai\n")
    assert reset.exit_code == 0
    assert accounts(data_dir).login("quan-tri", "mat-khau-thu-hai").secret


def test_a_short_password_and_an_unknown_account_are_refused(data_dir: Path) -> None:
    short = runner.invoke(app, ["users", "create-admin", "--password-stdin"], input="ngan\n")
    assert short.exit_code == 2 and "at least 10" in short.stderr
    unknown = runner.invoke(app, ["users", "create-token", "ai-do"])
    assert unknown.exit_code == 2 and "no account" in unknown.stderr
