"""Record which engine workflow runs each run item

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05 05:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("run_node_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dispatched_by", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("run_node_item", schema=None) as batch_op:
        batch_op.drop_column("dispatched_by")
