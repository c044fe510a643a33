"""The load figure's baseline: a bare FastAPI app on the same SQLite database as the API server.

It serves the same query shapes as the measured routes without authentication, middleware,
response models or the run engine, so the difference is what falflow adds per request:

- `GET /bare/workflows?owner_id=…`: the owner's workflows, most recently changed first, as
  `GET /api/workflows` selects them;
- `POST /bare/workflows/{workflow_id}/run`: one write transaction that reads the workflow row
  and inserts one row into a scratch table, the minimum a run start writes;
- `POST /bare/workflows/{workflow_id}/durable-run`: the same transaction on a thread, then the
  start of an empty DBOS workflow, as `POST /api/workflows/{id}/run` starts a run's workflow.
  Its DBOS system database is a file of its own in `--engine-dir`, set up by
  `falflow.runs.engine.dbos_config`, so it costs what falflow's engine start costs at least.

Run it as `python -m bench.bare_app --port N --database-url sqlite:///… --engine-dir DIR`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import uvicorn
from dbos import DBOS, SetWorkflowID
from fastapi import FastAPI, HTTPException, Query
from sqlalchemy import text
from sqlmodel import col, select

from falflow.kit.db import Database
from falflow.runs.engine import dbos_config
from falflow.settings import Settings
from falflow.workflows.models import Workflow

SCRATCH_TABLE = "bench_bare_write"


@DBOS.workflow(name="bench.bare.run")
async def _empty_run(row_id: str) -> str:
    return row_id


def create_bare_app(database_url: str, engine_dir: Path) -> FastAPI:
    database = Database(database_url)
    with database.write_session() as session:
        session.execute(text(
            f"CREATE TABLE IF NOT EXISTS {SCRATCH_TABLE} "
            "(id TEXT PRIMARY KEY, workflow_id TEXT NOT NULL, version INTEGER)"
        ))

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        engine_dir.mkdir(parents=True, exist_ok=True)
        threads = Settings.model_fields["engine_threads"].default
        DBOS(config=dbos_config(f"sqlite:///{(engine_dir / 'unused.sqlite').resolve()}", engine_dir, threads=threads))
        await asyncio.to_thread(DBOS.launch)
        yield
        DBOS.destroy(workflow_completion_timeout_sec=0)

    app = FastAPI(lifespan=lifespan)

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

    def write_row(workflow_id: uuid.UUID, owner_id: uuid.UUID) -> str:
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
        return row_id

    @app.post("/bare/workflows/{workflow_id}/run", status_code=202)
    def start(workflow_id: uuid.UUID, owner_id: uuid.UUID) -> dict[str, str]:
        return {"row_id": write_row(workflow_id, owner_id)}

    @app.post("/bare/workflows/{workflow_id}/durable-run", status_code=202)
    async def start_durable(workflow_id: uuid.UUID, owner_id: uuid.UUID) -> dict[str, str]:
        row_id = await asyncio.to_thread(write_row, workflow_id, owner_id)
        with SetWorkflowID(row_id):
            await DBOS.start_workflow_async(_empty_run, row_id)
        return {"row_id": row_id}

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bare_app", description=__doc__)
    parser.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1.")
    parser.add_argument("--database-url", required=True, help="SQLAlchemy URL of the API server's database.")
    parser.add_argument("--engine-dir", type=Path, required=True, help="Folder for the DBOS system database.")
    args = parser.parse_args(argv)
    app = create_bare_app(args.database_url, args.engine_dir)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
