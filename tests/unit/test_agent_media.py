"""The media cache: verified downloads, shared fetches, atomic files, eviction."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from edge_agent.fake_media import FakeMediaFetcher
from edge_agent.http_fetch import StreamingHttpFetcher
from edge_agent.media_cache import (
    BoundedFetcher,
    MediaCache,
    MediaFetcher,
    MediaUnavailable,
    extension_for,
)
from wardcast_protocol.clock import FakeClock
from wardcast_protocol.messages import MediaRef


def _cache(tmp_path: Path, fetcher: MediaFetcher, clock: FakeClock, **kw: int) -> MediaCache:
    return MediaCache(tmp_path / "media", fetcher, clock, backoff_s=0, **kw)


async def test_verified_file_is_named_by_its_hash(tmp_path: Path, fake_clock: FakeClock) -> None:
    fetcher = FakeMediaFetcher()
    media = fetcher.add(b"bulletin", content_type="audio/mpeg")
    cache = _cache(tmp_path, fetcher, fake_clock)
    path = await cache.ensure(media)
    assert path.name == f"{media.sha256}.mp3"
    assert path.read_bytes() == b"bulletin"
    assert await cache.ensure(media) == path
    assert fetcher.calls == [media.url]  # cached: no second download


async def test_wrong_size_or_hash_is_refused_and_leaves_nothing(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    fetcher = FakeMediaFetcher()
    media = fetcher.add(b"bulletin")
    fetcher.files[media.url] = b"bulletinX"
    cache = _cache(tmp_path, fetcher, fake_clock, attempts=2)
    with pytest.raises(MediaUnavailable, match=r"more than the 8 bytes|size"):
        await cache.ensure(media)
    fetcher.files[media.url] = b"BULLETIN"
    with pytest.raises(MediaUnavailable, match="sha256"):
        await cache.ensure(media)
    assert list(cache.directory.iterdir()) == []
    assert cache.count() == 0


async def test_concurrent_callers_share_one_download(tmp_path: Path, fake_clock: FakeClock) -> None:
    fetcher = FakeMediaFetcher()
    media = fetcher.add(b"shared")
    cache = _cache(tmp_path, fetcher, fake_clock)
    paths = await asyncio.gather(*(cache.ensure(media) for _ in range(5)))
    assert len(set(paths)) == 1
    assert fetcher.calls == [media.url]


async def test_failed_attempts_back_off_on_the_clock(tmp_path: Path, fake_clock: FakeClock) -> None:
    fetcher = FakeMediaFetcher()
    media = fetcher.add(b"flaky")
    fetcher.fail_next[media.url] = 2
    cache = MediaCache(tmp_path / "m", fetcher, fake_clock, attempts=3, backoff_s=1.0)
    task = asyncio.ensure_future(cache.ensure(media))
    for _ in range(10):
        await asyncio.sleep(0)
    assert not task.done() and len(fetcher.calls) == 1
    await fake_clock.advance(1)  # first backoff: 1 s
    await fake_clock.advance(2)  # then 2 s
    assert (await task).read_bytes() == b"flaky"
    assert len(fetcher.calls) == 3


async def test_evict_keeps_wanted_files_and_in_flight_downloads(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    fetcher = FakeMediaFetcher()
    keep, drop = fetcher.add(b"keep"), fetcher.add(b"drop")
    cache = _cache(tmp_path, fetcher, fake_clock)
    await cache.prefetch([keep, drop])
    (cache.directory / "README").write_text("not media")
    assert cache.evict({keep.sha256}) == [f"{drop.sha256}.ogg"]
    assert cache.has(keep) and not cache.has(drop)
    assert (cache.directory / "README").exists()


async def test_leftover_part_files_are_cleaned_at_start(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    directory = tmp_path / "media"
    directory.mkdir()
    (directory / ".part-abc-123").write_bytes(b"half")
    _cache(tmp_path, FakeMediaFetcher(), fake_clock)
    assert list(directory.iterdir()) == []


def test_extensions_from_content_types() -> None:
    assert extension_for("audio/ogg") == "ogg"
    assert extension_for("audio/mpeg; charset=binary") == "mp3"
    assert extension_for("application/x-unknown") == "bin"


async def test_fetches_sharing_slots_are_bounded_in_flight(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    # The fleet's agents share two slots here: twenty devices fetching a new clip at once
    # never have more than two downloads open, and every one of them gets the file.
    inner = FakeMediaFetcher()
    media = inner.add(b"new emergency clip")
    open_now, most = 0, 0

    class Counting:
        async def fetch(self, url: str, sink: Callable[[bytes], None], max_bytes: int) -> None:
            nonlocal open_now, most
            open_now += 1
            most = max(most, open_now)
            await asyncio.sleep(0.01)
            await inner.fetch(url, sink, max_bytes)
            open_now -= 1

    slots = asyncio.Semaphore(2)
    caches = [
        _cache(tmp_path / f"d{i}", BoundedFetcher(Counting(), slots), fake_clock) for i in range(20)
    ]
    paths = await asyncio.gather(*(cache.ensure(media) for cache in caches))
    assert all(path.read_bytes() == b"new emergency clip" for path in paths)
    assert most == 2 and len(inner.calls) == 20


async def test_cache_over_http_verifies_the_served_bytes(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    body = b"real audio bytes"

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    media = MediaRef(
        sha256=hashlib.sha256(body).hexdigest(),
        url=f"http://127.0.0.1:{port}/media/x",
        duration_s=1,
        size_bytes=len(body),
    )
    try:
        cache = _cache(tmp_path, StreamingHttpFetcher(timeout_s=5), fake_clock)
        assert (await cache.ensure(media)).read_bytes() == body
    finally:
        server.close()
        await server.wait_closed()


async def test_devices_that_failed_together_do_not_retry_together(
    tmp_path: Path, fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each retry waits a draw from the upper half of its step, different per device."""
    waits: list[float] = []
    sleep = fake_clock.sleep

    async def noted(seconds: float) -> None:
        waits.append(seconds)
        await sleep(seconds)

    monkeypatch.setattr(fake_clock, "sleep", noted)
    fetcher = FakeMediaFetcher()
    media = fetcher.add(b"busy controller")
    caches = [
        MediaCache(tmp_path / f"m{i}", fetcher, fake_clock, attempts=2, backoff_s=4.0)
        for i in range(20)
    ]
    fetcher.fail_next[media.url] = len(caches)  # every device's first attempt fails
    tasks = [asyncio.ensure_future(cache.ensure(media)) for cache in caches]
    for _ in range(10):
        await asyncio.sleep(0)
    await fake_clock.advance(4)
    paths = await asyncio.gather(*tasks)
    assert all(path.read_bytes() == b"busy controller" for path in paths)
    assert len(waits) == 20 and all(2.0 <= wait <= 4.0 for wait in waits)
    assert len(set(waits)) == 20  # 20 draws from a continuum: no two alike
