"""The media cache: content-addressed audio files, downloaded and verified before use.

A file is named ``<sha256>.<ext>`` and only ever appears under that name after its
size and sha256 matched what the signed plan promised: a download lands in a
temporary file first and is renamed into place atomically, so a crash or a bad
server can never leave a half file that looks valid.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

from wardcast_protocol.backoff import Backoff
from wardcast_protocol.clock import Clock
from wardcast_protocol.messages import MediaRef

log = logging.getLogger(__name__)
_PATHS_KEPT = 256  # distinct files whose Path is kept (a plan names a few dozen)

_EXTENSIONS = {
    "audio/ogg": "ogg",
    "audio/opus": "opus",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/flac": "flac",
    "audio/aac": "aac",
    "audio/mp4": "m4a",
}
_MAX_BACKOFF_S = 30.0
_CACHED_NAME = re.compile(r"^[0-9a-f]{64}\.[a-z0-9]+$")


class MediaUnavailable(Exception):
    """A file could not be fetched and verified after every attempt."""


class MediaRejected(Exception):
    """Downloaded bytes do not match the plan's size or sha256."""


class MediaFetcher(Protocol):
    """Something that streams the bytes at a URL into ``sink``."""

    async def fetch(self, url: str, sink: Callable[[bytes], None], max_bytes: int) -> None:
        """Call ``sink`` with successive chunks; raise if more than ``max_bytes`` arrive."""
        ...


class BoundedFetcher:
    """A ``MediaFetcher`` that takes one of ``slots`` for each download.

    For agents sharing a process (the simulated fleet): a new plan or a new emergency's
    clip makes every one of them fetch at once, and each download is a socket of the
    process's own. Sharing the slots keeps the downloads in flight bounded.
    """

    def __init__(self, inner: MediaFetcher, slots: asyncio.Semaphore) -> None:
        self._inner = inner
        self._slots = slots

    async def fetch(self, url: str, sink: Callable[[bytes], None], max_bytes: int) -> None:
        """The inner fetcher's download, once a slot is free."""
        async with self._slots:
            await self._inner.fetch(url, sink, max_bytes)


def extension_for(content_type: str) -> str:
    """File extension for a content type ("bin" when unknown)."""
    return _EXTENSIONS.get(content_type.split(";")[0].strip().lower(), "bin")


class MediaCache:
    """Verified audio files in ``directory``, fetched once however many items share them."""

    def __init__(
        self,
        directory: Path,
        fetcher: MediaFetcher,
        clock: Clock,
        *,
        attempts: int = 5,
        backoff_s: float = 1.0,
        max_parallel: int = 4,
    ) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self._fetcher = fetcher
        self._clock = clock
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._slots = asyncio.Semaphore(max_parallel)
        self._inflight: dict[str, asyncio.Task[Path]] = {}
        # Each file's Path, built once: a play asks for it three times before its first
        # sample, and a simulated fleet's hundreds of agents do so in one breath.
        self._paths: dict[tuple[str, str], Path] = {}
        self._clean_temporaries()

    def path_for(self, media: MediaRef) -> Path:
        """Where ``media`` lives once cached."""
        key = (media.sha256, media.content_type)
        path = self._paths.get(key)
        if path is None:
            if len(self._paths) >= _PATHS_KEPT:
                self._paths.clear()
            path = self._paths[key] = (
                self.directory / f"{media.sha256}.{extension_for(media.content_type)}"
            )
        return path

    def has(self, media: MediaRef) -> bool:
        """True when the verified file is on disk."""
        return self.path_for(media).is_file()

    def count(self) -> int:
        """How many verified files are cached."""
        return sum(1 for _ in self._cached_files())

    async def ensure(self, media: MediaRef) -> Path:
        """The cached file for ``media``, downloading and verifying it first if needed.

        Concurrent callers for the same file share one download. Raises
        ``MediaUnavailable`` after ``attempts`` failed tries (backing off between them).
        """
        path = self.path_for(media)
        if path.is_file():
            return path
        task = self._inflight.get(media.sha256)
        if task is None:
            task = asyncio.create_task(self._download(media), name=f"fetch-{media.sha256[:12]}")
            self._inflight[media.sha256] = task
            task.add_done_callback(lambda _t: self._inflight.pop(media.sha256, None))
        # Shield: one caller giving up (a cancelled play) must not kill a shared download.
        return await asyncio.shield(task)

    async def prefetch(self, media: Iterable[MediaRef]) -> int:
        """Fetch every file not yet cached, in the order given; return how many failed."""
        unique = {m.sha256: m for m in media}
        results = await asyncio.gather(
            *(self.ensure(m) for m in unique.values()), return_exceptions=True
        )
        failed = [r for r in results if isinstance(r, BaseException)]
        for exc in failed:
            if isinstance(exc, asyncio.CancelledError):
                raise exc
            log.warning("prefetch: %s", exc)
        return len(failed)

    async def close(self) -> None:
        """Cancel downloads in flight (the agent is stopping; part files are dropped)."""
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def evict(self, keep: Iterable[str]) -> list[str]:
        """Delete cached files whose sha256 is not in ``keep``; return the deleted names."""
        wanted = set(keep) | set(self._inflight)
        deleted: list[str] = []
        for path in self._cached_files():
            if path.stem not in wanted:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                deleted.append(path.name)
        return deleted

    # internals -------------------------------------------------------------------

    def _cached_files(self) -> Iterable[Path]:
        return (p for p in self.directory.iterdir() if _CACHED_NAME.match(p.name) and p.is_file())

    def _clean_temporaries(self) -> None:
        # Leftovers of downloads cut short by a crash: never valid, always safe to drop.
        for path in self.directory.glob(".part-*"):
            with contextlib.suppress(OSError):
                path.unlink()

    async def _download(self, media: MediaRef) -> Path:
        backoff: Backoff | None = None
        last_error = "no attempt made"
        for attempt in range(1, self._attempts + 1):
            try:
                async with self._slots:
                    return await self._download_once(media)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure of one attempt is retried, then reported
                last_error = f"{type(exc).__name__}: {exc}"
                log.warning(
                    "download %s attempt %d/%d failed: %s",
                    media.url,
                    attempt,
                    self._attempts,
                    last_error,
                )
            if attempt < self._attempts:
                # Jittered: a ward's devices that failed together (the controller busy
                # with all of them) do not all try again together (wardcast_protocol.backoff).
                if backoff is None and self._backoff_s > 0:
                    limit = max(_MAX_BACKOFF_S, self._backoff_s)
                    backoff = Backoff(self._backoff_s, limit, growth=2.0)
                await self._clock.sleep(backoff.next() if backoff is not None else 0.0)
        raise MediaUnavailable(f"{media.url}: {last_error}")

    async def _download_once(self, media: MediaRef) -> Path:
        part = _PartFile(self.directory / f".part-{media.sha256}-{uuid.uuid4().hex[:8]}")
        try:
            await self._fetcher.fetch(media.url, part.write, media.size_bytes)
            if part.size != media.size_bytes:
                raise MediaRejected(f"size {part.size} bytes, plan says {media.size_bytes}")
            if part.sha256 != media.sha256:
                raise MediaRejected(
                    f"sha256 {part.sha256[:16]}… does not match {media.sha256[:16]}…"
                )
            return part.commit(self.path_for(media))
        finally:
            part.discard()


class _PartFile:
    """A download in progress: written and hashed chunk by chunk, renamed when verified."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = 0
        self._digest = hashlib.sha256()
        self._out = open(path, "wb")  # noqa: SIM115 - closed in commit() or discard()

    @property
    def sha256(self) -> str:
        """Hex digest of what was written so far."""
        return self._digest.hexdigest()

    def write(self, chunk: bytes) -> None:
        """Append a chunk."""
        self.size += len(chunk)
        self._digest.update(chunk)
        self._out.write(chunk)

    def commit(self, final: Path) -> Path:
        """fsync, then rename into place atomically (same directory, same file system)."""
        self._out.flush()
        os.fsync(self._out.fileno())
        self._out.close()
        os.replace(self.path, final)
        return final

    def discard(self) -> None:
        """Close and delete the part file if it is still there."""
        if not self._out.closed:
            self._out.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
