"""POST /api/assets: the size cap while streaming, type sniffing, pixel floods and file names."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from falflow.context import AppContext
from tests.assets import samples
from tests.assets.conftest import owner_id_of, stored_files

BOUNDARY = "falflow-test-boundary-7d1f"


def multipart_body(data: bytes, *, filename: bytes = b"image.png", name: bytes = b"file") -> bytes:
    """One multipart part, built by hand so file names can hold any byte."""
    return (
        f"--{BOUNDARY}\r\n".encode()
        + b'Content-Disposition: form-data; name="' + name + b'"; filename="' + filename + b'"\r\n'
        + b"Content-Type: image/png\r\n\r\n"
        + data
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def _upload(client: TestClient, headers: dict[str, str], body: bytes) -> Any:
    return client.post(
        "/api/assets", content=body,
        headers={**headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )


def _chunks(body: bytes, size: int = 1000) -> Iterator[bytes]:
    for offset in range(0, len(body), size):
        yield body[offset : offset + size]


@pytest.fixture
def upload_limit(app_env: AppContext, monkeypatch: pytest.MonkeyPatch) -> int:
    """A 4 KiB upload cap, so the tests stay small."""
    monkeypatch.setattr(app_env.settings, "max_upload_bytes", 4096)
    return 4096


def test_upload_returns_image_asset(client: TestClient, user: dict[str, Any], files_root: Path) -> None:
    data = samples.image_bytes(640, 320)
    response = client.post("/api/assets", files={"file": ("cat.png", data, "image/png")}, headers=user["headers"])
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["kind"] == "image"
    assert (body["width"], body["height"]) == (640, 320)
    assert body["original_filename"] == "cat.png"
    assert body["cost_credits"] == 0
    served = client.get(body["file_url"], headers=user["headers"])
    assert served.content == data
    assert len(stored_files(files_root)) == 2


def test_upload_one_byte_over_limit(
    client: TestClient, user: dict[str, Any], upload_limit: int, files_root: Path
) -> None:
    body = multipart_body(b"\x89PNG\r\n\x1a\n" + b"\x00" * (upload_limit - 7))
    response = _upload(client, user["headers"], body)
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert "4096 bytes" in response.json()["detail"]
    assert response.json()["detail"].startswith("file:")
    assert stored_files(files_root) == []


def test_upload_over_limit_without_content_length(
    client: TestClient, user: dict[str, Any], upload_limit: int, files_root: Path
) -> None:
    body = multipart_body(b"\x89PNG\r\n\x1a\n" + b"\x00" * (upload_limit - 7))
    request = client.build_request(
        "POST", "/api/assets", content=_chunks(body),
        headers={**user["headers"], "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert "content-length" not in request.headers
    response = client.send(request)
    assert response.status_code == 413
    assert stored_files(files_root) == []


@pytest.mark.asyncio
async def test_upload_far_over_limit_stops_reading(
    client: TestClient, user: dict[str, Any], upload_limit: int, files_root: Path
) -> None:
    """Drives the app through ASGI directly, since TestClient buffers the whole body first."""
    pulls: list[int] = []
    messages: list[dict[str, Any]] = []
    head = f"--{BOUNDARY}\r\n".encode() + b'Content-Disposition: form-data; name="file"; filename="x.png"\r\n\r\n'

    async def receive() -> dict[str, Any]:
        pulls.append(len(pulls))
        if len(pulls) > 10_000:
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": head if len(pulls) == 1 else b"\x00" * 1000, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/api/assets", "raw_path": b"/api/assets", "root_path": "", "query_string": b"",
        "headers": [
            (b"host", b"localhost:3000"),
            (b"authorization", user["headers"]["Authorization"].encode()),
            (b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode()),
        ],
        "client": ("127.0.0.1", 50000), "server": ("localhost", 3000),
    }
    await client.app(scope, receive, send)  # type: ignore[arg-type]
    assert messages[0]["type"] == "http.response.start"
    assert messages[0]["status"] == 413
    # The cap plus the multipart allowance is about 20 chunks of 1,000 bytes.
    assert len(pulls) < 40
    assert stored_files(files_root) == []


def test_upload_exactly_at_limit_accepted(
    client: TestClient, user: dict[str, Any], app_env: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = samples.image_bytes(32, 32)
    monkeypatch.setattr(app_env.settings, "max_upload_bytes", len(data))
    response = _upload(client, user["headers"], multipart_body(data))
    assert response.status_code == 201, response.text
    assert response.json()["size_bytes"] == len(data)


def test_pixel_flood_rejected(client: TestClient, user: dict[str, Any], files_root: Path) -> None:
    response = _upload(client, user["headers"], multipart_body(samples.png_header_only(50_000, 50_000)))
    assert response.status_code == 422
    body = response.json()
    assert "50000x50000" in body["detail"]
    assert body["errors"][0]["field"] == "file"
    assert stored_files(files_root) == []


@pytest.mark.parametrize("payload", [samples.HTML_BYTES, samples.SVG_BYTES, b"GIF8 not really", b"\x00\x01binary"])
def test_non_image_named_png_rejected(
    client: TestClient, user: dict[str, Any], files_root: Path, payload: bytes
) -> None:
    response = _upload(client, user["headers"], multipart_body(payload, filename=b"innocent.png"))
    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"
    assert response.json()["detail"].startswith("file:")
    assert stored_files(files_root) == []


def test_empty_file_rejected(client: TestClient, user: dict[str, Any]) -> None:
    response = _upload(client, user["headers"], multipart_body(b""))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "file"


def test_wrong_body_shapes_rejected(client: TestClient, user: dict[str, Any]) -> None:
    not_multipart = client.post("/api/assets", content=samples.image_bytes(),
                                headers={**user["headers"], "Content-Type": "image/png"})
    assert not_multipart.status_code == 415
    assert "multipart/form-data" in not_multipart.json()["detail"]

    wrong_part = _upload(client, user["headers"], multipart_body(samples.image_bytes(), name=b"image"))
    assert wrong_part.status_code == 422
    assert "'image'" in wrong_part.json()["detail"]

    truncated = _upload(client, user["headers"], multipart_body(samples.image_bytes())[:-10])
    assert truncated.status_code == 422


@pytest.mark.parametrize(
    "filename",
    [
        b"../../etc/passwd",
        b"..\\..\\x.png",
        b"/abs/path.png",
        b"a.png\x00.html",
        b"%2e%2e%2f%2e%2e%2fescape.png",
        b"evil\r\nX-Injected: yes.png",
        "caf\u00e9 \u202enoisserpxe.png".encode(),
    ],
)
def test_hostile_filenames_are_harmless(
    client: TestClient, user: dict[str, Any], files_root: Path, filename: bytes
) -> None:
    response = _upload(client, user["headers"], multipart_body(samples.image_bytes(), filename=filename))
    assert response.status_code in (201, 422), response.text
    owner = owner_id_of(user)
    key_pattern = re.compile(rf"{owner}/[0-9a-f]{{32}}\.(png|webp)")
    for path in stored_files(files_root):
        assert key_pattern.fullmatch(path.relative_to(files_root).as_posix())
    assert not (files_root.parent / "etc").exists()
    if response.status_code == 201:
        original = response.json()["original_filename"] or ""
        assert not any(ch in original for ch in "/\\\r\n\x00\u202e")
        served = client.get(response.json()["file_url"], headers=user["headers"])
        disposition = served.headers["content-disposition"]
        assert "\r" not in disposition
        assert "\n" not in disposition
        assert "/" not in disposition.split("filename*=")[0]
        assert disposition.startswith("inline; ")
        assert re.search(r"filename\*=UTF-8''[A-Za-z0-9%._()\-\[\]]+\.png$", disposition)
        assert "x-injected" not in {name.lower() for name in served.headers}


def test_upload_uses_server_chosen_key(client: TestClient, user: dict[str, Any], files_root: Path) -> None:
    response = _upload(client, user["headers"], multipart_body(samples.image_bytes(), filename=b"../../../pwned.png"))
    assert response.status_code == 201
    names = [path.name for path in stored_files(files_root)]
    assert all("pwned" not in name for name in names)
    assert all(uuid.UUID(hex=name.split(".")[0]) for name in names)
