"""Generator inputs: the resolved arguments, the seed, file storage and input loading."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import random
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from falflow.sandbox.fal.store import FileStore

_NON_CONTENT_INPUTS = frozenset({"seed", "sync_mode"})


class GenerationError(Exception):
    """A model-side failure; the result fetch returns ``status_code`` with fal's ``detail`` list."""

    def __init__(self, detail: list[dict[str, Any]], status_code: int = 422) -> None:
        super().__init__(detail[0]["msg"] if detail else "generation failed")
        self.detail = detail
        self.status_code = status_code


def input_error(field: str | list[str | int], message: str, error_type: str) -> GenerationError:
    """Return a 422 ``GenerationError`` for one input field, e.g. an image that cannot be loaded."""
    loc = [field] if isinstance(field, str) else field
    return GenerationError([{"loc": ["body", *loc], "msg": message, "type": error_type}])


@dataclass(frozen=True)
class InputFile:
    data: bytes
    content_type: str


@dataclass(frozen=True)
class GenerationContext:
    """Inputs of one generation. ``arguments`` already has the catalog defaults filled in.

    ``base_url`` is the stand-in's origin as the client saw it; output URLs point there.
    ``run_seconds`` is the simulated run time, reported in fal's ``timings`` fields.
    """

    endpoint_id: str
    arguments: dict[str, Any]
    seed: int
    base_url: str
    store: FileStore
    run_seconds: float = 0.0

    def rng(self, *salt: object) -> random.Random:
        """Return a random generator that depends only on the endpoint, the inputs, the seed and ``salt``.

        The ``seed`` and ``sync_mode`` inputs are left out, so replaying a request with the seed that the
        sandbox chose reproduces the same bytes.
        """
        content_inputs = {key: value for key, value in self.arguments.items() if key not in _NON_CONTENT_INPUTS}
        return random.Random(derive_seed(self.endpoint_id, content_inputs, self.seed, *salt))

    def text(self, name: str, default: str = "") -> str:
        value = self.arguments.get(name)
        return value if isinstance(value, str) else default

    def number(self, name: str, default: float) -> float:
        value = self.arguments.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return default
        return float(value)

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.arguments.get(name)
        return value if isinstance(value, bool) else default

    def save(self, data: bytes, content_type: str, extension: str) -> dict[str, Any]:
        """Store an output file and return fal's File object for it.

        With ``sync_mode`` set, fal returns the file inline as a data URI instead of a URL; so does this.
        """
        stored = self.store.put_generated(data, content_type, extension)
        if self.flag("sync_mode"):
            url = f"data:{content_type};base64,{base64.b64encode(data).decode('ascii')}"
        else:
            url = f"{self.base_url}/files/{stored.name}"
        return {"url": url, "content_type": content_type, "file_name": stored.name, "file_size": len(data)}

    def load_input(self, field: str | list[str | int], url: str) -> InputFile:
        """Return the bytes behind an input URL: a data URI or a file on this stand-in.

        The stand-in never fetches other hosts, so such URLs fail with fal's ``file_download_error``.
        """
        if url.startswith("data:"):
            return _decode_data_uri(field, url)
        parts = urlsplit(url)
        name = parts.path.removeprefix("/files/")
        if parts.path.startswith("/files/") and "/" not in name:
            stored = self.store.get(unquote_to_bytes(name).decode("utf-8", errors="replace"))
            if stored is not None:
                return InputFile(stored.data, stored.content_type)
        raise input_error(
            field,
            f"Failed to download the file from {url[:200]}: the sandbox reads only data URIs and files it "
            "serves itself under /files/. Upload the file first.",
            "file_download_error",
        )


def derive_seed(*parts: object) -> int:
    """Return a 31-bit seed from a stable JSON rendering of ``parts``."""
    encoded = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":")).encode("utf-8")
    return int.from_bytes(hashlib.sha256(encoded).digest()[:4], "big") & 0x7FFFFFFF


def _decode_data_uri(field: str | list[str | int], url: str) -> InputFile:
    header, _, payload = url[5:].partition(",")
    content_type = header.split(";")[0] or "application/octet-stream"
    try:
        data = base64.b64decode(payload, validate=True) if header.endswith(";base64") else unquote_to_bytes(payload)
    except (binascii.Error, ValueError) as exc:
        raise input_error(field, f"Invalid data URI: {exc}", "file_download_error") from exc
    return InputFile(data, content_type)
