"""Scale-path fixtures: PostgreSQL and Redis on their default loopback ports, else skip with a reason."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"


def _postgres_available() -> str | None:
    try:
        import psycopg

        psycopg.connect(PG_ADMIN_URL, connect_timeout=3).close()
    except Exception as exc:  # noqa: BLE001 - any failure means "not available here"
        return f"PostgreSQL does not answer at {PG_ADMIN_URL}: {exc}"
    return None


def _redis_available() -> str | None:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as exc:  # noqa: BLE001
        return f"Redis does not answer at {REDIS_URL}: {exc}"
    return None


@pytest.fixture(scope="module")
def scale_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one test module, dropped afterwards."""
    if not os.environ.get("FALFLOW_TEST_DATABASE_URL"):
        pytest.skip("scale-path tests run in the PostgreSQL pass (set FALFLOW_TEST_DATABASE_URL; `make test` does)")
    for reason in (_postgres_available(), _redis_available()):
        if reason:
            pytest.skip(reason)
    import psycopg

    name = f"falflow_scale_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
