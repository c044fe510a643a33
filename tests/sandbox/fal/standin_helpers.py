"""Small test inputs: a PNG with a subject on a plain background and a WAV tone."""

from __future__ import annotations

import io
import math
import struct
import wave

from PIL import Image


def png_bytes(width: int, height: int, color: tuple[int, int, int] = (40, 120, 200)) -> bytes:
    """Return a PNG with a plain background and a centred square, so background removal has a subject."""
    image = Image.new("RGB", (width, height), (250, 250, 250))
    image.paste(color, (width // 4, height // 4, width * 3 // 4, height * 3 // 4))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def wav_bytes(seconds: float, sample_rate: int = 8000) -> bytes:
    """Return a mono 16-bit WAV with a 440 Hz tone."""
    frames = b"".join(
        struct.pack("<h", int(3000 * math.sin(2 * math.pi * 440 * index / sample_rate)))
        for index in range(int(seconds * sample_rate))
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(sample_rate)
        writer.writeframes(frames)
    return buffer.getvalue()
