"""Audio synthesis and WAV encoding for the sandbox's speech, music and video soundtracks.

Tones are built by repeating one precomputed waveform period, which is fast in pure Python. Speech is
one tone per word, with a length proportional to the word. WAV files made from text carry that text
in a RIFF ``LIST/INFO/ICMT`` chunk, so the sandbox's speech-to-text endpoints can return the original
words.
"""

from __future__ import annotations

import io
import math
import random
import struct
from dataclasses import dataclass

SPEECH_SAMPLE_RATE = 16_000
MUSIC_SAMPLE_RATE = 16_000
TEXT_COMMENT_PREFIX = "falflow-sandbox-text:"

_AMPLITUDE = 6000
# Speaking rate of the synthetic voice at speed 1: seconds per character of a word, plus a pause.
_SECONDS_PER_CHAR = 0.065
_WORD_PAUSE_SECONDS = 0.08
_PENTATONIC_HZ = (261.63, 293.66, 329.63, 392.0, 440.0, 523.25)


@dataclass(frozen=True)
class WordTiming:
    """One synthesized word and its start and end in seconds."""

    text: str
    start: float
    end: float


def tone(frequency: float, seconds: float, sample_rate: int, amplitude: int = _AMPLITUDE) -> bytes:
    """Return 16-bit mono PCM of a sine tone."""
    samples = max(0, round(seconds * sample_rate))
    period = max(2, round(sample_rate / frequency))
    cycle = b"".join(
        struct.pack("<h", int(amplitude * math.sin(2 * math.pi * index / period))) for index in range(period)
    )
    return (cycle * (samples // period + 1))[: samples * 2]


def silence(seconds: float, sample_rate: int) -> bytes:
    return b"\x00\x00" * max(0, round(seconds * sample_rate))


def speech_pcm(text: str, speed: float, seed: int) -> tuple[bytes, list[WordTiming]]:
    """Return PCM at ``SPEECH_SAMPLE_RATE`` with one tone per word, and each word's timing."""
    rng = random.Random(seed)
    speed = speed if speed > 0 else 1.0
    parts: list[bytes] = []
    timings: list[WordTiming] = []
    position = 0.0
    for word in text.split():
        seconds = len(word) * _SECONDS_PER_CHAR / speed
        parts.append(tone(rng.uniform(140, 260), seconds, SPEECH_SAMPLE_RATE))
        timings.append(WordTiming(word, round(position, 3), round(position + seconds, 3)))
        pause = _WORD_PAUSE_SECONDS / speed
        parts.append(silence(pause, SPEECH_SAMPLE_RATE))
        position += seconds + pause
    if not parts:
        parts.append(silence(0.5, SPEECH_SAMPLE_RATE))
    return b"".join(parts), timings


def music_pcm(seconds: float, seed: int, sample_rate: int = MUSIC_SAMPLE_RATE) -> bytes:
    """Return PCM of a seeded melody of quarter-second notes lasting ``seconds``."""
    rng = random.Random(seed)
    total = round(seconds * sample_rate)
    parts: list[bytes] = []
    produced = 0
    while produced < total:
        note = tone(rng.choice(_PENTATONIC_HZ), 0.25, sample_rate, amplitude=4000)
        parts.append(note)
        produced += len(note) // 2
    return b"".join(parts)[: total * 2]


def wav_bytes(pcm: bytes, sample_rate: int, *, comment: str | None = None) -> bytes:
    """Wrap 16-bit mono PCM in a WAV file, with ``comment`` in a LIST/INFO/ICMT chunk if given."""
    fmt = struct.pack("<HHIIHH", 1, 1, sample_rate, sample_rate * 2, 2, 16)
    chunks = [_chunk(b"fmt ", fmt)]
    if comment is not None:
        text = comment.encode("utf-8") + b"\x00"
        chunks.append(_chunk(b"LIST", b"INFO" + _chunk(b"ICMT", text)))
    chunks.append(_chunk(b"data", pcm))
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def read_wav_comment(data: bytes) -> str | None:
    """Return the ICMT text of a WAV file, or None if it has none."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    stream = io.BytesIO(data[12:])
    while True:
        header = stream.read(8)
        if len(header) < 8:
            return None
        chunk_id, size = header[:4], struct.unpack("<I", header[4:])[0]
        payload = stream.read(size + (size & 1))[:size]
        if chunk_id == b"LIST" and payload[:4] == b"INFO":
            return _find_info_comment(payload[4:])


def _find_info_comment(info: bytes) -> str | None:
    offset = 0
    while offset + 8 <= len(info):
        chunk_id, size = info[offset : offset + 4], struct.unpack("<I", info[offset + 4 : offset + 8])[0]
        if chunk_id == b"ICMT":
            return info[offset + 8 : offset + 8 + size].rstrip(b"\x00").decode("utf-8", errors="replace")
        offset += 8 + size + (size & 1)
    return None


def _chunk(chunk_id: bytes, payload: bytes) -> bytes:
    padding = b"\x00" if len(payload) % 2 else b""
    return chunk_id + struct.pack("<I", len(payload)) + payload + padding
