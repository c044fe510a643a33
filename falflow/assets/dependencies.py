"""FastAPI dependencies of the assets routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from falflow.assets.config import storage_for_settings
from falflow.assets.storage import AssetStorage
from falflow.kit.auth import Context


def get_asset_storage(context: Context) -> AssetStorage:
    """Return the storage backend the settings name; tests override this dependency."""
    return storage_for_settings(context.settings)


Storage = Annotated[AssetStorage, Depends(get_asset_storage)]
