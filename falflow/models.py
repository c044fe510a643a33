"""Imports every table module so `SQLModel.metadata` is complete (Alembic and tests use it)."""

from __future__ import annotations

from sqlmodel import SQLModel

from falflow.accounts import models as accounts_models
from falflow.billing import models as billing_models
from falflow.workflows import models as workflows_models

metadata = SQLModel.metadata

__all__ = ["metadata", "accounts_models", "billing_models", "workflows_models"]
