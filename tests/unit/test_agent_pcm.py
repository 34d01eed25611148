"""PCM helpers of relays: level metering and the paced (simulated) loudspeaker."""

from __future__ import annotations

import asyncio

import pytest

from edge_agent.fake_media import tone_pcm
from edge_agent.pcm import SILENCE_FLOOR_DB, PacedSink, duration_s, frame_bytes, rms_dbfs
from wardcast_protocol.clock import FakeClock


def test_levels_of_a_tone_of_silence_and_of_nothing() -> None:
    tone = tone_pcm(8000, 0.5, amplitude=16384)  # half of full scale: -6 dB peak, -9 dB RMS
    assert rms_dbfs(tone) == pytest.approx(-9.03, abs=0.05)
    assert rms_dbfs(bytes(8000)) == SILENCE_FLOOR_DB
    assert rms_dbfs(b"") == SILENCE_FLOOR_DB
    assert rms_dbfs(tone + b"\x01") == pytest.approx(-9.03, abs=0.05)  # odd byte ignored


def test_frame_sizes_and_durations() -> None:
    assert frame_bytes(8000, 0.5) == 8000
    assert duration_s(bytes(8000), 8000) == 0.5


async def test_the_paced_sink_takes_audio_no_faster_than_real_time(fake_clock: FakeClock) -> None:
    sink = PacedSink(fake_clock, 8000, buffer_s=0.5)
    await sink.open()
    frame = bytes(frame_bytes(8000, 0.5))
    await sink.write(frame)  # fills the buffer: returns at once
    second = asyncio.ensure_future(sink.write(frame))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not second.done()  # a full buffer waits, as a sound card would
    await fake_clock.advance(0.5)
    assert second.done()
    await sink.close()
