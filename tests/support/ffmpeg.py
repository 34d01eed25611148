"""ffmpeg as the audio tests use it: to make test signals and to measure loudness.

The measurement is ffmpeg's EBU R 128 meter, independent of the loudnorm filter the
product prepares audio with, so a test does not grade the product with its own tool.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

_INTEGRATED = re.compile(r"I:\s+(-?[\d.]+) LUFS")


def ffmpeg(*args: str) -> str:
    """Run ffmpeg (no stdin, no banner, overwriting); its standard error, where it reports."""
    done = subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-y", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stderr


def ebur128_lufs(path: Path, before: str = "") -> float:
    """The integrated loudness of ``path``, after the filters ``before`` if any."""
    chain = f"{before},ebur128" if before else "ebur128"
    report = ffmpeg("-i", str(path), "-af", chain, "-f", "null", "-")
    return float(_INTEGRATED.findall(report)[-1])
