"""An offline stand-in for fal.ai's queue API, with deterministic SANDBOX-labelled outputs.

``create_fal_standin`` builds the FastAPI app, ``start_fal_standin`` serves it from a background thread,
and ``python -m falflow.sandbox.fal`` runs it as its own process.

Layout:

- ``config``: settings; ``catalog`` and ``validation``: input schemas and fal's 422 format;
- ``simulator``, ``records``, ``protocol`` and ``faults``: the queue, its response bodies and faults;
- ``store``: files; ``routes_queue``, ``routes_files``, ``routes_control``: the HTTP routes;
- ``app`` and ``runner``: serving; ``generators``: one output generator per catalog endpoint.
"""

from __future__ import annotations

from falflow.sandbox.fal.app import create_fal_standin
from falflow.sandbox.fal.config import EndpointOverride, FalStandinConfig, Faults, Timing, ValidationFault
from falflow.sandbox.fal.runner import RunningStandin, start_fal_standin

__all__ = [
    "EndpointOverride",
    "FalStandinConfig",
    "Faults",
    "RunningStandin",
    "Timing",
    "ValidationFault",
    "create_fal_standin",
    "start_fal_standin",
]
