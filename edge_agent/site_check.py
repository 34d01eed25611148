"""``wardcast-agent check``: what an installer verifies on site before leaving a Pi on a pole.

Four checks, each a ``Result`` an installer reads as one line, OK or FAIL with its
reason in Vietnamese and in English:

- **clock**: NTP synchronised (``timedatectl``) and, given the controller's URL, within
  ``MAX_OFFSET_S`` of the controller's clock (the ``Date`` of its health endpoint): a
  Pi without a real-time clock that boots without network plays at the wrong time;
- **broker**: one MQTT connection with this device's login and pinned CA (TLS), as the
  agent makes it, under a client id of its own so a running agent is not disturbed;
- **key**: the device key present, readable by this user, valid, and readable by nobody
  else (it signs the evidence);
- **speaker**: a short tone through the configured player, relay and mixer: heard from
  the loudspeakers with ``player=alsa``, a timed silence with the simulated one.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from edge_agent.config import AgentConfig
from wardcast_protocol.signing import InvalidKey, SigningKey

MAX_OFFSET_S = 2.0


@dataclass(frozen=True, slots=True)
class Result:
    """One check: its name, OK or not, and why in both languages."""

    name: str
    ok: bool
    vi: str
    en: str

    def line(self) -> str:
        """``OK   clock: <tiếng Việt> — <English>``."""
        return f"{'OK  ' if self.ok else 'FAIL'} {self.name}: {self.vi} — {self.en}"


def run_checks(
    config: AgentConfig, controller_url: str | None, timeout_s: float
) -> Iterator[Result]:
    """The clock, broker and key checks in turn, each as it finishes (the speaker's is
    ``speaker_check.check_speaker``)."""
    yield check_clock(controller_url, timeout_s)
    yield check_broker(config, timeout_s)
    yield check_key(config)


def vn(value: float, digits: int = 1) -> str:
    """A number as Vietnamese writes it, with a decimal comma."""
    return f"{value:.{digits}f}".replace(".", ",")


# -- clock ----------------------------------------------------------------------------


def ntp_synchronized() -> bool | None:
    """systemd-timesyncd's (or chrony's) verdict through timedatectl; None if unknown."""
    if shutil.which("timedatectl") is None:
        return None
    try:
        done = subprocess.run(
            ["timedatectl", "show", "-p", "NTPSynchronized", "--value"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    answer = done.stdout.strip()
    return {"yes": True, "no": False}.get(answer) if done.returncode == 0 else None


def controller_offset_s(controller_url: str, timeout_s: float) -> float:
    """The controller's clock minus ours, from its health endpoint's ``Date`` header.

    ``Date`` has whole seconds: the estimate is its middle (+0.5 s) against the middle
    of the request, good to about half a second, plenty to catch a clock that is off.
    """
    import httpx  # only here: `run` never needs it

    url = controller_url.rstrip("/") + "/api/v1/health"
    sent = time.time()
    response = httpx.get(url, timeout=timeout_s)
    received = time.time()
    response.raise_for_status()
    date = response.headers.get("date")
    if not date:
        raise ValueError("the controller's answer has no Date header")
    return parsedate_to_datetime(date).timestamp() + 0.5 - (sent + received) / 2


def check_clock(controller_url: str | None, timeout_s: float, ntp: bool | None = None) -> Result:
    """NTP synchronised, and near the controller's clock when its URL is known."""
    ntp = ntp_synchronized() if ntp is None else ntp
    if ntp is False:
        return Result(
            "clock",
            False,
            "chưa đồng bộ NTP (timedatectl: NTPSynchronized=no); kiểm tra mạng và máy chủ NTP",
            "not synchronised by NTP (timedatectl: NTPSynchronized=no); check the "
            "network and the NTP servers",
        )
    ntp_vi = "đã đồng bộ NTP" if ntp else "không rõ trạng thái NTP"
    ntp_en = "NTP synchronised" if ntp else "NTP status unknown"
    if not controller_url:
        if ntp:
            return Result(
                "clock",
                True,
                f"{ntp_vi} (thêm --controller-url để so với máy chủ)",
                f"{ntp_en} (add --controller-url to compare with the controller)",
            )
        return Result(
            "clock",
            False,
            "không kiểm tra được: không rõ NTP và thiếu --controller-url",
            "cannot tell: no NTP status and no --controller-url",
        )
    try:
        offset = controller_offset_s(controller_url, timeout_s)
    except Exception as exc:  # any failure to ask is the answer: reported, not raised
        reason = f"{type(exc).__name__}: {exc}"[:200]
        return Result(
            "clock",
            False,
            f"không hỏi được giờ máy chủ {controller_url}: {reason}",
            f"cannot read the controller's time at {controller_url}: {reason}",
        )
    if abs(offset) > MAX_OFFSET_S:
        return Result(
            "clock",
            False,
            f"{ntp_vi}, nhưng lệch {vn(offset)} s so với máy chủ (tối đa {vn(MAX_OFFSET_S, 0)} s)",
            f"{ntp_en}, but {offset:+.1f} s from the controller's clock (at most "
            f"{MAX_OFFSET_S:.0f} s)",
        )
    return Result(
        "clock",
        True,
        f"{ntp_vi}, lệch {vn(offset)} s so với máy chủ (±0,5 s)",
        f"{ntp_en}, {offset:+.1f} s from the controller's clock (±0.5 s)",
    )


# -- broker ---------------------------------------------------------------------------


def try_broker(config: AgentConfig, timeout_s: float) -> str:
    """Connect once as this device; "Success" or what went wrong."""
    # Imported here: paho is needed by this check only, not by the others.
    from wardcast_protocol.broker_probe import connect_once, probe_client

    address = config.broker_address()
    client = probe_client(address, f"wardcast-check-{config.device_id}")
    try:
        answer = connect_once(client, address, timeout_s)
    except ssl.SSLError as exc:
        return f"TLS: {exc.reason or exc}"
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"
    return answer if answer is not None else f"no answer in {timeout_s:g} s"


def check_broker(config: AgentConfig, timeout_s: float) -> Result:
    """The broker takes this device's login, over TLS with the pinned CA."""
    address = config.broker_address()
    outcome = try_broker(config, timeout_s)
    if outcome != "Success":
        return Result(
            "broker",
            False,
            f"không kết nối được {address.url}: {outcome}",
            f"cannot connect to {address.url}: {outcome}",
        )
    how_vi = "TLS, CA đã ghim" if address.tls else "KHÔNG mã hoá"
    how_en = "TLS, pinned CA" if address.tls else "NOT encrypted"
    return Result(
        "broker",
        True,
        f"kết nối được {address.url} ({how_vi}) với tài khoản {address.username}",
        f"connected to {address.url} ({how_en}) as {address.username}",
    )


# -- key ------------------------------------------------------------------------------


def check_key(config: AgentConfig) -> Result:
    """The device key: present, readable, valid, private."""
    path = config.key_path
    try:
        text = path.read_text(encoding="ascii")
        key = SigningKey.from_b64(text)
    except FileNotFoundError:
        return Result(
            "key",
            False,
            f"không có khóa thiết bị {path}; đăng ký lại (wardcast-agent enrol)",
            f"no device key at {path}; enrol this device again (wardcast-agent enrol)",
        )
    except (OSError, UnicodeDecodeError) as exc:
        return Result(
            "key",
            False,
            f"không đọc được khóa {path}: {exc}",
            f"cannot read the key {path}: {exc}",
        )
    except InvalidKey:
        return Result(
            "key",
            False,
            f"tệp khóa {path} hỏng (không phải khóa Ed25519)",
            f"the key file {path} is damaged (not an Ed25519 key)",
        )
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        return Result(
            "key",
            False,
            f"người khác đọc được khóa {path} (quyền {mode:o}); chạy chmod 600",
            f"others can read the key {path} (mode {mode:o}); run chmod 600",
        )
    short = key.public_key_b64[:12]
    return Result(
        "key",
        True,
        f"khóa {path} có và đọc được (khóa công khai {short}…)",
        f"key {path} present and readable (public key {short}…)",
    )
