"""A loopback HTTP server with fixed responses for download_media tests (a real server, not a mock)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PNG_BODY = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2000


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        origin = f"http://{self.headers.get('Host', '')}"
        routes = {
            "/image.png": (200, {"Content-Type": "image/png; charset=binary"}, PNG_BODY),
            "/text": (200, {"Content-Type": "text/plain"}, b"hello"),
            "/untyped": (200, {}, b"hello"),
            "/missing": (404, {"Content-Type": "text/plain"}, b"not here"),
            "/broken": (500, {"Content-Type": "text/plain"}, b"boom"),
            "/redirect-ok": (302, {"Location": "https://v3.fal.media/image.png"}, b""),
            "/redirect-relative": (302, {"Location": "/image.png"}, b""),
            "/redirect-internal": (302, {"Location": "https://internal.fal.media/secret"}, b""),
            "/redirect-http-loopback": (302, {"Location": f"{origin}/image.png"}, b""),
            "/redirect-metadata": (302, {"Location": "http://169.254.169.254/latest/meta-data"}, b""),
            "/loop": (302, {"Location": "/loop"}, b""),
        }
        if self.path == "/chunked":
            self._send_chunked(PNG_BODY)
            return
        status, headers, body = routes.get(self.path, (404, {}, b""))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_chunked(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for start in range(0, len(body), 500):
            chunk = body[start : start + 500]
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


@contextmanager
def media_server() -> Iterator[str]:
    """Serve the fixed routes on 127.0.0.1 and yield the origin, e.g. ``http://127.0.0.1:40111``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
