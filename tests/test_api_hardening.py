"""Hostile and malformed input gets a clear 4xx, never a 500, a hang or a stored mess."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import sign_up

FLUX_WITH = {"id": "flux", "type": "fal-ai/flux/schnell"}
PROMPT = {"id": "prompt", "type": "util/text", "params": {"text": "x"}}
PROMPT_EDGE = {"source": "prompt", "source_port": "text", "target": "flux", "target_port": "prompt"}


def _workflow(client: TestClient, headers: dict[str, str], flux_params: dict[str, Any]) -> str:
    document = {"nodes": [PROMPT, {**FLUX_WITH, "params": flux_params}], "edges": [PROMPT_EDGE]}
    response = client.post("/api/workflows", json={"name": "w", "document": document}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_estimate_of_a_billion_seed_batch_is_bounded(client: TestClient, user: dict[str, Any]) -> None:
    document = {
        "nodes": [PROMPT, {"id": "seeds", "type": "util/seed", "params": {"randomize": True, "count": 10**9}},
                  {**FLUX_WITH, "params": {}}],
        "edges": [PROMPT_EDGE, {"source": "seeds", "source_port": "seeds", "target": "flux", "target_port": "seed"}],
    }
    workflow = client.post("/api/workflows", json={"name": "dos", "document": document}, headers=user["headers"]).json()
    estimate = client.get(f"/api/workflows/{workflow['id']}/estimate", headers=user["headers"])
    assert estimate.status_code == 200
    assert estimate.json()["nodes"]["flux"]["batch_count"] <= 101
    assert client.post(f"/api/workflows/{workflow['id']}/run", headers=user["headers"]).status_code == 422


@pytest.mark.parametrize(
    ("params", "param"),
    [({"seed": 2**63}, "seed"), ({"seed": 10**40}, "seed"),
     ({"image_size": {"width": 2**62, "height": 2**62}}, "image_size"),
     ({"image_size": {"width": 10**9, "height": 10**9}}, "image_size")],
)
def test_out_of_range_params_are_rejected(client: TestClient, user: dict[str, Any], params: dict[str, Any], param: str) -> None:
    workflow_id = _workflow(client, user["headers"], params)
    response = client.post(f"/api/workflows/{workflow_id}/run", headers=user["headers"])
    assert response.status_code == 422
    assert any(e.get("param") == param for e in response.json()["errors"])


@pytest.mark.parametrize(
    "path",
    ["/api/workflows?offset=1180591620717411303424", "/api/runs?offset=1180591620717411303424",
     "/api/billing/ledger?offset=1180591620717411303424"],
)
def test_huge_integers_in_queries_are_422(client: TestClient, user: dict[str, Any], path: str) -> None:
    response = client.get(path, headers=user["headers"])
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "offset"


def test_huge_version_numbers_are_422(client: TestClient, user: dict[str, Any]) -> None:
    workflow_id = _workflow(client, user["headers"], {})
    headers = user["headers"]
    assert client.get(f"/api/workflows/{workflow_id}/versions/1180591620717411303424", headers=headers).status_code == 422
    stale = client.put(f"/api/workflows/{workflow_id}", json={"base_version": 2**63, "name": "x"}, headers=headers)
    assert stale.status_code == 422


@pytest.mark.parametrize("body", [{}, {"nodes": 5}, {"nodes": {"x": {"type": "weird"}}}, {"nodes": {"x": {"type": "run"}}}])
def test_garbage_fal_import_is_422(client: TestClient, user: dict[str, Any], body: dict[str, Any]) -> None:
    response = client.post("/api/workflows/import", json=body, headers=user["headers"])
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"


def test_non_finite_numbers_and_lone_surrogates_get_422(client: TestClient, user: dict[str, Any]) -> None:
    headers = {**user["headers"], "content-type": "application/json"}
    nan_body = '{"name":"x","document":{"nodes":[{"id":"a","type":"util/text","position":{"x":NaN,"y":Infinity}}]}}'
    response = client.post("/api/workflows", content=nan_body, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"]
    surrogate = client.post("/api/workflows", content='{"name":"\\ud800", "description": 5}', headers=headers)
    assert surrogate.status_code == 422


def test_invalid_json_names_the_body(client: TestClient, user: dict[str, Any]) -> None:
    response = client.post("/api/workflows", content='{"name":', headers={**user["headers"], "content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body"
    assert "not valid JSON" in response.json()["errors"][0]["message"]


def test_bad_last_event_id_is_422(client: TestClient, user: dict[str, Any]) -> None:
    response = client.get(
        "/api/runs/00000000-0000-4000-8000-000000000000/events/stream",
        headers={**user["headers"], "Last-Event-ID": b"\xb2"},  # a superscript two in Latin-1
    )
    assert response.status_code == 422


@pytest.mark.parametrize("query", ["created_after=0001-01-01T00:00:00%2B05:00", "created_before=9999-12-31T23:59:59-05:00"])
def test_extreme_dates_are_422(client: TestClient, user: dict[str, Any], query: str) -> None:
    response = client.get(f"/api/assets?{query}", headers=user["headers"])
    assert response.status_code == 422


def test_oversized_documents_are_rejected_at_save(client: TestClient, user: dict[str, Any]) -> None:
    many = {"nodes": [{"id": f"n{i}", "type": "util/text", "params": {"text": "x"}} for i in range(600)], "edges": []}
    response = client.post("/api/workflows", json={"name": "big", "document": many}, headers=user["headers"])
    assert response.status_code == 422
    assert "600 nodes" in response.json()["detail"]
    huge = {"nodes": [{"id": "a", "type": "util/text", "params": {"text": "x" * (3 * 1024 * 1024)}}], "edges": []}
    assert client.post("/api/workflows", json={"name": "big", "document": huge}, headers=user["headers"]).status_code == 422


def test_request_body_over_the_limit_is_413(client: TestClient, user: dict[str, Any]) -> None:
    body = json.dumps({"name": "x", "description": "y" * (33 * 1024 * 1024)})
    response = client.post("/api/workflows", content=body, headers={**user["headers"], "content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


@pytest.mark.parametrize("email", ["a\u0000b@example.com", "rtl\u0007@example.com"])
def test_control_characters_in_email_are_rejected(client: TestClient, email: str) -> None:
    response = client.post("/api/auth/signup", json={"email": email, "password": "correct horse battery"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "email"


@pytest.mark.parametrize("name", ["   ", "bad\u0000name"])
def test_blank_or_control_names_are_rejected(client: TestClient, user: dict[str, Any], name: str) -> None:
    response = client.post("/api/workflows", json={"name": name}, headers=user["headers"])
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "name"


def test_fal_export_refuses_duplicate_ids(client: TestClient, user: dict[str, Any]) -> None:
    document = {"nodes": [{"id": "a", "type": "util/text", "params": {"text": "x"}},
                          {"id": "a", "type": "fal-ai/flux/dev", "params": {}}], "edges": []}
    workflow = client.post("/api/workflows", json={"name": "dup", "document": document}, headers=user["headers"]).json()
    response = client.get(f"/api/workflows/{workflow['id']}/export?format=fal", headers=user["headers"])
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "duplicate_id"


def test_cookie_write_without_origin_is_rejected(client: TestClient) -> None:
    client.post("/api/auth/signup", json={"email": "csrf@example.com", "password": "correct horse battery"})
    assert client.post("/api/workflows", json={"name": "no origin"}).status_code == 403
    assert client.post("/api/workflows", json={"name": "fetch"}, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 201


def test_idempotency_key_is_bound_to_its_workflow(client: TestClient, user: dict[str, Any], app_env: Any) -> None:
    import uuid
    first = _workflow(client, user["headers"], {"seed": 1})
    second = _workflow(client, user["headers"], {"seed": 2})
    from falflow.runs import service
    from falflow.workflows.endpoints import get_catalog

    with app_env.database.write_session() as session:
        service.start_run(session, owner_id=uuid.UUID(user["user"]["id"]), workflow_id=uuid.UUID(first),
                          options=service.RunOptions(), catalog=get_catalog(), margin_bps=0, mode="sandbox", request_key="k1")
    from falflow.kit.errors import ConflictError

    with pytest.raises(ConflictError), app_env.database.write_session() as session:
        service.start_run(session, owner_id=uuid.UUID(user["user"]["id"]), workflow_id=uuid.UUID(second),
                          options=service.RunOptions(), catalog=get_catalog(), margin_bps=0, mode="sandbox", request_key="k1")


def test_openapi_documents_the_error_body(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    assert "ErrorBody" in spec["components"]["schemas"]
    response_422 = spec["paths"]["/workflows"]["post"]["responses"]["422"]
    assert response_422["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/ErrorBody"


def test_server_errors_carry_the_request_id(client: TestClient, user: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from falflow.workflows import service as workflows

    def explode(*_: object, **__: object) -> None:
        raise RuntimeError("boom (mock: forced failure)")

    monkeypatch.setattr(workflows, "list_workflows", explode)
    response = client.get("/api/workflows", headers=user["headers"])
    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    assert request_id in response.json()["detail"]
    assert "boom" not in response.text
