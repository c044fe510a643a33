"""The in-memory file store: content-hash names and eviction of the oldest files."""

from __future__ import annotations

from falflow.sandbox.fal.store import FileStore, upload_name


def test_generated_names_are_content_hashes() -> None:
    store = FileStore(max_bytes=1000)

    first = store.put_generated(b"abc", "text/plain", "txt")
    second = store.put_generated(b"abc", "text/plain", "txt")

    assert first.name == second.name
    assert first.name.endswith(".txt")


def test_oldest_files_are_evicted() -> None:
    store = FileStore(max_bytes=10)
    store.put("a", b"12345", "text/plain")
    store.put("b", b"12345", "text/plain")

    store.put("c", b"123", "text/plain")

    assert store.get("a") is None
    assert store.get("b") is not None
    assert store.get("c") is not None


def test_oversized_file_is_kept_alone() -> None:
    store = FileStore(max_bytes=4)
    store.put("small", b"12", "text/plain")

    store.put("big", b"123456", "text/plain")

    assert store.get("small") is None
    assert store.get("big") is not None


def test_upload_names_are_sanitized() -> None:
    name = upload_name(b"data", "../../etc/pass wd?.png")

    assert "/" not in name
    assert name.endswith("-etc_pass_wd_.png")
