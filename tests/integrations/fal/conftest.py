"""Fixtures: the shared fal stand-in (tests/fal_standin_fixtures.py)."""

from __future__ import annotations

from tests.fal_standin_fixtures import TEST_TIMING, control, gateway, reset_standin, standin  # noqa: F401
