"""Is an uploaded recording whole? A file cut short in transfer is refused, not shortened.

A half-uploaded mp3 or ogg still decodes: ffmpeg plays what is there and says nothing, so
it used to become a bulletin half as long, and an officer learned of it from a resident.
Three signs give a cut file away, and each refusal names what could be decoded:

- the container declares a length (an mp3's Xing header, FLAC's STREAMINFO, an MP4's
  moov) and decoding yields clearly less — unless ffmpeg says the declared length is only
  its estimate from the bitrate, which proves nothing;
- ffmpeg reports a decoding error (a truncated WAV's "corrupt input packet", FLAC's
  "invalid residual");
- an Ogg file (Vorbis, Opus) does not end with a complete page marked end-of-stream:
  Ogg declares no length, so its last page is the only witness.

A constant-bitrate mp3 without a Xing header, cut on a frame boundary, is
indistinguishable from a shorter recording; it is accepted as what it is.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

from controller.audio.errors import AudioRejected

# More missing than this is not a rounding of the container's length.
MISSING_TOLERANCE_S = 0.5
MISSING_TOLERANCE_SHARE = 0.01
ESTIMATED = "Estimating duration from bitrate"
_OGG_CAPTURE = b"OggS"
_OGG_EOS = 0x04
_OGG_MAX_PAGE = 27 + 255 + 255 * 255  # header, segment table, the largest body
# ``-loglevel level+warning`` tags each line with its level: "[mp3 @ 0x…] [error] …".
_ERROR_LINE = re.compile(r"\[(error|fatal)\]\s*(.*)$")


def decode_errors(stderr: str) -> list[str]:
    """The error lines of an ffmpeg run made with ``-loglevel level+warning``."""
    found = []
    for line in stderr.splitlines():
        match = _ERROR_LINE.search(line)
        if match and match.group(2).strip():
            found.append(match.group(2).strip())
    return found


def ogg_is_complete(path: Path) -> bool:
    """Whether an Ogg file ends with a whole page that closes its stream (EOS)."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        handle.seek(max(0, size - _OGG_MAX_PAGE))
        tail = handle.read()
    start = tail.rfind(_OGG_CAPTURE)
    if start < 0 or len(tail) < start + 27:
        return False
    header_type = tail[start + 5]
    segments = tail[start + 26]
    table = tail[start + 27 : start + 27 + segments]
    if len(table) < segments:
        return False
    body = sum(struct.unpack(f"{segments}B", table))
    whole = start + 27 + segments + body == len(tail)
    return whole and bool(header_type & _OGG_EOS)


def check_whole(
    source: Path,
    *,
    format_name: str,
    declared_s: float | None,
    decoded_s: float,
    decode_stderr: str,
) -> None:
    """Raise ``AudioRejected`` naming the decoded length if ``source`` looks cut short."""
    what = f"only {decoded_s:.1f} s of it could be decoded"
    errors = decode_errors(decode_stderr)
    if errors:
        raise AudioRejected(
            f"the file is damaged or cut short: {what} ({errors[-1]}); upload the whole file",
            code="audio.cut_short",
            params={"decoded_s": round(decoded_s, 1)},
        )
    if declared_s is not None and ESTIMATED not in decode_stderr:
        missing = declared_s - decoded_s
        if missing > max(MISSING_TOLERANCE_S, MISSING_TOLERANCE_SHARE * declared_s):
            raise AudioRejected(
                f"the file seems cut short: it declares {declared_s:.1f} s but {what}; "
                "upload the whole file",
                code="audio.cut_short",
                params={"decoded_s": round(decoded_s, 1)},
            )
    if "ogg" in format_name.split(",") and not ogg_is_complete(source):
        raise AudioRejected(
            f"the Ogg file is cut short (its last page is missing): {what}; upload the whole file",
            code="audio.cut_short",
            params={"decoded_s": round(decoded_s, 1)},
        )
