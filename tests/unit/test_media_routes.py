"""media_router: agents download stored media by a signed link, cacheably; nothing else opens.

A link is signed over the file's hash and its expiry with the controller's media key
(``controller/audio/store.py``); the route checks the signature before it looks for the
file, so an unsigned, altered or expired link is a 403 whether the file exists or not.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from controller.api.routes.media import HotFile, HotMedia, media_router
from controller.audio import MediaStore, StoredMedia
from controller.audio.store import MEDIA_URL_STEP_S, MediaSigner
from wardcast_protocol.clock import FakeClock

DATA = b"OggS" + b"\x00\x01" * 2000


@dataclass
class Served:
    client: TestClient
    media: StoredMedia
    signer: MediaSigner
    clock: FakeClock

    def link(self, name: str) -> str:
        """The path and signed query of ``name`` (a sha256, optionally with .ext)."""
        sha256, _, extension = name.partition(".")
        url = self.signer.at(self.clock.now()).url(sha256, extension or "ogg")
        return f"/media/{name}?{urlsplit(url).query}"


@pytest.fixture
def stored(tmp_path: Path) -> Served:
    store = MediaStore(tmp_path / "media")
    clock = FakeClock()
    signer = MediaSigner.load_or_create(tmp_path / "media-url.key", "http://c", 7 * 86400)
    app = FastAPI()
    app.include_router(media_router(store, signer, clock))
    return Served(TestClient(app), store.put(DATA), signer, clock)


def test_download_by_hash_with_or_without_extension(stored: Served) -> None:
    client, media = stored.client, stored.media
    for name in (f"{media.sha256}.ogg", media.sha256):
        response = client.get(stored.link(name))
        assert response.status_code == 200
        assert response.content == DATA
        assert hashlib.sha256(response.content).hexdigest() == media.sha256
        assert response.headers["content-type"] == "audio/ogg"
        assert response.headers["etag"] == f'"{media.sha256}"'
        assert "immutable" in response.headers["cache-control"]
        assert "private" in response.headers["cache-control"]


def test_range_request_for_resumed_downloads(stored: Served) -> None:
    client, media = stored.client, stored.media
    response = client.get(stored.link(f"{media.sha256}.ogg"), headers={"Range": "bytes=4-9"})
    assert response.status_code == 206
    assert response.content == DATA[4:10]


def test_a_clip_fetched_by_many_is_read_from_disk_once(
    stored: Served, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A new emergency's clip: every loudspeaker of the ward fetches it at once. After the
    # first, the bytes come from memory; a Range (a browser's <audio>) is still honoured,
    # and a wrong extension is still a 404.
    store = MediaStore(tmp_path / "media")
    reads: list[str] = []
    real_get = store.get

    def counted(sha256: str) -> StoredMedia | None:
        reads.append(sha256)
        return real_get(sha256)

    monkeypatch.setattr(store, "get", counted)
    app = FastAPI()
    app.include_router(media_router(store, stored.signer, stored.clock))
    client = TestClient(app)
    link = stored.link(f"{stored.media.sha256}.ogg")
    for _ in range(5):
        answer = client.get(link)
        assert answer.status_code == 200 and answer.content == DATA
        assert answer.headers["etag"] == f'"{stored.media.sha256}"'
        assert answer.headers["content-type"] == "audio/ogg"
        assert "immutable" in answer.headers["cache-control"]
    assert reads == [stored.media.sha256]
    ranged = client.get(link, headers={"Range": "bytes=4-9"})
    assert ranged.status_code == 206 and ranged.content == DATA[4:10]
    assert client.get(stored.link(f"{stored.media.sha256}.mp3")).status_code == 404


def test_the_clips_held_in_memory_are_bounded_least_recently_used_first() -> None:
    held = HotMedia(max_bytes=10)
    for name in ("a", "b", "c"):
        held.put(name, HotFile(b"1234", "audio/ogg", "ogg"))
    assert held.get("a") is None  # 12 bytes > 10: the oldest went
    assert held.get("b") is not None  # b is now the most recent
    held.put("d", HotFile(b"1234", "audio/ogg", "ogg"))
    assert held.get("c") is None and held.get("b") is not None and held.get("d") is not None
    held.put("big", HotFile(b"x" * 11, "audio/ogg", "ogg"))  # larger than the bound: not held
    assert held.get("big") is None and held.held_bytes == 8


@pytest.mark.parametrize(
    "name",
    [
        "0" * 64,
        "0" * 64 + ".ogg",
        "not-a-hash",
        "%2E%2E%2Fetc%2Fpasswd",
        "A" * 64,
    ],
)
def test_unknown_or_malformed_names_are_404(stored: Served, name: str) -> None:
    assert stored.client.get(stored.link(name)).status_code == 404


def test_wrong_extension_is_404(stored: Served) -> None:
    assert stored.client.get(stored.link(f"{stored.media.sha256}.mp3")).status_code == 404


def test_an_unsigned_link_is_refused_whether_or_not_the_file_exists(stored: Served) -> None:
    for name in (stored.media.sha256, "0" * 64):
        refused = stored.client.get(f"/media/{name}.ogg")
        assert refused.status_code == 403 and "not signed" in refused.json()["detail"]


def test_an_altered_link_is_refused(stored: Served) -> None:
    good = stored.link(f"{stored.media.sha256}.ogg")
    later = good.replace("expires=", "expires=9")  # a longer life than was signed
    assert stored.client.get(later).status_code == 403
    flipped = good[:-1] + ("0" if good[-1] != "0" else "1")
    assert stored.client.get(flipped).status_code == 403
    # A valid signature of one file does not open another.
    other = good.replace(stored.media.sha256, "0" * 64)
    assert stored.client.get(other).status_code == 403


async def test_a_link_expires_and_lives_at_least_its_ttl(stored: Served) -> None:
    link = stored.link(f"{stored.media.sha256}.ogg")
    await stored.clock.advance(stored.signer.ttl_s - 1)
    assert stored.client.get(link).status_code == 200
    await stored.clock.advance(MEDIA_URL_STEP_S + 1)
    expired = stored.client.get(link)
    assert expired.status_code == 403 and "expired" in expired.json()["detail"]


async def test_links_signed_the_same_day_are_the_same(stored: Served) -> None:
    # Plans are republished only when their content changes: the links in them must not
    # change with every recompilation (every 10 minutes), only once a step (a day).
    first = stored.link(stored.media.sha256)
    await stored.clock.advance(600)
    assert stored.link(stored.media.sha256) == first
    await stored.clock.advance(MEDIA_URL_STEP_S)
    assert stored.link(stored.media.sha256) != first


def test_the_key_file_is_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "media-url.key"
    first = MediaSigner.load_or_create(path, "http://c", 86400)
    assert path.stat().st_mode & 0o777 == 0o600
    again = MediaSigner.load_or_create(path, "http://c", 86400)
    now = FakeClock().now()
    assert first.at(now).url("a" * 64, "ogg") == again.at(now).url("a" * 64, "ogg")
