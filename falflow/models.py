"""Imports every table module so `SQLModel.metadata` is complete (Alembic and tests use it)."""

from __future__ import annotations

from sqlmodel import SQLModel

from falflow.accounts import models as accounts_models
from falflow.assets import models as assets_models
from falflow.billing import models as billing_models
from falflow.billing import purchase_models
from falflow.runs import models as runs_models
from falflow.workflows import models as workflows_models

metadata = SQLModel.metadata

__all__ = ["metadata", "accounts_models", "assets_models", "billing_models", "purchase_models", "runs_models", "workflows_models"]
