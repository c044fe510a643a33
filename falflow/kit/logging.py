"""Structured logging: JSON lines with a request id, and secrets redacted.

Log calls use stable dotted event names as the message and put ids in `extra`, for example
`logger.info("run.node.failed", extra={"run_id": ..., "node_id": ...})`.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
from typing import Any

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("falflow_request_id", default=None)

# Values that must never reach a log line, whatever field carries them, with their replacement.
_SECRET_PATTERNS = [
    (re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]+"), "[redacted]"),
    (re.compile(r"\bwhsec_[A-Za-z0-9]+"), "[redacted]"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"), "[redacted]"),
    (re.compile(r"(?i)\b(authorization|cookie|stripe-signature|password|token|secret|key)=[^\s&,;]+"), r"\1=[redacted]"),
]
_SECRET_KEYS = {"password", "authorization", "cookie", "set-cookie", "token", "refresh_token", "access_token",
                "secret", "stripe-signature", "fal_key", "jwt_secret"}
_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


def redact(text: str) -> str:
    """Replace anything that looks like a credential in `text` with a marker."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(time.time(), 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": redact(record.getMessage()),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key in _STANDARD_ATTRS or key.startswith("_"):
                continue
            entry[key] = "[redacted]" if key.lower() in _SECRET_KEYS else _jsonable(value)
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


class PlainFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = {
            k: ("[redacted]" if k.lower() in _SECRET_KEYS else v)
            for k, v in vars(record).items()
            if k not in _STANDARD_ATTRS and not k.startswith("_")
        }
        request_id = request_id_var.get()
        prefix = f"[{request_id}] " if request_id else ""
        line = f"{record.levelname.lower():7} {record.name}: {prefix}{record.getMessage()}"
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return redact(line)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return redact(value) if isinstance(value, str) else value
    return redact(str(value))


def configure_logging(level: str = "INFO", *, json_lines: bool = True) -> None:
    """Install falflow's handler on the `falflow` logger (idempotent)."""
    logger = logging.getLogger("falflow")
    logger.setLevel(level.upper())
    for handler in list(logger.handlers):
        if getattr(handler, "_falflow", False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else PlainFormatter())
    handler._falflow = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.propagate = True
