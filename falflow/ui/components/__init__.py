"""Building blocks of the Runs, Assets and Billing pages.

Modules ending in `_rows` or `_filters` are pure functions that turn service results into the
plain dicts Reflex state holds; `*_state` modules hold Reflex state classes; the rest build
components. Pages in `falflow.ui.pages` only assemble these and register routes.
"""
