"""`/api/assets/*`: the gallery, asset files and thumbnails, favourites, deletion and uploads.

Every route is scoped to the caller, so another user's asset, like a deleted one, gets a 404.
The file and thumbnail routes accept the session cookie, so `<img>` and `<video>` tags work.
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from falflow.assets import service
from falflow.assets.dependencies import Storage
from falflow.assets.errors import SharedFileGoneError, StoredObjectNotFoundError
from falflow.assets.filenames import download_filename
from falflow.assets.listing import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, AssetFilters
from falflow.assets.media import extension_for_mime_type
from falflow.assets.models import Asset, AssetKind
from falflow.assets.responses import serve_stored_file
from falflow.assets.schemas import AssetDetailPublic, AssetPagePublic, AssetPublic, AssetUpdate
from falflow.assets.storage import AssetStorage
from falflow.assets.thumbnails import THUMBNAIL_MIME_TYPE
from falflow.assets.upload import read_single_file
from falflow.kit.auth import Context, CurrentUserId
from falflow.kit.errors import InvalidInputError, NotFoundError, ServiceUnavailableError

logger = logging.getLogger("falflow.assets")

router = APIRouter(tags=["assets"])

# The most thumbnails the route renders at the same time (those the queue has not rendered yet). A
# source file can be a large video read whole, so a page of them must not take every API thread.
_ROUTE_RENDERS = threading.BoundedSemaphore(2)
_ROUTE_RENDER_WAIT_SECONDS = 10.0

_UPLOAD_FIELD = "file"
_UPLOAD_BODY_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [_UPLOAD_FIELD],
                    "properties": {_UPLOAD_FIELD: {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


def _as_utc(value: datetime | None, field: str) -> datetime | None:
    """Read a timestamp without an offset as UTC; reject ones outside years 1 to 9999 in UTC."""
    if value is None:
        return None
    try:
        return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
    except OverflowError as exc:
        raise InvalidInputError(
            f"{field} {value.isoformat()} is outside the supported date range once converted to UTC; use a date between years 1 and 9999.",
            errors=[{"field": field, "value": value.isoformat(), "message": f"{field}: out of range"}],
        ) from exc


@router.get("/assets", response_model=AssetPagePublic)
def list_assets(
    user_id: CurrentUserId,
    context: Context,
    kind: AssetKind | None = Query(None, description="Only assets of this kind."),
    workflow_id: uuid.UUID | None = Query(None),
    run_id: uuid.UUID | None = Query(None),
    favourite: bool | None = Query(None, description="true: favourites only; false: the others."),
    q: str | None = Query(None, max_length=200, description="Case-insensitive text to find in the prompt."),
    created_after: datetime | None = Query(None, description="Inclusive; ISO 8601, UTC when no offset is given."),
    created_before: datetime | None = Query(None, description="Exclusive; ISO 8601, UTC when no offset is given."),
    cursor: str | None = Query(None, max_length=200, description="next_cursor from the previous page."),
    limit: int = Query(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
) -> AssetPagePublic:
    """List the caller's assets, newest first, one page at a time."""
    filters = AssetFilters(
        kind=kind, workflow_id=workflow_id, run_id=run_id, favourite=favourite, q=q or None,
        created_after=_as_utc(created_after, "created_after"), created_before=_as_utc(created_before, "created_before"),
    )
    with context.database.read_session() as session:
        page = service.list_assets(session, user_id, filters=filters, limit=limit, cursor=cursor)
        return AssetPagePublic(items=[AssetPublic.from_row(row) for row in page.items], next_cursor=page.next_cursor)


@router.post(
    "/assets", status_code=status.HTTP_201_CREATED, response_model=AssetPublic, openapi_extra=_UPLOAD_BODY_SCHEMA
)
async def upload_asset(request: Request, user_id: CurrentUserId, context: Context, storage: Storage) -> AssetPublic:
    """Upload an image (PNG, JPEG, WebP or GIF) for an image-input node, as multipart part `file`."""
    upload = await read_single_file(request, field_name=_UPLOAD_FIELD, max_bytes=context.settings.max_upload_bytes)

    def store_once() -> AssetPublic:
        # Decoding, the thumbnail and the file write happen before the write transaction opens.
        prepared = service.prepare_upload(context.database.read_session, storage, owner_id=user_id, data=upload.data)
        try:
            with context.database.write_session() as session:
                asset = service.upload_image(
                    session, storage, owner_id=user_id, data=upload.data, filename=upload.filename, prepared=prepared
                )
                return AssetPublic.from_row(asset)
        except BaseException:
            service.discard_prepared(context.database.read_session, storage, [prepared])
            raise

    def store() -> AssetPublic:
        try:
            return store_once()
        except SharedFileGoneError:
            # The stored file these bytes were to share lost its asset meanwhile; this try writes its own.
            return store_once()

    return await run_in_threadpool(store)


@router.get("/assets/{assetId}", response_model=AssetDetailPublic)
def get_asset(assetId: uuid.UUID, user_id: CurrentUserId, context: Context) -> AssetDetailPublic:  # noqa: N803
    """Return the asset with its run, node, endpoint, params, seed and cost, its ancestors and children."""
    with context.database.read_session() as session:
        return AssetDetailPublic.from_lineage(service.asset_lineage(session, user_id, assetId))


@router.get("/assets/{assetId}/file", response_class=Response)
def get_asset_file(
    assetId: uuid.UUID, request: Request, user_id: CurrentUserId, context: Context, storage: Storage  # noqa: N803
) -> Response:
    """Serve the stored file, honouring `Range` (206/416), `If-None-Match` (304) and `If-Range`."""
    with context.database.read_session() as session:
        asset = service.get_asset_for_owner(session, user_id, assetId)
    filename = download_filename(asset.original_filename, asset.id, extension_for_mime_type(asset.mime_type))
    return _serve(request, storage, asset, key=asset.storage_key, media_type=asset.mime_type,
                  etag=f'"{asset.sha256}"', filename=filename)


@router.get("/assets/{assetId}/thumbnail", response_class=Response)
def get_asset_thumbnail(
    assetId: uuid.UUID, request: Request, user_id: CurrentUserId, context: Context, storage: Storage  # noqa: N803
) -> Response:
    """Serve the WebP preview (at most 384 px on its longest side) of an image or video."""
    with context.database.read_session() as session:
        asset = service.get_asset_for_owner(session, user_id, assetId)
    if asset.thumbnail_key is None:
        raise _no_thumbnail(assetId)
    filename = download_filename(asset.original_filename, asset.id, "webp")
    key = asset.thumbnail_key
    try:
        return serve_stored_file(request, storage, key=key, media_type=THUMBNAIL_MIME_TYPE,
                                 etag=f'"{asset.sha256}-thumbnail"', filename=filename)
    except StoredObjectNotFoundError:
        pass
    # A run output's thumbnail is rendered after its row is committed; this one is not rendered yet.
    if not _ROUTE_RENDERS.acquire(timeout=_ROUTE_RENDER_WAIT_SECONDS):
        raise ServiceUnavailableError(
            f"The thumbnail of asset '{assetId}' is not rendered yet, and the server is busy rendering others. "
            "Retry in a second."
        )
    try:
        rendered = service.render_thumbnail(storage, storage_key=asset.storage_key, thumbnail_key=key)
    except StoredObjectNotFoundError as exc:
        # The source file is missing: report it as the file route does, and keep the reserved key.
        raise _missing_file(asset, asset.storage_key) from exc
    finally:
        _ROUTE_RENDERS.release()
    if not rendered:
        logger.warning("asset.thumbnail.unavailable", extra={"asset_id": str(asset.id), "thumbnail_key": key})
        with context.database.write_session() as session:
            service.forget_thumbnail(session, key)
        raise _no_thumbnail(assetId)
    return _serve(request, storage, asset, key=key, media_type=THUMBNAIL_MIME_TYPE,
                  etag=f'"{asset.sha256}-thumbnail"', filename=filename)


def _serve(
    request: Request, storage: AssetStorage, asset: Asset, *, key: str, media_type: str, etag: str, filename: str
) -> Response:
    try:
        return serve_stored_file(request, storage, key=key, media_type=media_type, etag=etag, filename=filename)
    except StoredObjectNotFoundError as exc:
        raise _missing_file(asset, key) from exc


def _no_thumbnail(asset_id: uuid.UUID) -> NotFoundError:
    return NotFoundError(
        f"Asset '{asset_id}' has no thumbnail: only images and videos that could be decoded have one; "
        f"use /api/assets/{asset_id}/file instead."
    )


def _missing_file(asset: Asset, key: str) -> NotFoundError:
    logger.error("asset.file.missing", extra={"asset_id": str(asset.id), "storage_key": key})
    return NotFoundError(
        f"The stored file of asset '{asset.id}' is missing; the asset cannot be shown. Run its workflow again "
        "to recreate it."
    )


@router.patch("/assets/{assetId}", response_model=AssetPublic)
def update_asset(assetId: uuid.UUID, body: AssetUpdate, user_id: CurrentUserId, context: Context) -> AssetPublic:  # noqa: N803
    """Mark or unmark the asset as a favourite; no other field can change."""
    extra = sorted((body.model_extra or {}).keys())
    if extra:
        listed = ", ".join(repr(name) for name in extra)
        raise InvalidInputError(
            f"Only 'favourite' can be changed on an asset; remove {listed} from the body.",
            errors=[{"field": name, "value": None, "message": f"{name}: cannot be changed"} for name in extra],
        )
    with context.database.write_session() as session:
        return AssetPublic.from_row(service.set_favourite(session, user_id, assetId, body.favourite))


@router.delete("/assets/{assetId}", status_code=status.HTTP_204_NO_CONTENT)
def delete_asset(assetId: uuid.UUID, user_id: CurrentUserId, context: Context) -> Response:  # noqa: N803
    """Remove the asset from the gallery; its file is purged later unless other assets share it."""
    with context.database.write_session() as session:
        service.delete_asset(session, user_id, assetId)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
