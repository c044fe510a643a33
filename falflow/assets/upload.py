"""Read one file from a multipart/form-data request body, enforcing the size limit as it arrives.

The body is parsed chunk by chunk and the file is kept in memory. Bytes are counted as they
arrive, whether or not Content-Length was sent, and reading stops as soon as the file passes
the limit. Nothing is written until the whole file has arrived and passed every check, so a
rejected upload leaves no file behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from falflow.kit.errors import InvalidInputError, PayloadTooLargeError, UnsupportedMediaTypeError

# Room for the boundaries and part headers around the file, in bytes.
MULTIPART_OVERHEAD_BYTES = 16 * 1024


@dataclass(frozen=True)
class UploadedFile:
    filename: str | None
    data: bytes


@dataclass
class _PartCollector:
    """Callbacks for `MultipartParser` that keep the one expected file part."""

    field_name: str
    max_bytes: int
    chunks: list[bytes] = field(default_factory=list)
    size: int = 0
    filename: str | None = None
    found: bool = False
    too_large: bool = False
    unexpected_part: str | None = None
    ended: bool = False
    _header_field: bytearray = field(default_factory=bytearray)
    _header_value: bytearray = field(default_factory=bytearray)
    _headers: dict[bytes, bytes] = field(default_factory=dict)
    _collecting: bool = False

    def on_part_begin(self) -> None:
        self._headers = {}
        self._collecting = False

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[bytes(self._header_field).strip().lower()] = bytes(self._header_value).strip()
        self._header_field.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("latin-1")
        if name != self.field_name or b"filename" not in options or self.found:
            self.unexpected_part = self.unexpected_part or name or "(unnamed)"
            return
        self.found = True
        self._collecting = True
        # Browsers send the name's UTF-8 bytes; the parser handed them over as Latin-1.
        self.filename = options[b"filename"].decode("utf-8", errors="replace")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._collecting or self.too_large:
            return
        self.size += end - start
        if self.size > self.max_bytes:
            self.too_large = True
            self.chunks.clear()
            return
        self.chunks.append(bytes(data[start:end]))

    def on_part_end(self) -> None:
        self._collecting = False

    def on_end(self) -> None:
        self.ended = True

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_end": self.on_end,
        }


def _too_large(field_name: str, max_bytes: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"{field_name}: the upload is larger than the limit of {max_bytes} bytes ({max_bytes / 2**20:.1f} MiB); "
        "send a smaller file."
    )


async def read_single_file(request: Request, *, field_name: str, max_bytes: int) -> UploadedFile:
    """Return the file sent as the multipart part `field_name`.

    Raises 413 when the file exceeds `max_bytes`, 415 when the body is not multipart/form-data,
    and 422 when the part is missing, another part is present, or the body is malformed.
    """
    mime_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if mime_type != b"multipart/form-data" or not boundary:
        received_type = request.headers.get("content-type", "")[:100]
        raise UnsupportedMediaTypeError(
            f"Content-Type {received_type!r} is not multipart/form-data with a boundary; "
            f"send the file as a multipart/form-data part named '{field_name}'."
        )
    body_limit = max_bytes + MULTIPART_OVERHEAD_BYTES
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > body_limit:
        raise _too_large(field_name, max_bytes)

    collector = _PartCollector(field_name=field_name, max_bytes=max_bytes)
    try:
        parser = MultipartParser(boundary, callbacks=collector.callbacks())  # type: ignore[arg-type]
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > body_limit:
                raise _too_large(field_name, max_bytes)
            parser.write(chunk)
            if collector.too_large:
                raise _too_large(field_name, max_bytes)
        parser.finalize()
    except MultipartParseError as exc:
        raise _malformed(f"the multipart body is malformed ({exc})") from exc

    if collector.unexpected_part is not None:
        raise InvalidInputError(
            f"Unexpected multipart part {collector.unexpected_part!r}; "
            f"send exactly one file, in a part named '{field_name}'.",
            errors=[{"field": collector.unexpected_part, "value": None, "message": "unexpected part"}],
        )
    if not collector.ended:
        raise _malformed("the multipart body ended before its closing boundary")
    if not collector.found:
        raise InvalidInputError(
            f"{field_name}: missing; send the file as a multipart/form-data part named '{field_name}'.",
            errors=[{"field": field_name, "value": None, "message": f"{field_name}: missing"}],
        )
    return UploadedFile(filename=collector.filename, data=b"".join(collector.chunks))


def _malformed(reason: str) -> InvalidInputError:
    return InvalidInputError(
        f"body: {reason}; send a well-formed multipart/form-data request.",
        errors=[{"field": "body", "value": None, "message": reason}],
    )
