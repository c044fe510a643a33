"""JavaScript snippets the UI runs in the browser through `rx.call_script`.

Requests that must set or clear the HttpOnly session cookie go from the browser to `/api`
directly, because only an HTTP response can set such a cookie.
"""

from __future__ import annotations

import json
from typing import Any


def fetch_json(method: str, path: str, payload: Any | None = None) -> str:
    """Return JS that calls the API and resolves to `{status, body}` for a callback."""
    init: dict[str, Any] = {"method": method, "credentials": "same-origin", "headers": {"Content-Type": "application/json"}}
    body = f", body: {json.dumps(json.dumps(payload))}" if payload is not None else ""
    init_js = json.dumps(init)[:-1] + body + "}"
    return (
        f"fetch({json.dumps(path)}, {init_js})"
        ".then(async (r) => ({status: r.status, body: await r.json().catch(() => ({}))}))"
        ".catch((e) => ({status: 0, body: {detail: 'The server could not be reached: ' + e.message}}))"
    )


def go_to(path: str) -> str:
    """Return JS for a full page load, so the websocket reconnects with fresh cookies."""
    return f"window.location.assign({json.dumps(path)})"
