"""Credit reservations under concurrency: 50 simultaneous run requests on credit for exactly 3."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

from fastapi.testclient import TestClient

from falflow.billing import ledger
from falflow.billing.models import LedgerKind
from falflow.context import AppContext
from tests.conftest import sign_up
from tests.runs.conftest import create_workflow, edge, flux_node, text_node, wait_for_run

CHAIN = {
    "nodes": [text_node("prompt", "race"), flux_node("flux", seed=5)],
    "edges": [edge("prompt", "text", "flux", "prompt")],
}
REQUESTS = 50


def test_fifty_concurrent_runs_on_credit_for_three(engine_client: TestClient, engine_env: AppContext) -> None:
    account = sign_up(engine_client)
    headers = account["headers"]
    workflow_id = create_workflow(engine_client, headers, CHAIN)
    cost = engine_client.get(f"/api/workflows/{workflow_id}/estimate", headers=headers).json()["total_credits"]
    assert cost > 0
    user_id = uuid.UUID(account["user"]["id"])
    with engine_env.database.write_session() as session:
        balance = ledger.get_credit_summary(session, user_id).balance
        ledger.post_entry(session, user_id=user_id, amount=3 * cost - balance, kind=LedgerKind.ADJUSTMENT,
                          idempotency_key=f"test:{user_id}:race", memo="leave credit for exactly three runs")

    barrier = Barrier(REQUESTS)

    def request_run(index: int) -> tuple[int, dict[str, object]]:
        barrier.wait()
        response = engine_client.post(f"/api/workflows/{workflow_id}/run", headers=headers)
        return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=REQUESTS) as pool:
        results = list(pool.map(request_run, range(REQUESTS)))

    accepted = [body for status, body in results if status == 202]
    refused = [body for status, body in results if status == 402]
    assert len(accepted) == 3
    assert len(refused) == REQUESTS - 3
    assert all(body["required"] == cost for body in refused)
    assert all(body["error"] == "insufficient_credits" for body in refused)
    assert "credits" in str(refused[0]["detail"])

    for body in accepted:
        assert wait_for_run(engine_client, headers, str(body["run_id"]))["status"] == "succeeded"
    me = engine_client.get("/api/me", headers=headers).json()
    assert me["credits"] == {"balance": 0, "reserved": 0, "available": 0}
    with engine_env.database.read_session() as session:
        assert ledger.find_ledger_violations(session) == []
