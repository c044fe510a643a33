"""The reads and writes behind the Runs, Assets and Billing pages, against the real test database.

No run engine runs here: runs are created through the runs service and stay queued, which is
all these functions need.
"""

from __future__ import annotations

import uuid

import pytest

from falflow.accounts import service as accounts
from falflow.billing import ledger
from falflow.billing.models import LedgerKind
from falflow.context import AppContext
from falflow.graph.document import WorkflowDocument
from falflow.kit.errors import NotFoundError, PaymentRequiredError
from falflow.runs import service as runs
from falflow.runs.models import Run
from falflow.ui.components import billing_queries, run_queries
from falflow.ui.components.run_rows import NOT_RUN
from falflow.ui.components.seed_reuse import reuse_seed
from falflow.workflows import service as workflows
from falflow.workflows.endpoints import get_catalog

STARTER_CREDITS = 2_000


@pytest.fixture
def owner(app_env: AppContext) -> uuid.UUID:
    with app_env.database.write_session() as session:
        user = accounts.sign_up(session, f"pages-{uuid.uuid4().hex[:8]}@example.com", "correct horse battery")
        ledger.open_credit_account(session, user.id, starter_grant=STARTER_CREDITS)
        return user.id


def _workflow(app_env: AppContext, owner: uuid.UUID, template_id: str, name: str = "Flow") -> uuid.UUID:
    with app_env.database.write_session() as session:
        workflow = workflows.create_workflow(session, owner, name=name, document=workflows.template_document(template_id))
        return workflow.id


def _run(app_env: AppContext, owner: uuid.UUID, workflow_id: uuid.UUID, **options: str) -> Run:
    with app_env.database.write_session() as session:
        return runs.start_run(
            session, owner_id=owner, workflow_id=workflow_id, options=runs.RunOptions(**options),  # type: ignore[arg-type]
            catalog=get_catalog(), margin_bps=0, mode="sandbox",
        )


def test_run_view_of_partial_run(app_env: AppContext, owner: uuid.UUID) -> None:
    workflow_id = _workflow(app_env, owner, "flux-upscale", "Partial")
    run = _run(app_env, owner, workflow_id, only_up_to="image")

    view = run_queries.read_run_view(owner, run.id)

    assert view.active is True
    assert view.run["workflow_name"] == "Partial"
    assert view.run["status"] == "queued"
    assert view.run["options"] == "only up to image"
    assert view.run["estimated"].endswith("credits")
    statuses = {node["node_id"]: node["status"] for node in view.nodes}
    assert statuses == {"prompt": "pending", "image": "pending", "upscale": NOT_RUN, "result": NOT_RUN}
    assert view.progress == "0 of 2 nodes finished"
    assert view.last_event_seq >= 1


def test_run_view_of_another_user_is_404(app_env: AppContext, owner: uuid.UUID) -> None:
    run = _run(app_env, owner, _workflow(app_env, owner, "flux-upscale"))
    with app_env.database.write_session() as session:
        stranger = accounts.sign_up(session, "stranger@example.com", "correct horse battery").id
    with pytest.raises(NotFoundError):
        run_queries.read_run_view(stranger, run.id)
    events, status = run_queries.read_events(owner, run.id, 0, 10)
    assert status == "queued"
    assert events[0]["type"] == "run.status"


def test_run_page_names_and_pages(app_env: AppContext, owner: uuid.UUID) -> None:
    kept = _workflow(app_env, owner, "flux-upscale", "Kept")
    dropped = _workflow(app_env, owner, "text-to-image", "Dropped")
    first = _run(app_env, owner, kept)
    second = _run(app_env, owner, dropped)
    with app_env.database.write_session() as session:
        workflows.delete_workflow(session, owner, dropped)

    page = run_queries.read_run_page(owner, offset=0, limit=1)
    assert [row["id"] for row in page.rows] == [str(second.id)]
    assert page.rows[0]["workflow_name"] == run_queries.DELETED_WORKFLOW_NAME
    assert page.has_more is True
    older = run_queries.read_run_page(owner, offset=1, limit=1)
    assert [row["id"] for row in older.rows] == [str(first.id)]
    assert older.rows[0]["workflow_name"] == "Kept"
    assert older.has_more is False


def test_rerun_with_changes_restores_run_document(app_env: AppContext, owner: uuid.UUID) -> None:
    workflow_id = _workflow(app_env, owner, "flux-upscale")
    run = _run(app_env, owner, workflow_id)
    with app_env.database.write_session() as session:
        workflows.save_workflow(session, owner, workflow_id, base_version=1, document=WorkflowDocument(), note="emptied")

    opened = run_queries.save_run_document(owner, run.id)

    assert opened == workflow_id
    with app_env.database.read_session() as session:
        workflow = workflows.get_workflow(session, owner, workflow_id)
    assert workflow.version == 3
    assert workflow.document == run.document


def test_rerun_with_changes_of_deleted_workflow_creates_one(app_env: AppContext, owner: uuid.UUID) -> None:
    workflow_id = _workflow(app_env, owner, "flux-upscale")
    run = _run(app_env, owner, workflow_id)
    with app_env.database.write_session() as session:
        workflows.delete_workflow(session, owner, workflow_id)

    opened = run_queries.save_run_document(owner, run.id)

    assert opened != workflow_id
    with app_env.database.read_session() as session:
        created = workflows.get_workflow(session, owner, opened)
    assert created.name.startswith("Restored from run")
    assert created.document == run.document


def test_rerun_without_credits_is_402(app_env: AppContext, owner: uuid.UUID) -> None:
    run = _run(app_env, owner, _workflow(app_env, owner, "flux-upscale"))
    with app_env.database.write_session() as session:
        ledger.post_entry(session, user_id=owner, amount=-(STARTER_CREDITS - 1), kind=LedgerKind.ADJUSTMENT,
                          idempotency_key=f"test:drain:{owner}", memo="drain for the test")
    with pytest.raises(PaymentRequiredError):
        run_queries.start_rerun(owner, run.id)


def test_rerun_starts_new_run(app_env: AppContext, owner: uuid.UUID) -> None:
    run = _run(app_env, owner, _workflow(app_env, owner, "flux-upscale"))
    again = run_queries.start_rerun(owner, run.id)
    assert again.id != run.id
    assert again.workflow_id == run.workflow_id
    assert again.status == "queued"


def test_cancel_queued_run(app_env: AppContext, owner: uuid.UUID) -> None:
    run = _run(app_env, owner, _workflow(app_env, owner, "flux-upscale"))
    cancelled = run_queries.request_cancel(owner, run.id)
    assert cancelled.status == "cancelling"


def test_reuse_seed_saves_new_version(app_env: AppContext, owner: uuid.UUID) -> None:
    workflow_id = _workflow(app_env, owner, "seed-batch")

    change = reuse_seed(owner, workflow_id, "images", 987)

    assert change.version == 2
    assert change.removed_edges == 1
    with app_env.database.read_session() as session:
        workflow = workflows.get_workflow(session, owner, workflow_id)
        versions = workflows.list_versions(session, owner, workflow_id)
    document = workflows.parse_document(workflow.document)
    assert document.node_map()["images"].params["seed"] == 987
    assert versions[0].note == "reused seed 987 on images"


def test_billing_snapshot(app_env: AppContext, owner: uuid.UUID) -> None:
    snapshot = billing_queries.read_billing(owner, history_offset=0, history_limit=10)
    assert snapshot.balance == STARTER_CREDITS
    assert snapshot.available == STARTER_CREDITS
    assert [pack["id"] for pack in snapshot.packs] == ["starter", "creator", "studio"]
    assert snapshot.packs[0]["price"] == "$5.00"
    assert [row["kind"] for row in snapshot.history] == ["grant"]
    assert snapshot.history_has_more is False


def test_checkout_outcome_of_unknown_session_is_404(app_env: AppContext, owner: uuid.UUID) -> None:
    with pytest.raises(NotFoundError):
        billing_queries.read_checkout_outcome(owner, "cs_test_unknown")
