"""A small HTTP(S) download for the media cache, on asyncio streams and the standard library.

A device downloads a few audio files from its controller: plain GETs of signed links,
answered with a length or chunked. httpx does the same, but a process that has used it
keeps ~4 MiB more (httpcore, h11, anyio, a trust store parsed when the client is built),
a tenth of what a Pi Zero 2 W can give an agent (issue 10.8). This needs nothing that
an agent has not imported already; an https URL gets the system's trust store (the
broker's link loads ``ssl`` anyway) with hostname checks, as httpx would.

``wardcast-agent run`` downloads with it, and so does the simulated fleet (each agent
its own, a bounded number in flight: ``media_cache.BoundedFetcher``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

from edge_agent.media_cache import MediaRejected

_CHUNK = 64 * 1024
_MAX_REDIRECTS = 5
_MAX_HEADERS = 100
_REDIRECTS = {301, 302, 303, 307, 308}


class HttpFailed(Exception):
    """The server answered with an error, or broke the protocol (retried by the cache)."""


class StreamingHttpFetcher:
    """A ``MediaFetcher``: ``GET url`` over HTTP/1.1, one connection per download.

    ``timeout_s`` bounds each step (connecting, each read), not the whole download, as
    httpx's timeout does: a long file on a slow link is not cut while bytes still flow.
    Redirects are followed (at most five); a non-2xx answer raises ``HttpFailed``.
    """

    def __init__(self, timeout_s: float = 60.0, ssl_context: ssl.SSLContext | None = None) -> None:
        self._timeout_s = timeout_s
        self._ssl = ssl_context

    async def fetch(self, url: str, sink: Callable[[bytes], None], max_bytes: int) -> None:
        """Stream the body at ``url`` into ``sink``; more than ``max_bytes`` raises
        ``MediaRejected`` as soon as they arrive (a wrong URL must not fill the SD card)."""
        for _ in range(_MAX_REDIRECTS + 1):
            location = await self._get(url, sink, max_bytes)
            if location is None:
                return
            url = urljoin(url, location)
        raise HttpFailed(f"more than {_MAX_REDIRECTS} redirects")

    async def aclose(self) -> None:
        """Nothing to close: each download has its own connection."""

    async def _get(self, url: str, sink: Callable[[bytes], None], max_bytes: int) -> str | None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise HttpFailed(f"not an http(s) URL: {url!r}")
        if "@" in parts.netloc:
            raise HttpFailed("credentials in a media URL are not supported")
        tls = parts.scheme == "https"
        port = parts.port or (443 if tls else 80)
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(
                parts.hostname, port, ssl=self._context() if tls else None, limit=_CHUNK
            ),
            self._timeout_s,
        )
        try:
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            writer.write(
                f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                "User-Agent: wardcast-agent\r\nAccept-Encoding: identity\r\n"
                "Connection: close\r\n\r\n".encode("ascii")
            )
            await asyncio.wait_for(writer.drain(), self._timeout_s)
            status, reason, headers = await self._head(reader)
            if status in _REDIRECTS and "location" in headers:
                return headers["location"]
            if not 200 <= status < 300:
                raise HttpFailed(f"HTTP {status} {reason} for {url}")
            await self._body(reader, headers, sink, max_bytes)
            return None
        finally:
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError, asyncio.TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    def _context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context()
        return self._ssl

    async def _line(self, reader: asyncio.StreamReader) -> str:
        try:
            raw = await asyncio.wait_for(reader.readuntil(b"\n"), self._timeout_s)
        except asyncio.IncompleteReadError as exc:
            raise HttpFailed("connection closed in the response head") from exc
        except asyncio.LimitOverrunError as exc:
            raise HttpFailed("response head line too long") from exc
        return raw.decode("latin-1").rstrip("\r\n")

    async def _head(self, reader: asyncio.StreamReader) -> tuple[int, str, dict[str, str]]:
        version, _, rest = (await self._line(reader)).partition(" ")
        code, _, reason = rest.partition(" ")
        if not version.startswith("HTTP/1.") or not code.isdigit():
            raise HttpFailed(f"not an HTTP/1 response: {version} {rest}"[:200])
        headers: dict[str, str] = {}
        for _ in range(_MAX_HEADERS):
            line = await self._line(reader)
            if not line:
                return int(code), reason, headers
            name, sep, value = line.partition(":")
            if not sep:
                raise HttpFailed(f"malformed header line {line[:100]!r}")
            headers[name.strip().lower()] = value.strip()
        raise HttpFailed(f"more than {_MAX_HEADERS} header lines")

    async def _body(
        self,
        reader: asyncio.StreamReader,
        headers: dict[str, str],
        sink: Callable[[bytes], None],
        max_bytes: int,
    ) -> None:
        received = 0

        def take(chunk: bytes) -> None:
            nonlocal received
            received += len(chunk)
            if received > max_bytes:
                raise MediaRejected(f"more than the {max_bytes} bytes announced")
            sink(chunk)

        if "chunked" in headers.get("transfer-encoding", "").lower():
            while True:
                size_text = (await self._line(reader)).split(";", 1)[0].strip()
                try:
                    size = int(size_text, 16)
                except ValueError as exc:
                    raise HttpFailed(f"bad chunk size {size_text[:20]!r}") from exc
                if size == 0:
                    return  # trailers, if any, are not needed: the connection closes
                await self._exactly(reader, size, take)
                await self._line(reader)  # the CRLF after each chunk
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                raise HttpFailed(f"bad Content-Length {length[:20]!r}")
            if int(length) > max_bytes:
                raise MediaRejected(f"{length} bytes offered, more than the {max_bytes} announced")
            await self._exactly(reader, int(length), take)
            return
        while chunk := await asyncio.wait_for(reader.read(_CHUNK), self._timeout_s):
            take(chunk)

    async def _exactly(
        self, reader: asyncio.StreamReader, count: int, take: Callable[[bytes], None]
    ) -> None:
        left = count
        while left > 0:
            chunk = await asyncio.wait_for(reader.read(min(left, _CHUNK)), self._timeout_s)
            if not chunk:
                raise HttpFailed(f"connection closed {left} bytes before the end")
            left -= len(chunk)
            take(chunk)
