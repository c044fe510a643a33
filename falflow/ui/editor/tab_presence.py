"""Whether a browser tab is still connected, so a tab's background task can end with it."""

from __future__ import annotations

import functools
from typing import Any

from reflex.utils import prerequisites


@functools.cache
def _event_namespace() -> Any:
    return prerequisites.get_and_validate_app().app.event_namespace


async def is_tab_connected(client_token: str) -> bool:
    """Return True while the tab with `client_token` has an open websocket on any worker."""
    namespace = _event_namespace()
    if namespace is None:
        return False
    # NOTE: Reflex 0.10.1 exposes the cross-worker check (Redis) only on its private token
    # manager; the public `token_to_sid` mapping covers this worker's sockets only.
    manager = getattr(namespace, "_token_manager", None)
    if manager is not None and hasattr(manager, "is_token_connected"):
        connected: bool = await manager.is_token_connected(client_token)
        return connected
    return client_token in namespace.token_to_sid
