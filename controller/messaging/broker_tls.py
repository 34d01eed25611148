"""The broker's TLS: a CA the controller makes at its first start, and the server's certificate.

Agents pin this CA (it is handed to them at enrolment): they trust the controller's
broker and nothing else, and no public certificate authority is needed on a ward's
network. The CA is made once and kept (``ca.key`` never leaves the controller's data
folder and is never readable by the broker); the server certificate is remade when
the names it must cover change or when it nears expiry, always under the same CA, so
enrolled devices keep working.

Files, in ``<data_dir>/broker/tls/``: ``ca.crt``, ``ca.key`` (0600, the controller's
only), ``server.crt`` and ``server.key`` (readable by the broker's user).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

log = logging.getLogger(__name__)

CA_VALIDITY = timedelta(days=3650)
SERVER_VALIDITY = timedelta(days=825)
RENEW_BEFORE = timedelta(days=30)

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class BrokerTls:
    """Where the broker's TLS files are."""

    directory: Path

    @property
    def ca_cert(self) -> Path:
        """The CA certificate agents pin (public)."""
        return self.directory / "ca.crt"

    @property
    def ca_key(self) -> Path:
        """The CA's private key (the controller's only)."""
        return self.directory / "ca.key"

    @property
    def server_cert(self) -> Path:
        """The broker's certificate, signed by the CA."""
        return self.directory / "server.crt"

    @property
    def server_key(self) -> Path:
        """The broker's private key."""
        return self.directory / "server.key"

    def ca_pem(self) -> str:
        """The CA certificate as PEM text (what enrolment hands a device)."""
        return self.ca_cert.read_text(encoding="ascii")


def default_names(extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The names a server certificate covers: loopback, this host, and ``extra``."""
    names = ["127.0.0.1", "::1", "localhost", socket.gethostname(), *extra]
    wildcard = {"0.0.0.0", "::", ""}
    return tuple(sorted({n.strip().lower() for n in names if n.strip() not in wildcard}))


def ensure_tls(directory: Path, names: Iterable[str], now: datetime | None = None) -> BrokerTls:
    """Make the CA if absent, and a server certificate covering ``names`` if needed."""
    now = now or datetime.now(UTC)
    tls = BrokerTls(directory)
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o755)
    wanted = tuple(sorted(set(names)))
    if not (tls.ca_cert.exists() and tls.ca_key.exists()):
        _make_ca(tls, now)
        log.info("made the broker's CA in %s", directory)
    if _server_needs_renewal(tls, wanted, now):
        _make_server(tls, wanted, now)
        log.info("made the broker's server certificate for %s", ", ".join(wanted))
    return tls


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Wardcast"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _write(path: Path, data: bytes, mode: int) -> None:
    # Written aside and renamed: a crash never leaves half a key for the broker to read.
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _make_ca(tls: BrokerTls, now: datetime) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = _name(f"Wardcast broker CA {socket.gethostname()}"[:64])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write(tls.ca_key, _pem_key(key), 0o600)
    _write(tls.ca_cert, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    # A new CA invalidates any server certificate signed by an old one.
    tls.server_cert.unlink(missing_ok=True)


def _alt_names(names: Iterable[str]) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = []
    for name in names:
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            out.append(x509.DNSName(name))
    return out


def _covered(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ()
    ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    return tuple(sorted({*ips, *san.get_values_for_type(x509.DNSName)}))


def _server_needs_renewal(tls: BrokerTls, names: tuple[str, ...], now: datetime) -> bool:
    if not (tls.server_cert.exists() and tls.server_key.exists()):
        return True
    try:
        cert = x509.load_pem_x509_certificate(tls.server_cert.read_bytes())
        ca = x509.load_pem_x509_certificate(tls.ca_cert.read_bytes())
    except ValueError:
        return True
    if cert.issuer != ca.subject or cert.not_valid_after_utc - RENEW_BEFORE < now:
        return True
    return _covered(cert) != tuple(sorted({str(n) for n in _normalised(names)}))


def _normalised(names: Iterable[str]) -> Iterable[str]:
    for name in names:
        try:
            yield str(ipaddress.ip_address(name))
        except ValueError:
            yield name


def _make_server(tls: BrokerTls, names: tuple[str, ...], now: datetime) -> None:
    ca_key = serialization.load_pem_private_key(tls.ca_key.read_bytes(), password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{tls.ca_key} is not the EC key this controller made")
    ca = x509.load_pem_x509_certificate(tls.ca_cert.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0] if names else "wardcast-broker"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(min(now + SERVER_VALIDITY, ca.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(_alt_names(names)), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write(tls.server_key, _pem_key(key), 0o600)
    _write(tls.server_cert, cert.public_bytes(serialization.Encoding.PEM), 0o644)
