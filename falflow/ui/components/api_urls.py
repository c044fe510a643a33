"""URLs of `/api` resources as the browser must request them, in dev and in prod.

In prod the page and `/api` share one origin. In dev `/api` lives only on the backend port,
while the frontend port serves the app's HTML for every path, so a relative `/api/...` URL
would load the wrong thing. The origin is therefore taken from Reflex's own backend URL
(`getBackendURL`), the way Reflex builds its upload URLs. The session cookie reaches either
port, because cookies ignore ports.
"""

from __future__ import annotations

from reflex_base.constants import Dirs
from reflex_base.utils.imports import ImportVar
from reflex_base.vars import VarData
from reflex_base.vars.base import Var

API_ORIGIN: Var[str] = Var(
    _js_expr="getBackendURL(env.PING).origin",
    _var_data=VarData(
        imports={
            f"$/{Dirs.STATE_PATH}": "getBackendURL",
            "$/env.json": ImportVar(tag="env", is_default=True),
        }
    ),
).to(str)


def api_url(path: str | Var[str]) -> Var[str]:
    """Return the browser URL of an `/api` path such as `/api/billing/ledger.csv`."""
    return Var.create(f"{API_ORIGIN}{path}").to(str)


def asset_file_url(asset_id: str | Var[str]) -> Var[str]:
    return Var.create(f"{API_ORIGIN}/api/assets/{asset_id}/file").to(str)


def asset_thumbnail_url(asset_id: str | Var[str]) -> Var[str]:
    return Var.create(f"{API_ORIGIN}/api/assets/{asset_id}/thumbnail").to(str)
