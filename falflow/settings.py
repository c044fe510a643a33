"""falflow's configuration: one settings object, read from `FALFLOW_*` variables.

Feature code receives a `Settings` instance (through `get_settings()`) and never reads
`os.environ` itself. The fal and Stripe keys are also read from their customary unprefixed names
(`FAL_KEY`, `STRIPE_SECRET_KEY`, `STRIPE_WEBHOOK_SECRET`) because that is where their users
keep them.
"""

from __future__ import annotations

import enum
import functools
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Mode(str, enum.Enum):
    """Whether falflow talks to the bundled stand-ins or to the real providers."""

    SANDBOX = "sandbox"
    LIVE = "live"


class Settings(BaseSettings):
    """Every setting falflow has, with its unit in the field description."""

    model_config = SettingsConfigDict(env_prefix="FALFLOW_", extra="ignore", populate_by_name=True)

    data_dir: Path = Field(Path("data"), description="Folder for the database, files and generated secrets.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; defaults to SQLite at <data_dir>/falflow.sqlite."
    )
    public_url: str = Field(
        "http://localhost:3000", description="Origin the browser uses; CORS and Stripe return URLs use it."
    )

    jwt_secret: SecretStr | None = Field(
        None, description="HS256 signing key (at least 32 bytes); generated into the data folder when unset."
    )
    access_token_ttl_seconds: int = Field(900, ge=60, description="Lifetime of a bearer access token.")
    session_ttl_seconds: int = Field(12 * 3600, ge=300, description="Lifetime of the browser session cookie.")
    refresh_token_ttl_seconds: int = Field(30 * 24 * 3600, ge=3600, description="Lifetime of a refresh token.")
    cookie_secure: bool = Field(False, description="Mark cookies Secure; turn on behind HTTPS.")
    login_max_failures: int = Field(5, ge=1, description="Failed logins allowed per account or address.")
    login_window_seconds: int = Field(900, ge=1, description="Window over which failed logins are counted.")

    fal_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("FALFLOW_FAL_KEY", "FAL_KEY"), description="fal.ai key; unset means sandbox."
    )
    sandbox_fal_url: str | None = Field(
        None, description="Base URL of an already running fal stand-in; unset starts one inside the app."
    )
    sandbox_fal_port: int = Field(0, ge=0, description="Port for the embedded fal stand-in; 0 picks a free one.")
    sandbox_fal_time_scale: float = Field(
        1.0, ge=0, description="Multiplies the embedded stand-in's simulated queue and run times; 0 is instant."
    )
    fal_poll_interval_seconds: float = Field(0.1, gt=0, description="Shortest pause between two status polls of a fal request.")
    fal_poll_max_interval_seconds: float = Field(
        2.0, gt=0, description="Maximum pause between two status polls, in seconds; a running request is polled every tenth of its age up to this."
    )
    fal_status_stream: bool = Field(
        True,
        description="Follow fal requests over fal's status stream (server-sent events), which reports each change "
        "at once with one request; falflow polls instead whenever the stream fails or stays silent.",
    )
    fal_platform_url: str = Field(
        "https://api.fal.ai", description="Origin of fal's Platform API (model metadata and prices), without /v1."
    )
    catalog_refresh_seconds: int = Field(
        3600,
        ge=60,
        description="Seconds between live-mode refreshes of fal's prices and model metadata, and their cache lifetime.",
    )

    stripe_secret_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("FALFLOW_STRIPE_SECRET_KEY", "STRIPE_SECRET_KEY")
    )
    stripe_webhook_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("FALFLOW_STRIPE_WEBHOOK_SECRET", "STRIPE_WEBHOOK_SECRET")
    )
    sandbox_stripe_url: str | None = Field(
        None, description="Base URL of an already running Stripe stand-in; unset starts one inside the app."
    )

    starter_grant_credits: int = Field(
        2_000, ge=0, description="Credits granted to a new account in sandbox mode (1 credit = US$0.001)."
    )
    live_starter_grant_credits: int = Field(0, ge=0, description="Credits granted to a new account in live mode.")
    price_margin_bps: int = Field(0, ge=0, le=100_000, description="Margin added to fal prices, in basis points.")

    run_per_user_concurrency: int = Field(4, ge=1, description="fal nodes one user may have in flight at once.")
    run_global_concurrency: int = Field(64, ge=1, description="fal nodes the whole process may have in flight.")
    engine_threads: int = Field(
        64, ge=2, le=1024,
        description=(
            "Threads for blocking work started from async code (the run engine's database calls, files, "
            "thumbnails); more work waits for a free thread."
        ),
    )
    api_threads: int = Field(
        16, ge=2, le=1024, description="Threads for the API's synchronous routes and dependencies."
    )
    gc_freeze: bool = Field(
        True,
        description=(
            "Exempt the objects alive once start-up has finished from Python's garbage collection, which "
            "shortens its full passes (130 ms at the longest in a measured burst without it, 31 ms with it)."
        ),
    )
    run_node_timeout_seconds: float = Field(600.0, gt=0, description="Deadline for one fal request, queue included.")
    run_max_retries: int = Field(4, ge=0, le=20, description="Retries of a retryable fal failure per node item.")
    run_retry_base_seconds: float = Field(
        0.5, gt=0, description="First retry delay; each retry doubles it, with +-50 % jitter."
    )
    redis_url: str | None = Field(
        None, description="Redis for relaying run progress between processes (workers and several web workers)."
    )
    run_workers_external: bool = Field(
        False, description="When true, web processes only enqueue and `python -m falflow.worker` runs nodes."
    )
    max_download_bytes: int = Field(512 * 1024 * 1024, ge=1, description="Largest output file copied from fal.")
    max_upload_bytes: int = Field(25 * 1024 * 1024, ge=1, description="Largest input file a user may upload.")

    storage_backend: Literal["local", "s3"] = Field("local", description="Where asset files live.")
    s3_bucket: str | None = Field(None, description="Bucket for asset files when storage_backend is 's3'.")
    s3_endpoint_url: str | None = Field(None, description="S3-compatible endpoint (MinIO, R2...); unset means AWS.")
    s3_region: str = Field("us-east-1", description="Region used to sign S3 requests.")
    s3_access_key_id: str | None = Field(None, description="S3 access key id; unset uses boto3's credential chain.")
    s3_secret_access_key: SecretStr | None = Field(None, description="S3 secret access key.")
    s3_prefix: str = Field("", description="Key prefix inside the bucket.")
    s3_addressing_style: Literal["path", "virtual", "auto"] = Field("path", description="S3 URL style.")
    asset_purge_after_seconds: int = Field(
        7 * 24 * 3600, ge=0, description="How long a deleted asset's file is kept before the purge removes it."
    )

    log_level: str = Field("INFO", description="Root log level.")
    log_json: bool = Field(True, description="Write logs as JSON lines.")

    @field_validator("public_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def allowed_origins(self) -> list[str]:
        """Origins allowed to call the app with credentials: the public URL and its loopback twin."""
        origins = [self.public_url]
        for name, twin in (("//localhost", "//127.0.0.1"), ("//127.0.0.1", "//localhost")):
            if name in self.public_url:
                origins.append(self.public_url.replace(name, twin, 1))
        return origins

    @property
    def fal_mode(self) -> Mode:
        return Mode.LIVE if self.fal_key is not None and self.fal_key.get_secret_value() else Mode.SANDBOX

    @property
    def stripe_mode(self) -> Mode:
        key = self.stripe_secret_key.get_secret_value() if self.stripe_secret_key else ""
        return Mode.LIVE if key else Mode.SANDBOX

    @property
    def mode(self) -> Mode:
        """The mode shown to users: live only when fal itself is live."""
        return self.fal_mode

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'falflow.sqlite').resolve()}"

    @property
    def files_dir(self) -> Path:
        return (self.data_dir / "files").resolve()

    @property
    def grant_for_new_accounts(self) -> int:
        return self.starter_grant_credits if self.fal_mode is Mode.SANDBOX else self.live_starter_grant_credits


@functools.cache
def get_settings() -> Settings:
    """Return the process-wide settings, read once from the environment."""
    return Settings()
