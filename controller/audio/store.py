"""Content-addressed media storage: each file lives at ``root/ab/<sha256>.<ext>``.

Addressing by hash makes storing idempotent (the same bulletin uploaded twice is one file), lets
an agent verify what it downloaded, and lets HTTP caches keep a file for ever. Writes go to a
temporary file that is fsynced and renamed, so a reader or a crash never sees half a file.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import os
import re
import secrets
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

_SHA256 = re.compile(r"[0-9a-f]{64}")
_EXTENSION = re.compile(r"[a-z0-9]{1,8}")
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_TMP_SUFFIX = ".tmp"
_STALE_TMP_S = 3600.0  # a temporary file this old belongs to a writer that crashed

CONTENT_TYPES = {
    "ogg": "audio/ogg",
    "opus": "audio/ogg",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "m4a": "audio/mp4",
    "flac": "audio/flac",
}


class MediaStoreFull(OSError):
    """The disk holding the media store is full; nothing was written."""


@dataclass(frozen=True, slots=True)
class StoredMedia:
    """A file in the store, named by the sha256 of its bytes."""

    sha256: str
    path: Path
    size_bytes: int
    content_type: str
    extension: str


# Where the controller serves the store over HTTP (api/routes/media.py mounts it here).
MEDIA_PREFIX = "/media"
# A signed URL's expiry is rounded up to a whole step, so the URLs in an unchanged plan
# (and so its content hash) change at most once a step: plans are republished daily,
# not on every recompilation.
MEDIA_URL_STEP_S = 86400


def media_signature(secret: bytes, sha256: str, expires: int) -> str:
    """HMAC-SHA256 over the file's hash and the link's expiry (unix seconds), in hex."""
    return hmac.new(secret, f"{sha256}:{expires}".encode("ascii"), hashlib.sha256).hexdigest()


def media_url(base_url: str, sha256: str, extension: str, secret: bytes, expires: int) -> str:
    """The URL an agent fetches a stored file from: the one place this is spelled.

    Signed and time-limited: whoever holds the URL may fetch that one file until
    ``expires``; nothing else of the API opens to it.
    """
    signature = media_signature(secret, sha256, expires)
    path = f"{base_url.rstrip('/')}{MEDIA_PREFIX}/{sha256}.{extension}"
    return f"{path}?expires={expires}&sig={signature}"


@dataclass(frozen=True, slots=True)
class MediaUrls:
    """Signed media URLs that all expire at one instant (one plan's, one answer's)."""

    base_url: str
    secret: bytes = field(repr=False)
    expires: int

    def url(self, sha256: str, extension: str) -> str:
        """The signed URL of a stored file."""
        return media_url(self.base_url, sha256, extension, self.secret, self.expires)


class MediaSigner:
    """The controller's media-link key: signs URLs for plans and answers, checks them."""

    def __init__(self, secret: bytes, base_url: str, ttl_s: int) -> None:
        """Sign with ``secret`` (at least 32 bytes) URLs valid ``ttl_s`` or a little more."""
        if len(secret) < 32:
            raise ValueError("a media URL secret needs at least 32 bytes")
        self._secret = secret
        self.base_url = base_url.rstrip("/")
        self.ttl_s = ttl_s

    @classmethod
    def load_or_create(cls, path: Path, base_url: str, ttl_s: int) -> MediaSigner:
        """Read the secret from ``path``, creating it (mode 0600) on first start."""
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):  # another process made it first
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                try:
                    os.write(fd, secrets.token_hex(32).encode("ascii") + b"\n")
                    os.fsync(fd)
                finally:
                    os.close(fd)
        secret = bytes.fromhex(path.read_text(encoding="ascii").strip())
        return cls(secret, base_url, ttl_s)

    def at(self, now: datetime) -> MediaUrls:
        """URLs signed at ``now``: valid ``ttl_s`` from now, rounded up to a whole step."""
        due = int(now.timestamp()) + self.ttl_s
        expires = -(-due // MEDIA_URL_STEP_S) * MEDIA_URL_STEP_S
        return MediaUrls(self.base_url, self._secret, expires)

    def problem(self, sha256: str, expires: str | None, sig: str | None, now: datetime) -> str:
        """Why a link may not be served ('' when it may)."""
        if not expires or not sig:
            return "this media link is not signed"
        try:
            deadline = int(expires)
        except ValueError:
            return "this media link's expiry is not a number"
        good = media_signature(self._secret, sha256, deadline)
        if not hmac.compare_digest(good, sig.lower()):
            return "this media link's signature does not match"
        if deadline <= now.timestamp():
            return "this media link has expired; the current plan carries a fresh one"
        return ""


def is_sha256(value: str) -> bool:
    """True when ``value`` is a sha256 as the store spells it: 64 lowercase hex digits."""
    return _SHA256.fullmatch(value) is not None


class MediaStore:
    """Media files on local disk, addressed by content hash."""

    def __init__(self, root: Path) -> None:
        """Use (and create) ``root``; remove temporary files left by a crashed writer."""
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._sweep_stale_tmp()

    def put(
        self, data: bytes, *, extension: str = "ogg", content_type: str = "audio/ogg"
    ) -> StoredMedia:
        """Store ``data`` (idempotent) and describe it; raises ``MediaStoreFull`` on a full disk.

        When the same bytes are already stored, the existing file is returned untouched, with
        the extension it was first stored under.
        """
        if _EXTENSION.fullmatch(extension) is None or extension == _TMP_SUFFIX[1:]:
            raise ValueError(f"invalid media extension {extension!r}")
        if not data:
            raise ValueError("refusing to store an empty media file")
        sha256 = hashlib.sha256(data).hexdigest()
        existing = self.get(sha256)
        if existing is not None:
            return existing
        folder = self.root / sha256[:2]
        folder.mkdir(exist_ok=True)
        final = folder / f"{sha256}.{extension}"
        _write_atomically(final, data)
        return StoredMedia(sha256, final, len(data), content_type, extension)

    def get(self, sha256: str) -> StoredMedia | None:
        """The stored file with this hash, or ``None``; ``ValueError`` for a malformed hash."""
        path = self.path_for(sha256)
        if path is None:
            return None
        extension = path.suffix.lstrip(".")
        content_type = CONTENT_TYPES.get(extension, "application/octet-stream")
        return StoredMedia(sha256, path, path.stat().st_size, content_type, extension)

    def path_for(self, sha256: str) -> Path | None:
        """Path of the stored file with this hash, or ``None``; ``ValueError`` if malformed.

        The hash is validated before it touches the file system, so ``../`` cannot escape.
        """
        if not is_sha256(sha256):
            raise ValueError("not a sha256: expected 64 lowercase hexadecimal digits")
        folder = self.root / sha256[:2]
        for candidate in sorted(folder.glob(f"{sha256}.*")):
            if not candidate.name.endswith(_TMP_SUFFIX):
                return candidate
        return None

    def _sweep_stale_tmp(self) -> None:
        """Delete old temporary files; recent ones may belong to another live process."""
        cutoff = time.time() - _STALE_TMP_S
        for leftover in self.root.glob(f"??/.*{_TMP_SUFFIX}"):
            with contextlib.suppress(OSError):
                if leftover.stat().st_mtime < cutoff:
                    leftover.unlink()


def _write_atomically(final: Path, data: bytes) -> None:
    """Write via a temporary file, fsync, rename, fsync the folder; never leave a partial file."""
    fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=".", suffix=_TMP_SUFFIX)
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp_name, final)
    except OSError as exc:
        Path(tmp_name).unlink(missing_ok=True)
        if exc.errno in _FULL_ERRNOS:
            raise MediaStoreFull(
                errno.ENOSPC, f"media store is full: no space left in {final.parent.parent}"
            ) from exc
        raise
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(final.parent)


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable; some file systems refuse to fsync a directory, which is fine."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
