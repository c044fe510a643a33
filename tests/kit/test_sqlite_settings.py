"""Connection settings of falflow's SQLite engine, read back from a real database file."""

from __future__ import annotations

from pathlib import Path

from falflow.kit.db import SQLITE_CACHE_KIB, Database


def test_sqlite_connection_pragmas(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'settings.sqlite'}")
    try:
        with database.engine.connect() as connection:
            pragmas = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous", "cache_size")
            }
    finally:
        database.dispose()

    assert pragmas["journal_mode"] == "wal"
    assert pragmas["busy_timeout"] == 30000
    assert pragmas["foreign_keys"] == 1
    assert pragmas["synchronous"] == 1  # NORMAL
    # A negative cache size is in KiB.
    assert pragmas["cache_size"] == -SQLITE_CACHE_KIB
