"""GET /api/assets/{id}/file and /thumbnail: headers, byte ranges and conditional requests."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from falflow.assets.models import Asset
from falflow.assets.storage import AssetStorage
from tests.assets import samples
from tests.assets.conftest import StoreFn, owner_id_of


@pytest.fixture
def audio(user: dict[str, Any], store: StoreFn) -> tuple[Asset, bytes]:
    data = samples.wav_bytes(0.5)
    return store(owner_id_of(user), data, kind="audio"), data


def _get(client: TestClient, user: dict[str, Any], asset: Asset, **headers: str) -> Any:
    return client.get(f"/api/assets/{asset.id}/file", headers={**user["headers"], **headers})


def test_file_headers(client: TestClient, user: dict[str, Any], audio: tuple[Asset, bytes]) -> None:
    asset, data = audio
    response = _get(client, user, asset)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "audio/wav"
    assert response.headers["content-length"] == str(len(data))
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"].startswith("private, max-age=")
    assert response.headers["etag"] == f'"{asset.sha256}"'
    assert response.headers["content-disposition"] == (
        f"inline; filename=\"asset-{asset.id}.wav\"; filename*=UTF-8''asset-{asset.id}.wav"
    )


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=1000-1999", 1000, 1999),
        ("bytes=-500", 7544, 8043),
        ("bytes=8000-", 8000, 8043),
        ("bytes=8040-99999", 8040, 8043),
        ("bytes=-100000", 0, 8043),
        ("BYTES = 5 - 5", 5, 5),
    ],
)
def test_range_returns_exact_bytes(
    client: TestClient, user: dict[str, Any], audio: tuple[Asset, bytes], header: str, start: int, end: int
) -> None:
    asset, data = audio
    assert len(data) == 8044
    response = _get(client, user, asset, Range=header)
    assert response.status_code == 206
    assert response.content == data[start : end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/{len(data)}"
    assert response.headers["content-length"] == str(end - start + 1)
    assert response.headers["content-type"] == "audio/wav"


@pytest.mark.parametrize("header", ["bytes=8044-", "bytes=9000-9100", "bytes=-0"])
def test_unsatisfiable_range_gets_416(
    client: TestClient, user: dict[str, Any], audio: tuple[Asset, bytes], header: str
) -> None:
    asset, data = audio
    response = _get(client, user, asset, Range=header)
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(data)}"
    assert response.json()["error"] == "range_not_satisfiable"
    assert "8044-byte" in response.json()["detail"]


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "bytes=10-2", "items=0-5", "bytes=abc"])
def test_ignored_range_serves_whole_file(
    client: TestClient, user: dict[str, Any], audio: tuple[Asset, bytes], header: str
) -> None:
    asset, data = audio
    response = _get(client, user, asset, Range=header)
    assert response.status_code == 200
    assert response.content == data


def test_range_over_video(client: TestClient, user: dict[str, Any], store: StoreFn) -> None:
    data = samples.video_bytes(frames=24)
    asset = store(owner_id_of(user), data, kind="video")
    first = _get(client, user, asset, Range="bytes=0-15")
    assert first.status_code == 206
    assert first.content == data[:16]
    assert first.content[4:8] == b"ftyp"
    assert first.headers["content-type"] == "video/mp4"


def test_if_none_match_gets_304(client: TestClient, user: dict[str, Any], audio: tuple[Asset, bytes]) -> None:
    asset, _ = audio
    etag = _get(client, user, asset).headers["etag"]
    response = _get(client, user, asset, **{"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert _get(client, user, asset, **{"If-None-Match": '"other"'}).status_code == 200


def test_stale_if_range_serves_whole_file(
    client: TestClient, user: dict[str, Any], audio: tuple[Asset, bytes]
) -> None:
    asset, data = audio
    stale = _get(client, user, asset, Range="bytes=0-9", **{"If-Range": '"old-etag"'})
    assert stale.status_code == 200
    assert stale.content == data
    fresh = _get(client, user, asset, Range="bytes=0-9", **{"If-Range": f'"{asset.sha256}"'})
    assert fresh.status_code == 206
    assert fresh.content == data[:10]


def test_text_served_as_plain_text(client: TestClient, user: dict[str, Any], store: StoreFn) -> None:
    asset = store(owner_id_of(user), samples.HTML_BYTES)
    response = _get(client, user, asset)
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.content == samples.HTML_BYTES


def test_empty_text_file(client: TestClient, user: dict[str, Any], store: StoreFn) -> None:
    asset = store(owner_id_of(user), b"", kind="text")
    whole = _get(client, user, asset)
    assert whole.status_code == 200
    assert whole.content == b""
    assert _get(client, user, asset, Range="bytes=0-").status_code == 416


def test_thumbnail_route(client: TestClient, user: dict[str, Any], store: StoreFn) -> None:
    image = store(owner_id_of(user), samples.image_bytes(1000, 800))
    response = client.get(f"/api/assets/{image.id}/thumbnail", headers=user["headers"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/webp"
    assert response.content[8:12] == b"WEBP"
    assert response.headers["cache-control"].startswith("private")
    assert response.headers["content-disposition"].endswith(".webp")

    text = store(owner_id_of(user), b"no picture here")
    missing = client.get(f"/api/assets/{text.id}/thumbnail", headers=user["headers"])
    assert missing.status_code == 404
    assert "/file" in missing.json()["detail"]


def test_missing_stored_file_gets_404(
    client: TestClient, user: dict[str, Any], audio: tuple[Asset, bytes], app_storage: AssetStorage
) -> None:
    asset, _ = audio
    app_storage.delete(asset.storage_key)
    response = _get(client, user, asset)
    assert response.status_code == 404
    assert "missing" in response.json()["detail"]


def test_crafted_ids_rejected(client: TestClient, user: dict[str, Any]) -> None:
    for raw in ("..%2F..%2Fetc%2Fpasswd", "not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        response = client.get(f"/api/assets/{raw}/file", headers=user["headers"])
        assert 400 <= response.status_code < 500, raw
