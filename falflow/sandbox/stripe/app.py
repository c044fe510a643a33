"""Assembly of the Stripe stand-in: API routes, the hosted payment page and test controls."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from falflow.sandbox.stripe import shapes
from falflow.sandbox.stripe.api_routes import build_api_router
from falflow.sandbox.stripe.checkout_page import build_checkout_page_router
from falflow.sandbox.stripe.control_routes import build_control_router
from falflow.sandbox.stripe.delivery import WebhookDeliverer
from falflow.sandbox.stripe.store import StandinRequestError, StripeStore


def create_standin_app(store: StripeStore, deliverer: WebhookDeliverer, *, api_key: str | None = None) -> FastAPI:
    """Build the stand-in app over `store`; `api_key` None accepts any sk_test_ key."""
    app = FastAPI(title="falflow Stripe stand-in", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(build_api_router(store, api_key=api_key))
    app.include_router(build_control_router(store, deliverer))
    app.include_router(build_checkout_page_router(store, deliverer))

    @app.exception_handler(StandinRequestError)
    async def _stripe_error(_request: Request, exc: StandinRequestError) -> JSONResponse:
        return JSONResponse(exc.body, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _invalid_body(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors())
        return JSONResponse(shapes.error_body("invalid_request_error", f"Invalid control request: {problems}"),
                            status_code=400)

    return app
