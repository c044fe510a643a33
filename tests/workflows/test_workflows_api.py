"""Workflows API: CRUD, ownership, the version guard, versions, validation, estimate, import/export."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

PROMPT_FLUX = {
    "nodes": [
        {"id": "prompt", "type": "util/text", "params": {"text": "a tiny robot"}, "position": {"x": 0, "y": 0}},
        {"id": "flux", "type": "fal-ai/flux/dev", "params": {"image_size": "landscape_4_3", "num_images": 2},
         "position": {"x": 320, "y": 40}},
    ],
    "edges": [{"source": "prompt", "source_port": "text", "target": "flux", "target_port": "prompt"}],
}


def _create(client: TestClient, headers: dict[str, str], document: dict[str, Any] | None = None, name: str = "wf") -> dict[str, Any]:
    response = client.post("/api/workflows", json={"name": name, "document": document or PROMPT_FLUX}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_crud_status_codes(client: TestClient, user: dict[str, Any]) -> None:
    headers = user["headers"]
    assert client.get("/api/workflows", headers=headers).json() == []
    created = _create(client, headers)
    assert created["version"] == 1
    assert created["document"]["nodes"][1]["type"] == "fal-ai/flux/dev"

    listed = client.get("/api/workflows", headers=headers)
    assert listed.status_code == 200
    assert [w["id"] for w in listed.json()] == [created["id"]]

    updated = client.put(f"/api/workflows/{created['id']}", json={"base_version": 1, "name": "renamed"}, headers=headers)
    assert updated.status_code == 200
    assert updated.json()["version"] == 2
    assert updated.json()["name"] == "renamed"

    assert client.get(f"/api/workflows/{created['id']}", headers=headers).status_code == 200
    assert client.delete(f"/api/workflows/{created['id']}", headers=headers).status_code == 204
    assert client.get(f"/api/workflows/{created['id']}", headers=headers).status_code == 404


def test_malformed_id_is_422(client: TestClient, user: dict[str, Any]) -> None:
    response = client.get("/api/workflows/not-a-uuid", headers=user["headers"])
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "workflowId"


def test_missing_token_is_401(client: TestClient) -> None:
    assert client.get("/api/workflows").status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "", None), ("PUT", "", {"base_version": 1, "name": "mine"}), ("DELETE", "", None),
        ("POST", "/validate", None), ("GET", "/estimate", None), ("GET", "/export", None),
        ("GET", "/versions", None), ("GET", "/versions/1", None), ("POST", "/versions/1/restore", {"base_version": 1}),
        ("POST", "/duplicate", None), ("POST", "/run", None),
    ],
)
def test_other_users_workflow_is_404(
    client: TestClient, user: dict[str, Any], other_user: dict[str, Any], method: str, path: str, body: Any
) -> None:
    workflow = _create(client, user["headers"])
    response = client.request(method, f"/api/workflows/{workflow['id']}{path}", json=body, headers=other_user["headers"])
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    # The owner's workflow is untouched.
    assert client.get(f"/api/workflows/{workflow['id']}", headers=user["headers"]).json()["version"] == 1


def test_lists_are_per_user(client: TestClient, user: dict[str, Any], other_user: dict[str, Any]) -> None:
    mine = _create(client, user["headers"], name="mine")
    theirs = _create(client, other_user["headers"], name="theirs")
    assert [w["id"] for w in client.get("/api/workflows", headers=user["headers"]).json()] == [mine["id"]]
    assert [w["id"] for w in client.get("/api/workflows", headers=other_user["headers"]).json()] == [theirs["id"]]


def test_stale_save_is_409_with_current_version(client: TestClient, user: dict[str, Any]) -> None:
    headers = user["headers"]
    workflow = _create(client, headers)
    first_tab = client.put(f"/api/workflows/{workflow['id']}", json={"base_version": 1, "name": "tab A"}, headers=headers)
    assert first_tab.status_code == 200
    stale_tab = client.put(f"/api/workflows/{workflow['id']}", json={"base_version": 1, "name": "tab B"}, headers=headers)
    assert stale_tab.status_code == 409
    assert stale_tab.json()["current_version"] == 2
    assert "version 2" in stale_tab.json()["detail"]
    assert client.get(f"/api/workflows/{workflow['id']}", headers=headers).json()["name"] == "tab A"


def test_versions_are_kept_and_restorable(client: TestClient, user: dict[str, Any]) -> None:
    headers = user["headers"]
    workflow = _create(client, headers)
    changed = {**PROMPT_FLUX, "nodes": [PROMPT_FLUX["nodes"][0]], "edges": []}
    client.put(f"/api/workflows/{workflow['id']}", json={"base_version": 1, "document": changed}, headers=headers)

    versions = client.get(f"/api/workflows/{workflow['id']}/versions", headers=headers).json()
    assert [v["version"] for v in versions] == [2, 1]
    assert [v["node_count"] for v in versions] == [1, 2]
    old = client.get(f"/api/workflows/{workflow['id']}/versions/1", headers=headers).json()
    assert len(old["document"]["nodes"]) == 2

    stale = client.post(f"/api/workflows/{workflow['id']}/versions/1/restore", json={"base_version": 1}, headers=headers)
    assert stale.status_code == 409
    restored = client.post(f"/api/workflows/{workflow['id']}/versions/1/restore", json={"base_version": 2}, headers=headers)
    assert restored.status_code == 200
    assert restored.json()["version"] == 3
    assert len(restored.json()["document"]["nodes"]) == 2
    notes = [v["note"] for v in client.get(f"/api/workflows/{workflow['id']}/versions", headers=headers).json()]
    assert notes[0] == "restored version 1"
    assert client.get(f"/api/workflows/{workflow['id']}/versions/9", headers=headers).status_code == 404


def test_malformed_document_names_the_field(client: TestClient, user: dict[str, Any]) -> None:
    bad = {"nodes": [{"id": "a", "type": "util/text", "position": {"x": "left"}}], "edges": []}
    response = client.post("/api/workflows", json={"name": "bad", "document": bad}, headers=user["headers"])
    assert response.status_code == 422
    fields = [e["field"] for e in response.json()["errors"]]
    assert any(f.startswith("document.nodes.0.position") for f in fields)


def test_validate_reports_every_problem(client: TestClient, user: dict[str, Any]) -> None:
    document = {
        "nodes": [
            {"id": "flux", "type": "fal-ai/flux/dev", "params": {"num_images": 99}},
            {"id": "ghost", "type": "fal-ai/does-not-exist", "params": {}},
        ],
        "edges": [],
    }
    workflow = _create(client, user["headers"], document)
    body = client.post(f"/api/workflows/{workflow['id']}/validate", headers=user["headers"]).json()
    assert body["valid"] is False
    codes = {(p["code"], p["node_id"]) for p in body["problems"]}
    assert ("missing_required_input", "flux") in codes
    assert ("invalid_param", "flux") in codes
    assert ("unknown_node_type", "ghost") in codes


def test_estimate_counts_images_and_megapixels(client: TestClient, user: dict[str, Any]) -> None:
    workflow = _create(client, user["headers"])
    body = client.get(f"/api/workflows/{workflow['id']}/estimate", headers=user["headers"]).json()
    flux = body["nodes"]["flux"]
    # landscape_4_3 is 1024x768 = 0.75 MP, billed as 1 MP at $0.025, for each of 2 images: 50 credits.
    assert flux["credits"] == 50
    assert body["total_credits"] == 50


def test_create_from_template(client: TestClient, user: dict[str, Any]) -> None:
    templates = client.get("/api/templates", headers=user["headers"]).json()["templates"]
    assert len(templates) >= 8
    chosen = templates[0]
    response = client.post("/api/workflows", json={"name": "from template", "template_id": chosen["id"]}, headers=user["headers"])
    assert response.status_code == 201
    workflow = response.json()
    assert workflow["document"]["nodes"] == chosen["document"]["nodes"]
    assert client.post(f"/api/workflows/{workflow['id']}/validate", headers=user["headers"]).json()["valid"] is True

    unknown = client.post("/api/workflows", json={"name": "x", "template_id": "nope"}, headers=user["headers"])
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "template_id"


def test_fal_export_then_import_round_trips(client: TestClient, user: dict[str, Any]) -> None:
    headers = user["headers"]
    workflow = _create(client, headers)
    exported = client.get(f"/api/workflows/{workflow['id']}/export?format=fal", headers=headers)
    assert exported.status_code == 200
    imported = client.post("/api/workflows/import", json=exported.json(), headers=headers)
    assert imported.status_code == 201, imported.text
    document = imported.json()["document"]
    flux = next(n for n in document["nodes"] if n["type"] == "fal-ai/flux/dev")
    assert flux["params"]["num_images"] == 2
    assert flux["position"] == {"x": 320.0, "y": 40.0}
    assert any(e["target"] == flux["id"] and e["target_port"] == "prompt" for e in document["edges"])

    native = client.get(f"/api/workflows/{workflow['id']}/export", headers=headers).json()
    again = client.post("/api/workflows/import", json=native, headers=headers)
    assert again.status_code == 201
    assert again.json()["document"] == workflow["document"]


def test_node_catalog_lists_endpoints_and_utilities(client: TestClient, user: dict[str, Any]) -> None:
    nodes = client.get("/api/nodes", headers=user["headers"]).json()["nodes"]
    types = {n["type"] for n in nodes}
    assert "fal-ai/flux/dev" in types
    assert "util/text" in types
    assert len(types) >= 40
