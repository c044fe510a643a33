"""Sign-up and log-in pages."""

from __future__ import annotations

from typing import Any

import reflex as rx

from falflow.ui.browser import fetch_json, go_to
from falflow.ui.session import SessionState


class AuthFormState(rx.State):
    error: str = ""
    busy: bool = False

    @rx.event
    def submit(self, form: dict[str, Any], mode: str) -> rx.event.EventSpec:
        self.error = ""
        self.busy = True
        path = "/api/auth/signup" if mode == "signup" else "/api/auth/login"
        payload = {"email": str(form.get("email", "")), "password": str(form.get("password", ""))}
        return rx.call_script(fetch_json("POST", path, payload), callback=AuthFormState.finish)

    @rx.event
    def finish(self, result: dict[str, Any]) -> rx.event.EventSpec | None:
        self.busy = False
        status = int(result.get("status", 0))
        if status in (200, 201):
            return rx.call_script(go_to("/workflows"))
        body = result.get("body") or {}
        self.error = str(body.get("detail") or "Something went wrong; try again.")
        return None


def _auth_card(title: str, mode: str, switch_text: str, switch_href: str, switch_label: str) -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.hstack(rx.icon("workflow", size=28, color=rx.color("violet", 10)), rx.heading("falflow", size="7"), align="center"),
                rx.text(title, size="4", color_scheme="gray"),
                rx.form(
                    rx.vstack(
                        rx.text("E-mail", size="2", weight="medium"),
                        rx.input(name="email", type="email", placeholder="you@example.com", required=True, width="100%", id="email",
                                 auto_complete="email"),
                        rx.text("Password", size="2", weight="medium"),
                        rx.input(name="password", type="password", placeholder="At least 8 characters", required=True,
                                 width="100%", id="password",
                                 auto_complete="new-password" if mode == "signup" else "current-password"),
                        rx.cond(
                            AuthFormState.error != "",
                            rx.callout(AuthFormState.error, icon="triangle_alert", color_scheme="red", width="100%", id="auth-error"),
                        ),
                        rx.button(title, type="submit", width="100%", loading=AuthFormState.busy, id="auth-submit"),
                        spacing="3",
                        width="100%",
                    ),
                    on_submit=lambda form: AuthFormState.submit(form, mode),
                    reset_on_submit=False,
                    width="100%",
                ),
                rx.text(switch_text, " ", rx.link(switch_label, href=switch_href), size="2"),
                spacing="4",
                width="100%",
            ),
            size="4",
            width="400px",
        ),
        height="100vh",
    )


def login_page() -> rx.Component:
    return _auth_card("Log in", "login", "No account yet?", "/signup", "Sign up")


def signup_page() -> rx.Component:
    return _auth_card("Create your account", "signup", "Already have an account?", "/login", "Log in")


def register(app: rx.App) -> None:
    app.add_page(login_page, route="/login", title="Log in · falflow", on_load=SessionState.redirect_if_signed_in)
    app.add_page(signup_page, route="/signup", title="Sign up · falflow", on_load=SessionState.redirect_if_signed_in)
