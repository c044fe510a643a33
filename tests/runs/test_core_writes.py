"""Rows the engine writes with Core statements: event numbers, the counter of a loaded run, the node cache."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from falflow.context import AppContext
from falflow.runs import repository
from falflow.runs.events import EventDraft, append_events
from tests.conftest import sign_up
from tests.runs.conftest import create_workflow, start_run, text_node, wait_for_run


def finished_run(client: TestClient) -> uuid.UUID:
    """Run a one-node utility workflow of a new account to the end; return the run's id."""
    headers = sign_up(client)["headers"]
    document = {"nodes": [text_node("prompt", "a quiet harbour")], "edges": []}
    run_id = start_run(client, headers, create_workflow(client, headers, document))
    assert wait_for_run(client, headers, run_id)["status"] == "succeeded"
    return uuid.UUID(run_id)


def test_loaded_run_sees_new_counter(engine_client: TestClient, engine_env: AppContext) -> None:
    run_id = finished_run(engine_client)

    with engine_env.database.write_session() as session:
        run = repository.get_run(session, run_id)
        assert run is not None
        before = run.event_seq
        append_events(session, run_id, [EventDraft("test.first"), EventDraft("test.second", node_id="prompt")])
        assert run.event_seq == before + 2
        # A later flush of the changed run must not write the old counter back.
        run.note = "touched"
        session.add(run)

    with engine_env.database.read_session() as session:
        stored = repository.get_run(session, run_id)
        assert stored is not None
        assert stored.event_seq == before + 2
        events = repository.events_after(session, run_id, before - 1, 10)
    assert [event.seq for event in events] == [before, before + 1, before + 2]
    assert [event.type for event in events[1:]] == ["test.first", "test.second"]
    assert events[2].node_id == "prompt"


def test_cache_entry_keeps_the_first_outputs(engine_client: TestClient, engine_env: AppContext) -> None:
    """Two items with one cache key (such as a run and its retry) leave one entry, the first."""
    run_id = finished_run(engine_client)
    with engine_env.database.read_session() as session:
        run = repository.get_run(session, run_id)
        assert run is not None
        owner_id = run.owner_id

    for outputs in ({"images": ["first"]}, {"images": ["second"]}):
        with engine_env.database.write_session() as session:
            repository.add_cache_entry(
                session, owner_id=owner_id, cache_key="k" * 64, endpoint_id="fal-ai/flux/schnell", outputs=outputs,
                asset_ids=[], source_run_id=run_id, source_node_id="prompt",
            )
    with engine_env.database.read_session() as session:
        entry = repository.get_cache_entry(session, owner_id, "k" * 64)
    assert entry is not None
    assert entry.outputs == {"images": ["first"]}
