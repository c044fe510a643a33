"""Gallery listing: filters, the opaque keyset cursor and one page of results.

Pages are ordered by `(created_at, id)`, newest first, and a cursor is the position of the
last asset returned. An asset created after the first page was fetched sorts before that page,
so fetching later pages neither skips nor repeats an asset that existed when paging began.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from falflow.assets.models import Asset, AssetKind
from falflow.kit.errors import InvalidInputError

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True)
class AssetFilters:
    """Conditions that every listed asset meets; None means "any"."""

    kind: AssetKind | None = None
    workflow_id: uuid.UUID | None = None
    run_id: uuid.UUID | None = None
    favourite: bool | None = None
    # Case-insensitive substring of the prompt.
    q: str | None = None
    # Inclusive lower and exclusive upper bounds on created_at.
    created_after: datetime | None = None
    created_before: datetime | None = None


@dataclass(frozen=True)
class AssetCursor:
    """The position after which the next page starts."""

    created_at: datetime
    id: uuid.UUID

    @classmethod
    def after(cls, asset: Asset) -> AssetCursor:
        return cls(created_at=asset.created_at, id=asset.id)

    def encode(self) -> str:
        position = {"t": self.created_at.astimezone(UTC).isoformat(), "i": self.id.hex}
        payload = json.dumps(position, separators=(",", ":"))
        return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> AssetCursor:
        """Parse a cursor from `encode`, or raise a 422 that names the `cursor` parameter."""
        try:
            padded = value + "=" * (-len(value) % 4)
            payload = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
            created_at = datetime.fromisoformat(payload["t"])
            asset_id = uuid.UUID(hex=payload["i"])
        except (ValueError, KeyError, TypeError, UnicodeEncodeError, binascii.Error) as exc:
            truncated_value = value if len(value) <= 80 else value[:77] + "..."
            raise InvalidInputError(
                f"cursor {truncated_value!r} is not a cursor from this API; pass next_cursor from the previous page, "
                "or omit cursor to start from the newest asset.",
                errors=[{"field": "cursor", "value": truncated_value, "message": "cursor: invalid"}],
            ) from exc
        try:
            created_at = created_at.astimezone(UTC) if created_at.tzinfo else created_at.replace(tzinfo=UTC)
        except OverflowError as exc:
            raise InvalidInputError(
                "cursor contains a time outside the supported range; pass next_cursor from the previous page.",
                errors=[{"field": "cursor", "value": value[:80], "message": "cursor: invalid"}],
            ) from exc
        return cls(created_at=created_at, id=asset_id)


@dataclass
class AssetPage:
    items: list[Asset] = field(default_factory=list)
    # None on the last page.
    next_cursor: str | None = None
