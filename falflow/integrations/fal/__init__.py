"""falflow's adapter for fal.ai: queue calls, uploads and output downloads behind typed values and errors.

``client`` is the only module in falflow that imports ``fal_client``; everything else uses ``FalGateway``.
Layout: ``config`` (``FalGatewayConfig``), ``models`` (returned values), ``errors`` (the ``FalError`` tree
and HTTP mapping), ``transport`` (sandbox routing and fail-fast retries), ``download`` (``download_media``
and the media host policy) and ``client`` (``FalGateway``).
"""

from __future__ import annotations

from falflow.integrations.fal.client import FalGateway
from falflow.integrations.fal.config import FalGatewayConfig
from falflow.integrations.fal.download import AddressGuard, DownloadedFile, MediaHostPolicy, download_media
from falflow.integrations.fal.errors import (
    FalAccountLockedError,
    FalAuthError,
    FalConfigError,
    FalError,
    FalFieldError,
    FalMediaError,
    FalNotFoundError,
    FalRequestError,
    FalRetryableError,
    FalValidationError,
)
from falflow.integrations.fal.models import CancelOutcome, FalLog, FalRequestState, FalStatus, SubmittedRequest

__all__ = [
    "AddressGuard",
    "CancelOutcome",
    "DownloadedFile",
    "FalAccountLockedError",
    "FalAuthError",
    "FalConfigError",
    "FalError",
    "FalFieldError",
    "FalGateway",
    "FalGatewayConfig",
    "FalLog",
    "FalMediaError",
    "FalNotFoundError",
    "FalRequestError",
    "FalRequestState",
    "FalRetryableError",
    "FalStatus",
    "FalValidationError",
    "MediaHostPolicy",
    "SubmittedRequest",
    "download_media",
]
