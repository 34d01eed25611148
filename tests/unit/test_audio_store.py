"""MediaStore: content addressing, idempotence, refusal of bad hashes, and a full disk."""

from __future__ import annotations

import errno
import hashlib
import os
import time
from pathlib import Path

import pytest

from controller.audio import MediaStore, MediaStoreFull, StoredMedia

DATA = b"OggS" + bytes(range(256)) * 40
SHA = hashlib.sha256(DATA).hexdigest()


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_put_stores_under_its_sha256(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    stored = store.put(DATA)
    expected = tmp_path / "media" / SHA[:2] / f"{SHA}.ogg"
    assert stored == StoredMedia(SHA, expected, len(DATA), "audio/ogg", "ogg")
    assert expected.read_bytes() == DATA
    assert files_under(tmp_path / "media") == [expected]


def test_put_is_idempotent(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    first = store.put(DATA)
    mtime = first.path.stat().st_mtime_ns
    second = store.put(DATA)
    assert second == first
    assert first.path.stat().st_mtime_ns == mtime  # not rewritten
    assert files_under(tmp_path) == [first.path]


def test_get_and_path_for(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    assert store.get(SHA) is None
    assert store.path_for(SHA) is None
    stored = store.put(DATA, extension="mp3", content_type="audio/mpeg")
    assert store.get(SHA) == stored
    assert store.path_for(SHA) == stored.path
    # A new store on the same root (a restart) finds it, content type from the extension.
    assert MediaStore(tmp_path).get(SHA) == stored


@pytest.mark.parametrize(
    "bad",
    ["", SHA.upper(), SHA[:-1], SHA + "0", "../" + SHA[3:], SHA[:-1] + "g", f"{SHA[:-2]}/."],
)
def test_malformed_sha256_is_refused(tmp_path: Path, bad: str) -> None:
    store = MediaStore(tmp_path)
    with pytest.raises(ValueError, match="64 lowercase hexadecimal"):
        store.get(bad)
    with pytest.raises(ValueError, match="64 lowercase hexadecimal"):
        store.path_for(bad)


@pytest.mark.parametrize("extension", ["", "../x", "OGG", "o g", "waytoolongext", "tmp"])
def test_bad_extension_is_refused(tmp_path: Path, extension: str) -> None:
    with pytest.raises(ValueError, match="extension"):
        MediaStore(tmp_path).put(DATA, extension=extension)
    assert files_under(tmp_path) == []


def test_empty_data_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="empty"):
        MediaStore(tmp_path).put(b"")


def test_full_disk_raises_media_store_full_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MediaStore(tmp_path)
    real_write = os.write

    def write_then_fill(fd: int, data: bytes) -> int:
        if len(data) > 100:  # the first chunk lands, as on a disk that fills mid-file
            return real_write(fd, bytes(data[:100]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", write_then_fill)
    with pytest.raises(MediaStoreFull, match="media store is full") as caught:
        store.put(DATA)
    monkeypatch.undo()
    assert isinstance(caught.value, OSError)
    assert caught.value.errno == errno.ENOSPC
    assert files_under(tmp_path) == []
    assert store.get(SHA) is None
    assert store.put(DATA).path.read_bytes() == DATA  # space is back: it works


def test_other_write_errors_propagate_unchanged_and_leave_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MediaStore(tmp_path)

    def broken_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="Input/output error") as caught:
        store.put(DATA)
    assert not isinstance(caught.value, MediaStoreFull)
    monkeypatch.undo()
    assert files_under(tmp_path) == []


def test_stale_temporary_files_are_swept_fresh_ones_kept(tmp_path: Path) -> None:
    folder = tmp_path / SHA[:2]
    folder.mkdir()
    stale = folder / ".crashed.tmp"
    fresh = folder / ".writing.tmp"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    old = time.time() - 7200
    os.utime(stale, (old, old))
    MediaStore(tmp_path)
    assert not stale.exists()
    assert fresh.exists()


def test_a_temporary_file_is_never_mistaken_for_media(tmp_path: Path) -> None:
    folder = tmp_path / SHA[:2]
    folder.mkdir()
    (folder / f"{SHA}.tmp").write_bytes(b"half")
    assert MediaStore(tmp_path).get(SHA) is None
