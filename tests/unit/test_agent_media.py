"""The media cache: verified downloads, shared fetches, atomic files, eviction."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import httpx
import pytest

from edge_agent.fake_media import FakeMediaFetcher
from edge_agent.media_cache import (
    HttpMediaFetcher,
    MediaCache,
    MediaFetcher,
    MediaRejected,
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


async def test_http_fetcher_streams_and_stops_at_the_announced_size() -> None:
    payload = b"x" * 1000

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/missing":
            return httpx.Response(404)
        return httpx.Response(200, content=payload)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        fetcher = HttpMediaFetcher(client)
        chunks: list[bytes] = []
        await fetcher.fetch("http://c/media/a", chunks.append, 1000)
        assert b"".join(chunks) == payload
        with pytest.raises(MediaRejected, match="more than the 10 bytes"):
            await fetcher.fetch("http://c/media/a", lambda _: None, 10)
        with pytest.raises(httpx.HTTPStatusError):
            await fetcher.fetch("http://c/missing", lambda _: None, 10)


async def test_cache_over_http_verifies_the_served_bytes(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    body = b"real audio bytes"
    media = MediaRef(
        sha256=hashlib.sha256(body).hexdigest(),
        url="http://c/media/x",
        duration_s=1,
        size_bytes=len(body),
    )
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=body))
    async with httpx.AsyncClient(transport=transport) as client:
        cache = _cache(tmp_path, HttpMediaFetcher(client), fake_clock)
        assert (await cache.ensure(media)).read_bytes() == body


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
