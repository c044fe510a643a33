"""HTTP `Range` requests for one byte range, as RFC 9110 section 14 describes them.

Only a single `bytes` range is honoured. A header in another unit, with several ranges, or
with bad syntax is ignored and the whole file is served, as the RFC allows. A well-formed
range that starts past the end of the file is unsatisfiable (416).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SINGLE_RANGE = re.compile(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


class RangeNotSatisfiableError(Exception):
    """A well-formed range that selects no byte of the file."""

    def __init__(self, header: str, size: int) -> None:
        super().__init__(f"Range {header!r} selects no byte of a {size}-byte file.")
        self.header = header
        self.size = size


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """Return the range to serve, or None to serve the whole file.

    Raises `RangeNotSatisfiableError` for a range that starts at or after `size`, or for a
    zero-length suffix (`bytes=-0`).
    """
    if not header:
        return None
    match = _SINGLE_RANGE.fullmatch(header)
    if match is None:
        return None
    first, last = match.group(1), match.group(2)
    if not first and not last:
        return None
    if not first:
        # A suffix range: the final N bytes.
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiableError(header, size)
        return ByteRange(start=max(size - suffix, 0), end=size - 1)
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        raise RangeNotSatisfiableError(header, size)
    return ByteRange(start=start, end=min(end, size - 1))
