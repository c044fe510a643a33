"""UI details checked without a browser: default names, hints, autocomplete, inherited prompts, output previews."""

from __future__ import annotations

import uuid
from typing import Any

from falflow.assets.lineage import AssetLineage
from falflow.assets.models import Asset
from falflow.ui.components.asset_rows import asset_detail
from falflow.ui.editor.output_dialog import preview_asset
from falflow.ui.pages.auth import login_page, signup_page
from falflow.ui.pages.workflows import EMPTY_TEMPLATE, UNTITLED_NAME, _first_run_hint, default_workflow_name
from falflow.workflows.endpoints import get_catalog

UPSCALER = "fal-ai/clarity-upscaler"
FLUX = "fal-ai/flux/schnell"
USER_PROMPT = "A lighthouse in a storm, oil painting"


def _asset(prompt: str | None, endpoint_id: str) -> Asset:
    return Asset(
        owner_id=uuid.uuid4(), kind="image", mime_type="image/png", size_bytes=10, sha256="0" * 64,
        storage_key="k", prompt=prompt, endpoint_id=endpoint_id,
    )


def _lineage(asset: Asset, ancestors: list[Asset]) -> AssetLineage:
    return AssetLineage(
        asset=asset, workflow_id=None, run_id=None, node_id="upscale", item_index=0, endpoint_id=asset.endpoint_id,
        params={}, seed=None, cost_credits=0,
        ancestors=[{"asset": ancestor, "depth": depth} for depth, ancestor in enumerate(ancestors, start=1)],
        missing_parent_ids=[], children=[], truncated=False,
    )


def _upscaler_default_prompt() -> str:
    spec = get_catalog().get(UPSCALER)
    assert spec is not None
    default = next(param.default for param in spec.params if param.name == "prompt")
    assert isinstance(default, str)
    return default


def test_template_title_names_new_workflow() -> None:
    assert default_workflow_name("flux-upscale") == "Prompt to upscaled image"
    assert default_workflow_name(EMPTY_TEMPLATE) == UNTITLED_NAME
    assert default_workflow_name("no-such-template") == UNTITLED_NAME


def test_first_run_hint_uses_template_title() -> None:
    hint = _first_run_hint()
    assert '"Prompt to upscaled image" is a good first run' in hint
    assert "FLUX → upscale" not in hint


def test_auth_inputs_have_autocomplete() -> None:
    login = str(login_page())
    signup = str(signup_page())
    assert 'autoComplete:"email"' in login
    assert 'autoComplete:"current-password"' in login
    assert 'autoComplete:"new-password"' in signup
    assert "current-password" not in signup


def test_upscaler_default_prompt_shows_ancestor_prompt() -> None:
    upscaled = _asset(_upscaler_default_prompt(), UPSCALER)
    parent = _asset(USER_PROMPT, FLUX)
    detail = asset_detail(_lineage(upscaled, [parent]), get_catalog())
    assert detail["prompt"] == USER_PROMPT
    assert detail["prompt_inherited"] is True
    assert detail["endpoint_title"] == "Clarity Upscaler"


def test_own_prompt_wins_over_ancestor() -> None:
    upscaled = _asset("Sharper, with more fog", UPSCALER)
    detail = asset_detail(_lineage(upscaled, [_asset(USER_PROMPT, FLUX)]), get_catalog())
    assert detail["prompt"] == "Sharper, with more fog"
    assert detail["prompt_inherited"] is False


def test_detail_without_catalog_keeps_raw_values() -> None:
    upscaled = _asset(_upscaler_default_prompt(), UPSCALER)
    detail = asset_detail(_lineage(upscaled, [_asset(USER_PROMPT, FLUX)]))
    assert detail["prompt"] == _upscaler_default_prompt()
    assert detail["endpoint_title"] == UPSCALER


def test_preview_asset_for_output_dialog() -> None:
    image: dict[str, Any] = preview_asset({"asset_id": "a1", "kind": "image"})
    assert image == {"id": "a1", "kind": "image", "prompt": "", "has_thumbnail": True}
    video = preview_asset({"asset_id": "v1", "kind": "video"})
    assert video["has_thumbnail"] is False
    assert preview_asset({"asset_id": "x", "kind": "binary"})["kind"] == "file"
