"""Type sniffing, measurements and thumbnails, on real files made by Pillow, wave and PyAV."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from falflow.assets.media import (
    UPLOAD_MAX_IMAGE_PIXELS,
    extension_for_mime_type,
    inspect_media,
    sniff_media_type,
)
from falflow.assets.models import AssetKind
from falflow.assets.thumbnails import THUMBNAIL_MAX_PX, render_image_thumbnail, render_video_poster
from falflow.kit.errors import InvalidInputError, UnsupportedMediaTypeError
from tests.assets import samples


@pytest.mark.parametrize(
    ("fmt", "mime_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp"), ("GIF", "image/gif")],
)
def test_images_sniffed_with_size(fmt: str, mime_type: str) -> None:
    info = inspect_media(samples.image_bytes(80, 30, fmt=fmt))
    assert info.media_type.kind is AssetKind.IMAGE
    assert info.media_type.mime_type == mime_type
    assert (info.width, info.height) == (80, 30)


def test_mp4_video_measured() -> None:
    info = inspect_media(samples.video_bytes(frames=24, fps=12, width=96, height=64))
    assert info.media_type.mime_type == "video/mp4"
    assert (info.width, info.height) == (96, 64)
    assert info.duration_seconds == pytest.approx(2.0, abs=0.1)


def test_webm_video_measured() -> None:
    info = inspect_media(samples.video_bytes(container="webm", codec="libvpx", frames=12, fps=12))
    assert info.media_type.mime_type == "video/webm"
    assert info.media_type.kind is AssetKind.VIDEO
    assert info.duration_seconds == pytest.approx(1.0, abs=0.1)


def test_wav_duration_from_wave() -> None:
    info = inspect_media(samples.wav_bytes(seconds=0.75))
    assert info.media_type.mime_type == "audio/wav"
    assert info.duration_seconds == pytest.approx(0.75)
    assert info.width is None


def test_mp3_sniffed_and_measured() -> None:
    info = inspect_media(samples.mp3_bytes(seconds=0.5))
    assert info.media_type.mime_type == "audio/mpeg"
    assert info.duration_seconds == pytest.approx(0.5, abs=0.1)


def test_text_and_json_told_apart() -> None:
    assert inspect_media(b'{"a": [1, 2]}').media_type.kind is AssetKind.JSON
    assert inspect_media(b"a cat on a mat").media_type.kind is AssetKind.TEXT
    assert inspect_media(b'{"a": 1}', expected_kind=AssetKind.TEXT).media_type.kind is AssetKind.TEXT
    assert inspect_media(b"42", expected_kind=AssetKind.JSON).media_type.kind is AssetKind.JSON


def test_html_and_svg_are_plain_text() -> None:
    for data in (samples.HTML_BYTES, samples.SVG_BYTES):
        media_type = sniff_media_type(data)
        assert media_type is not None
        assert media_type.mime_type == "text/plain; charset=utf-8"


def test_unknown_binary_rejected() -> None:
    with pytest.raises(UnsupportedMediaTypeError, match="not a supported media type"):
        inspect_media(b"\x00\x01\x02\x03\xfe\xff" * 10)


def test_expected_kind_mismatch_rejected() -> None:
    with pytest.raises(UnsupportedMediaTypeError, match="expected image data"):
        inspect_media(samples.HTML_BYTES, expected_kind=AssetKind.IMAGE)
    with pytest.raises(UnsupportedMediaTypeError, match="expected json data"):
        inspect_media(b"not json", expected_kind=AssetKind.JSON)


def test_pixel_flood_rejected_from_header() -> None:
    flood = samples.png_header_only(50_000, 50_000)
    assert len(flood) < 200
    with pytest.raises(InvalidInputError, match="50000x50000") as caught:
        inspect_media(flood, max_image_pixels=UPLOAD_MAX_IMAGE_PIXELS, field="file")
    assert caught.value.errors[0]["field"] == "file"


def test_own_pixel_limit_below_pillows() -> None:
    # 42 megapixels: under Pillow's own bomb threshold, over the upload limit.
    with pytest.raises(InvalidInputError, match="7000x6000"):
        inspect_media(samples.png_header_only(7000, 6000), max_image_pixels=UPLOAD_MAX_IMAGE_PIXELS)


def test_generated_huge_image_kept_with_size() -> None:
    info = inspect_media(samples.png_header_only(50_000, 50_000))
    assert (info.width, info.height) == (50_000, 50_000)


def test_corrupt_image_header_rejected() -> None:
    with pytest.raises(UnsupportedMediaTypeError, match="header is invalid"):
        inspect_media(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)


def test_image_thumbnail_is_small_webp() -> None:
    thumbnail = render_image_thumbnail(samples.image_bytes(1200, 600, fmt="JPEG"), "JPEG")
    with Image.open(io.BytesIO(thumbnail)) as image:
        assert image.format == "WEBP"
        assert max(image.size) == THUMBNAIL_MAX_PX
        assert image.size == (384, 192)


def test_video_poster_is_webp() -> None:
    poster = render_video_poster(samples.video_bytes(width=128, height=96), max_source_pixels=10**6)
    with Image.open(io.BytesIO(poster)) as image:
        assert image.format == "WEBP"
        assert image.size == (128, 96)


def test_extension_for_mime_type() -> None:
    assert extension_for_mime_type("image/jpeg") == "jpg"
    assert extension_for_mime_type("text/plain; charset=utf-8") == "txt"
    assert extension_for_mime_type("application/x-unknown") == "bin"
