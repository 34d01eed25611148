"""Fan-out: one order to many devices, as few signed commands as addressing allows.

A "now" or an emergency to a thousand devices used to cost a thousand Ed25519
signatures and a thousand publishes on the controller, in series, before the last
device heard anything. A ward-wide channel (``channels.WARD_COMMAND``) carries one
command naming up to a thousand devices of that ward (``Command.device_ids``); each
agent of the ward receives it, acts only if named, and remembers its id like any
other (replay, expiry and retention are refused as on its own topic).

A device is reached on its ward's channel only once it has said, in its signed
state, that it listens there (``DeviceState.broadcast_ward``) and that ward is still
the one the controller has for it: an agent that has not caught up (older
software, just moved, never connected) gets its own command, as before. So the
cost is O(wards) signatures and publishes, plus one per device not yet listening.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence

from wardcast_protocol.topics import is_valid_ward_code

# A command's wire limit is 64 KiB (channels.MAX_PAYLOAD_BYTES): its ids, JSON-escaped
# inside the signed string, get at most this much of it; the item keeps the rest.
_IDS_BUDGET_BYTES = 40_000
MAX_IDS_PER_COMMAND = 1000  # Command.device_ids' own limit


class WardListeners:
    """Which ward's broadcast channel each device says it listens to (from its state).

    Held in memory: states are retained, so after a restart the broker delivers
    every device's last one again and this fills up by itself.
    """

    def __init__(self) -> None:
        self._ward_of: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def heard(self, device_id: str, ward_code: str | None) -> None:
        """A device's state named the ward it listens to (None: none)."""
        with self._lock:
            self._ward_of[device_id] = ward_code

    def forget(self, device_id: str) -> None:
        """A device revoked or removed: back to its own topic."""
        with self._lock:
            self._ward_of.pop(device_id, None)

    def listening(self, device_id: str) -> str | None:
        """The ward a device listens to, if it said so."""
        with self._lock:
            return self._ward_of.get(device_id)


def address(
    targets: Mapping[str, str | None], listeners: WardListeners
) -> tuple[dict[str, list[str]], list[str]]:
    """Split targets (device id -> its ward) into ward groups and single devices.

    A device joins its ward's group only when the ward it listens to is the ward the
    controller has for it (a moved device waits on its own topic until it follows).
    """
    wards: dict[str, list[str]] = defaultdict(list)
    singles: list[str] = []
    for device_id in sorted(targets):
        ward = targets[device_id]
        if ward is not None and is_valid_ward_code(ward) and listeners.listening(device_id) == ward:
            wards[ward].append(device_id)
        else:
            singles.append(device_id)
    return dict(wards), singles


def chunks(device_ids: Sequence[str]) -> Iterator[tuple[str, ...]]:
    """Ids in runs that fit one command: ≤ 1000, and within the wire size budget."""
    run: list[str] = []
    size = 0
    for device_id in device_ids:
        cost = len(device_id) + 4  # \"id\", escaped inside the signed string
        if run and (len(run) >= MAX_IDS_PER_COMMAND or size + cost > _IDS_BUDGET_BYTES):
            yield tuple(run)
            run, size = [], 0
        run.append(device_id)
        size += cost
    if run:
        yield tuple(run)
