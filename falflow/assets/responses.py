"""Responses that serve a stored file: headers, conditional requests and byte ranges.

Files are served with the type sniffed at storage time and `X-Content-Type-Options: nosniff`.
Sniffing never yields HTML or SVG (such bytes are stored as text/plain), so a stored file
cannot run script in the app's origin even when opened directly.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from falflow.assets.ranges import RangeNotSatisfiableError, parse_range
from falflow.assets.storage import AssetStorage

# Files never change under an id, but deletion should take effect within a day.
CACHE_CONTROL = "private, max-age=86400"


def content_disposition(filename: str) -> str:
    """Return an `inline` Content-Disposition with an ASCII fallback and the UTF-8 name (RFC 6266)."""
    fallback = filename.encode("ascii", "replace").decode("ascii").replace("?", "_").replace('"', "_")
    return f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _etag_matches(header: str | None, etag: str) -> bool:
    """Weak comparison, as If-None-Match uses it: `W/"x"` matches `"x"`."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    return any(candidate.strip().removeprefix("W/") == etag for candidate in header.split(","))


def serve_stored_file(
    request: Request,
    storage: AssetStorage,
    *,
    key: str,
    media_type: str,
    etag: str,
    filename: str,
) -> Response:
    """Serve the object under `key` whole (200), in part (206), unchanged (304) or not at all (416).

    Raises `StoredObjectNotFoundError` when the object is missing from storage.
    """
    headers = {
        "ETag": etag,
        "Cache-Control": CACHE_CONTROL,
        "Accept-Ranges": "bytes",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": content_disposition(filename),
    }
    if _etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)

    size = storage.size(key)
    range_header = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if if_range is not None and if_range.strip() != etag:
        # The client's partial copy is stale, so RFC 9110 requires the whole file instead.
        range_header = None
    try:
        byte_range = parse_range(range_header, size)
    except RangeNotSatisfiableError as exc:
        return JSONResponse(
            {
                "error": "range_not_satisfiable",
                "detail": f"Range {exc.header!r} starts past the end of this {size}-byte file; "
                f"ask for bytes 0-{max(size - 1, 0)} or omit the Range header.",
            },
            status_code=416,
            headers={
                "Content-Range": f"bytes */{size}",
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "no-store",
            },
        )

    if byte_range is None:
        headers["Content-Length"] = str(size)
        if size == 0:
            return Response(b"", media_type=media_type, headers=headers)
        return StreamingResponse(storage.open_range(key, 0, size - 1), media_type=media_type, headers=headers)
    headers["Content-Length"] = str(byte_range.length)
    headers["Content-Range"] = byte_range.content_range(size)
    chunks = storage.open_range(key, byte_range.start, byte_range.end)
    return StreamingResponse(chunks, status_code=206, media_type=media_type, headers=headers)
