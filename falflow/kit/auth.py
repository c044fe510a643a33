"""The FastAPI dependency that identifies the caller.

`/api` accepts `Authorization: Bearer <access token>` or the HttpOnly session cookie that
log-in sets for the browser. A cookie-authenticated request that changes state must come
from the app's own origin (checked through `Origin`, else `Sec-Fetch-Site`), which stops
cross-site request forgery; bearer requests need no such check.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from falflow.accounts import service as accounts
from falflow.context import AppContext, get_context
from falflow.kit.errors import ForbiddenError, NotAuthenticatedError

SESSION_COOKIE = "falflow_session"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

bearer_scheme = HTTPBearer(auto_error=False, scheme_name="bearerAuth", bearerFormat="JWT")


def _same_origin(request: Request, context: AppContext) -> bool:
    origin = request.headers.get("origin")
    if origin is not None:
        allowed = {*context.settings.allowed_origins, f"{request.url.scheme}://{request.url.netloc}"}
        return origin.rstrip("/") in allowed
    # Browsers send Origin or Sec-Fetch-Site on every cross-site write; a request with neither
    # did not come from a browser page, so it must use a bearer token instead of the cookie.
    return request.headers.get("sec-fetch-site") in {"same-origin", "none"}


async def context_dependency() -> AppContext:
    """Return the process's context without a worker thread, because it is built once and cached."""
    return get_context()


async def current_user_id(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    context: Annotated[AppContext, Depends(context_dependency)],
) -> uuid.UUID:
    """Return the authenticated user's id, or raise 401.

    Signature checks run on the event loop. Only a token version that was not checked in the
    last few seconds costs a database read, on a worker thread.
    """
    if credentials is not None:
        claims = context.tokens.verify(credentials.credentials, "access")
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            raise NotAuthenticatedError(
                "Authentication required; send 'Authorization: Bearer <access token>' from /api/auth/login."
            )
        claims = context.tokens.verify(cookie, "session")
        if request.method not in _SAFE_METHODS and not _same_origin(request, context):
            raise ForbiddenError("Cross-site request rejected: the Origin is not this app; call the API from the falflow app or with a bearer token.")
    if _recently_verified(claims.user_id, claims.token_version):
        return claims.user_id
    return await asyncio.to_thread(_check_token_version, context, claims.user_id, claims.token_version)


# A signed token is checked against the user's current token version at most this often per
# process, so a revocation (deleted user, bumped version) takes effect within this many seconds.
TOKEN_VERSION_CACHE_SECONDS = 5.0
_verified: dict[tuple[uuid.UUID, int], float] = {}


def _recently_verified(user_id: uuid.UUID, token_version: int) -> bool:
    checked_at = _verified.get((user_id, token_version), -TOKEN_VERSION_CACHE_SECONDS)
    return time.monotonic() - checked_at < TOKEN_VERSION_CACHE_SECONDS


def _check_token_version(context: AppContext, user_id: uuid.UUID, token_version: int) -> uuid.UUID:
    with context.database.read_session() as session:
        user = accounts.resolve_user(session, user_id, token_version)
    if len(_verified) > 10_000:
        _verified.clear()
    _verified[(user_id, token_version)] = time.monotonic()
    return user.id


def forget_verified_tokens() -> None:
    """Drop the token-version cache (tests that switch databases call it)."""
    _verified.clear()


CurrentUserId = Annotated[uuid.UUID, Depends(current_user_id)]
Context = Annotated[AppContext, Depends(context_dependency)]
