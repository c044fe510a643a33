"""Pure helpers of the Runs, Assets and Billing pages: formatting, filters, rows, seed reuse."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest

from falflow.billing.history import HistoryItem
from falflow.billing.purchase_models import CreditPack
from falflow.graph.templates import get_template
from falflow.kit.errors import InvalidInputError
from falflow.ui.components.formatting import (
    credits_to_usd,
    format_bytes,
    format_credits,
    format_duration,
    format_money,
    format_signed_credits,
    format_timestamp,
)
from falflow.ui.components.gallery_filters import FilterError, GalleryFilters
from falflow.ui.components.ledger_rows import history_row, pack_row
from falflow.ui.components.run_rows import (
    NOT_RUN,
    event_line,
    node_progress,
    node_rows,
    output_asset_ids,
    run_id_from_path,
    text_outputs,
)
from falflow.ui.components.seed_reuse import document_with_seed
from falflow.workflows.endpoints import get_catalog

START = datetime(2026, 12, 4, 20, 30, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("credits", "expected"),
    [(0, "0 credits"), (1, "1 credit"), (-1, "-1 credit"), (12_345, "12,345 credits")],
)
def test_format_credits(credits: int, expected: str) -> None:
    assert format_credits(credits) == expected


def test_signed_credits_and_usd() -> None:
    assert format_signed_credits(5000) == "+5,000"
    assert format_signed_credits(-12) == "-12"
    assert format_signed_credits(0) == "0"
    assert credits_to_usd(12_345) == "$12.35"
    assert credits_to_usd(-500) == "-$0.50"


def test_format_money_by_currency() -> None:
    assert format_money(500, "usd") == "$5.00"
    assert format_money(123_456, "eur") == "EUR 1,234.56"
    assert format_money(500, "jpy") == "JPY 500"


def test_format_timestamp_converts_to_utc() -> None:
    assert format_timestamp(None) == ""
    assert format_timestamp(datetime(2026, 12, 4, 21, 0, 5, tzinfo=UTC) - timedelta(hours=1)) == "2026-12-04 20:00:05 UTC"


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(4.25, "4.2 s"), (59.9, "59.9 s"), (185, "3 min 05 s"), (3720, "1 h 02 min")],
)
def test_format_duration(seconds: float, expected: str) -> None:
    assert format_duration(START, START + timedelta(seconds=seconds)) == expected


def test_format_duration_running_and_unstarted() -> None:
    assert format_duration(None, None) == ""
    assert format_duration(START, None, now=START + timedelta(seconds=2)) == "2.0 s"


def test_format_bytes() -> None:
    assert format_bytes(812) == "812 B"
    assert format_bytes(1536) == "1.5 KiB"
    assert format_bytes(3 * 1024 * 1024) == "3.0 MiB"


def test_filters_default_query_is_empty() -> None:
    assert GalleryFilters().is_default()
    assert GalleryFilters().to_query() == ""


def test_filters_query_has_every_field() -> None:
    workflow_id = uuid.uuid4()
    query = GalleryFilters(
        kind="video", favourites_only=True, text="  fox  ", workflow_id=str(workflow_id),
        date_from="2026-12-01", date_to="2026-12-04",
    ).to_query()
    params = parse_qs(query)
    assert params["kind"] == ["video"]
    assert params["favourite"] == ["true"]
    assert params["q"] == ["fox"]
    assert params["workflow_id"] == [str(workflow_id)]
    assert params["created_after"] == ["2026-12-01T00:00:00+00:00"]
    # The "to" day is included, so the exclusive bound is the next midnight.
    assert params["created_before"] == ["2026-12-05T00:00:00+00:00"]


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        (GalleryFilters(kind="pdf"), "Kind 'pdf'"),
        (GalleryFilters(workflow_id="nope"), "Workflow 'nope'"),
        (GalleryFilters(date_from="04/12/2026"), "From date '04/12/2026'"),
        (GalleryFilters(date_from="2026-12-05", date_to="2026-12-01"), "swap the two dates"),
        (GalleryFilters(text="x" * 201), "shorten it to 200"),
    ],
)
def test_filters_reject_bad_values(filters: GalleryFilters, message: str) -> None:
    with pytest.raises(FilterError, match=message):
        filters.to_query()


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/runs/9ff96362-827c-4ec6-b282-cf6878ee8448", uuid.UUID("9ff96362-827c-4ec6-b282-cf6878ee8448")),
        ("/runs/9ff96362-827c-4ec6-b282-cf6878ee8448/", uuid.UUID("9ff96362-827c-4ec6-b282-cf6878ee8448")),
        ("/runs/not-a-run", None),
        ("/runs", None),
    ],
)
def test_run_id_from_path(path: str, expected: uuid.UUID | None) -> None:
    assert run_id_from_path(path) == expected


def test_output_asset_ids_in_order_once() -> None:
    outputs = {
        "images": [{"url": "https://x/1.png", "asset_id": "a1"}, {"url": "https://x/2.png", "asset_id": "a2"}],
        "image": {"url": "https://x/1.png", "asset_id": "a1"},
        "seed": 7,
    }
    assert output_asset_ids(outputs) == ["a1", "a2"]
    assert output_asset_ids(None) == []


def test_text_outputs_skip_urls() -> None:
    texts = text_outputs({"output": "A cosy nook", "images": [{"url": "https://x"}], "link": "https://example.com/a"})
    assert texts == ["output: A cosy nook"]


def test_text_outputs_numbers_and_repeats() -> None:
    texts = text_outputs({"seeds": [7, 8, 9], "prompt": ["A fox", "A fox", "An owl"], "nsfw": [False]})
    assert texts == ["seeds: 7, 8, 9", "prompt: A fox", "prompt: An owl"]


def _detail_nodes() -> list[dict[str, object]]:
    item = {
        "item_index": 0, "status": "succeeded", "endpoint_id": "fal-ai/flux/schnell", "fal_request_id": "req-1",
        "seed": 42, "arguments": {}, "queue_position": None, "progress": 0.5, "outputs": {}, "asset_ids": ["a1"],
        "cost_credits": 3, "attempts": 1, "error": None, "error_code": None, "may_be_billed": False, "in_flight": False,
    }
    return [
        {"node_id": "prompt", "node_type": "util/text", "status": "succeeded", "batch_count": 1, "cost_credits": 0,
         "outputs": {"text": "A web"}, "error": None, "reused_from_run_id": None, "items": []},
        {"node_id": "image", "node_type": "fal-ai/flux/schnell", "status": "succeeded", "batch_count": 1,
         "cost_credits": 3, "outputs": {"images": [{"url": "https://x/1.png", "asset_id": "a1"},
                                                   {"url": "https://x/2.png", "asset_id": "gone"}]},
         "error": None, "reused_from_run_id": None, "items": [item]},
    ]


def test_node_rows_follow_document_order() -> None:
    document = get_template("flux-upscale").document.model_dump(mode="json")  # type: ignore[union-attr]
    previews = {"a1": {"id": "a1", "kind": "image", "has_thumbnail": True, "prompt": "", "sandbox": True}}
    rows = node_rows(document, _detail_nodes(), previews)

    assert [row["node_id"] for row in rows] == ["prompt", "image", "upscale", "result"]
    assert [row["status"] for row in rows] == ["succeeded", "succeeded", NOT_RUN, NOT_RUN]
    image = rows[1]
    assert image["label"] == "image"
    titled = node_rows(document, _detail_nodes(), previews, {"fal-ai/flux/schnell": "FLUX.1 [schnell]"})
    assert titled[1]["label"] == "FLUX.1 [schnell]"
    assert titled[1]["node_id"] == "image"
    assert titled[0]["label"] == "Prompt"
    assert image["cost"] == "3 credits"
    assert image["batch_count"] == ""
    assert image["inputs"] == ["prompt ← Prompt.text"]
    # The deleted asset "gone" has no preview and is skipped.
    assert [asset["id"] for asset in image["assets"]] == ["a1"]
    assert image["items"][0]["seed"] == "42"
    assert image["items"][0]["progress"] == "50%"
    assert image["items"][0]["fal_request_id"] == "req-1"
    assert rows[0]["texts"] == ["text: A web"]
    assert node_progress(rows) == "2 of 2 nodes finished"


def test_event_lines() -> None:
    at = "2026-12-04T20:31:02.123456+00:00"
    progress = {"seq": 3, "type": "item.progress", "node_id": "image", "item_index": 0, "data": {"progress": 0.4}, "at": at}
    charged = {"seq": 4, "type": "item.status", "node_id": "image", "item_index": 0,
               "data": {"status": "succeeded", "cost_credits": 3}, "at": at}
    failed = {"seq": 5, "type": "run.status", "node_id": None, "item_index": None,
              "data": {"status": "failed", "error": "fal rejected the prompt"}, "at": at}
    assert event_line(progress) == "20:31:02 · image #0 · progress 40%"
    assert event_line(charged) == "20:31:02 · image #0 · succeeded, 3 credits"
    assert event_line(failed) == "20:31:02 · run · failed: fal rejected the prompt"


def test_history_row_labels_and_signs() -> None:
    run_id = uuid.uuid4()
    charge = HistoryItem(
        id="entry:7", kind="run_charge", created_at=START, amount=-93, balance_after=1907, run_id=run_id,
        node_id="upscale", model="fal-ai/clarity-upscaler", purchase_id=None, external_ref=None, memo="",
    )
    row = history_row(charge)
    assert row["kind_label"] == "Run charge"
    assert row["amount"] == "-93"
    assert row["positive"] is False
    assert row["balance_after"] == "1,907"
    assert row["run_id"] == str(run_id)
    hold = history_row(HistoryItem(id="hold:x", kind="hold", created_at=START, amount=-93, balance_after=None,
                                   run_id=run_id, node_id=None, model=None, purchase_id=None, external_ref=None, memo=""))
    assert hold["kind_label"] == "Hold"
    assert hold["balance_after"] == ""
    assert hold["amount"] == ""
    assert hold["note"] == "held 93"
    assert hold["informational"] is True
    release = history_row(HistoryItem(id="release:x", kind="release", created_at=START, amount=1_200, balance_after=None,
                                      run_id=run_id, node_id=None, model=None, purchase_id=None, external_ref=None, memo=""))
    assert release["note"] == "released 1,200"
    assert release["positive"] is False
    assert row["informational"] is False
    assert row["note"] == ""


def test_seed_replaces_wired_seed() -> None:
    template = get_template("seed-batch")
    assert template is not None
    updated, removed = document_with_seed(template.new_document(), "images", 1234, get_catalog())
    assert removed == 1
    assert updated.node_map()["images"].params["seed"] == 1234
    assert all(edge.target_port != "seed" for edge in updated.edges)
    # The template itself is untouched.
    assert "seed" not in template.document.node_map()["images"].params
    assert len(template.document.edges) == len(updated.edges) + 1


def test_seed_rejects_unknown_or_seedless_node() -> None:
    document = get_template("flux-upscale").new_document()  # type: ignore[union-attr]
    with pytest.raises(InvalidInputError, match="Node 'gone' is no longer in this workflow"):
        document_with_seed(document, "gone", 1, get_catalog())
    with pytest.raises(InvalidInputError, match="has no seed parameter"):
        document_with_seed(document, "prompt", 1, get_catalog())


def test_pack_row_prices() -> None:
    row = pack_row(CreditPack(id="creator", name="Creator: 12,000 credits", credits=12_000, amount_minor=1_000, currency="usd"))
    assert row["price"] == "$10.00"
    assert row["unit_price"] == "$0.83 per 1,000 credits"
