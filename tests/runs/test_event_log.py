"""The run event log: gapless numbering and the counter of a run loaded in the same session."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from falflow.context import AppContext
from falflow.runs import repository
from falflow.runs.events import EventDraft, append_events
from tests.conftest import sign_up
from tests.runs.conftest import create_workflow, start_run, text_node, wait_for_run


def test_loaded_run_sees_new_counter(engine_client: TestClient, engine_env: AppContext) -> None:
    headers = sign_up(engine_client)["headers"]
    document = {"nodes": [text_node("prompt", "a quiet harbour")], "edges": []}
    run_id = uuid.UUID(start_run(engine_client, headers, create_workflow(engine_client, headers, document)))
    assert wait_for_run(engine_client, headers, str(run_id))["status"] == "succeeded"

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
