"""Database engine and transactions.

SQLite is the embedded default and runs in WAL mode with a busy timeout and foreign keys on.
Writes on SQLite start with `BEGIN IMMEDIATE`, so a read-check-write inside one transaction
takes the write lock up front instead of failing with "database is locked" on the upgrade.
PostgreSQL needs neither; its guarded updates and row locks serialise the same work.

SQLite also allows only one writer at a time, and a writer that finds the lock taken sleeps in
SQLite's busy handler (up to 100 ms per try) even when the lock frees a moment later. Writers
of one process therefore queue on a Python lock first, which hands the write lock over at once.
The busy timeout still covers writers in other processes.

The unit of work owns the transaction: API dependencies, the run engine and Reflex handlers
open one with `write_session()` or `read_session()`; services only flush.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlmodel import Session

from falflow.settings import get_settings

_WRITE_OPTION = "falflow_write"
# SQLite's page cache per connection, in KiB. Each pooled connection fills its own cache with
# copies of pages the operating system caches anyway. With SQLite's default of 2,000 KiB, the
# benchmark's 2,000-run soak ended 15 MiB higher (214 against 199 MiB) as the caches filled.
SQLITE_CACHE_KIB = 512


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_db_engine(url: str) -> Engine:
    """Create an engine for `url` with falflow's connection settings."""
    if is_sqlite(url):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=20,
            max_overflow=20,
        )
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit mode in the driver lets the "begin" hook below issue BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(_WRITE_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


class Database:
    """An engine plus the two kinds of session falflow opens on it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_db_engine(url)
        self._write_engine = self.engine.execution_options(**{_WRITE_OPTION: True})
        # Reentrant, so a nested write session fails on SQLite's busy timeout as before instead of hanging.
        self._writer_lock: contextlib.AbstractContextManager[Any] = (
            threading.RLock() if is_sqlite(url) else contextlib.nullcontext()
        )

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    @contextlib.contextmanager
    def write_session(self) -> Iterator[Session]:
        """Open a transaction that commits on success and rolls back on any exception."""
        with self._writer_lock, Session(self._write_engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextlib.contextmanager
    def read_session(self) -> Iterator[Session]:
        """Open a session for reads only; its transaction ends without a commit on exit.

        Closing (not rolling back) keeps loaded objects readable after the block.
        """
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


@functools.cache
def get_database() -> Database:
    """Return the process-wide database for the configured URL."""
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Database(settings.resolved_database_url)


def reset_database_cache() -> None:
    """Forget the process-wide database (tests switch URLs between sessions)."""
    if get_database.cache_info().currsize:
        get_database().dispose()
    get_database.cache_clear()


__all__ = ["Database", "create_db_engine", "get_database", "reset_database_cache", "is_sqlite"]
