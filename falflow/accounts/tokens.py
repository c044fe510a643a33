"""JWT access and session tokens, and opaque refresh tokens.

Access tokens (bearer) and session tokens (the browser cookie) are HS256 JWTs with `sub`,
`exp`, `iat`, `iss`, `aud`, `jti`, `typ` and `ver` (the user's token version), all required
on decode. The algorithm is pinned, so `alg=none` and key-confusion tokens fail. Refresh
tokens are random strings; only their SHA-256 is stored.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import jwt

from falflow.kit.errors import ConfigurationError, NotAuthenticatedError
from falflow.kit.timeutil import utcnow
from falflow.settings import Settings

ALGORITHM = "HS256"
ISSUER = "falflow"
AUDIENCE = "falflow-api"
MIN_KEY_BYTES = 32
REQUIRED_CLAIMS = ["exp", "iat", "sub", "aud", "iss", "jti", "typ", "ver"]

TokenKind = Literal["access", "session"]

_decoder = jwt.PyJWT(options={"enforce_minimum_key_length": True})


def load_signing_key(settings: Settings) -> bytes:
    """Return the JWT key from settings, or from `<data_dir>/secrets/jwt_secret`, creating it once."""
    if settings.jwt_secret is not None:
        key = settings.jwt_secret.get_secret_value().encode()
        if len(key) < MIN_KEY_BYTES:
            raise ConfigurationError(
                f"FALFLOW_JWT_SECRET is {len(key)} bytes long; it must be at least {MIN_KEY_BYTES} bytes. "
                "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))', "
                "or unset it to let falflow generate and keep one in the data folder."
            )
        return key
    path = Path(settings.data_dir) / "secrets" / "jwt_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        value = base64.urlsafe_b64encode(secrets.token_bytes(48))
        # O_EXCL makes two processes starting together agree on one key.
        try:
            fd = path.open("xb")
        except FileExistsError:
            pass
        else:
            with fd:
                fd.write(value)
            path.chmod(0o600)
    key = path.read_bytes().strip()
    if len(key) < MIN_KEY_BYTES:
        raise ConfigurationError(f"The generated JWT key in {path} is shorter than {MIN_KEY_BYTES} bytes; delete it to regenerate.")
    return key


@dataclass(frozen=True)
class TokenClaims:
    user_id: uuid.UUID
    token_version: int
    kind: TokenKind


class TokenService:
    """Issue and verify falflow's JWTs with one key."""

    def __init__(self, key: bytes, *, access_ttl_seconds: int, session_ttl_seconds: int) -> None:
        self._key = key
        self._ttl = {"access": access_ttl_seconds, "session": session_ttl_seconds}

    def ttl_seconds(self, kind: TokenKind) -> int:
        return self._ttl[kind]

    def issue(self, user_id: uuid.UUID, token_version: int, kind: TokenKind) -> str:
        now = utcnow()
        claims: dict[str, Any] = {
            "sub": str(user_id),
            "iat": now,
            "exp": now + timedelta(seconds=self._ttl[kind]),
            "iss": ISSUER,
            "aud": AUDIENCE,
            "jti": uuid.uuid4().hex,
            "typ": kind,
            "ver": token_version,
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def verify(self, token: str, kind: TokenKind) -> TokenClaims:
        """Decode `token`; raise NotAuthenticatedError for any flaw, without saying which."""
        try:
            claims = _decoder.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=5,
                options={"require": REQUIRED_CLAIMS},
            )
            if claims["typ"] != kind:
                raise jwt.InvalidTokenError("wrong token type")
            return TokenClaims(uuid.UUID(claims["sub"]), int(claims["ver"]), kind)
        except (jwt.InvalidTokenError, ValueError, TypeError, KeyError) as exc:
            raise NotAuthenticatedError(
                "The access token is missing, expired or invalid; log in again or refresh it at /api/auth/refresh."
            ) from exc


def new_refresh_token() -> tuple[str, str]:
    """Return a new refresh token and the hash to store for it."""
    token = secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
