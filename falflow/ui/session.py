"""The signed-in user as the UI sees it, read from the HttpOnly session cookie.

The cookie reaches Reflex in the websocket handshake, so it is read once per page load.
The user id lives in a backend-only var, which the browser can neither see nor set; every
handler that touches data takes the id from there.
"""

from __future__ import annotations

import uuid
from http.cookies import SimpleCookie

import reflex as rx

from falflow.accounts import service as accounts
from falflow.billing import ledger
from falflow.context import get_context
from falflow.kit.auth import SESSION_COOKIE
from falflow.kit.errors import FalflowError
from falflow.ui.browser import fetch_json, go_to


class SessionState(rx.State):
    email: str = ""
    balance: int = 0
    available: int = 0
    mode: str = "sandbox"
    _user_id: str = ""

    def _session_user_id(self) -> uuid.UUID | None:
        cookies = SimpleCookie()
        try:
            cookies.load(self.router.headers.cookie or "")
        except Exception:  # noqa: BLE001 - a malformed Cookie header means no session
            return None
        morsel = cookies.get(SESSION_COOKIE)
        if morsel is None:
            return None
        context = get_context()
        try:
            claims = context.tokens.verify(morsel.value, "session")
            with context.database.read_session() as session:
                user = accounts.resolve_user(session, claims.user_id, claims.token_version)
                credits = ledger.get_credit_summary(session, user.id)
        except FalflowError:
            return None
        self.email = user.email
        self.balance = credits.balance
        self.available = credits.available
        self.mode = context.settings.mode.value
        return user.id

    def user_id(self) -> uuid.UUID:
        """Return the signed-in user's id; handlers call this before touching any data."""
        if not self._user_id:
            raise PermissionError("not signed in")
        return uuid.UUID(self._user_id)

    @rx.event
    def require_login(self) -> rx.event.EventSpec | None:
        user_id = self._session_user_id()
        if user_id is None:
            self._user_id = ""
            return rx.redirect("/login")
        self._user_id = str(user_id)
        return None

    @rx.event
    def redirect_if_signed_in(self) -> rx.event.EventSpec | None:
        user_id = self._session_user_id()
        if user_id is not None:
            self._user_id = str(user_id)
            return rx.redirect("/workflows")
        return None

    @rx.event
    def redirect_if_signed_in_else_login(self) -> rx.event.EventSpec:
        user_id = self._session_user_id()
        self._user_id = str(user_id) if user_id else ""
        return rx.redirect("/workflows" if user_id else "/login")

    @rx.event
    def refresh_balance(self) -> None:
        if not self._user_id:
            return
        with get_context().database.read_session() as session:
            credits = ledger.get_credit_summary(session, self.user_id())
        self.balance = credits.balance
        self.available = credits.available

    @rx.event
    def log_out(self) -> rx.event.EventSpec:
        self._user_id = ""
        self.email = ""
        return rx.call_script(fetch_json("POST", "/api/auth/logout", {}) + ".then(() => " + go_to("/login") + ")")

    @rx.var
    def signed_in(self) -> bool:
        return self.email != ""

    @rx.var
    def balance_label(self) -> str:
        return f"{self.balance:,} credits"

    @rx.var
    def balance_usd(self) -> str:
        return f"${self.balance / 1000:,.2f}"
