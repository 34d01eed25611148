"""Province bridge logins at the centre's broker: made on the server, hashed, ACL'd.

``wardcast broker bridge-login <province>`` prints a password once; the broker's files
then give ``_bridge-<province>`` its province's downlink to read and the devices'
uplink channels to write, nothing else.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from typer.testing import CliRunner

from controller.cli.main import app
from controller.db.models import Base, ProvinceBridge
from controller.db.session import Database
from controller.domain.places import service as places
from controller.messaging.broker_accounts import (
    bridge_username,
    mosquitto_hash_matches,
    render_acl_file,
)
from wardcast_protocol.topics import is_valid_device_id


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WARDCAST_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("WARDCAST_DATABASE_URL", raising=False)
    monkeypatch.delenv("WARDCAST_BROKER_URL", raising=False)
    db = Database(f"sqlite:///{tmp_path / 'wardcast.db'}")
    try:
        db.migrate()
        with db.session() as session:
            places.upsert_province(session, "hcm", "Hồ Chí Minh")
    finally:
        db.dispose()
    return tmp_path


def _hash_of(passwd: Path, user: str) -> str | None:
    for line in passwd.read_text(encoding="utf-8").splitlines():
        name, _, hashed = line.partition(":")
        if name == user:
            return hashed
    return None


def test_a_bridge_login_is_printed_once_stored_hashed_and_replaced(data_dir: Path) -> None:
    passwd, acl = data_dir / "broker" / "passwd", data_dir / "broker" / "acl"
    first = CliRunner().invoke(app, ["broker", "bridge-login", "hcm"])
    assert first.exit_code == 0, first.output
    password = first.stdout.strip()
    hashed = _hash_of(passwd, "_bridge-hcm")
    assert hashed is not None and mosquitto_hash_matches(password, hashed)
    assert password not in passwd.read_text(encoding="utf-8")
    assert "user _bridge-hcm\ntopic read prov/hcm/wardcast/v1/#\n" in acl.read_text("utf-8")
    again = CliRunner().invoke(app, ["broker", "bridge-login", "hcm"])
    renewed = _hash_of(passwd, "_bridge-hcm")
    assert renewed is not None and not mosquitto_hash_matches(password, renewed)
    assert mosquitto_hash_matches(again.stdout.strip(), renewed)
    gone = CliRunner().invoke(app, ["broker", "bridge-login", "hcm", "--revoke"])
    assert gone.exit_code == 0, gone.output
    assert _hash_of(passwd, "_bridge-hcm") is None
    assert "_bridge-hcm" not in acl.read_text(encoding="utf-8")


def test_an_unknown_province_is_refused_plainly(data_dir: Path) -> None:
    result = CliRunner().invoke(app, ["broker", "bridge-login", "nowhere"])
    assert result.exit_code != 0
    assert "no province 'nowhere'" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_bridge_reads_its_own_downlink_and_writes_only_the_uplink() -> None:
    lines = render_acl_file({}, ["hcm"]).splitlines()
    block = lines[lines.index("user _bridge-hcm") :]
    rights = block[1 : block.index("")]
    assert rights == [
        "topic read prov/hcm/wardcast/v1/#",
        "topic write wardcast/v1/device/+/availability",
        "topic write wardcast/v1/device/+/state",
        "topic write wardcast/v1/device/+/event",
        "topic write wardcast/v1/device/+/security",
    ]
    # "_" starts no device id, so no device can take a bridge's (or the controller's) name.
    assert not is_valid_device_id(bridge_username("hcm"))
    # docs/scale.md shows this block as the centre's ACL of a bridge login: it is.
    doc = (Path(__file__).resolve().parents[2] / "docs" / "scale.md").read_text("utf-8")
    shown = next(b for b in re.findall(r"```conf\n(.*?)```", doc, re.S) if "user _bridge" in b)
    assert shown.splitlines() == block[: block.index("")]


def test_the_migration_creates_the_bridge_table_as_modelled(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        db.migrate()
        with db.engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert [d for d in diffs if ProvinceBridge.__tablename__ in repr(d)] == []
    finally:
        db.dispose()
