"""Province brokers: the address a province's devices are given, and that broker's logins.

``wardcast broker province-url`` sets where a province's devices connect (with the CA
they pin); with the province downlink on, enrolment gives a device placed there that
address, else the centre's, and keeps what it gave, so ``wardcast broker
moved-devices`` finds a device that needs another. ``wardcast broker province-files``
(and every rewrite of the centre's files) writes the province broker's own password
and ACL files: its devices' hashes and rights, no one else's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from typer.testing import CliRunner

from controller.cli.main import app
from controller.db.models import Base, DeviceEnrolment, ProvinceBroker
from controller.db.session import Database
from controller.domain.actors import SYSTEM
from controller.domain.devices.province_brokers import check_broker_url
from controller.domain.errors import InvalidInput
from controller.domain.places import service as places
from controller.messaging.broker_files import mosquitto_hash_matches
from controller.messaging.broker_stack import build_broker_stack, centre_device_url
from controller.messaging.broker_tls import default_names, ensure_tls
from controller.messaging.province_accounts import render_province_acl
from controller.settings import Settings
from tests.unit.controller_support import Harness, make_harness
from wardcast_protocol.signing import SigningKey

HCM_URL = "mqtts://mqtt.hcm.example:8883"
CENTRE_URL = "mqtts://mqtt.centre.example:8883"


def _places(db: Database) -> None:
    with db.session() as session:
        for province in ("hcm", "hni"):
            places.upsert_province(session, province, province)
            places.upsert_district(session, f"d-{province}", province, province)
            places.upsert_ward(session, f"w-{province}", f"d-{province}", "w", "Asia/Ho_Chi_Minh")


@pytest.fixture
def ca_file(tmp_path: Path) -> Path:
    """A CA certificate, as a province broker's operator would hand over."""
    return ensure_tls(tmp_path / "hcm-tls", default_names()).ca_cert


@pytest.fixture
def on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    """A controller with the province downlink on; the CLI sees the same data folder."""
    env = {"DATA_DIR": str(tmp_path), "PROVINCE_DOWNLINK": "true", "BROKER_PUBLIC_URL": CENTRE_URL}
    for name, value in env.items():
        monkeypatch.setenv(f"WARDCAST_{name}", value)
    for name in ("DATABASE_URL", "BROKER_URL"):
        monkeypatch.delenv(f"WARDCAST_{name}", raising=False)
    harness = make_harness(tmp_path, province_downlink=True, broker_public_url=CENTRE_URL)
    _places(harness.runtime.db)
    yield harness
    harness.runtime.stop()


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["broker", *args])
    # A refusal is one line and an exit code, never a traceback.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


KEYS: dict[str, SigningKey] = {}


def _enrol(h: Harness, device_id: str, ward: str | None) -> tuple[str, str | None, str]:
    """Create, place and enrol a device; its broker URL, CA and password as given."""
    key = KEYS[device_id] = SigningKey.generate()
    issued, _ = h.runtime.enrolment.create_device(SYSTEM, device_id, device_id, key.public_key_b64)
    with h.runtime.db.session() as session:
        places.place_device(session, device_id, ward, None)
    assert issued.code is not None
    given = h.runtime.enrolment.enrol(device_id, issued.code, key.public_key_b64)
    return given.broker_url, given.ca_pem, given.password


def _enrol_again(h: Harness, device_id: str) -> str:
    """A new code, spent by the device with its own key; the broker URL it is given."""
    issued = h.runtime.enrolment.issue_code(SYSTEM, device_id)
    assert issued.code is not None
    return h.runtime.enrolment.enrol(
        device_id, issued.code, KEYS[device_id].public_key_b64
    ).broker_url


def test_a_device_of_a_province_with_a_broker_is_given_that_broker(
    on: Harness, ca_file: Path
) -> None:
    assert _cli("province-url", "hcm", HCM_URL, "--ca-file", str(ca_file))[0] == 0
    assert _cli("province-url", "hcm")[1].strip() == HCM_URL
    url, ca, _ = _enrol(on, "to-hcm", "w-hcm")
    assert (url, ca) == (HCM_URL, ca_file.read_text(encoding="ascii"))
    centre = on.runtime.broker.device_access.centre()
    # A province without its own broker, and an unplaced device: the centre's.
    assert _enrol(on, "to-hni", "w-hni")[:2] == (centre.url, centre.ca_pem)
    assert _enrol(on, "to-nowhere", None)[:2] == (centre.url, centre.ca_pem)
    with on.runtime.db.session() as session:
        row = session.get(DeviceEnrolment, "to-hcm")
        assert row is not None and row.broker_url == HCM_URL  # kept, to find it if it moves
    assert _cli("province-url", "hcm", "--clear")[0] == 0
    assert _enrol(on, "to-hcm-2", "w-hcm")[0] == centre.url


def test_with_the_downlink_off_every_device_is_given_the_centre(
    tmp_path: Path, ca_file: Path
) -> None:
    h = make_harness(tmp_path)
    try:
        _places(h.runtime.db)
        with h.runtime.db.session() as session:
            session.add(
                ProvinceBroker(province_code="hcm", device_url=HCM_URL, set_at=h.clock.now())
            )
        assert _enrol(h, "to-hcm", "w-hcm")[0] == h.runtime.broker.device_access.centre().url
    finally:
        h.runtime.stop()


def test_setting_an_address_with_the_downlink_off_warns_that_it_is_not_used(
    on: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WARDCAST_PROVINCE_DOWNLINK", "false")
    code, _, err = _cli("province-url", "hcm", "mqtt://10.0.0.5:1883")
    assert code == 0 and "warning: WARDCAST_PROVINCE_DOWNLINK is off here" in err


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["nowhere", HCM_URL], "no province 'nowhere'"),
        (["../etc", HCM_URL], "cannot name a province's broker"),
        (["hcm", "http://mqtt.hcm.example"], "must look like mqtts://host:port"),
        (["hcm", "mqtts://mqtt.hcm.example:99999"], "bad port"),
        (["hcm", "mqtts://dev:secret@mqtt.hcm.example"], "carries no login"),
        (["hcm", "mqtts://mqtt.hcm.example/x?y"], "more than a host and port"),
        (["hcm", HCM_URL], "needs the CA its certificate is signed by"),
        (["hcm", "mqtt://mqtt.hcm.example", "--ca-file", "CA"], "this URL has no TLS"),
        (["hcm", HCM_URL, "--ca-file", "/nonexistent/ca.pem"], "cannot read the CA file"),
        (["hcm", HCM_URL, "--ca-file", "NOT-PEM"], "not a PEM certificate"),
        (["hcm", "--clear"], "hcm has no broker address"),
        (["hcm"], "hcm has no broker address"),
    ],
)
def test_bad_province_urls_are_refused_plainly(
    on: Harness, ca_file: Path, tmp_path: Path, args: list[str], said: str
) -> None:
    (tmp_path / "not.pem").write_text("hello\n", encoding="ascii")
    swap = {"CA": str(ca_file), "NOT-PEM": str(tmp_path / "not.pem")}
    code, _, err = _cli("province-url", *(swap.get(a, a) for a in args))
    assert code != 0 and said in err and err.startswith("error: ")
    assert "Traceback" not in err


def test_a_plain_url_needs_no_ca_and_a_trailing_slash_is_dropped() -> None:
    assert check_broker_url(" mqtt://10.0.0.5:1883/ ") == "mqtt://10.0.0.5:1883"
    with pytest.raises(InvalidInput):
        check_broker_url("mqtts://:8883")


def test_moved_devices_lists_those_enrolled_at_a_broker_no_longer_theirs(
    on: Harness, ca_file: Path
) -> None:
    centre = on.runtime.broker.device_access.centre().url
    assert centre == CENTRE_URL  # the CLI works it out as the serving controller does
    _enrol(on, "to-early", None)  # enrolled before it was placed: told the centre
    _enrol(on, "to-hni", "w-hni")
    assert _cli("province-url", "hcm", HCM_URL, "--ca-file", str(ca_file))[0] == 0
    _enrol(on, "to-hcm", "w-hcm")
    with on.runtime.db.session() as session:
        places.place_device(session, "to-early", "w-hcm", None)  # now it should be at hcm
        places.place_device(session, "to-hcm", "w-hni", None)  # moved away from hcm
    code, out, err = _cli("moved-devices")
    assert code == 0 and "2 device(s) to enrol again" in err
    assert out.splitlines() == [f"to-early\t{centre}\t{HCM_URL}", f"to-hcm\t{HCM_URL}\t{centre}"]
    # Enrolled again (a new code), each is given the right broker and leaves the list.
    assert _enrol_again(on, "to-early") == HCM_URL
    assert _enrol_again(on, "to-hcm") == centre
    code, out, err = _cli("moved-devices")
    assert (code, out) == (0, "") and "0 device(s) to enrol again" in err


def test_a_province_broker_gets_its_own_devices_logins_hashed(on: Harness, ca_file: Path) -> None:
    assert _cli("province-url", "hcm", HCM_URL, "--ca-file", str(ca_file))[0] == 0
    _, _, hcm_password = _enrol(on, "to-hcm", "w-hcm")
    _enrol(on, "to-hni", "w-hni")
    _enrol(on, "to-nowhere", None)
    # Kept by the controller beside its own files, rewritten at every enrolment ...
    kept = on.runtime.broker.accounts.password_file.parent / "provinces" / "hcm"
    logins = dict(line.split(":", 1) for line in (kept / "passwd").read_text().splitlines())
    assert list(logins) == ["to-hcm"] and mosquitto_hash_matches(hcm_password, logins["to-hcm"])
    assert hcm_password not in (kept / "passwd").read_text()
    assert (kept / "acl").read_text() == render_province_acl("hcm", {"to-hcm": "w-hcm"})
    assert "user to-hcm\ntopic read wardcast/v1/ward/w-hcm/command\n" in (kept / "acl").read_text()
    assert "_wardcast-controller" not in (kept / "acl").read_text()
    # ... and on demand, anywhere (a province without its own broker address too).
    code, out, err = _cli("province-files", "hni", "--dir", str(on.runtime.settings.data_dir / "x"))
    assert code == 0 and "1 device login(s) of hni" in err
    passwd, acl = (Path(p) for p in out.splitlines())
    assert [line.split(":")[0] for line in passwd.read_text().splitlines()] == ["to-hni"]
    assert "user to-hni\n" in acl.read_text() and "to-hcm" not in acl.read_text()
    # A revoked device leaves its province's file.
    on.runtime.enrolment.revoke(SYSTEM, "to-hcm")
    assert (kept / "passwd").read_text() == ""
    code, _, err = _cli("province-files", "nowhere")
    assert code != 0 and "no province 'nowhere'" in err


def test_the_cli_knows_the_centres_device_url_as_the_serving_controller_does(
    tmp_path: Path,
) -> None:
    embedded = Settings(data_dir=tmp_path / "e", environment="test")
    external = Settings(
        data_dir=tmp_path / "x", environment="test", broker_url="mqtt://u:p@broker.lan:1884"
    )
    public = Settings(data_dir=tmp_path / "p", environment="test", broker_public_url=CENTRE_URL)
    for settings in (embedded, external, public):
        db = Database(settings.resolved_database_url)
        try:
            serving = build_broker_stack(settings, db, connect=True).device_access.centre().url
        finally:
            db.dispose()
        assert centre_device_url(settings) == serving
    assert centre_device_url(external) == "mqtt://broker.lan:1884"  # no login in it


def test_the_migration_creates_the_province_broker_table_as_modelled(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        db.migrate()
        with db.engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        mine = (ProvinceBroker.__tablename__, DeviceEnrolment.__tablename__)
        assert [d for d in diffs if any(t in repr(d) for t in mine)] == []
    finally:
        db.dispose()
