"""Upload flows of fal-client 1.0.3 and the /files route, over real HTTP."""

from __future__ import annotations

import httpx
from standin_helpers import png_bytes

from falflow.sandbox.fal import RunningStandin


def test_cdn_token_and_upload(http: httpx.Client, standin: RunningStandin) -> None:
    token = http.post("/storage/auth/token", params={"storage_type": "fal-cdn-v3"}, json={}).json()
    data = png_bytes(40, 30)

    uploaded = http.post(
        "/files/upload",
        content=data,
        headers={
            "Authorization": f"{token['token_type']} {token['token']}",
            "Content-Type": "image/png",
            "X-Fal-File-Name": "my picture.png",
        },
    )

    assert token["base_url"] == standin.url
    assert uploaded.status_code == 200
    access_url = uploaded.json()["access_url"]
    assert access_url.startswith(f"{standin.url}/files/")
    assert access_url.endswith("-my_picture.png")
    served = http.get(access_url)
    assert served.content == data
    assert served.headers["content-type"] == "image/png"


def test_multipart_upload(http: httpx.Client) -> None:
    started = http.post("/files/upload/multipart", headers={"Content-Type": "text/plain", "X-Fal-File-Name": "a.txt"})
    access_url, upload_id = started.json()["access_url"], started.json()["uploadId"]
    etags = []
    for number, part in ((1, b"hello "), (2, b"world")):
        response = http.put(f"{access_url}/multipart/{upload_id}/{number}", content=part)
        etags.append({"partNumber": number, "etag": response.headers["etag"]})

    bad = http.post(f"{access_url}/multipart/{upload_id}/complete", json={"parts": [{"partNumber": 1, "etag": "x"}]})
    completed = http.post(f"{access_url}/multipart/{upload_id}/complete", json={"parts": etags})

    assert bad.status_code == 400
    assert completed.json()["access_url"] == access_url
    assert http.get(access_url).content == b"hello world"


def test_storage_initiate_and_put(http: httpx.Client) -> None:
    initiated = http.post(
        "/storage/upload/initiate", json={"file_name": "clip.wav", "content_type": "audio/wav"}
    ).json()

    put = http.put(initiated["upload_url"], content=b"RIFF....", headers={"Content-Type": "audio/wav"})
    reused = http.put(initiated["upload_url"], content=b"again")

    assert put.status_code == 200
    assert reused.status_code == 404
    served = http.get(initiated["file_url"])
    assert served.content == b"RIFF...."
    assert served.headers["content-type"] == "audio/wav"


def test_upload_size_limit(http: httpx.Client) -> None:
    http.patch("/_sandbox/config", json={"max_upload_bytes": 10}).raise_for_status()

    response = http.post("/files/upload", content=b"x" * 11, headers={"Content-Type": "text/plain"})

    assert response.status_code == 413
    assert "max_upload_bytes" in response.json()["detail"]


def test_range_requests(http: httpx.Client) -> None:
    access_url = http.post("/files/upload", content=b"0123456789", headers={"Content-Type": "text/plain"}).json()[
        "access_url"
    ]

    middle = http.get(access_url, headers={"Range": "bytes=2-5"})
    tail = http.get(access_url, headers={"Range": "bytes=-3"})
    open_end = http.get(access_url, headers={"Range": "bytes=7-"})
    outside = http.get(access_url, headers={"Range": "bytes=20-30"})
    head = http.head(access_url)

    assert middle.status_code == 206
    assert middle.content == b"2345"
    assert middle.headers["content-range"] == "bytes 2-5/10"
    assert tail.content == b"789"
    assert open_end.content == b"789"
    assert outside.status_code == 416
    assert head.status_code == 200
    assert head.headers["content-length"] == "10"


def test_unknown_file_is_not_found(http: httpx.Client) -> None:
    assert http.get("/files/does-not-exist.png").status_code == 404


def test_upload_requires_token_when_keys_configured(http: httpx.Client) -> None:
    http.patch("/_sandbox/config", json={"accepted_keys": ["id:secret"]}).raise_for_status()

    without = http.post("/files/upload", content=b"x", headers={"Content-Type": "text/plain"})
    token_without_key = http.post("/storage/auth/token", json={})
    token = http.post("/storage/auth/token", json={}, headers={"Authorization": "Key id:secret"}).json()
    with_token = http.post(
        "/files/upload",
        content=b"x",
        headers={"Content-Type": "text/plain", "Authorization": f"Bearer {token['token']}"},
    )

    assert without.status_code == 401
    assert token_without_key.status_code == 401
    assert with_token.status_code == 200
