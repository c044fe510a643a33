"""The storage contract, run against LocalStorage and against S3Storage on a moto server."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from falflow.assets.errors import InvalidByteRangeError, InvalidStorageKeyError, StoredObjectNotFoundError
from falflow.assets.storage import CHUNK_SIZE, AssetStorage, check_key, new_object_key
from falflow.assets.storage_local import LocalStorage

OWNER = uuid.UUID("00000000-0000-4000-8000-000000000001")
BAD_KEYS = [
    "",
    "../escape.png",
    "a/../../escape.png",
    "/etc/passwd",
    "a//b.png",
    ".hidden",
    "a/./b.png",
    "a\\b.png",
    "a/b/c/d/e.png",
    "name with space.png",
    "a.png\x00.html",
    "x" * 300,
    "%2e%2e%2fescape",
]


def _payload(size: int) -> bytes:
    return bytes(index % 251 for index in range(size))


def test_put_then_get_roundtrip(storage: AssetStorage) -> None:
    key = new_object_key(OWNER, "png")
    storage.put(key, b"first", "image/png")
    assert storage.get(key) == b"first"
    assert storage.size(key) == 5
    assert storage.exists(key)


def test_put_replaces_whole_object(storage: AssetStorage) -> None:
    key = new_object_key(OWNER, "bin")
    storage.put(key, b"a much longer first version", "application/octet-stream")
    storage.put(key, b"short", "application/octet-stream")
    assert storage.get(key) == b"short"
    assert storage.size(key) == 5


@pytest.mark.parametrize(
    ("start", "end"),
    [(0, 0), (0, 99), (1000, 1999), (CHUNK_SIZE - 3, CHUNK_SIZE + 5), (0, 2 * CHUNK_SIZE + 99)],
)
def test_open_range_returns_exact_bytes(storage: AssetStorage, start: int, end: int) -> None:
    data = _payload(2 * CHUNK_SIZE + 100)
    key = new_object_key(OWNER, "mp4")
    storage.put(key, data, "video/mp4")
    chunks = list(storage.open_range(key, start, end))
    assert b"".join(chunks) == data[start : end + 1]
    assert all(len(chunk) <= CHUNK_SIZE for chunk in chunks)


@pytest.mark.parametrize(("start", "end"), [(100, 100), (50, 100), (10, 5), (-1, 3)])
def test_open_range_outside_object_raises(storage: AssetStorage, start: int, end: int) -> None:
    key = new_object_key(OWNER, "bin")
    storage.put(key, _payload(100), "application/octet-stream")
    with pytest.raises(InvalidByteRangeError):
        storage.open_range(key, start, end)


def test_missing_object_raises_not_found(storage: AssetStorage) -> None:
    key = new_object_key(OWNER, "png")
    assert not storage.exists(key)
    with pytest.raises(StoredObjectNotFoundError):
        storage.get(key)
    with pytest.raises(StoredObjectNotFoundError):
        storage.size(key)
    with pytest.raises(StoredObjectNotFoundError):
        storage.open_range(key, 0, 0)


def test_delete_removes_and_tolerates_missing(storage: AssetStorage) -> None:
    key = new_object_key(OWNER, "txt")
    storage.put(key, b"text", "text/plain")
    storage.delete(key)
    assert not storage.exists(key)
    storage.delete(key)
    assert not storage.exists(key)


@pytest.mark.parametrize("key", BAD_KEYS)
def test_invalid_keys_rejected(storage: AssetStorage, key: str) -> None:
    with pytest.raises(InvalidStorageKeyError):
        storage.put(key, b"x", "text/plain")
    with pytest.raises(InvalidStorageKeyError):
        storage.get(key)
    with pytest.raises(InvalidStorageKeyError):
        storage.exists(key)
    with pytest.raises(InvalidStorageKeyError):
        storage.delete(key)


def test_new_object_key_shape() -> None:
    key = new_object_key(OWNER, "webp")
    owner_part, name = key.split("/")
    assert owner_part == str(OWNER)
    assert name.endswith(".webp")
    assert len(name.removesuffix(".webp")) == 32
    assert check_key(key) == key
    with pytest.raises(InvalidStorageKeyError):
        new_object_key(OWNER, "../png")


def test_local_put_leaves_no_temporary_files(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "root")
    key = new_object_key(OWNER, "png")
    storage.put(key, b"data", "image/png")
    files = [path for path in (tmp_path / "root").rglob("*") if path.is_file()]
    assert files == [tmp_path / "root" / key]


def test_local_failed_rename_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """os.replace is replaced by a mock that fails, as a full disk or a crash would."""
    storage = LocalStorage(tmp_path / "root")
    key = new_object_key(OWNER, "png")

    def failing_replace(source: str, target: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        storage.put(key, b"data", "image/png")
    assert [path for path in (tmp_path / "root").rglob("*") if path.is_file()] == []


def test_local_refuses_symlinked_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    root = tmp_path / "root"
    storage = LocalStorage(root)
    (root / "linked").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InvalidStorageKeyError):
        storage.get("linked/secret.txt")
    with pytest.raises(InvalidStorageKeyError):
        storage.put("linked/new.txt", b"x", "text/plain")
    assert not (outside / "new.txt").exists()


def test_local_refuses_symlinked_file(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    root = tmp_path / "root"
    storage = LocalStorage(root)
    (root / "owner").mkdir()
    (root / "owner" / "file.txt").symlink_to(outside)
    with pytest.raises(InvalidStorageKeyError):
        storage.get("owner/file.txt")
    with pytest.raises(InvalidStorageKeyError):
        storage.size("owner/file.txt")
    assert outside.read_text() == "secret"
