"""Enrolment, the device's side: trade a one-time code for a broker login, keep it on disk.

``wardcast-agent enrol`` (and the simulator) generate the device's key in its data
folder, present the code and the public key to the controller
(``POST /api/v1/enrolment``, no sign-in: the code is the credential), and store what
comes back in the same folder:

- ``enrolment.json`` (0600): device id, broker URL, broker username and password, the
  controller's public key;
- ``broker-ca.pem``: the broker's CA, pinned (the agent trusts no other).

``AgentConfig`` reads both, so an enrolled agent starts with only its data folder
set. Nothing here imports httpx at module level: ``run`` on a Pi never needs it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wardcast_protocol.signing import SigningKey, check_public_key
from wardcast_protocol.topics import is_valid_device_id

if TYPE_CHECKING:
    import httpx

ENROLMENT_FILE = "enrolment.json"
CA_FILE = "broker-ca.pem"
LINE_PREFIX = "wardcast-enrol:"


class EnrolmentFailed(RuntimeError):
    """The controller refused the code, or its answer could not be used."""


@dataclass(frozen=True, slots=True)
class EnrolmentLine:
    """The printable line an administrator hands out: controller, device, code."""

    controller_url: str
    device_id: str
    code: str


def parse_line(line: str) -> EnrolmentLine:
    """Read ``wardcast-enrol:<controller-url>|<device-id>|<code>`` (as a QR code holds it)."""
    text = line.strip()
    if not text.startswith(LINE_PREFIX):
        raise ValueError(f"an enrolment line starts with {LINE_PREFIX!r}")
    parts = text[len(LINE_PREFIX) :].split("|")
    if len(parts) != 3 or not all(p.strip() for p in parts):
        raise ValueError("an enrolment line is <controller-url>|<device-id>|<code>")
    url, device_id, code = (p.strip() for p in parts)
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"the controller URL must be http(s)://…, got {url!r}")
    if not is_valid_device_id(device_id):
        raise ValueError(f"invalid device id {device_id!r}")
    return EnrolmentLine(url.rstrip("/"), device_id, code)


@dataclass(frozen=True, slots=True)
class Enrolment:
    """What the controller gave this device at enrolment."""

    device_id: str
    broker_url: str
    username: str
    password: str
    controller_public_key: str
    ca_pem: str | None = None

    @classmethod
    def from_response(cls, body: dict[str, Any]) -> Enrolment:
        """Check and read the controller's answer."""
        try:
            enrolment = cls(
                device_id=str(body["device_id"]),
                broker_url=str(body["broker_url"]),
                username=str(body["username"]),
                password=str(body["password"]),
                controller_public_key=check_public_key(str(body["controller_public_key"])),
                ca_pem=str(body["ca_pem"]) if body.get("ca_pem") else None,
            )
        except (KeyError, ValueError) as exc:
            raise EnrolmentFailed(f"the controller's answer is not an enrolment: {exc}") from exc
        if not is_valid_device_id(enrolment.device_id):
            raise EnrolmentFailed(f"the controller named an invalid device {enrolment.device_id!r}")
        return enrolment


def store_enrolment(data_dir: Path, enrolment: Enrolment) -> None:
    """Keep the enrolment in the data folder: the login 0600, the CA beside it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    ca = data_dir / CA_FILE
    if enrolment.ca_pem:
        _write(ca, enrolment.ca_pem.encode("ascii"), 0o644)
    else:
        ca.unlink(missing_ok=True)
    record = {k: v for k, v in asdict(enrolment).items() if k != "ca_pem"}
    _write(data_dir / ENROLMENT_FILE, json.dumps(record, indent=2).encode(), 0o600)


def load_enrolment(data_dir: Path) -> Enrolment | None:
    """The stored enrolment, or None if this data folder was never enrolled."""
    try:
        record = json.loads((data_dir / ENROLMENT_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    ca = data_dir / CA_FILE
    record["ca_pem"] = ca.read_text(encoding="ascii") if ca.exists() else None
    return Enrolment.from_response(record)


def ca_file(data_dir: Path) -> Path | None:
    """The pinned CA file, if the enrolment brought one."""
    path = data_dir / CA_FILE
    return path if path.exists() else None


def enrol(
    http: httpx.Client,
    data_dir: Path,
    device_id: str,
    code: str,
    *,
    key_path: Path | None = None,
) -> Enrolment:
    """Generate (or reuse) the device key, spend ``code``, and store the answer.

    ``http`` is a client on the controller's base URL.
    """
    key = SigningKey.load_or_create(key_path or data_dir / "device.key")
    body = {"device_id": device_id, "code": code, "public_key": key.public_key_b64}
    response = http.post("/api/v1/enrolment", json=body)
    if response.status_code == 403:
        raise EnrolmentFailed(
            f"the controller refused the code for {device_id}: wrong, already used or "
            "expired; ask an administrator for a new one"
        )
    if response.status_code == 409:
        raise EnrolmentFailed(
            f"{device_id} is registered with another key; ask an administrator (a new "
            "device id, or the old key file back in place)"
        )
    if response.status_code != 200:
        raise EnrolmentFailed(f"enrolment failed: HTTP {response.status_code} {response.text}")
    enrolment = Enrolment.from_response(response.json())
    if enrolment.device_id != device_id:
        raise EnrolmentFailed(f"the controller enrolled {enrolment.device_id}, not {device_id}")
    store_enrolment(data_dir, enrolment)
    return enrolment


def _write(path: Path, data: bytes, mode: int) -> None:
    # Aside and renamed: a power cut never leaves half a login behind.
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(tmp, mode)
    os.replace(tmp, path)
