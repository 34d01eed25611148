"""The closed broker's files: password hashes Mosquitto reads, the ACL, the CA and its port."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509

from controller.messaging.broker_accounts import (
    CONTROLLER_USERNAME,
    mosquitto_hash,
    mosquitto_hash_matches,
    render_acl_file,
    render_password_file,
)
from controller.messaging.broker_host import stable_port
from controller.messaging.broker_tls import default_names, ensure_tls
from wardcast_protocol.topics import device_acl, is_valid_device_id

# Made by `mosquitto_passwd -b pw alice secret` (Mosquitto 2.0.11): the format we write.
MOSQUITTO_MADE = (
    "$7$101$jD3Lu8WThQNxbalJ$TjAaU5+kW0RMGW9DiRfU8kczFUVoiJCfKtUDnkZve9+xSTTgoGIupJVB6wUT3DX"
    "sp2icf6Emgxf+B6zGejmBvA=="
)


def test_our_hash_is_mosquittos_pbkdf2_format() -> None:
    assert mosquitto_hash_matches("secret", MOSQUITTO_MADE)
    assert not mosquitto_hash_matches("Secret", MOSQUITTO_MADE)
    salt = b"\x8c=\xcb\xbb\xc5\x93\x85\x03qm\xa9I"
    assert mosquitto_hash("secret", salt=salt) == MOSQUITTO_MADE
    ours = mosquitto_hash("pa55")
    assert ours.startswith("$7$101$") and mosquitto_hash_matches("pa55", ours)
    assert mosquitto_hash("pa55") != ours  # a fresh salt each time


def test_the_password_file_lists_logins_and_never_a_colon_name() -> None:
    text = render_password_file([("to-1", "$7$h1"), ("bad:name", "$7$h2")])
    assert text == "to-1:$7$h1\n"


def test_the_acl_gives_devices_their_own_channels_and_the_controller_all() -> None:
    lines = render_acl_file().splitlines()
    acl = device_acl("%u")
    assert [ln for ln in lines if ln.startswith("pattern write ")] == [
        f"pattern write {t}" for t in acl.publish
    ]
    assert [ln for ln in lines if ln.startswith("pattern read ")] == [
        f"pattern read {t}" for t in acl.subscribe
    ]
    # Patterns come first: in Mosquitto's ACL file every "topic" line belongs to the
    # last "user" line above it, so only the controller's section follows its name.
    user = lines.index(f"user {CONTROLLER_USERNAME}")
    assert all(not ln.startswith("pattern") for ln in lines[user:])
    assert lines[user + 1] == "topic readwrite wardcast/v1/#"
    assert not is_valid_device_id(CONTROLLER_USERNAME)  # no device can take its name


def test_the_ca_is_made_once_and_the_server_certificate_follows_the_names(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    tls = ensure_tls(tmp_path, default_names(["wardcast.example"]), now)
    ca_pem, server_pem = tls.ca_cert.read_bytes(), tls.server_cert.read_bytes()
    assert tls.ca_key.stat().st_mode & 0o077 == 0
    ca = x509.load_pem_x509_certificate(ca_pem)
    server = x509.load_pem_x509_certificate(server_pem)
    server.verify_directly_issued_by(ca)
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "wardcast.example" in names.get_values_for_type(x509.DNSName)
    assert "127.0.0.1" in [str(ip) for ip in names.get_values_for_type(x509.IPAddress)]
    # Same names: nothing is remade.
    ensure_tls(tmp_path, default_names(["wardcast.example"]), now)
    assert tls.server_cert.read_bytes() == server_pem
    # New names: a new server certificate under the same CA (enrolled devices keep working).
    ensure_tls(tmp_path, default_names(["other.example"]), now)
    assert tls.ca_cert.read_bytes() == ca_pem and tls.server_cert.read_bytes() != server_pem
    # Near its expiry: renewed.
    later = now + timedelta(days=800)
    before = tls.server_cert.read_bytes()
    ensure_tls(tmp_path, default_names(["other.example"]), later)
    assert tls.server_cert.read_bytes() != before


def test_wildcard_listen_addresses_are_not_certificate_names() -> None:
    names = default_names(["0.0.0.0", "::", "Controller.Example"])
    assert "0.0.0.0" not in names and "::" not in names and "controller.example" in names


def test_the_broker_port_is_remembered(tmp_path: Path) -> None:
    first = stable_port(tmp_path, None)
    assert stable_port(tmp_path, None) == first
    assert stable_port(tmp_path, 12345) == 12345  # a configured port wins
    assert (tmp_path / "port").read_text().strip() == str(first)
