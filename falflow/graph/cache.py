"""Content-addressed cache keys for fal requests.

The key is the SHA-256 hex digest of this canonical JSON document:

    {"version": 1, "endpoint": <endpoint id>, "arguments": <arguments>}

where `arguments` are the resolved arguments with every string that is a key of
`input_file_hashes` (an input file URL) replaced by `"sha256:<content hash>"`, so
re-uploading the same file under a new URL still hits the cache. Canonical JSON
sorts object keys, uses no whitespace, keeps non-ASCII characters, and writes
floats with integral values as integers (`2.0` and `2` give the same key).
Non-finite floats are rejected because JSON cannot represent them.

Bump CACHE_KEY_VERSION whenever this format changes, so old entries miss.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

CACHE_KEY_VERSION = 1


def cache_key(
    endpoint_id: str,
    resolved_arguments: Mapping[str, Any],
    input_file_hashes: Mapping[str, str],
) -> str:
    """Return the cache key of one fal request (64 lowercase hex characters)."""
    document = {
        "version": CACHE_KEY_VERSION,
        "endpoint": endpoint_id,
        "arguments": _canonical(dict(resolved_arguments), input_file_hashes),
    }
    text = json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(value: Any, file_hashes: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        content_hash = file_hashes.get(value)
        return f"sha256:{content_hash}" if content_hash is not None else value
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"Cannot build a cache key from the non-finite number {value!r}.")
        return int(value) if value.is_integer() else value
    if isinstance(value, Mapping):
        return {str(key): _canonical(item, file_hashes) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item, file_hashes) for item in value]
    raise TypeError(
        f"Cannot build a cache key from a {type(value).__name__} value; "
        "arguments must be JSON values."
    )
