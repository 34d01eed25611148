"""The device's plan on disk: ``plan.json``, replaced atomically.

The agent must keep playing with the network down and after a power cut, so the
last accepted plan is always on disk. It is written to a temporary file, fsynced,
renamed over the old one and the directory fsynced: after a crash the file is
either the old plan or the new one, never a mix.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from pydantic import ValidationError

from wardcast_protocol.messages import Plan

log = logging.getLogger(__name__)


class PlanStore:
    """Load and save the one plan of an agent."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "plan.json"
        data_dir.mkdir(parents=True, exist_ok=True)

    def load(self) -> Plan | None:
        """The saved plan, or None when there is none (or it cannot be read)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            return Plan.model_validate_json(text)
        except ValidationError as exc:
            # Cannot happen through save(); if the card corrupted it, start empty and
            # let the retained plan on the broker bring it back.
            log.error("ignoring unreadable %s: %s", self.path, exc)
            return None

    def save(self, plan: Plan) -> None:
        """Replace the saved plan atomically and durably."""
        tmp = self.path.with_suffix(".json.tmp")
        data = plan.model_dump_json().encode("utf-8")
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        # The rename itself is only durable once the directory entry is on disk.
        with contextlib.suppress(OSError):
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
