"""Asset use cases: store run outputs and uploads, reuse cached outputs, browse and delete.

Services take the caller's session and flush at most; the API dependency or the run engine
commits. Files are written before the row is flushed, so a rolled-back transaction can leave an
unreferenced file behind, but never a row whose file is missing. The run engine writes an
output's file with `prepare_file` before it opens its write transaction, so hashing, thumbnails
and storage calls do not hold the database's write lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from falflow.assets import repository
from falflow.assets.errors import SharedFileGoneError
from falflow.assets.filenames import clean_original_filename
from falflow.assets.lineage import AssetLineage, asset_lineage
from falflow.assets.listing import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, AssetCursor, AssetFilters, AssetPage
from falflow.assets.media import (
    THUMBNAIL_MAX_SOURCE_PIXELS,
    UPLOAD_MAX_IMAGE_PIXELS,
    MediaInfo,
    inspect_media,
)
from falflow.assets.models import Asset, AssetKind
from falflow.assets.purge import PurgeReport, purge_deleted_assets
from falflow.assets.storage import AssetStorage, new_object_key
from falflow.assets.thumbnails import (
    THUMBNAIL_MIME_TYPE,
    ThumbnailError,
    render_image_thumbnail,
    render_video_poster,
)
from falflow.kit.errors import InvalidInputError, NotFoundError, UnsupportedMediaTypeError
from falflow.kit.timeutil import utcnow

logger = logging.getLogger("falflow.assets")

# Opens a read-only session, such as `Database.read_session`; it is held only for single queries.
ReadSession = Callable[[], contextlib.AbstractContextManager[Session]]

__all__ = [
    "AssetLineage",
    "PurgeReport",
    "asset_lineage",
    "delete_asset",
    "get_asset_for_owner",
    "PreparedFile",
    "discard_prepared",
    "list_assets",
    "prepare_file",
    "prepare_upload",
    "render_thumbnail",
    "forget_thumbnail",
    "purge_deleted_assets",
    "reuse_asset",
    "set_favourite",
    "store_asset",
    "upload_image",
]


@dataclass(frozen=True)
class _Provenance:
    """Provenance of an asset, copied onto its row unchanged."""

    workflow_id: uuid.UUID | None = None
    run_id: uuid.UUID | None = None
    node_id: str | None = None
    item_index: int = 0
    endpoint_id: str | None = None
    params: dict[str, Any] | None = None
    seed: int | None = None
    cost_credits: int = 0
    prompt: str | None = None
    source_url: str | None = None
    sandbox: bool = False
    original_filename: str | None = None


@dataclass(frozen=True)
class PreparedFile:
    """A file in storage, with its thumbnail, that waits for its asset row."""

    owner_id: uuid.UUID
    sha256: str
    size_bytes: int
    info: MediaInfo
    storage_key: str
    thumbnail_key: str | None
    # False when the owner already had these bytes and the file of that asset is reused.
    written: bool
    # True when `thumbnail_key` is reserved but not yet rendered (`prepare_file(defer_thumbnail=True)`).
    thumbnail_pending: bool = False


def prepare_file(
    read_session: ReadSession,
    storage: AssetStorage,
    *,
    owner_id: uuid.UUID,
    data: bytes,
    content_type: str,
    kind: str | None = None,
    run_id: uuid.UUID | None = None,
    defer_thumbnail: bool = False,
) -> PreparedFile:
    """Check an output's bytes and write its file and thumbnail, unless the owner has these bytes.

    This runs before the transaction that stores the row with `store_asset(..., prepared=...)`.
    `read_session` serves the lookup of stored bytes only, so no session stays open while the
    thumbnail is rendered and the file written. Raises like `store_asset`.

    With `defer_thumbnail`, an image or video gets a reserved thumbnail key but no thumbnail yet:
    the caller renders it after the row is committed, with `render_thumbnail`. The thumbnail route
    renders a thumbnail that is still missing when it is first requested.
    """
    info = inspect_media(data, expected_kind=_parse_kind(kind))
    declared = content_type.split(";")[0].strip().lower()
    if declared and declared != info.media_type.mime_type.split(";")[0]:
        logger.info(
            "asset.content_type.mismatch",
            extra={
                "declared_content_type": declared[:100],
                "sniffed_mime_type": info.media_type.mime_type,
                "run_id": run_id,
            },
        )
    return _write_file(
        read_session, storage, owner_id=owner_id, data=data, info=info, strict=False, defer_thumbnail=defer_thumbnail
    )


def render_thumbnail(storage: AssetStorage, *, storage_key: str, thumbnail_key: str, check_first: bool = True) -> bool:
    """Render the thumbnail of the stored file `storage_key` into `thumbnail_key`, unless it exists.

    Return False when the file has no thumbnail (it does not decode, or has too many pixels), so
    that the caller can clear the reserved key with `forget_thumbnail`. `check_first=False` skips
    the existence check, for a caller that knows the thumbnail was not written yet.
    Raises `StoredObjectNotFoundError` when the file itself is missing.
    """
    if check_first and storage.exists(thumbnail_key):
        return True
    data = storage.get(storage_key)
    try:
        info = inspect_media(data)
    except (UnsupportedMediaTypeError, InvalidInputError) as exc:
        logger.warning("asset.thumbnail.failed", extra={"storage_key": storage_key, "error": str(exc)[:300]})
        return False
    thumbnail = _render_thumbnail(data, info, strict=False)
    if thumbnail is None:
        return False
    storage.put(thumbnail_key, thumbnail, THUMBNAIL_MIME_TYPE)
    return True


def forget_thumbnail(session: Session, thumbnail_key: str) -> None:
    """Clear a reserved thumbnail key that `render_thumbnail` could not fill, on every row sharing it."""
    repository.clear_thumbnail_key(session, thumbnail_key)


def discard_prepared(read_session: ReadSession, storage: AssetStorage, prepared: list[PreparedFile]) -> None:
    """Remove the files that `prepare_file` wrote for rows that were not stored.

    A commit can fail on the client after the server applied it, so a file is kept when any row
    names it, and every file is kept when that cannot be read. A kept orphan costs space only.
    """
    keys = [key for file in prepared if file.written for key in (file.storage_key, file.thumbnail_key) if key]
    if not keys:
        return
    try:
        with read_session() as session:
            unused = [key for key in keys if not repository.key_referenced(session, key)]
    except Exception:  # noqa: BLE001 - the caller's own error matters more than the clean-up
        logger.warning("asset.discard_skipped", extra={"storage_keys": keys}, exc_info=True)
        return
    for key in unused:
        try:
            storage.delete(key)
        except Exception:  # noqa: BLE001 - an orphaned file costs space, never data
            logger.warning("asset.discard_failed", extra={"storage_key": key}, exc_info=True)


def store_asset(
    session: Session,
    storage: AssetStorage,
    *,
    owner_id: uuid.UUID,
    data: bytes,
    content_type: str,
    kind: str | None = None,
    workflow_id: uuid.UUID | None,
    run_id: uuid.UUID | None,
    node_id: str | None,
    item_index: int = 0,
    endpoint_id: str | None,
    params: dict[str, Any],
    seed: int | None,
    cost_credits: int,
    parent_asset_ids: list[uuid.UUID],
    prompt: str | None,
    source_url: str | None,
    sandbox: bool,
    prepared: PreparedFile | None = None,
) -> Asset:
    """Store one output file of a run and flush its row.

    The type comes from the bytes; `content_type` (what the provider declared) is only logged
    when it disagrees. `kind`, when given, must match the bytes. Identical bytes that the owner
    already has are not stored again: the new row shares the existing file and thumbnail.
    `prepared`, from `prepare_file` for the same bytes, means the file is in storage already.

    Raises `UnsupportedMediaTypeError` for bytes of no supported type or of another kind, and
    `InvalidInputError` for a bad `kind`, `item_index`, `cost_credits` or parent id.
    """
    if item_index < 0:
        raise _invalid("item_index", item_index, "must be 0 or more")
    if cost_credits < 0:
        raise _invalid("cost_credits", cost_credits, "must be 0 or more")
    parents = _check_parents(session, owner_id, parent_asset_ids)
    if prepared is None:
        prepared = prepare_file(
            _in(session), storage, owner_id=owner_id, data=data, content_type=content_type, kind=kind, run_id=run_id
        )
    else:
        _check_prepared(prepared, owner_id, data)
    provenance = _Provenance(
        workflow_id=workflow_id, run_id=run_id, node_id=node_id, item_index=item_index, endpoint_id=endpoint_id,
        params=params, seed=seed, cost_credits=cost_credits, prompt=prompt, source_url=source_url, sandbox=sandbox,
    )
    return _add_row(session, prepared, provenance=provenance, parents=parents)


def prepare_upload(read_session: ReadSession, storage: AssetStorage, *, owner_id: uuid.UUID, data: bytes) -> PreparedFile:
    """Check an uploaded image and write its file and thumbnail, like `prepare_file`.

    Raises `UnsupportedMediaTypeError` (415) unless the bytes are a PNG, JPEG, WebP or GIF that
    decodes, and `InvalidInputError` (422) when it is empty or over `UPLOAD_MAX_IMAGE_PIXELS`.
    """
    if not data:
        raise _invalid("file", "", "is empty; choose an image file")
    info = inspect_media(data, expected_kind=AssetKind.IMAGE, max_image_pixels=UPLOAD_MAX_IMAGE_PIXELS, field="file")
    return _write_file(read_session, storage, owner_id=owner_id, data=data, info=info, strict=True)


def upload_image(
    session: Session,
    storage: AssetStorage,
    *,
    owner_id: uuid.UUID,
    data: bytes,
    filename: str | None,
    prepared: PreparedFile | None = None,
) -> Asset:
    """Store an image a user uploaded for an image-input node, and flush its row.

    `prepared` comes from `prepare_upload` for the same bytes; without it the image is checked and
    written here. Raises like `prepare_upload`.
    """
    if prepared is None:
        prepared = prepare_upload(_in(session), storage, owner_id=owner_id, data=data)
    else:
        _check_prepared(prepared, owner_id, data)
    provenance = _Provenance(original_filename=clean_original_filename(filename))
    return _add_row(session, prepared, provenance=provenance, parents=[])


def reuse_asset(
    session: Session,
    *,
    source: Asset,
    run_id: uuid.UUID | None,
    node_id: str | None,
    item_index: int,
    workflow_id: uuid.UUID | None,
    parent_asset_ids: list[uuid.UUID] | None = None,
) -> Asset:
    """Record a cache hit: a new row for `source`'s owner that points at the same stored file.

    Nothing is copied in storage. The row costs 0 credits, names `source` in
    `reused_from_asset_id`, and keeps `source`'s parents unless `parent_asset_ids` is given.
    """
    if parent_asset_ids is None:
        parent_ids = [uuid.UUID(value) for value in source.parent_asset_ids]
    else:
        parent_ids = _check_parents(session, source.owner_id, parent_asset_ids)
    row = Asset(
        owner_id=source.owner_id,
        kind=source.kind,
        mime_type=source.mime_type,
        size_bytes=source.size_bytes,
        sha256=source.sha256,
        width=source.width,
        height=source.height,
        duration_seconds=source.duration_seconds,
        storage_key=source.storage_key,
        thumbnail_key=source.thumbnail_key,
        original_filename=source.original_filename,
        workflow_id=workflow_id,
        run_id=run_id,
        node_id=node_id,
        item_index=item_index,
        endpoint_id=source.endpoint_id,
        params=dict(source.params),
        seed=source.seed,
        cost_credits=0,
        prompt=source.prompt,
        parent_asset_ids=[str(parent_id) for parent_id in parent_ids],
        sandbox=source.sandbox,
        source_url=source.source_url,
        reused_from_asset_id=source.id,
    )
    repository.add(session, row)
    repository.add_parent_links(session, row.id, parent_ids)
    logger.info("asset.reused", extra={"asset_id": str(row.id), "source_asset_id": str(source.id), "run_id": run_id})
    return row


def get_asset_for_owner(session: Session, owner_id: uuid.UUID, asset_id: uuid.UUID) -> Asset:
    """Return the owner's live asset, or raise 404 (also for another user's or a deleted asset)."""
    asset = repository.get_for_owner(session, owner_id, asset_id)
    if asset is None:
        raise NotFoundError.for_resource("Asset", asset_id)
    return asset


def list_assets(
    session: Session,
    owner_id: uuid.UUID,
    *,
    filters: AssetFilters | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> AssetPage:
    """Return one page of the owner's live assets, newest first, and the cursor for the next."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise _invalid("limit", limit, f"must be between 1 and {MAX_PAGE_SIZE}")
    after = AssetCursor.decode(cursor) if cursor else None
    # Fetching one extra row shows whether another page follows, without a second query.
    rows = repository.list_page(session, owner_id, filters or AssetFilters(), limit=limit + 1, after=after)
    items = rows[:limit]
    next_cursor = AssetCursor.after(items[-1]).encode() if len(rows) > limit else None
    return AssetPage(items=items, next_cursor=next_cursor)


def set_favourite(session: Session, owner_id: uuid.UUID, asset_id: uuid.UUID, favourite: bool) -> Asset:
    asset = get_asset_for_owner(session, owner_id, asset_id)
    asset.favourite = favourite
    repository.save(session, asset)
    return asset


def delete_asset(session: Session, owner_id: uuid.UUID, asset_id: uuid.UUID) -> None:
    """Hide the asset; `purge_deleted_assets` removes its file later, once no other row uses it."""
    asset = get_asset_for_owner(session, owner_id, asset_id)
    asset.deleted_at = utcnow()
    repository.save(session, asset)
    logger.info("asset.deleted", extra={"asset_id": str(asset.id), "owner_id": str(owner_id)})


def _in(session: Session) -> ReadSession:
    """Return a `ReadSession` that reuses the caller's open session."""
    return lambda: contextlib.nullcontext(session)


def _write_file(
    read_session: ReadSession, storage: AssetStorage, *, owner_id: uuid.UUID, data: bytes, info: MediaInfo,
    strict: bool, defer_thumbnail: bool = False,
) -> PreparedFile:
    """Write the file and its thumbnail, unless the owner already has these bytes in storage.

    With `strict`, an image that does not decode is rejected (415); otherwise it is stored
    without a thumbnail. With `defer_thumbnail`, the thumbnail's key is only reserved.
    """
    digest = hashlib.sha256(data).hexdigest()
    with read_session() as session:
        twin = repository.find_live_with_sha256(session, owner_id, digest)
    if twin is not None and storage.exists(twin.storage_key):
        return PreparedFile(
            owner_id=owner_id, sha256=digest, size_bytes=len(data), info=info, storage_key=twin.storage_key,
            thumbnail_key=twin.thumbnail_key, written=False,
        )
    storage_key = new_object_key(owner_id, info.media_type.extension)
    if defer_thumbnail and _may_have_thumbnail(info):
        storage.put(storage_key, data, info.media_type.mime_type)
        return PreparedFile(
            owner_id=owner_id, sha256=digest, size_bytes=len(data), info=info, storage_key=storage_key,
            thumbnail_key=new_object_key(owner_id, "webp"), written=True, thumbnail_pending=True,
        )
    thumbnail = _render_thumbnail(data, info, strict=strict)
    storage.put(storage_key, data, info.media_type.mime_type)
    thumbnail_key = None
    if thumbnail is not None:
        thumbnail_key = new_object_key(owner_id, "webp")
        storage.put(thumbnail_key, thumbnail, THUMBNAIL_MIME_TYPE)
    return PreparedFile(
        owner_id=owner_id, sha256=digest, size_bytes=len(data), info=info, storage_key=storage_key,
        thumbnail_key=thumbnail_key, written=True,
    )


def _check_prepared(prepared: PreparedFile, owner_id: uuid.UUID, data: bytes) -> None:
    # A cheap guard against passing the wrong file: it compares owner and size, not a new hash.
    if prepared.owner_id != owner_id or prepared.size_bytes != len(data):
        raise ValueError(
            f"prepared: the file {prepared.storage_key!r} was prepared for another owner or other bytes; "
            "pass the PreparedFile that prepare_file returned for these bytes"
        )


def _add_row(session: Session, file: PreparedFile, *, provenance: _Provenance, parents: list[uuid.UUID]) -> Asset:
    if not file.written and not repository.has_live_with_key(session, file.owner_id, file.storage_key):
        # The asset whose file this reuses was deleted after `prepare_file` found it, and a purge
        # may remove the file. A retry prepares the bytes again and writes a file of its own.
        raise SharedFileGoneError(
            f"the stored file {file.storage_key!r} that these bytes were to share is no longer in use; "
            "prepare the file again"
        )
    info = file.info
    row = Asset(
        owner_id=file.owner_id,
        kind=info.media_type.kind.value,
        mime_type=info.media_type.mime_type,
        size_bytes=file.size_bytes,
        sha256=file.sha256,
        width=info.width,
        height=info.height,
        duration_seconds=info.duration_seconds,
        storage_key=file.storage_key,
        thumbnail_key=file.thumbnail_key,
        original_filename=provenance.original_filename,
        workflow_id=provenance.workflow_id,
        run_id=provenance.run_id,
        node_id=provenance.node_id,
        item_index=provenance.item_index,
        endpoint_id=provenance.endpoint_id,
        params=dict(provenance.params or {}),
        seed=provenance.seed,
        cost_credits=provenance.cost_credits,
        prompt=provenance.prompt,
        parent_asset_ids=[str(parent_id) for parent_id in parents],
        sandbox=provenance.sandbox,
        source_url=provenance.source_url,
    )
    repository.add(session, row)
    repository.add_parent_links(session, row.id, parents)
    logger.info(
        "asset.stored",
        extra={
            "asset_id": str(row.id), "owner_id": str(file.owner_id), "kind": row.kind, "size_bytes": row.size_bytes,
            "deduplicated": not file.written, "run_id": provenance.run_id, "node_id": provenance.node_id,
        },
    )
    return row


def _may_have_thumbnail(info: MediaInfo) -> bool:
    """Tell whether a thumbnail can be tried: images of a known, bounded size, and videos."""
    kind = info.media_type.kind
    if kind is AssetKind.VIDEO:
        return True
    return kind is AssetKind.IMAGE and info.pixels is not None and info.pixels <= THUMBNAIL_MAX_SOURCE_PIXELS


def _render_thumbnail(data: bytes, info: MediaInfo, *, strict: bool) -> bytes | None:
    kind = info.media_type.kind
    if kind not in (AssetKind.IMAGE, AssetKind.VIDEO):
        return None
    if not _may_have_thumbnail(info):
        logger.warning("asset.thumbnail.skipped", extra={"reason": "too_many_pixels", "pixels": info.pixels})
        return None
    try:
        if kind is AssetKind.IMAGE:
            assert info.image_format is not None
            return render_image_thumbnail(data, info.image_format)
        return render_video_poster(data, max_source_pixels=THUMBNAIL_MAX_SOURCE_PIXELS)
    except ThumbnailError as exc:
        if strict:
            raise UnsupportedMediaTypeError(
                f"file: the {info.media_type.mime_type} image could not be decoded ({exc}); "
                "send an intact PNG, JPEG, WebP or GIF file."
            ) from exc
        logger.warning("asset.thumbnail.failed", extra={"mime_type": info.media_type.mime_type, "error": str(exc)})
        return None


def _parse_kind(kind: str | None) -> AssetKind | None:
    if kind is None:
        return None
    try:
        return AssetKind(kind)
    except ValueError:
        allowed = ", ".join(k.value for k in AssetKind)
        raise _invalid("kind", kind, f"must be one of {allowed}") from None


def _check_parents(session: Session, owner_id: uuid.UUID, parent_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """Return `parent_ids` if every one is an asset of the owner (deleted ones count)."""
    found = {asset.id for asset in repository.get_many_for_owner(session, owner_id, parent_ids)}
    unknown = [parent_id for parent_id in parent_ids if parent_id not in found]
    if unknown:
        raise _invalid(
            "parent_asset_ids", str(unknown[0]), "names no asset of this owner; pass ids of the owner's input assets"
        )
    return list(parent_ids)


def _invalid(field: str, value: object, rule: str) -> InvalidInputError:
    return InvalidInputError(
        f"{field} {value!r} {rule}.",
        errors=[{"field": field, "value": value, "message": f"{field}: {rule}"}],
    )
