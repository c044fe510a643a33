"""Reflex configuration for falflow (read by the `reflex` command and by the app)."""

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin
from reflex_components_radix.plugin import RadixThemesPlugin

from falflow.settings import get_settings

_settings = get_settings()

config = rx.Config(
    app_name="falflow",
    # Reflex's default allows every origin together with credentials, which would let any
    # site drive a signed-in user's session; only the app's own origin may connect.
    cors_allowed_origins=_settings.allowed_origins,
    show_built_with_reflex=False,
    telemetry_enabled=False,
    disable_plugins=[SitemapPlugin],
    plugins=[RadixThemesPlugin(theme=rx.theme(appearance="dark", accent_color="violet", radius="medium"))],
    frontend_port=3000,
    backend_port=3000,
)
