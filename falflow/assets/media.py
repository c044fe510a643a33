"""Identify stored bytes: the media type from magic bytes, then dimensions and duration.

The declared content type and the file name are never trusted; only the bytes decide. Images
are recognised by signature and their header is parsed by the matching Pillow plugin alone,
without decoding pixels, so the pixel limit applies before anything large is allocated.
Audio and video durations come from `wave` (PCM WAV) or PyAV (everything else).
"""

from __future__ import annotations

import io
import json
import logging
import struct
import wave
from dataclasses import dataclass

import av
from PIL import GifImagePlugin, Image, ImageFile, JpegImagePlugin, PngImagePlugin, WebPImagePlugin

from falflow.assets.models import AssetKind
from falflow.kit.errors import InvalidInputError, UnsupportedMediaTypeError

logger = logging.getLogger("falflow.assets.media")

# Uploads larger than this are rejected before decoding (a pixel flood, or simply too large).
UPLOAD_MAX_IMAGE_PIXELS = 40_000_000
# Generated images larger than this are stored without a thumbnail. 8192 x 8192 (a 4x upscale
# of 2048 x 2048) fits, and the limit stays below Pillow's own bomb warning (89,478,485).
THUMBNAIL_MAX_SOURCE_PIXELS = 80_000_000

_PILLOW_HEADER_ERRORS = (SyntaxError, OSError, ValueError, EOFError, IndexError, TypeError, struct.error)


@dataclass(frozen=True)
class MediaType:
    kind: AssetKind
    mime_type: str
    extension: str


@dataclass(frozen=True)
class MediaInfo:
    """Media type of some bytes, with the measurements that could be read."""

    media_type: MediaType
    width: int | None = None
    height: int | None = None
    duration_seconds: float | None = None
    # Pillow's format name ("PNG", "JPEG", ...) for images.
    image_format: str | None = None

    @property
    def pixels(self) -> int | None:
        return self.width * self.height if self.width is not None and self.height is not None else None


IMAGE_TYPES: dict[str, MediaType] = {
    "PNG": MediaType(AssetKind.IMAGE, "image/png", "png"),
    "JPEG": MediaType(AssetKind.IMAGE, "image/jpeg", "jpg"),
    "WEBP": MediaType(AssetKind.IMAGE, "image/webp", "webp"),
    "GIF": MediaType(AssetKind.IMAGE, "image/gif", "gif"),
}
_IMAGE_HEADER_PARSERS: dict[str, type[ImageFile.ImageFile]] = {
    "PNG": PngImagePlugin.PngImageFile,
    "JPEG": JpegImagePlugin.JpegImageFile,
    "WEBP": WebPImagePlugin.WebPImageFile,
    "GIF": GifImagePlugin.GifImageFile,
}

_MP4_VIDEO = MediaType(AssetKind.VIDEO, "video/mp4", "mp4")
_MP4_AUDIO = MediaType(AssetKind.AUDIO, "audio/mp4", "m4a")
_QUICKTIME = MediaType(AssetKind.VIDEO, "video/quicktime", "mov")
_WEBM_VIDEO = MediaType(AssetKind.VIDEO, "video/webm", "webm")
_WEBM_AUDIO = MediaType(AssetKind.AUDIO, "audio/webm", "webm")
_MATROSKA_VIDEO = MediaType(AssetKind.VIDEO, "video/x-matroska", "mkv")
_MATROSKA_AUDIO = MediaType(AssetKind.AUDIO, "audio/x-matroska", "mka")
_WAV = MediaType(AssetKind.AUDIO, "audio/wav", "wav")
_MP3 = MediaType(AssetKind.AUDIO, "audio/mpeg", "mp3")
_OGG = MediaType(AssetKind.AUDIO, "audio/ogg", "ogg")
_FLAC = MediaType(AssetKind.AUDIO, "audio/flac", "flac")
TEXT_TYPE = MediaType(AssetKind.TEXT, "text/plain; charset=utf-8", "txt")
JSON_TYPE = MediaType(AssetKind.JSON, "application/json", "json")

# A container that turns out to hold no video stream is stored as its audio-only type.
_AUDIO_ONLY_VARIANT = {_MP4_VIDEO: _MP4_AUDIO, _WEBM_VIDEO: _WEBM_AUDIO, _MATROSKA_VIDEO: _MATROSKA_AUDIO}

SUPPORTED_TYPES_TEXT = (
    "PNG, JPEG, WebP or GIF images; MP4, WebM, QuickTime or Matroska video; "
    "WAV, MP3, M4A, OGG or FLAC audio; UTF-8 text; JSON"
)


def sniff_image_format(data: bytes) -> str | None:
    """Return Pillow's format name when `data` starts with a supported image signature."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def _sniff_audio_video(data: bytes) -> MediaType | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return _WAV
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in (b"M4A ", b"M4B ", b"M4P "):
            return _MP4_AUDIO
        return _QUICKTIME if brand == b"qt  " else _MP4_VIDEO
    if data[:4] == b"\x1a\x45\xdf\xa3":
        # An EBML header. Its DocType element names WebM or general Matroska.
        return _WEBM_VIDEO if b"webm" in data[:64] else _MATROSKA_VIDEO
    if data[:4] == b"OggS":
        return _OGG
    if data[:4] == b"fLaC":
        return _FLAC
    if data[:3] == b"ID3":
        return _MP3
    # An MPEG audio frame: 11 sync bits, then a layer field that is not 00 (AAC's ADTS has 00).
    if len(data) >= 2 and data[0] == 0xFF and (data[1] & 0xE0) == 0xE0 and (data[1] & 0x06) != 0:
        return _MP3
    return None


def _sniff_text(data: bytes, *, expected_kind: AssetKind | None) -> MediaType | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\x00" in text:
        return None
    stripped = text.strip()
    looks_structured = stripped[:1] in ("{", "[")
    if looks_structured or expected_kind is AssetKind.JSON:
        try:
            json.loads(stripped)
        except ValueError:
            return TEXT_TYPE
        if expected_kind is not AssetKind.TEXT:
            return JSON_TYPE
    return TEXT_TYPE


def sniff_media_type(data: bytes, *, expected_kind: AssetKind | None = None) -> MediaType | None:
    """Return the media type the bytes carry, or None for anything unsupported.

    `expected_kind` only settles the text/JSON ambiguity: JSON data for a text output is text,
    and a bare JSON scalar such as `42` is JSON when JSON is expected.
    """
    image_format = sniff_image_format(data)
    if image_format is not None:
        return IMAGE_TYPES[image_format]
    return _sniff_audio_video(data) or _sniff_text(data, expected_kind=expected_kind)


def inspect_media(
    data: bytes,
    *,
    expected_kind: AssetKind | None = None,
    max_image_pixels: int | None = None,
    field: str = "data",
) -> MediaInfo:
    """Identify `data` and measure it.

    Raises `UnsupportedMediaTypeError` when the bytes are no supported type, are not
    `expected_kind`, or are an image whose header cannot be parsed, and `InvalidInputError`
    when an image has more than `max_image_pixels` pixels. `field` names the input in messages.
    """
    media_type = sniff_media_type(data, expected_kind=expected_kind)
    if media_type is None:
        raise UnsupportedMediaTypeError(
            f"{field}: the bytes (starting {data[:8]!r}) are not a supported media type; send {SUPPORTED_TYPES_TEXT}."
        )
    if media_type.kind is AssetKind.IMAGE:
        info = _inspect_image(data, media_type, max_image_pixels=max_image_pixels, field=field)
    elif media_type.kind in (AssetKind.VIDEO, AssetKind.AUDIO):
        info = _inspect_audio_video(data, media_type)
    else:
        info = MediaInfo(media_type=media_type)
    if expected_kind is not None and info.media_type.kind is not expected_kind:
        raise UnsupportedMediaTypeError(
            f"{field}: expected {expected_kind.value} data, but the bytes are {info.media_type.mime_type}; "
            f"send {expected_kind.value} data or change the expected kind."
        )
    return info


def _inspect_image(data: bytes, media_type: MediaType, *, max_image_pixels: int | None, field: str) -> MediaInfo:
    image_format = sniff_image_format(data)
    assert image_format is not None
    try:
        # The plugin class parses only the header. Image.open would also run Pillow's bomb
        # check, which warns or raises at higher limits than the ones checked below.
        with _IMAGE_HEADER_PARSERS[image_format](io.BytesIO(data)) as header:
            width, height = header.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        if max_image_pixels is not None:
            raise _too_many_pixels(field, None, max_image_pixels) from exc
        logger.warning("asset.image.size_unreadable", extra={"image_format": image_format, "error": str(exc)})
        return MediaInfo(media_type=media_type, image_format=image_format)
    except _PILLOW_HEADER_ERRORS as exc:
        raise UnsupportedMediaTypeError(
            f"{field}: the {image_format} image header is invalid ({exc}); send an intact PNG, JPEG, WebP or GIF file."
        ) from exc
    if max_image_pixels is not None and width * height > max_image_pixels:
        raise _too_many_pixels(field, (width, height), max_image_pixels)
    return MediaInfo(media_type=media_type, width=width, height=height, image_format=image_format)


def _too_many_pixels(field: str, size: tuple[int, int] | None, limit: int) -> InvalidInputError:
    dimensions = f"{size[0]}x{size[1]}" if size else "larger than Pillow's safety limit"
    megapixels = f" ({size[0] * size[1] / 1e6:.1f} megapixels)" if size else ""
    return InvalidInputError(
        f"{field}: the image is {dimensions}{megapixels}, over the limit of {limit / 1e6:.0f} megapixels; "
        "resize it and upload it again.",
        errors=[{"field": field, "value": dimensions, "message": f"{field}: at most {limit} pixels (width x height)"}],
    )


def _inspect_audio_video(data: bytes, media_type: MediaType) -> MediaInfo:
    if media_type is _WAV:
        duration = _wav_duration(data)
        if duration is not None:
            return MediaInfo(media_type=media_type, duration_seconds=duration)
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            video = container.streams.video[0] if container.streams.video else None
            has_audio = bool(container.streams.audio)
            duration = _container_duration(container)
            width = height = None
            if video is not None:
                width = video.codec_context.width or None
                height = video.codec_context.height or None
    except av.FFmpegError as exc:
        logger.warning("asset.media.probe_failed", extra={"mime_type": media_type.mime_type, "error": str(exc)})
        return MediaInfo(media_type=media_type)
    if video is None and has_audio and media_type in _AUDIO_ONLY_VARIANT:
        media_type = _AUDIO_ONLY_VARIANT[media_type]
    if media_type.kind is AssetKind.AUDIO:
        width = height = None
    return MediaInfo(media_type=media_type, width=width, height=height, duration_seconds=duration)


def _wav_duration(data: bytes) -> float | None:
    try:
        with wave.open(io.BytesIO(data), "rb") as reader:
            rate = reader.getframerate()
            return reader.getnframes() / rate if rate else None
    except (wave.Error, EOFError):
        # Not PCM (float or compressed WAV); PyAV reads those.
        return None


def _container_duration(container: av.container.InputContainer) -> float | None:
    if container.duration:
        return float(container.duration / av.time_base)
    for stream in container.streams:
        if stream.duration and stream.time_base:
            return float(stream.duration * stream.time_base)
    return None


_EXTENSION_BY_MIME = {
    media_type.mime_type: media_type.extension
    for media_type in (
        *IMAGE_TYPES.values(), _MP4_VIDEO, _MP4_AUDIO, _QUICKTIME, _WEBM_VIDEO, _WEBM_AUDIO, _MATROSKA_VIDEO,
        _MATROSKA_AUDIO, _WAV, _MP3, _OGG, _FLAC, TEXT_TYPE, JSON_TYPE,
    )
}


def extension_for_mime_type(mime_type: str) -> str:
    """Return the file extension (no dot) for a MIME type this module produces, else "bin"."""
    return _EXTENSION_BY_MIME.get(mime_type, "bin")
