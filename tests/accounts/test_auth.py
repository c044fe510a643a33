"""Accounts API: sign-up, log-in throttling, token checks, refresh rotation, log-out."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi.testclient import TestClient

from falflow.accounts.tokens import AUDIENCE, ISSUER, load_signing_key
from falflow.context import AppContext
from falflow.kit.errors import ConfigurationError
from falflow.settings import Settings
from tests.conftest import TEST_JWT_SECRET, sign_up

PASSWORD = "correct horse battery"


def _token(claims: dict[str, object], key: str = TEST_JWT_SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def _claims(user_id: str, **overrides: object) -> dict[str, object]:
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "sub": user_id, "iat": now, "exp": now + timedelta(minutes=5), "iss": ISSUER, "aud": AUDIENCE,
        "jti": uuid.uuid4().hex, "typ": "access", "ver": 0,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def test_signup_returns_tokens_and_sets_cookie(client: TestClient) -> None:
    response = client.post("/api/auth/signup", json={"email": "Ada@Example.com", "password": PASSWORD})
    assert response.status_code == 201
    body = response.json()
    assert body["user"]["email"] == "ada@example.com"
    assert body["token_type"] == "bearer"
    cookie = response.headers["set-cookie"]
    assert "falflow_session=" in cookie
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()


def test_signup_twice_is_conflict(client: TestClient) -> None:
    sign_up(client, email="twice@example.com")
    response = client.post("/api/auth/signup", json={"email": "twice@example.com", "password": PASSWORD})
    assert response.status_code == 409
    assert "already exists" in response.json()["detail"]


@pytest.mark.parametrize(
    ("email", "password", "field"),
    [("not-an-email", PASSWORD, "email"), ("short@example.com", "short", "password"),
     ("common@example.com", "password123", "password")],
)
def test_signup_rejects_bad_input_naming_the_field(client: TestClient, email: str, password: str, field: str) -> None:
    response = client.post("/api/auth/signup", json={"email": email, "password": password})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_error"
    assert body["errors"][0]["field"] == field


def test_signup_rejects_unknown_fields(client: TestClient) -> None:
    response = client.post("/api/auth/signup", json={"email": "x@example.com", "password": PASSWORD, "credits": 10**9})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "credits"


def test_unknown_email_and_wrong_password_look_the_same(client: TestClient) -> None:
    sign_up(client, email="known@example.com")
    unknown = client.post("/api/auth/login", json={"email": "unknown@example.com", "password": PASSWORD})
    wrong = client.post("/api/auth/login", json={"email": "known@example.com", "password": "wrong password!"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()


def test_repeated_failed_logins_get_429_with_retry_after(client: TestClient, app_env: AppContext) -> None:
    sign_up(client, email="target@example.com")
    for _ in range(app_env.settings.login_max_failures):
        assert client.post("/api/auth/login", json={"email": "target@example.com", "password": "nope nope"}).status_code == 401
    blocked = client.post("/api/auth/login", json={"email": "target@example.com", "password": PASSWORD})
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert blocked.json()["error"] == "rate_limited"


def test_login_works_and_me_reports_balance(client: TestClient) -> None:
    sign_up(client, email="me@example.com")
    login = client.post("/api/auth/login", json={"email": "me@example.com", "password": PASSWORD})
    assert login.status_code == 200
    me = client.get("/api/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"})
    assert me.status_code == 200
    assert me.json()["email"] == "me@example.com"
    assert me.json()["credit_balance"] == 2000
    assert me.json()["mode"] == "sandbox"


def test_bad_tokens_get_401(client: TestClient) -> None:
    account = sign_up(client)
    user_id = account["user"]["id"]
    cases = {
        "missing": None,
        "expired": _token(_claims(user_id, exp=datetime.now(UTC) - timedelta(minutes=1))),
        "wrong key": _token(_claims(user_id), key="another-secret-" + "y" * 40),
        "alg none": jwt.encode(_claims(user_id), None, algorithm="none"),
        "wrong audience": _token(_claims(user_id, aud="someone-else")),
        "wrong issuer": _token(_claims(user_id, iss="evil")),
        "no exp": _token(_claims(user_id, exp=None)),
        "session token as bearer": _token(_claims(user_id, typ="session")),
        "refresh token as bearer": account["refresh_token"],
        "garbage": "not.a.token",
    }
    for name, token in cases.items():
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = client.get("/api/me", headers=headers)
        assert response.status_code == 401, name
        assert response.json()["error"] == "not_authenticated", name


def test_valid_forged_claims_with_right_key_pass(client: TestClient) -> None:
    """The control case for test_bad_tokens_get_401: a correct token is accepted."""
    account = sign_up(client)
    response = client.get("/api/me", headers={"Authorization": f"Bearer {_token(_claims(account['user']['id']))}"})
    assert response.status_code == 200


def test_refresh_rotates_and_reuse_revokes_the_family(client: TestClient) -> None:
    account = sign_up(client)
    first = client.post("/api/auth/refresh", json={"refresh_token": account["refresh_token"]})
    assert first.status_code == 200
    second_token = first.json()["refresh_token"]
    assert second_token != account["refresh_token"]

    reuse = client.post("/api/auth/refresh", json={"refresh_token": account["refresh_token"]})
    assert reuse.status_code == 401
    # The token issued by the legitimate rotation is revoked too.
    assert client.post("/api/auth/refresh", json={"refresh_token": second_token}).status_code == 401


def test_logout_revokes_refresh_and_clears_cookie(client: TestClient) -> None:
    account = sign_up(client)
    response = client.post("/api/auth/logout", json={"refresh_token": account["refresh_token"]})
    assert response.status_code == 204
    assert "falflow_session=" in response.headers["set-cookie"]
    assert client.post("/api/auth/refresh", json={"refresh_token": account["refresh_token"]}).status_code == 401


def test_session_cookie_authenticates_and_blocks_cross_site_writes(client: TestClient) -> None:
    response = client.post("/api/auth/signup", json={"email": "cookie@example.com", "password": PASSWORD})
    assert "falflow_session" in client.cookies  # kept by the client like a browser would
    assert client.get("/api/me").status_code == 200
    same_site = client.post("/api/workflows", json={"name": "ok"}, headers={"Origin": "http://localhost:3000"})
    assert same_site.status_code == 201
    cross_site = client.post("/api/workflows", json={"name": "evil"}, headers={"Origin": "https://evil.example"})
    assert cross_site.status_code == 403
    assert cross_site.json()["error"] == "forbidden"


def test_short_configured_jwt_key_stops_startup(tmp_path: object) -> None:
    settings = Settings(jwt_secret="too-short", data_dir=tmp_path)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="at least 32 bytes"):
        load_signing_key(settings)


def test_generated_jwt_key_is_kept_in_the_data_folder(tmp_path: object) -> None:
    settings = Settings(data_dir=tmp_path)  # type: ignore[arg-type]
    first = load_signing_key(settings)
    assert len(first) >= 32
    assert load_signing_key(settings) == first
    key_file = tmp_path / "secrets" / "jwt_secret"  # type: ignore[operator]
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


def test_logs_carry_request_ids_and_no_secrets(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="falflow")
    account = sign_up(client, password="a very secret passphrase")
    client.post("/api/auth/login", json={"email": account["email"], "password": "a very secret passphrase"})
    client.post("/api/auth/refresh", json={"refresh_token": account["refresh_token"]})
    text = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "a very secret passphrase" not in text
    assert account["access_token"] not in text
    assert account["refresh_token"] not in text
    assert TEST_JWT_SECRET not in text
    assert any(r.getMessage() == "accounts.user.created" for r in caplog.records)


def test_openapi_declares_bearer_default_security(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert spec["security"] == [{"bearerAuth": []}]
    assert spec["paths"]["/auth/signup"]["post"]["security"] == []
    assert "security" not in spec["paths"]["/workflows"]["get"]


def test_unknown_route_and_errors_are_json(client: TestClient) -> None:
    response = client.get("/api/does-not-exist")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert "x-request-id" in response.headers
