"""media_router: agents download stored media by hash, cacheably; anything else is a 404."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from controller.api.routes.media import media_router
from controller.audio import MediaStore, StoredMedia

DATA = b"OggS" + b"\x00\x01" * 2000


@pytest.fixture
def stored(tmp_path: Path) -> tuple[TestClient, StoredMedia]:
    store = MediaStore(tmp_path)
    app = FastAPI()
    app.include_router(media_router(store))
    return TestClient(app), store.put(DATA)


def test_download_by_hash_with_or_without_extension(stored: tuple[TestClient, StoredMedia]) -> None:
    client, media = stored
    for name in (f"{media.sha256}.ogg", media.sha256):
        response = client.get(f"/media/{name}")
        assert response.status_code == 200
        assert response.content == DATA
        assert hashlib.sha256(response.content).hexdigest() == media.sha256
        assert response.headers["content-type"] == "audio/ogg"
        assert response.headers["etag"] == f'"{media.sha256}"'
        assert "immutable" in response.headers["cache-control"]


def test_range_request_for_resumed_downloads(stored: tuple[TestClient, StoredMedia]) -> None:
    client, media = stored
    response = client.get(f"/media/{media.sha256}.ogg", headers={"Range": "bytes=4-9"})
    assert response.status_code == 206
    assert response.content == DATA[4:10]


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
def test_unknown_or_malformed_names_are_404(
    stored: tuple[TestClient, StoredMedia], name: str
) -> None:
    client, _ = stored
    assert client.get(f"/media/{name}").status_code == 404


def test_wrong_extension_is_404(stored: tuple[TestClient, StoredMedia]) -> None:
    client, media = stored
    assert client.get(f"/media/{media.sha256}.mp3").status_code == 404
