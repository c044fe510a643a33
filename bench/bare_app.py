"""The load figure's baseline: a bare FastAPI app on the same SQLite database as the API server.

It serves the same query shapes as the measured routes without authentication, middleware,
response models or the run engine, so the difference is what falflow adds per request:

- `GET /bare/workflows?owner_id=…`: the owner's workflows, most recently changed first, as
  `GET /api/workflows` selects them;
- `POST /bare/workflows/{workflow_id}/run`: one write transaction that reads the workflow row
  and inserts one row into a scratch table, the minimum a run start writes.

Run it as `python -m bench.bare_app --port N --database-url sqlite:///…`.
"""

from __future__ import annotations

import argparse
import uuid
from typing import Any

import uvicorn
from fastapi import FastAPI, HTTPException, Query
from sqlalchemy import text
from sqlmodel import col, select

from falflow.kit.db import Database
from falflow.workflows.models import Workflow

SCRATCH_TABLE = "bench_bare_write"


def create_bare_app(database_url: str) -> FastAPI:
    database = Database(database_url)
    with database.write_session() as session:
        session.execute(text(
            f"CREATE TABLE IF NOT EXISTS {SCRATCH_TABLE} "
            "(id TEXT PRIMARY KEY, workflow_id TEXT NOT NULL, version INTEGER)"
        ))
    app = FastAPI()

    @app.get("/bare/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/bare/workflows")
    def list_workflows(owner_id: uuid.UUID, limit: int = Query(100, ge=1, le=200)) -> list[dict[str, Any]]:
        statement = (
            select(Workflow)
            .where(Workflow.owner_id == owner_id, col(Workflow.deleted_at).is_(None))
            .order_by(col(Workflow.updated_at).desc(), col(Workflow.id))
            .limit(limit)
        )
        with database.read_session() as session:
            rows = list(session.exec(statement))
        return [
            {
                "id": str(row.id), "name": row.name, "description": row.description, "version": row.version,
                "node_count": len(row.document.get("nodes", [])), "created_at": row.created_at.isoformat(),
                "updated_at": row.updated_at.isoformat(),
            }
            for row in rows
        ]

    @app.post("/bare/workflows/{workflow_id}/run", status_code=202)
    def start(workflow_id: uuid.UUID, owner_id: uuid.UUID) -> dict[str, str]:
        with database.write_session() as session:
            workflow = session.exec(
                select(Workflow).where(Workflow.id == workflow_id, Workflow.owner_id == owner_id)
            ).first()
            if workflow is None:
                raise HTTPException(404, f"workflow {workflow_id} of owner {owner_id} was not found")
            row_id = uuid.uuid4().hex
            session.execute(
                text(f"INSERT INTO {SCRATCH_TABLE} (id, workflow_id, version) VALUES (:id, :workflow_id, :version)"),
                {"id": row_id, "workflow_id": workflow_id.hex, "version": workflow.version},
            )
        return {"row_id": row_id}

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bare_app", description=__doc__)
    parser.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1.")
    parser.add_argument("--database-url", required=True, help="SQLAlchemy URL of the API server's database.")
    args = parser.parse_args(argv)
    uvicorn.run(create_bare_app(args.database_url), host="127.0.0.1", port=args.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
