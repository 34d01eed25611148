"""A relay on a Raspberry Pi GPIO pin through the sysfs interface.

The kernel's sysfs GPIO files are the lowest common denominator of Pi OS releases
and need no Python library: export the pin, set it as an output, write "1" or "0".
``sysfs_root`` is injectable so tests run the very same code against a temp dir.
"""

from __future__ import annotations

import time
from pathlib import Path

from firmware_stubs.interfaces import HardwareFault


class SysfsGpioRelay:
    """An ``AmplifierRelay`` driving ``/sys/class/gpio/gpio<pin>/value``.

    ``active_low`` is for relay boards that close on a low level (most cheap
    opto-isolated boards do).
    """

    def __init__(
        self,
        pin: int,
        *,
        sysfs_root: Path = Path("/sys"),
        active_low: bool = False,
        export_wait_s: float = 1.0,
    ) -> None:
        if pin < 0:
            raise ValueError(f"GPIO pin must be >= 0, got {pin}")
        self.pin = pin
        self.active_low = active_low
        self._gpio = sysfs_root / "class" / "gpio"
        self._pin_dir = self._gpio / f"gpio{pin}"
        self._export_wait_s = export_wait_s
        self._on = False
        self._ready = False

    def on(self) -> None:
        """Close the relay."""
        self._write(True)

    def off(self) -> None:
        """Open the relay."""
        self._write(False)

    def is_on(self) -> bool:
        """Read the pin back (the driver's view, not a current measurement)."""
        try:
            level = (self._pin_dir / "value").read_text(encoding="ascii").strip() == "1"
        except OSError:
            return self._on
        return level != self.active_low

    def _write(self, on: bool) -> None:
        try:
            self._prepare()
            level = on != self.active_low
            (self._pin_dir / "value").write_text("1" if level else "0", encoding="ascii")
        except OSError as exc:
            raise HardwareFault(f"GPIO {self.pin}: {exc}") from exc
        self._on = on

    def _prepare(self) -> None:
        if self._ready:
            return
        if not self._pin_dir.exists():
            (self._gpio / "export").write_text(str(self.pin), encoding="ascii")
            # The kernel creates the pin directory asynchronously, and udev fixes its
            # permissions a moment later: wait for it rather than fail the first play.
            deadline = time.monotonic() + self._export_wait_s
            while not (self._pin_dir / "direction").exists():
                if time.monotonic() > deadline:
                    raise OSError(f"gpio{self.pin} did not appear after export")
                time.sleep(0.01)
        (self._pin_dir / "direction").write_text("out", encoding="ascii")
        self._ready = True
