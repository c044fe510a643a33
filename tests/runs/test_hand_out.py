"""The planner hands each queued item to one engine workflow, and again to the same one after a crash."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from falflow.accounts import service as accounts
from falflow.billing import ledger
from falflow.context import AppContext
from falflow.runs import planner, repository, service
from falflow.workflows import service as workflows
from falflow.workflows.endpoints import get_catalog
from falflow.sandbox.fal import RunningStandin
from tests.conftest import sign_up
from tests.runs.conftest import create_workflow, edge, flux_node, standin_requests, text_node, wait_for_run

BRANCHES = {
    "nodes": [text_node("prompt", "two moons"), flux_node("left", seed=1), flux_node("right", seed=2)],
    "edges": [edge("prompt", "text", "left", "prompt"), edge("prompt", "text", "right", "prompt")],
}


def start(app_env: AppContext) -> uuid.UUID:
    with app_env.database.write_session() as session:
        user = accounts.sign_up(session, f"{uuid.uuid4().hex[:10]}@example.com", "correct horse battery")
        ledger.open_credit_account(session, user.id, starter_grant=100_000)
        workflow = workflows.create_workflow(session, user.id, name="branches", document=workflows.parse_document(BRANCHES))
        run = service.start_run(
            session, owner_id=user.id, workflow_id=workflow.id, options=service.RunOptions(), catalog=get_catalog(),
            margin_bps=0, mode="sandbox",
        )
        return run.id


def advance(app_env: AppContext, run_id: uuid.UUID, owner: str, *, inline: bool = True) -> planner.Advance:
    with app_env.database.write_session() as session:
        return planner.advance_run(session, run_id, get_catalog(), owner=owner, inline=inline)


def test_first_owner_gets_every_item(app_env: AppContext) -> None:
    run_id = start(app_env)

    first = advance(app_env, run_id, "workflow-a")

    assert first.inline == ("left", 0)
    assert first.start == [("right", 0)]
    with app_env.database.read_session() as session:
        owners = {item.node_id: item.dispatched_by for item in repository.items_of(session, run_id)}
    assert owners == {"left": "inline:workflow-a", "right": "workflow-a"}


def test_repeated_advance_returns_the_same_work(app_env: AppContext) -> None:
    """A workflow that repeats its step after a crash gets back the items it was handed."""
    run_id = start(app_env)
    first = advance(app_env, run_id, "workflow-a")

    again = advance(app_env, run_id, "workflow-a")

    assert again.inline == first.inline
    assert again.start == first.start


def test_other_owners_get_nothing_twice(app_env: AppContext) -> None:
    run_id = start(app_env)
    advance(app_env, run_id, "workflow-a")

    other = advance(app_env, run_id, "workflow-b")
    engine = advance(app_env, run_id, "engine", inline=False)

    assert other.start == []
    assert other.inline is None
    assert engine.start == []
    assert engine.inline is None


def test_engine_owner_runs_nothing_inline(app_env: AppContext) -> None:
    run_id = start(app_env)

    handed = advance(app_env, run_id, "engine", inline=False)

    assert handed.inline is None
    assert handed.start == [("left", 0), ("right", 0)]


def test_released_item_stays_with_engine(app_env: AppContext) -> None:
    """An item taken back from an ended owner belongs to the engine at once, so no advance runs it inline."""
    run_id = start(app_env)
    advance(app_env, run_id, "ended-owner")
    with app_env.database.write_session() as session:
        repository.release_unsent_items(session, run_id, [("right", 0, "ended-owner")], to_owner="engine")

    other = advance(app_env, run_id, "workflow-b")
    engine = advance(app_env, run_id, "engine", inline=False)

    assert other.inline is None
    assert other.start == []
    assert engine.start == [("right", 0)]


def test_release_skips_changed_owner(app_env: AppContext) -> None:
    run_id = start(app_env)
    advance(app_env, run_id, "first-owner")

    with app_env.database.write_session() as session:
        repository.release_unsent_items(session, run_id, [("right", 0, "someone-else")], to_owner="engine")

    with app_env.database.read_session() as session:
        owners = {item.node_id: item.dispatched_by for item in repository.items_of(session, run_id)}
    assert owners["right"] == "first-owner"


def test_restart_takes_items_from_an_ended_owner(engine_env: AppContext, fal_standin: RunningStandin) -> None:
    """Items handed to a workflow that ended without running them start when the engine reconciles."""
    from falflow.api import create_standalone_app
    from falflow.runs.engine import get_engine

    run_id = start(engine_env)
    advance(engine_env, run_id, "workflow-that-never-ran")
    with TestClient(create_standalone_app(), base_url="http://localhost:3000") as client:
        client.portal.call(get_engine().reconcile)  # type: ignore[union-attr]
        for _ in range(300):
            with engine_env.database.read_session() as session:
                run = repository.get_run(session, run_id)
            if run is not None and run.status in ("succeeded", "failed"):
                break
            time.sleep(0.1)
    assert run is not None
    assert run.status == "succeeded"
    requests = standin_requests(fal_standin)
    assert len(requests) == 2
    assert [r["submit_count"] for r in requests] == [1, 1]


def test_worker_start_takes_stranded_items(engine_env: AppContext, fal_standin: RunningStandin) -> None:
    """A run worker that starts takes back the items of an ended owner and sends them through the node queue."""
    from falflow.runtime import running_services

    run_id = start(engine_env)
    advance(engine_env, run_id, "workflow-that-never-ran")

    async def run_worker_until_done() -> str | None:
        async with running_services(role="worker", executor_id="hand-out-worker"):
            for _ in range(300):
                with engine_env.database.read_session() as session:
                    run = repository.get_run(session, run_id)
                if run is not None and run.status in ("succeeded", "failed"):
                    return run.status
                await asyncio.sleep(0.1)
        return None

    assert asyncio.run(run_worker_until_done()) == "succeeded"
    assert [r["submit_count"] for r in standin_requests(fal_standin)] == [1, 1]


def test_run_start_plans_the_first_items(engine_env: AppContext, fal_standin: RunningStandin) -> None:
    """`POST …/run` hands the first items to the run workflow in its own transaction, and they run once."""
    from falflow.api import create_standalone_app
    from falflow.runs.engine import RunEngine, get_engine

    decisions: list[dict[str, Any]] = []

    async def record_start(self: RunEngine, run_id: uuid.UUID, decision: dict[str, Any] | None = None) -> None:
        decisions.append({"run_id": run_id, "decision": decision})

    with TestClient(create_standalone_app(), base_url="http://localhost:3000") as client:
        headers = sign_up(client)["headers"]
        workflow_id = create_workflow(client, headers, BRANCHES)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(RunEngine, "start", record_start)
            response = client.post(f"/api/workflows/{workflow_id}/run", headers=headers)
        assert response.status_code == 202
        assert response.json()["status"] == "running"
        (started,) = decisions
        run_id = started["run_id"]
        with engine_env.database.read_session() as session:
            owners = {item.node_id: item.dispatched_by for item in repository.items_of(session, run_id)}
        assert started["decision"] == {"start": [["right", 0]], "inline": ["left", 0], "finished": False}
        assert owners == {"left": f"inline:{run_id}", "right": str(run_id)}

        client.portal.call(get_engine().start, run_id, started["decision"])  # type: ignore[union-attr]
        run = wait_for_run(client, headers, str(run_id))

    assert run["status"] == "succeeded"
    assert [r["submit_count"] for r in standin_requests(fal_standin)] == [1, 1]


def test_utility_run_ends_in_request(engine_client: TestClient) -> None:
    headers = sign_up(engine_client)["headers"]
    workflow_id = create_workflow(engine_client, headers, {"nodes": [text_node("prompt", "hello")], "edges": []})

    response = engine_client.post(f"/api/workflows/{workflow_id}/run", headers=headers)

    assert response.status_code == 202
    assert response.json()["status"] == "succeeded"


def test_repeated_run_request_plans_nothing(engine_client: TestClient, engine_env: AppContext) -> None:
    """A request repeated with its Idempotency-Key returns the first run and passes no new plan to the engine."""
    from falflow.runs.engine import RunEngine

    headers = sign_up(engine_client)["headers"]
    workflow_id = create_workflow(engine_client, headers, BRANCHES)
    key = {"Idempotency-Key": f"key-{uuid.uuid4().hex}"}
    first = engine_client.post(f"/api/workflows/{workflow_id}/run", headers={**headers, **key})
    decisions: list[dict[str, Any] | None] = []

    async def record_start(self: RunEngine, run_id: uuid.UUID, decision: dict[str, Any] | None = None) -> None:
        decisions.append(decision)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(RunEngine, "start", record_start)
        again = engine_client.post(f"/api/workflows/{workflow_id}/run", headers={**headers, **key})

    assert again.status_code == 202
    assert again.json()["run_id"] == first.json()["run_id"]
    assert decisions == [None]
    wait_for_run(engine_client, headers, first.json()["run_id"])


def _take_back(app_env: AppContext, run_id: uuid.UUID, monkeypatch: pytest.MonkeyPatch, statuses: dict[str, str]) -> dict[str, str | None]:
    """Run the engine's take-back against DBOS workflow statuses given by id (a stand-in for DBOS's own table)."""
    from types import SimpleNamespace

    from dbos import DBOS

    from falflow.runs.engine import RunEngine

    async def status_of(workflow_id: str) -> SimpleNamespace | None:
        return SimpleNamespace(status=statuses[workflow_id]) if workflow_id in statuses else None

    monkeypatch.setattr(DBOS, "get_workflow_status_async", status_of)
    engine = RunEngine(SimpleNamespace(context=app_env))  # type: ignore[arg-type]
    asyncio.run(engine._release_stranded(run_id))
    with app_env.database.read_session() as session:
        return {item.node_id: item.dispatched_by for item in repository.items_of(session, run_id)}


def test_take_back_leaves_a_started_child(app_env: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    """A child workflow that exists runs its own item, so only the inline item of the ended owner is taken back."""
    run_id = start(app_env)
    advance(app_env, run_id, "owner")

    owners = _take_back(app_env, run_id, monkeypatch, {"owner": "SUCCESS", f"{run_id}:right:0": "PENDING"})

    assert owners == {"left": "engine", "right": "owner"}


def test_take_back_of_an_owner_that_failed(app_env: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    run_id = start(app_env)
    advance(app_env, run_id, "owner")

    owners = _take_back(app_env, run_id, monkeypatch, {"owner": "ERROR"})

    assert owners == {"left": "engine", "right": "engine"}


def test_take_back_leaves_a_live_owner(app_env: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    run_id = start(app_env)
    advance(app_env, run_id, "owner")

    owners = _take_back(app_env, run_id, monkeypatch, {"owner": "PENDING"})

    assert owners == {"left": "inline:owner", "right": "owner"}
