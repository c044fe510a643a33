"""File names from users: kept only as metadata, cleaned before storing and before serving.

A user's file name never becomes part of a storage path. It is stored only for the download name.
"""

from __future__ import annotations

import re
import unicodedata
import uuid

MAX_ORIGINAL_FILENAME_LENGTH = 255
_MAX_STEM_LENGTH = 100
_UNSAFE_NAME_CHARACTERS = re.compile(r"[^\w\-()\[\] ]+")


def clean_original_filename(name: str | None) -> str | None:
    """Return the name's last path segment without control or format characters, or None if empty.

    Control characters include CR, LF and NUL (which PostgreSQL text cannot store). Format
    characters include the bidirectional overrides that disguise an extension.
    """
    if not name:
        return None
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    return name[:MAX_ORIGINAL_FILENAME_LENGTH] or None


def download_filename(original: str | None, asset_id: uuid.UUID, extension: str) -> str:
    """Return a safe download name: the original's stem, cleaned, plus the extension of the real type.

    Characters other than letters, digits, space, `-`, `_`, `(`, `)`, `[` and `]` become `_`.
    Without a usable stem the name is `asset-<id>`.
    """
    name = clean_original_filename(original) or ""
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = _UNSAFE_NAME_CHARACTERS.sub("_", stem)[:_MAX_STEM_LENGTH].strip(" ._")
    return f"{stem or f'asset-{asset_id}'}.{extension}"
