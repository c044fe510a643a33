"""Text-to-speech, music and speech-to-text endpoints."""

from __future__ import annotations

from typing import Any

from falflow.sandbox.fal.generators.audio import (
    MUSIC_SAMPLE_RATE,
    SPEECH_SAMPLE_RATE,
    TEXT_COMMENT_PREFIX,
    music_pcm,
    read_wav_comment,
    speech_pcm,
    wav_bytes,
)
from falflow.sandbox.fal.generators.context import GenerationContext
from falflow.sandbox.fal.generators.media_inputs import audio_seconds

# Lyria 2 returns clips of this length in seconds.
_LYRIA_SECONDS = 30.0


def text_to_speech(ctx: GenerationContext, *, text_param: str, with_duration_ms: bool = False) -> dict[str, Any]:
    """Return fal's TTS output: ``audio`` (a WAV) plus the endpoint's extra fields."""
    text = ctx.text(text_param)
    speed = ctx.number("speed", 1.0)
    voice_setting = ctx.arguments.get("voice_setting")
    if isinstance(voice_setting, dict) and isinstance(voice_setting.get("speed"), (int, float)):
        speed = float(voice_setting["speed"])
    pcm, timings = speech_pcm(text, speed, ctx.seed)
    data = wav_bytes(pcm, SPEECH_SAMPLE_RATE, comment=f"{TEXT_COMMENT_PREFIX}{text}")
    output: dict[str, Any] = {"audio": ctx.save(data, "audio/wav", "wav")}
    if with_duration_ms:
        output["duration_ms"] = round(len(pcm) / 2 / SPEECH_SAMPLE_RATE * 1000)
    if ctx.flag("timestamps"):
        output["timestamps"] = [{"text": word.text, "start": word.start, "end": word.end} for word in timings]
    return output


def music(ctx: GenerationContext, *, output_key: str, seconds: float) -> dict[str, Any]:
    """Return a seeded melody of ``seconds`` as a WAV under ``output_key``."""
    pcm = music_pcm(seconds, ctx.seed)
    data = wav_bytes(pcm, MUSIC_SAMPLE_RATE, comment=f"{TEXT_COMMENT_PREFIX}{ctx.text('prompt')}")
    return {output_key: ctx.save(data, "audio/wav", "wav")}


def stable_audio(ctx: GenerationContext) -> dict[str, Any]:
    seconds = ctx.number("seconds_total", 30.0) - ctx.number("seconds_start", 0.0)
    return music(ctx, output_key="audio_file", seconds=max(1.0, seconds))


def lyria(ctx: GenerationContext) -> dict[str, Any]:
    return music(ctx, output_key="audio", seconds=_LYRIA_SECONDS)


def wizper(ctx: GenerationContext) -> dict[str, Any]:
    """Return Wizper's output: ``text``, timestamped ``chunks`` and ``languages``."""
    text, seconds = _transcribe(ctx)
    language = ctx.text("language", "en")
    return {
        "text": text,
        "chunks": [{"timestamp": [0.0, round(seconds, 3)], "text": text}],
        "languages": [language],
    }


def elevenlabs_speech_to_text(ctx: GenerationContext) -> dict[str, Any]:
    """Return Scribe's output: ``text``, ``language_code``, ``language_probability`` and timed ``words``."""
    text, seconds = _transcribe(ctx)
    words = text.split()
    step = seconds / len(words) if words else 0.0
    return {
        "text": text,
        "language_code": ctx.text("language_code", "eng"),
        "language_probability": 1.0,
        "words": [
            {
                "text": word,
                "start": round(index * step, 3),
                "end": round((index + 1) * step, 3),
                "type": "word",
                "speaker_id": "speaker_0",
            }
            for index, word in enumerate(words)
        ],
    }


def _transcribe(ctx: GenerationContext) -> tuple[str, float]:
    """Return the text a sandbox WAV was made from, or a description of the recording, and its duration."""
    data = ctx.load_input("audio_url", ctx.text("audio_url")).data
    seconds = audio_seconds(data)
    comment = read_wav_comment(data)
    if comment is not None and comment.startswith(TEXT_COMMENT_PREFIX):
        return comment.removeprefix(TEXT_COMMENT_PREFIX), seconds
    return f"Sandbox transcript of a {seconds:.1f} second recording; no speech model ran.", seconds
