"""Apply Alembic migrations from code, at start-up and in tests."""

from __future__ import annotations

import fcntl
import logging
import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from falflow.kit.db import create_db_engine, is_sqlite

logger = logging.getLogger("falflow.migrations")

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


_process_lock = threading.Lock()
# Arbitrary constant naming falflow's migration lock among PostgreSQL advisory locks.
MIGRATION_LOCK_ID = 7_301_450_113


def upgrade_database(database_url: str) -> None:
    """Bring the database at `database_url` to the newest revision.

    Several processes may start at once (web workers, run workers). On PostgreSQL they take
    turns through an advisory lock, so only the first one migrates; SQLite serialises writers
    by itself.
    """
    with _process_lock:  # Alembic's command context is process-global, not thread-safe
        _upgrade(database_url)
    logger.info("db.migrated")


def _upgrade(database_url: str) -> None:
    if is_sqlite(database_url):
        # SQLite has no advisory locks; a lock file beside the database serialises processes.
        database_path = Path(database_url.removeprefix("sqlite:///"))
        database_path.parent.mkdir(parents=True, exist_ok=True)
        with open(f"{database_path}.migrate.lock", "w") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                command.upgrade(alembic_config(database_url), "head")
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)
    else:
        engine = create_db_engine(database_url)
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
                try:
                    command.upgrade(alembic_config(database_url), "head")
                finally:
                    connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})
                    connection.commit()
        finally:
            engine.dispose()
