from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import sign_up


def test_signup_then_me(client: TestClient) -> None:
    account = sign_up(client)
    response = client.get("/api/me", headers=account["headers"])
    assert response.status_code == 200, response.text
    assert response.json()["email"] == account["email"]
    assert response.json()["credit_balance"] == 2000
