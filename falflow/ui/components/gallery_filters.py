"""The gallery's filter form, checked and turned into the `/api/assets` query string."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from falflow.assets.models import AssetKind

ANY = "any"
MAX_QUERY_TEXT = 200


class FilterError(ValueError):
    """A filter value the gallery cannot use. The message names the field and the fix."""


@dataclass(frozen=True)
class GalleryFilters:
    """Filter values as the form stores them: strings, with `any` or "" meaning no filter."""

    kind: str = ANY
    favourites_only: bool = False
    text: str = ""
    workflow_id: str = ANY
    # Inclusive calendar days in UTC, as `YYYY-MM-DD` from `<input type="date">`.
    date_from: str = ""
    date_to: str = ""

    def is_default(self) -> bool:
        return self == GalleryFilters()

    def to_query(self) -> str:
        """Return the query string for `/api/assets`, or raise FilterError for a bad value."""
        params: list[tuple[str, str]] = []
        if self.kind != ANY:
            if self.kind not in {kind.value for kind in AssetKind}:
                raise FilterError(f"Kind '{self.kind}' is not an asset kind; choose one from the list.")
            params.append(("kind", self.kind))
        if self.favourites_only:
            params.append(("favourite", "true"))
        text = self.text.strip()
        if len(text) > MAX_QUERY_TEXT:
            raise FilterError(f"The prompt search has {len(text)} characters; shorten it to {MAX_QUERY_TEXT} or fewer.")
        if text:
            params.append(("q", text))
        if self.workflow_id != ANY:
            try:
                params.append(("workflow_id", str(uuid.UUID(self.workflow_id))))
            except ValueError:
                raise FilterError(f"Workflow '{self.workflow_id}' is not a workflow id; choose one from the list.") from None
        start = _parse_day("From", self.date_from)
        end = _parse_day("To", self.date_to)
        if start and end and start > end:
            raise FilterError(f"The date range starts ({start}) after it ends ({end}); swap the two dates.")
        if start:
            params.append(("created_after", datetime.combine(start, time(), UTC).isoformat()))
        if end:
            # The API's upper bound is exclusive, and the form's "to" day is meant to be included.
            params.append(("created_before", datetime.combine(end + timedelta(days=1), time(), UTC).isoformat()))
        return urlencode(params)


def _parse_day(label: str, value: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise FilterError(f"{label} date '{value}' is not a date; use the YYYY-MM-DD form.") from None
