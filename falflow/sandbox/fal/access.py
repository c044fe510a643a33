"""Simulated fal account checks: API keys (HTTP 401) and account locks (HTTP 403)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from falflow.sandbox.fal.state import StandinState

# The token that the stand-in's storage token route issues for CDN uploads.
SANDBOX_CDN_TOKEN = "falflow-sandbox-cdn-token"


def check_access(state: StandinState, request: Request, *, allow_cdn_token: bool = False) -> JSONResponse | None:
    """Return fal's 401 or 403 response if the call must be rejected, else None.

    Without ``accepted_keys`` any caller is accepted, including one without an Authorization header.
    """
    config = state.config
    if config.account_locked:
        return JSONResponse(
            {
                "detail": "User is locked. Reason: Exhausted balance (sandbox simulation). "
                "Top up your balance at fal.ai/dashboard/billing."
            },
            status_code=403,
        )
    if config.accepted_keys is None:
        return None
    header = request.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    if scheme.lower() == "key" and credential in config.accepted_keys:
        return None
    if allow_cdn_token and scheme.lower() == "bearer" and credential == SANDBOX_CDN_TOKEN:
        return None
    return JSONResponse({"detail": "No user found for Key ID and Secret"}, status_code=401)
