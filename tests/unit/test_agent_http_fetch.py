"""The agent's own HTTP download (``edge_agent.http_fetch``) against a loopback server
answering canned responses: lengths, chunks, redirects, errors and a body too big."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from edge_agent.http_fetch import HttpFailed, StreamingHttpFetcher
from edge_agent.media_cache import MediaRejected

Answer = Callable[[str], bytes]  # request target -> raw response


@asynccontextmanager
async def serve(answer: Answer) -> AsyncIterator[tuple[str, list[str]]]:
    """A server on a free loopback port; yields its base URL and the request heads seen."""
    heads: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        heads.append(head)
        writer.write(answer(head.split(" ")[1]))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", heads
    finally:
        server.close()
        await server.wait_closed()


async def fetch(url: str, max_bytes: int = 1_000_000) -> bytes:
    """What the fetcher hands to its sink, joined."""
    got: list[bytes] = []
    await StreamingHttpFetcher(timeout_s=5).fetch(url, got.append, max_bytes)
    return b"".join(got)


def ok(body: bytes) -> bytes:
    """A 200 with a Content-Length."""
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


async def test_a_body_with_a_length_arrives_whole_and_the_request_is_plain() -> None:
    body = bytes(range(256)) * 1000
    async with serve(lambda _: ok(body)) as (base, heads):
        assert await fetch(f"{base}/media/a.ogg?sig=x%2Fy") == body
    request = heads[0]
    assert request.startswith("GET /media/a.ogg?sig=x%2Fy HTTP/1.1\r\n")
    assert f"Host: {base.removeprefix('http://')}\r\n" in request
    assert "Connection: close" in request


async def test_a_chunked_body_is_reassembled() -> None:
    raw = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6;x=1\r\n world\r\n0\r\n\r\n"
    )
    async with serve(lambda _: raw) as (base, _):
        assert await fetch(f"{base}/a") == b"hello world"


async def test_a_body_without_length_runs_to_the_end_of_the_connection() -> None:
    async with serve(lambda _: b"HTTP/1.0 200 OK\r\n\r\nall of it") as (base, _):
        assert await fetch(f"{base}/a") == b"all of it"


async def test_redirects_are_followed() -> None:
    def answer(target: str) -> bytes:
        if target == "/old":
            return b"HTTP/1.1 302 Found\r\nLocation: /new\r\nContent-Length: 0\r\n\r\n"
        return ok(b"moved")

    async with serve(answer) as (base, heads):
        assert await fetch(f"{base}/old") == b"moved"
    assert [h.split(" ")[1] for h in heads] == ["/old", "/new"]


async def test_a_redirect_loop_ends() -> None:
    loop = b"HTTP/1.1 301 Moved\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n"
    async with serve(lambda _: loop) as (base, _):
        with pytest.raises(HttpFailed, match="redirects"):
            await fetch(f"{base}/again")


async def test_an_error_status_raises_with_the_status() -> None:
    async with serve(lambda _: b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n") as (base, _):
        with pytest.raises(HttpFailed, match="HTTP 404 Not Found"):
            await fetch(f"{base}/gone")


async def test_more_than_announced_is_refused_before_it_is_read() -> None:
    async with serve(lambda _: ok(b"x" * 5000)) as (base, _):
        with pytest.raises(MediaRejected):
            await fetch(f"{base}/a", max_bytes=100)


async def test_an_unannounced_flood_is_cut_as_soon_as_it_passes_the_limit() -> None:
    got: list[bytes] = []
    raw = b"HTTP/1.0 200 OK\r\n\r\n" + b"y" * 300_000
    async with serve(lambda _: raw) as (base, _):
        with pytest.raises(MediaRejected):
            await StreamingHttpFetcher(timeout_s=5).fetch(f"{base}/a", got.append, 100_000)
    assert sum(map(len, got)) <= 100_000


async def test_a_connection_cut_short_is_an_error_not_a_short_file() -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this"
    async with serve(lambda _: raw) as (base, _):
        with pytest.raises(HttpFailed, match="before the end"):
            await fetch(f"{base}/a")


@pytest.mark.parametrize(
    "raw",
    [b"garbage\r\n\r\n", b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", b""],
    ids=["status-line", "header", "nothing"],
)
async def test_a_broken_response_is_an_error(raw: bytes) -> None:
    async with serve(lambda _: raw) as (base, _):
        with pytest.raises(HttpFailed):
            await fetch(f"{base}/a")


@pytest.mark.parametrize("url", ["ftp://host/a", "http://user:pw@host/a", "/relative"])
async def test_urls_it_will_not_fetch(url: str) -> None:
    with pytest.raises(HttpFailed):
        await fetch(url)
