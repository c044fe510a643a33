"""Settings of the fal stand-in: simulated timing, fault injection, limits. All durations are in seconds.

The same models are the JSON bodies of the control routes (``PUT /_sandbox/config`` and
``PUT /_sandbox/endpoints/{endpoint_id}``), so they forbid unknown fields.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Timing(_Settings):
    """Simulated durations of one request, before ``time_scale`` applies."""

    queue_seconds: float = Field(default=0.5, ge=0, description="Time in the queue before a runner starts.")
    run_seconds: float = Field(default=2.0, ge=0, description="Time from start to completion.")
    log_count: int = Field(default=8, ge=0, le=1000, description="Progress log lines ('step i/N') per run.")


class ValidationFault(_Settings):
    """A 422 on the result that names ``param``, as fal's input validation would."""

    param: str = Field(min_length=1)
    message: str = "Input rejected by the sandbox's fault injection"
    type: str = "value_error"


class Faults(_Settings):
    """Failures to inject. Counters start at zero when the config is set and on ``POST /_sandbox/reset``."""

    validation_error: ValidationFault | None = None
    rate_limit_submits: int = Field(default=0, ge=0, description="The first N submits get HTTP 429.")
    rate_limit_status: int = Field(default=0, ge=0, description="The first N status calls get HTTP 429.")
    retry_after_seconds: float = Field(default=1.0, ge=0, description="Retry-After value sent with each 429.")
    result_server_errors: int = Field(default=0, ge=0, description="The first N result fetches get HTTP 500.")
    failure_rate: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Share of requests whose result is a permanent HTTP 500, drawn from fault_seed.",
    )
    hang: bool = Field(default=False, description="Requests start but never complete.")
    slow_result_seconds: float = Field(default=0.0, ge=0, description="Delay before each result response.")


class EndpointOverride(_Settings):
    """Per-endpoint settings; a section that is set replaces the global section for that endpoint."""

    timing: Timing | None = None
    faults: Faults | None = None


class FalStandinConfig(_Settings):
    """All stand-in settings, given at start and changeable at run time through the control routes."""

    timing: Timing = Field(default_factory=Timing)
    faults: Faults = Field(default_factory=Faults)
    endpoints: dict[str, EndpointOverride] = Field(default_factory=dict)
    time_scale: float = Field(default=1.0, ge=0, description="Multiplies every simulated duration; 0 is instant.")
    max_concurrency: int = Field(default=4, ge=1, le=1000, description="Requests that run at once; others queue.")
    fault_seed: int = Field(default=0, description="Seed for failure_rate draws, so injected faults repeat.")
    accepted_keys: list[str] | None = Field(
        default=None, description="If set, queue and upload calls need 'Authorization: Key <one of these>'."
    )
    account_locked: bool = Field(default=False, description="Respond to queue calls with fal's HTTP 403 lock error.")
    public_url: str | None = Field(
        default=None, description="Base URL put into returned URLs; by default the URL the request came in on."
    )
    max_stored_bytes: int = Field(
        default=512 * 1024 * 1024, ge=1, description="Memory for generated and uploaded files; oldest go first."
    )
    max_upload_bytes: int = Field(default=256 * 1024 * 1024, ge=1, description="Largest accepted upload.")

    def timing_for(self, endpoint_id: str) -> Timing:
        override = self.endpoints.get(endpoint_id)
        return override.timing if override is not None and override.timing is not None else self.timing

    def faults_for(self, endpoint_id: str) -> Faults:
        override = self.endpoints.get(endpoint_id)
        return override.faults if override is not None and override.faults is not None else self.faults
