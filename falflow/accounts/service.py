"""Account use cases: sign-up, log-in with throttling, refresh rotation, log-out.

Functions take the caller's session and flush at most; the caller commits.
"""

from __future__ import annotations

import logging
import math
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from falflow.accounts import repository
from falflow.accounts.models import LoginFailure, RefreshToken, User
from falflow.accounts.passwords import check_password_policy, hash_password, verify_password
from falflow.accounts.tokens import TokenService, hash_refresh_token, new_refresh_token
from falflow.kit.errors import ConflictError, InvalidInputError, NotAuthenticatedError, RateLimitedError
from falflow.kit.timeutil import utcnow

logger = logging.getLogger("falflow.accounts")

_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")
_LOGIN_FAILED = "E-mail or password is wrong; check both and try again."


@dataclass(frozen=True)
class IssuedTokens:
    user: User
    access_token: str
    access_expires_in: int
    session_token: str
    session_expires_in: int
    refresh_token: str


@dataclass(frozen=True)
class LoginLimits:
    max_failures: int
    window_seconds: int


def normalize_email(email: str) -> str:
    value = email.strip().lower()
    if len(value) > 320 or not _EMAIL.match(value):
        raise InvalidInputError(
            f"email '{email[:80]}' is not a valid e-mail address; use the form name@example.com.",
            errors=[{"field": "email", "value": email[:80], "message": "email: not a valid address"}],
        )
    return value


def sign_up(session: Session, email: str, password: str) -> User:
    """Create a user; raise ConflictError when the address is taken."""
    address = normalize_email(email)
    check_password_policy(password)
    if repository.get_user_by_email(session, address) is not None:
        raise ConflictError(f"An account for '{address}' already exists; log in instead, or use another address.")
    user = User(email=address, password_hash=hash_password(password))
    try:
        with session.begin_nested():
            repository.add(session, user)
    except IntegrityError as exc:
        raise ConflictError(f"An account for '{address}' already exists; log in instead.") from exc
    logger.info("accounts.user.created", extra={"user_id": str(user.id)})
    return user


def _throttle_keys(address: str, client_ip: str | None) -> list[str]:
    keys = [f"account:{address}"]
    if client_ip:
        keys.append(f"address:{client_ip}")
    return keys


def check_login_allowed(session: Session, address: str, client_ip: str | None, limits: LoginLimits) -> None:
    """Raise RateLimitedError when the account or the address has too many recent failures."""
    now = utcnow()
    since = now - timedelta(seconds=limits.window_seconds)
    counts = repository.count_failures(session, _throttle_keys(address, client_ip), since)
    for key, count in counts.items():
        if count >= limits.max_failures:
            oldest = repository.oldest_failure(session, key, since) or now
            retry_after = max(1, math.ceil((oldest + timedelta(seconds=limits.window_seconds) - now).total_seconds()))
            logger.warning("accounts.login.throttled", extra={"throttle_key_kind": key.split(":", 1)[0]})
            raise RateLimitedError(
                f"Too many failed log-ins; wait {retry_after} seconds before trying again.",
                retry_after_seconds=retry_after,
            )


def authenticate(
    session: Session, email: str, password: str, client_ip: str | None, limits: LoginLimits
) -> User | None:
    """Return the user for valid credentials, else record the failure and return None.

    The caller commits in both cases, so failures are counted even though login fails.
    """
    try:
        address = normalize_email(email)
    except InvalidInputError:
        address = email.strip().lower()[:320]
    check_login_allowed(session, address, client_ip, limits)
    user = repository.get_user_by_email(session, address)
    valid, upgraded_hash = verify_password(password, user.password_hash if user else None)
    if user is None or not valid:
        for key in _throttle_keys(address, client_ip):
            repository.add(session, LoginFailure(key=key))
        logger.info("accounts.login.failed")
        return None
    if upgraded_hash:
        user.password_hash = upgraded_hash
    repository.clear_failures(session, f"account:{address}")
    return user


def login_failed_error() -> NotAuthenticatedError:
    return NotAuthenticatedError(_LOGIN_FAILED)


def issue_tokens(
    session: Session, user: User, tokens: TokenService, refresh_ttl_seconds: int, family_id: uuid.UUID | None = None
) -> IssuedTokens:
    refresh_token, token_hash = new_refresh_token()
    repository.add(
        session,
        RefreshToken(
            user_id=user.id,
            family_id=family_id or uuid.uuid4(),
            token_hash=token_hash,
            expires_at=utcnow() + timedelta(seconds=refresh_ttl_seconds),
        ),
    )
    return IssuedTokens(
        user=user,
        access_token=tokens.issue(user.id, user.token_version, "access"),
        access_expires_in=tokens.ttl_seconds("access"),
        session_token=tokens.issue(user.id, user.token_version, "session"),
        session_expires_in=tokens.ttl_seconds("session"),
        refresh_token=refresh_token,
    )


class RefreshReuseDetected(NotAuthenticatedError):
    """A rotated refresh token came back; its whole family was revoked."""


def rotate_refresh_token(
    session: Session, presented: str, tokens: TokenService, refresh_ttl_seconds: int
) -> IssuedTokens:
    """Exchange a live refresh token for new tokens; reuse of a rotated one revokes the family.

    Raises RefreshReuseDetected for a rotated token; the caller then revokes the family with
    `revoke_reused_family` in a transaction of its own, because this one rolls back.
    """
    now = utcnow()
    row = repository.get_refresh_token_for_update(session, hash_refresh_token(presented))
    invalid = NotAuthenticatedError("The refresh token is invalid, expired or revoked; log in again.")
    if row is None:
        raise invalid
    if row.rotated_at is not None or row.revoked_at is not None:
        if row.rotated_at is not None:
            logger.warning("accounts.refresh.reuse_detected", extra={"user_id": str(row.user_id)})
            raise RefreshReuseDetected("The refresh token was already used; every session of that login was signed out. Log in again.")
        raise invalid
    if row.expires_at <= now:
        raise invalid
    if not repository.mark_rotated(session, row.id, now):
        raise RefreshReuseDetected("The refresh token was already used; every session of that login was signed out. Log in again.")
    user = repository.get_user(session, row.user_id)
    if user is None:
        raise invalid
    return issue_tokens(session, user, tokens, refresh_ttl_seconds, family_id=row.family_id)


def revoke_reused_family(session: Session, presented: str) -> None:
    row = repository.get_refresh_token_for_update(session, hash_refresh_token(presented))
    if row is not None:
        repository.revoke_family(session, row.family_id, utcnow())


def log_out(session: Session, presented_refresh_token: str | None) -> None:
    if not presented_refresh_token:
        return
    row = repository.get_refresh_token_for_update(session, hash_refresh_token(presented_refresh_token))
    if row is not None:
        repository.revoke_family(session, row.family_id, utcnow())


def resolve_user_by_id(session: Session, user_id: uuid.UUID) -> User:
    user = repository.get_user(session, user_id)
    if user is None:
        raise NotAuthenticatedError("The account no longer exists; sign up again.")
    return user


def resolve_user(session: Session, user_id: uuid.UUID, token_version: int) -> User:
    user = repository.get_user(session, user_id)
    if user is None or user.token_version != token_version:
        raise NotAuthenticatedError("The access token is no longer valid; log in again.")
    return user
