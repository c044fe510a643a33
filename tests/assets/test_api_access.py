"""Ownership, listing filters, favourites, deletion and lineage through the HTTP API."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from falflow.kit.timeutil import utcnow
from tests.assets import samples
from tests.assets.conftest import StoreFn, owner_id_of


def test_other_user_gets_404_everywhere(
    client: TestClient, user: dict[str, Any], other_user: dict[str, Any], store: StoreFn
) -> None:
    asset = store(owner_id_of(user), samples.image_bytes())
    base = f"/api/assets/{asset.id}"
    intruder = other_user["headers"]
    responses = {
        "get": client.get(base, headers=intruder),
        "file": client.get(f"{base}/file", headers=intruder),
        "thumbnail": client.get(f"{base}/thumbnail", headers=intruder),
        "patch": client.patch(base, json={"favourite": True}, headers=intruder),
        "delete": client.delete(base, headers=intruder),
    }
    for route, response in responses.items():
        assert response.status_code == 404, route
        assert response.json()["error"] == "not_found", route
        assert str(asset.id) in response.json()["detail"], route
    listing = client.get("/api/assets", headers=intruder)
    assert listing.status_code == 200
    assert listing.json()["items"] == []

    owner_view = client.get(base, headers=user["headers"])
    assert owner_view.status_code == 200
    assert owner_view.json()["favourite"] is False


def test_routes_require_authentication(client: TestClient, user: dict[str, Any], store: StoreFn) -> None:
    asset = store(owner_id_of(user), b"text")
    for path in ("/api/assets", f"/api/assets/{asset.id}", f"/api/assets/{asset.id}/file"):
        response = client.get(path)
        assert response.status_code == 401, path


def test_session_cookie_serves_file(client: TestClient, user: dict[str, Any], store: StoreFn) -> None:
    data = samples.image_bytes()
    asset = store(owner_id_of(user), data)
    login = client.post("/api/auth/login", json={"email": user["email"], "password": user["password"]})
    assert login.status_code == 200
    response = client.get(f"/api/assets/{asset.id}/file")
    assert response.status_code == 200
    assert response.content == data
    thumbnail = client.get(f"/api/assets/{asset.id}/thumbnail")
    assert thumbnail.status_code == 200
    assert thumbnail.headers["content-type"] == "image/webp"


def test_detail_includes_lineage(client: TestClient, user: dict[str, Any], store: StoreFn) -> None:
    owner = owner_id_of(user)
    parent = store(owner, b"a prompt text")
    child = store(owner, samples.image_bytes(), parent_asset_ids=[parent.id], seed=5, cost_credits=9)
    body = client.get(f"/api/assets/{child.id}", headers=user["headers"]).json()
    assert body["id"] == str(child.id)
    assert body["seed"] == 5
    assert body["cost_credits"] == 9
    assert body["parent_asset_ids"] == [str(parent.id)]
    assert body["file_url"] == f"/api/assets/{child.id}/file"
    assert body["thumbnail_url"] == f"/api/assets/{child.id}/thumbnail"
    assert [entry["asset"]["id"] for entry in body["lineage"]["ancestors"]] == [str(parent.id)]
    assert body["lineage"]["ancestors"][0]["depth"] == 1
    assert "storage_key" not in body

    parent_body = client.get(f"/api/assets/{parent.id}", headers=user["headers"]).json()
    assert [item["id"] for item in parent_body["lineage"]["children"]] == [str(child.id)]
    assert parent_body["thumbnail_url"] is None


def test_patch_sets_favourite(client: TestClient, user: dict[str, Any], store: StoreFn) -> None:
    asset = store(owner_id_of(user), b"keep me")
    response = client.patch(f"/api/assets/{asset.id}", json={"favourite": True}, headers=user["headers"])
    assert response.status_code == 200
    assert response.json()["favourite"] is True
    favourites = client.get("/api/assets", params={"favourite": "true"}, headers=user["headers"]).json()
    assert [item["id"] for item in favourites["items"]] == [str(asset.id)]


def test_patch_rejects_other_fields(client: TestClient, user: dict[str, Any], store: StoreFn) -> None:
    asset = store(owner_id_of(user), b"fixed")
    response = client.patch(
        f"/api/assets/{asset.id}", json={"favourite": True, "prompt": "x", "kind": "video"}, headers=user["headers"]
    )
    assert response.status_code == 422
    body = response.json()
    assert "Only 'favourite'" in body["detail"]
    assert {error["field"] for error in body["errors"]} == {"prompt", "kind"}

    missing = client.patch(f"/api/assets/{asset.id}", json={}, headers=user["headers"])
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "favourite"


def test_delete_hides_asset(client: TestClient, user: dict[str, Any], store: StoreFn) -> None:
    asset = store(owner_id_of(user), b"short-lived")
    response = client.delete(f"/api/assets/{asset.id}", headers=user["headers"])
    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"/api/assets/{asset.id}", headers=user["headers"]).status_code == 404
    assert client.get(f"/api/assets/{asset.id}/file", headers=user["headers"]).status_code == 404
    assert client.delete(f"/api/assets/{asset.id}", headers=user["headers"]).status_code == 404
    assert client.get("/api/assets", headers=user["headers"]).json()["items"] == []


def test_list_filters(client: TestClient, user: dict[str, Any], store: StoreFn) -> None:
    owner = owner_id_of(user)
    run_id, workflow_id = uuid.uuid4(), uuid.uuid4()
    image = store(owner, samples.image_bytes(), prompt="A Cat in 100% wool", run_id=run_id, workflow_id=workflow_id)
    text = store(owner, b"caption", prompt="a dog")
    audio = store(owner, samples.wav_bytes(0.2), prompt="cat purring", kind="audio")

    def ids(**params: Any) -> list[str]:
        response = client.get("/api/assets", params=params, headers=user["headers"])
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert ids(kind="image") == [str(image.id)]
    assert ids(kind="text") == [str(text.id)]
    assert ids(q="CAT") == [str(audio.id), str(image.id)]
    assert ids(q="100%") == [str(image.id)]
    assert ids(q="_") == []
    assert ids(run_id=str(run_id)) == [str(image.id)]
    assert ids(workflow_id=str(workflow_id)) == [str(image.id)]
    assert ids(created_after=(utcnow() + timedelta(minutes=1)).isoformat()) == []
    assert len(ids(created_before=(utcnow() + timedelta(minutes=1)).isoformat())) == 3
    assert ids(created_before=image.created_at.isoformat()) == []


def test_list_rejects_bad_parameters(client: TestClient, user: dict[str, Any]) -> None:
    cases = {"limit": "201", "cursor": "not-a-cursor", "kind": "picture"}
    for field, value in cases.items():
        response = client.get("/api/assets", params={field: value}, headers=user["headers"])
        assert response.status_code == 422, field
        assert response.json()["errors"][0]["field"] == field
