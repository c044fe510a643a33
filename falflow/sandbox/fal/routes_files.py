"""Storage routes: the upload flows of fal-client 1.0.3 and the ``/files/{name}`` download route.

fal-client uploads in one of three ways, and the stand-in serves all of them:

- CDN (default): ``POST /storage/auth/token`` returns a token, then ``POST /files/upload`` with the raw
  bytes returns ``{"access_url": ...}``;
- CDN multipart (files over 100 MiB): ``POST /files/upload/multipart``, ``PUT {access_url}/multipart/
  {upload_id}/{part}`` per part (each answered with an ETag), ``POST {access_url}/multipart/{upload_id}/complete``;
- ``fal`` storage (the fallback): ``POST /storage/upload/initiate`` returns ``upload_url`` and
  ``file_url``, then ``PUT upload_url`` with the bytes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from falflow.sandbox.fal.access import SANDBOX_CDN_TOKEN, check_access
from falflow.sandbox.fal.state import MultipartSession, StandinState
from falflow.sandbox.fal.store import StoredFile, upload_name

logger = logging.getLogger(__name__)

_TOKEN_LIFETIME = timedelta(hours=1)
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def build_files_router(state: StandinState) -> APIRouter:
    router = APIRouter()

    @router.post("/storage/auth/token", response_model=None)
    async def issue_token(request: Request) -> Response:
        rejection = check_access(state, request)
        if rejection is not None:
            return rejection
        expires_at = datetime.now(UTC) + _TOKEN_LIFETIME
        return JSONResponse(
            {
                "token": SANDBOX_CDN_TOKEN,
                "token_type": "Bearer",
                "base_url": state.base_url(request),
                "expires_at": expires_at.isoformat(),
            }
        )

    @router.post("/files/upload", response_model=None)
    async def upload(request: Request) -> Response:
        rejection = check_access(state, request, allow_cdn_token=True)
        if rejection is not None:
            return rejection
        data = await request.body()
        too_large = _check_size(state, len(data))
        if too_large is not None:
            return too_large
        stored = state.store.put_upload(data, _content_type(request), request.headers.get("x-fal-file-name"))
        _log_upload(stored)
        return JSONResponse({"access_url": _file_url(state, request, stored.name)})

    @router.post("/files/upload/multipart", response_model=None)
    async def start_multipart(request: Request) -> Response:
        rejection = check_access(state, request, allow_cdn_token=True)
        if rejection is not None:
            return rejection
        file_name = request.headers.get("x-fal-file-name") or "upload.bin"
        upload_id = uuid.uuid4().hex
        name = upload_name(upload_id.encode(), file_name)
        state.uploads[upload_id] = MultipartSession(file_name=name, content_type=_content_type(request))
        return JSONResponse({"access_url": _file_url(state, request, name), "uploadId": upload_id})

    @router.put("/files/{name}/multipart/{upload_id}/{part_number}", response_model=None)
    async def upload_part(name: str, upload_id: str, part_number: int, request: Request) -> Response:
        session = state.uploads.get(upload_id)
        if session is None or session.file_name != name:
            return JSONResponse({"detail": f"Multipart upload {upload_id!r} not found"}, status_code=404)
        data = await request.body()
        session.parts[part_number] = data
        too_large = _check_size(state, sum(len(part) for part in session.parts.values()))
        if too_large is not None:
            state.uploads.pop(upload_id, None)
            return too_large
        return Response(status_code=200, headers={"etag": _etag(data)})

    @router.post("/files/{name}/multipart/{upload_id}/complete", response_model=None)
    async def complete_multipart(name: str, upload_id: str, request: Request) -> Response:
        session = state.uploads.get(upload_id)
        if session is None or session.file_name != name:
            return JSONResponse({"detail": f"Multipart upload {upload_id!r} not found"}, status_code=404)
        problem = _check_parts(session, await request.body())
        if problem is not None:
            return JSONResponse({"detail": problem}, status_code=400)
        data = b"".join(session.parts[number] for number in sorted(session.parts))
        stored = state.store.put(name, data, session.content_type)
        del state.uploads[upload_id]
        _log_upload(stored)
        return JSONResponse({"access_url": _file_url(state, request, name)})

    @router.post("/storage/upload/initiate", response_model=None)
    async def initiate_upload(request: Request) -> Response:
        rejection = check_access(state, request)
        if rejection is not None:
            return rejection
        try:
            payload = json.loads(await request.body() or b"{}")
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            return JSONResponse({"detail": "Body must be a JSON object with file_name and content_type"}, 422)
        upload_id = uuid.uuid4().hex
        name = upload_name(upload_id.encode(), str(payload.get("file_name") or "upload.bin"))
        content_type = str(payload.get("content_type") or "application/octet-stream")
        state.uploads[upload_id] = MultipartSession(file_name=name, content_type=content_type)
        base = state.base_url(request)
        return JSONResponse(
            {"upload_url": f"{base}/storage/upload/{upload_id}", "file_url": _file_url(state, request, name)}
        )

    @router.put("/storage/upload/{upload_id}", response_model=None)
    async def put_signed_upload(upload_id: str, request: Request) -> Response:
        session = state.uploads.pop(upload_id, None)
        if session is None:
            return JSONResponse({"detail": f"Upload {upload_id!r} not found or already used"}, status_code=404)
        data = await request.body()
        too_large = _check_size(state, len(data))
        if too_large is not None:
            return too_large
        stored = state.store.put(session.file_name, data, request.headers.get("content-type") or session.content_type)
        _log_upload(stored)
        return Response(status_code=200)

    @router.get("/files/{name}", response_model=None)
    async def download(name: str, request: Request) -> Response:
        stored = state.store.get(name)
        if stored is None:
            return JSONResponse({"detail": f"File {name!r} not found"}, status_code=404)
        return _file_response(stored, request)

    router.add_api_route("/files/{name}", download, methods=["HEAD"], include_in_schema=False, response_model=None)
    return router


def _file_response(stored: StoredFile, request: Request) -> Response:
    """Serve a file, honouring a single ``Range: bytes=a-b`` header so that browsers can seek in videos."""
    size = len(stored.data)
    headers = {"accept-ranges": "bytes", "cache-control": "public, max-age=3600"}
    match = _RANGE.match(request.headers.get("range", "").strip())
    if match is None or not any(match.groups()) or size == 0:
        return Response(stored.data, media_type=stored.content_type, headers=headers)
    first_text, last_text = match.groups()
    if first_text:
        first = int(first_text)
        last = min(int(last_text), size - 1) if last_text else size - 1
    else:
        first = max(0, size - int(last_text))
        last = size - 1
    if first > last or first >= size:
        return Response(status_code=416, headers={**headers, "content-range": f"bytes */{size}"})
    headers["content-range"] = f"bytes {first}-{last}/{size}"
    return Response(stored.data[first : last + 1], status_code=206, media_type=stored.content_type, headers=headers)


def _check_parts(session: MultipartSession, raw_body: bytes) -> str | None:
    try:
        payload: Any = json.loads(raw_body or b"{}")
    except ValueError:
        return "Body must be JSON with a 'parts' list"
    parts = payload.get("parts") if isinstance(payload, dict) else None
    if not isinstance(parts, list) or not parts:
        return "Body must be JSON with a non-empty 'parts' list"
    for part in parts:
        number = part.get("partNumber") if isinstance(part, dict) else None
        if not isinstance(number, int) or number not in session.parts:
            return f"Part {number!r} was never uploaded"
        if part.get("etag") != _etag(session.parts[number]):
            return f"ETag of part {number} does not match the uploaded bytes"
    if len(parts) != len(session.parts):
        return f"Expected {len(session.parts)} parts in the completion list, got {len(parts)}"
    return None


def _check_size(state: StandinState, size: int) -> JSONResponse | None:
    limit = state.config.max_upload_bytes
    if size <= limit:
        return None
    return JSONResponse(
        {"detail": f"Upload of {size} bytes exceeds the sandbox limit of {limit} bytes (max_upload_bytes)"},
        status_code=413,
    )


def _content_type(request: Request) -> str:
    return request.headers.get("content-type") or "application/octet-stream"


def _file_url(state: StandinState, request: Request, name: str) -> str:
    return f"{state.base_url(request)}/files/{name}"


def _etag(data: bytes) -> str:
    return f'"{hashlib.sha256(data).hexdigest()[:32]}"'


def _log_upload(stored: StoredFile) -> None:
    logger.info(
        "fal_standin.file.uploaded",
        extra={"file_name": stored.name, "size_bytes": len(stored.data), "content_type": stored.content_type},
    )
