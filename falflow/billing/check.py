"""`python -m falflow.billing.check`: verify the credit ledger against the configured database.

Prints each violation and exits 1 if there is any, 0 when the books agree, and 2 when the
database cannot be read. The database is `FALFLOW_DATABASE_URL` (or the default SQLite file in
the data folder) unless `--database-url` is given.
"""

from __future__ import annotations

import argparse
import sys

from sqlalchemy.exc import SQLAlchemyError

from falflow.billing.invariants import find_billing_violations
from falflow.kit.db import Database
from falflow.settings import get_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m falflow.billing.check",
                                     description="Check the credit ledger invariants.")
    parser.add_argument("--database-url", help="SQLAlchemy URL to check instead of the configured database.")
    args = parser.parse_args(argv)
    url = args.database_url or get_settings().resolved_database_url
    database = Database(url)
    try:
        with database.read_session() as session:
            violations = find_billing_violations(session)
    except SQLAlchemyError as exc:
        print(f"error: could not read the billing tables ({type(exc).__name__}: {exc}); "
              "check the database URL and run the migrations.", file=sys.stderr)
        return 2
    finally:
        database.dispose()
    for violation in violations:
        print(f"violation: {violation}")
    if violations:
        print(f"{len(violations)} billing invariant violation(s) found.")
        return 1
    print("ok: balances, holds, purchases and the Stripe event inbox agree.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
