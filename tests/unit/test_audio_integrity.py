"""The signs of an upload cut short, read without ffmpeg: error lines and Ogg's last page."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from controller.audio.errors import AudioRejected
from controller.audio.integrity import check_whole, decode_errors, ogg_is_complete

TAGGED = (
    "[mp3 @ 0x55] [warning] Estimating duration from bitrate, this may be inaccurate\n"
    "[flac @ 0x56] [error] invalid residual\n"
    "[aist#0:0/flac @ 0x57] [error] Error while decoding stream #0:0: Invalid data\n"
)


def ogg_page(body: bytes, *, eos: bool) -> bytes:
    segments = [255] * (len(body) // 255) + [len(body) % 255]
    header = b"OggS" + bytes([0, 0x04 if eos else 0]) + b"\0" * 20
    return header + bytes([len(segments)]) + struct.pack(f"{len(segments)}B", *segments) + body


def test_error_lines_are_read_and_warnings_are_not() -> None:
    assert decode_errors(TAGGED) == [
        "invalid residual",
        "Error while decoding stream #0:0: Invalid data",
    ]
    assert decode_errors("[mp3 @ 0x55] [warning] Skipping 3 bytes of junk") == []


def test_an_ogg_file_is_whole_only_with_a_complete_last_page_marked_eos(tmp_path: Path) -> None:
    path = tmp_path / "a.ogg"
    path.write_bytes(ogg_page(b"x" * 600, eos=False) + ogg_page(b"y" * 300, eos=True))
    assert ogg_is_complete(path)
    path.write_bytes(ogg_page(b"x" * 600, eos=False) + ogg_page(b"y" * 300, eos=False))
    assert not ogg_is_complete(path)  # no end-of-stream: cut on a page boundary
    path.write_bytes((ogg_page(b"x" * 600, eos=False) + ogg_page(b"y" * 300, eos=True))[:-10])
    assert not ogg_is_complete(path)  # the last page itself is cut
    path.write_bytes(b"not ogg at all")
    assert not ogg_is_complete(path)


def test_a_declared_length_only_estimated_from_the_bitrate_proves_nothing(
    tmp_path: Path,
) -> None:
    clip = tmp_path / "clip.mp3"
    clip.write_bytes(b"\0")
    estimated = "[mp3 @ 0x1] [warning] Estimating duration from bitrate, this may be inaccurate"
    check_whole(clip, format_name="mp3", declared_s=20.0, decoded_s=10.0, decode_stderr=estimated)
    with pytest.raises(AudioRejected, match=r"declares 20\.0 s but only 10\.0 s"):
        check_whole(clip, format_name="mp3", declared_s=20.0, decoded_s=10.0, decode_stderr="")
    # Rounding of the container's length is not a cut.
    check_whole(clip, format_name="mp3", declared_s=20.04, decoded_s=20.0, decode_stderr="")
