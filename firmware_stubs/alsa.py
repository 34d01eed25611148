"""Volume through an ALSA mixer control, with ``amixer`` (alsa-utils, as ``aplay`` is).

A Pi's sound card (the headphone jack, a USB card, a DAC HAT) exposes a simple mixer
control — "PCM", "Speaker", "Master", "Digital" — that ``amixer -D <device> sset
<control> <n>%`` sets. The agent sets the configured volume before each play; the card
keeps it, so amixer runs only when the level changes.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Callable, Sequence

from firmware_stubs.interfaces import check_volume

log = logging.getLogger(__name__)

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


def _run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=5, check=False)


class AlsaMixerVolume:
    """A ``VolumeControl`` on ALSA mixer ``control`` of ``device`` (``amixer -D``).

    A mixer that refuses (no such control, card gone) is logged and the level kept:
    a bulletin at the last volume is better than no bulletin, so ``set`` never raises
    for the card's sake (an invalid level still raises ValueError).
    """

    def __init__(
        self,
        control: str,
        *,
        device: str = "default",
        level: int = 80,
        amixer: str = "amixer",
        runner: Runner = _run,
    ) -> None:
        self.control = control
        self.device = device
        self._amixer = amixer
        self._run = runner
        self._level = check_volume(level)
        self._applied: int | None = None  # what the card was last set to, if known
        self.last_error: str | None = None

    def get(self) -> int:
        """The level last set."""
        return self._level

    def set(self, level: int) -> None:
        """Set ``level`` (0-100) on the card, unless the card has it already."""
        self._level = check_volume(level)
        if self._applied == level:
            return
        argv = [self._amixer, "-q", "-D", self.device, "sset", self.control, f"{level}%"]
        try:
            done = self._run(argv)
            error = None if done.returncode == 0 else (done.stderr or "").strip()[-200:]
        except (OSError, subprocess.TimeoutExpired) as exc:
            error = str(exc)
        if error is None:
            self._applied, self.last_error = level, None
            return
        self._applied, self.last_error = None, error or "amixer failed"
        log.error("volume %d%% on %s/%s not set: %s", level, self.device, self.control, error)
