"""Builders of small, real media files for the asset tests (made with Pillow, wave and PyAV)."""

from __future__ import annotations

import io
import math
import struct
import wave
import zlib
from fractions import Fraction
from typing import cast

import av
from PIL import Image


def image_bytes(
    width: int = 64, height: int = 48, *, fmt: str = "PNG", color: tuple[int, int, int] = (200, 40, 40)
) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format=fmt)
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height` pixels (a pixel flood)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = chunk(b"IDAT", zlib.compress(b"\x00" * 16))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + pixels + chunk(b"IEND", b"")


def wav_bytes(seconds: float = 0.5, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        frames = int(seconds * rate)
        writer.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i / 10))) for i in range(frames)))
    return buffer.getvalue()


def video_bytes(*, container: str = "mp4", codec: str = "libx264", frames: int = 12, fps: int = 12,
                width: int = 64, height: int = 48) -> bytes:
    """A short video of solid-colour frames; `frames / fps` seconds long."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container) as output:
        stream = cast(av.VideoStream, output.add_stream(codec, rate=fps))
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, fps)
        for index in range(frames):
            shade = (index * 20) % 255
            picture = Image.new("RGB", (width, height), (shade, 255 - shade, 90))
            frame = av.VideoFrame.from_image(picture)  # type: ignore[no-untyped-call]
            frame.pts = index
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return buffer.getvalue()


def mp3_bytes(seconds: float = 0.5, rate: int = 22050) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp3") as output:
        stream = output.add_stream("libmp3lame", rate=rate, layout="mono")
        stream.format = "s16p"
        samples = int(seconds * rate)
        chunk = 1152
        for offset in range(0, samples, chunk):
            count = min(chunk, samples - offset)
            frame = av.AudioFrame(format="s16", layout="mono", samples=count)
            pcm = b"".join(struct.pack("<h", int(6000 * math.sin(i / 8))) for i in range(offset, offset + count))
            frame.planes[0].update(pcm)
            frame.sample_rate = rate
            frame.pts = offset
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return buffer.getvalue()


HTML_BYTES = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG_BYTES = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="10" height="10"/></svg>'
