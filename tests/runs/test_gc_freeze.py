"""Start-up freezes the objects alive by then, so that the collector's full passes skip them."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from falflow.context import AppContext, reset_context
from falflow.runtime import running_services


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    # Freezing in the test process would keep every later test's start-up objects alive.
    gc.unfreeze()


@pytest.mark.asyncio
@pytest.mark.parametrize(("setting", "frozen"), [("true", True), ("false", False)])
async def test_startup_freeze_follows_setting(
    app_env: AppContext, monkeypatch: pytest.MonkeyPatch, unfrozen: None, setting: str, frozen: bool
) -> None:
    monkeypatch.setenv("FALFLOW_GC_FREEZE", setting)
    reset_context()

    async with running_services(start_engine=False, role="worker"):
        count = gc.get_freeze_count()

    assert (count > 0) is frozen
