"""The process-wide application context: settings, database and token service.

FastAPI routes, Reflex handlers and the run worker all reach shared objects through
`get_context()`, built once per process on first use.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from falflow.accounts.tokens import TokenService, load_signing_key
from falflow.kit.db import Database, get_database, reset_database_cache
from falflow.settings import Settings, get_settings


@dataclass
class AppContext:
    settings: Settings
    database: Database
    tokens: TokenService


@functools.cache
def get_context() -> AppContext:
    settings = get_settings()
    key = load_signing_key(settings)
    return AppContext(
        settings=settings,
        database=get_database(),
        tokens=TokenService(
            key,
            access_ttl_seconds=settings.access_token_ttl_seconds,
            session_ttl_seconds=settings.session_ttl_seconds,
        ),
    )


def reset_context() -> None:
    """Drop every cached process-wide object so the next use re-reads the environment."""
    get_context.cache_clear()
    reset_database_cache()
    from falflow.kit.auth import forget_verified_tokens

    forget_verified_tokens()
    get_settings.cache_clear()
