"""Reflex configuration for falflow (read by the `reflex` command and by the app)."""

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

from falflow.settings import get_settings

_settings = get_settings()

config = rx.Config(
    app_name="falflow",
    # Reflex's default allows every origin together with credentials, which would let any
    # site drive a signed-in user's session; only the app's own origin may connect.
    cors_allowed_origins=[_settings.public_url],
    show_built_with_reflex=False,
    telemetry_enabled=False,
    disable_plugins=[SitemapPlugin],
    frontend_port=3000,
    backend_port=3000,
)
