"""`/api/auth/*` and `/api/me`."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from falflow.accounts import service
from falflow.accounts.schemas import Credentials, CreditsPublic, LogoutRequest, MePublic, RefreshRequest, TokenPair, UserPublic
from falflow.accounts.service import IssuedTokens, LoginLimits
from falflow.billing import ledger
from falflow.context import AppContext
from falflow.kit.auth import SESSION_COOKIE, Context, CurrentUserId

router = APIRouter(tags=["accounts"])
PUBLIC = {"security": []}


def _client_ip(request: Request) -> str | None:
    # NOTE: X-Forwarded-For is ignored on purpose; behind a proxy, configure the server's
    # trusted-proxy handling so that request.client is the real peer.
    return request.client.host if request.client else None


def _respond_with_tokens(response: Response, issued: IssuedTokens, context: AppContext) -> TokenPair:
    response.set_cookie(
        SESSION_COOKIE,
        issued.session_token,
        max_age=issued.session_expires_in,
        httponly=True,
        samesite="lax",
        secure=context.settings.cookie_secure,
        path="/",
    )
    response.headers["Cache-Control"] = "no-store"
    return TokenPair(
        access_token=issued.access_token,
        expires_in=issued.access_expires_in,
        refresh_token=issued.refresh_token,
        user=UserPublic(id=issued.user.id, email=issued.user.email),
    )


@router.post("/auth/signup", status_code=status.HTTP_201_CREATED, response_model=TokenPair, openapi_extra=PUBLIC)
def sign_up(body: Credentials, response: Response, context: Context) -> TokenPair:
    """Create an account and log it in."""
    with context.database.write_session() as session:
        user = service.sign_up(session, body.email, body.password)
        ledger.open_credit_account(session, user.id, starter_grant=context.settings.grant_for_new_accounts)
        issued = service.issue_tokens(session, user, context.tokens, context.settings.refresh_token_ttl_seconds)
    return _respond_with_tokens(response, issued, context)


@router.post("/auth/login", response_model=TokenPair, openapi_extra=PUBLIC)
def log_in(body: Credentials, request: Request, response: Response, context: Context) -> TokenPair:
    """Exchange e-mail and password for tokens; also sets the browser session cookie."""
    limits = LoginLimits(context.settings.login_max_failures, context.settings.login_window_seconds)
    with context.database.write_session() as session:
        user = service.authenticate(session, body.email, body.password, _client_ip(request), limits)
        issued = service.issue_tokens(session, user, context.tokens, context.settings.refresh_token_ttl_seconds) if user else None
    if issued is None:
        raise service.login_failed_error()
    return _respond_with_tokens(response, issued, context)


@router.post("/auth/refresh", response_model=TokenPair, openapi_extra=PUBLIC)
def refresh(body: RefreshRequest, response: Response, context: Context) -> TokenPair:
    """Rotate a refresh token. Presenting an already rotated one signs out its whole family."""
    try:
        with context.database.write_session() as session:
            issued = service.rotate_refresh_token(session, body.refresh_token, context.tokens, context.settings.refresh_token_ttl_seconds)
    except service.RefreshReuseDetected:
        # The family revocation must stick even though this request fails.
        with context.database.write_session() as session:
            service.revoke_reused_family(session, body.refresh_token)
        raise
    return _respond_with_tokens(response, issued, context)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, openapi_extra=PUBLIC)
def log_out(response: Response, context: Context, body: LogoutRequest | None = None) -> Response:
    """Revoke the given refresh token's family and clear the session cookie."""
    with context.database.write_session() as session:
        service.log_out(session, body.refresh_token if body else None)
    response.status_code = status.HTTP_204_NO_CONTENT
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=context.settings.cookie_secure)
    return response


@router.get("/me", response_model=MePublic)
def me(user_id: CurrentUserId, context: Context) -> MePublic:
    """The caller's id, e-mail and credit balance."""
    with context.database.read_session() as session:
        user = service.resolve_user_by_id(session, user_id)
        credits = ledger.get_credit_summary(session, user_id)
    return MePublic(
        id=user.id,
        email=user.email,
        credit_balance=credits.balance,
        credits=CreditsPublic(balance=credits.balance, reserved=credits.reserved, available=credits.available),
        mode=context.settings.mode.value,
    )
