"""The few falflow API calls the benchmarks make, over loopback HTTP."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

PASSWORD = "bench horse battery staple"


async def sign_up(client: httpx.AsyncClient) -> dict[str, str]:
    """Create a fresh account and return the bearer header for it."""
    email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
    response = await client.post("/api/auth/signup", json={"email": email, "password": PASSWORD})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def create_workflow(
    client: httpx.AsyncClient, headers: dict[str, str], name: str, document: dict[str, Any]
) -> str:
    response = await client.post("/api/workflows", json={"name": name, "document": document}, headers=headers)
    if response.status_code != 201:
        raise RuntimeError(f"creating workflow {name!r} failed with {response.status_code}: {response.text[:500]}")
    return str(response.json()["id"])


async def start_run(client: httpx.AsyncClient, headers: dict[str, str], workflow_id: str) -> str:
    """Start a run that bypasses the node cache, so every node sends its fal request."""
    response = await client.post(f"/api/workflows/{workflow_id}/run", json={"force": True}, headers=headers)
    if response.status_code != 202:
        raise RuntimeError(f"starting workflow {workflow_id} failed with {response.status_code}: {response.text[:500]}")
    return str(response.json()["run_id"])


async def get_run(client: httpx.AsyncClient, headers: dict[str, str], run_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/runs/{run_id}", headers=headers)
    response.raise_for_status()
    return dict(response.json())
