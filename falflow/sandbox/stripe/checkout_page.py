"""The hosted payment page a Checkout Session's `url` points at, in plain HTML.

`GET /checkout/{id}` shows the line items and a test card form. Submitting the form pays the
session and delivers `checkout.session.completed` to falflow before redirecting to
`success_url` (with `{CHECKOUT_SESSION_ID}` filled in), so the app has credited the purchase
by the time the browser lands. The decline card re-renders the page with the decline message
and changes nothing.
"""

from __future__ import annotations

import html
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from falflow.sandbox.stripe.cards import DECLINE_CARD, SUCCESS_CARD, CardDeclinedError, charge_card
from falflow.sandbox.stripe.delivery import WebhookDeliverer
from falflow.sandbox.stripe.records import SessionRecord
from falflow.sandbox.stripe.store import StandinRequestError, StripeStore

# Currencies Stripe counts in whole units, with no minor unit to divide by.
_ZERO_DECIMAL_CURRENCIES = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd",
                            "vuv", "xaf", "xof", "xpf"}

_STYLE = """
body { font-family: system-ui, sans-serif; background: #f6f8fa; color: #1a1f36; margin: 0; }
main { max-width: 28rem; margin: 3rem auto; background: #fff; padding: 2rem; border-radius: 8px;
       box-shadow: 0 2px 8px rgba(0,0,0,.08); }
.badge { display: inline-block; background: #ffde92; color: #5f3c00; padding: .1rem .5rem; border-radius: 4px;
         font-size: .75rem; font-weight: 600; }
.amount { font-size: 2rem; font-weight: 600; margin: .5rem 0 1.5rem; }
label { display: block; font-size: .85rem; margin: .75rem 0 .25rem; }
input { width: 100%; box-sizing: border-box; padding: .6rem; border: 1px solid #c9ced6; border-radius: 6px;
        font-size: 1rem; }
button { width: 100%; margin-top: 1.25rem; padding: .75rem; border: 0; border-radius: 6px; background: #635bff;
         color: #fff; font-size: 1rem; font-weight: 600; cursor: pointer; }
.error { background: #fde8e8; color: #8a1c1c; padding: .75rem; border-radius: 6px; margin-bottom: 1rem; }
.hint { font-size: .8rem; color: #5b6475; }
a { color: #635bff; }
"""


def format_amount(amount_minor: int, currency: str) -> str:
    """Format minor units for display, for example 1000 usd as 'USD 10.00'."""
    code = currency.upper()
    if currency.lower() in _ZERO_DECIMAL_CURRENCIES:
        return f"{code} {amount_minor:,}"
    return f"{code} {amount_minor // 100:,}.{amount_minor % 100:02d}"


def _page(title: str, body: str, *, status_code: int = 200) -> HTMLResponse:
    document = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )
    return HTMLResponse(document, status_code=status_code, headers={"Cache-Control": "no-store"})


def _payment_form(session: SessionRecord, *, error: str | None = None, card: str = SUCCESS_CARD) -> str:
    items = "".join(
        f"<p><strong>{html.escape(item.name)}</strong>"
        + (f"<br><span class='hint'>{html.escape(item.description)}</span>" if item.description else "")
        + (f" &times; {item.quantity}" if item.quantity > 1 else "")
        + "</p>"
        for item in session.line_items
    )
    shown_card = " ".join(card[i:i + 4] for i in range(0, len(card), 4)) if card.isdigit() else card
    cancel = (
        f"<p class='hint'><a id='cancel' href='{html.escape(session.cancel_url, quote=True)}'>Cancel and return</a></p>"
        if session.cancel_url else ""
    )
    error_box = f"<div class='error' role='alert' id='decline'>{html.escape(error)}</div>" if error else ""
    decline = " ".join(DECLINE_CARD[i:i + 4] for i in range(0, len(DECLINE_CARD), 4))
    return (
        "<span class='badge'>TEST MODE: Stripe stand-in</span>"
        f"{items}<div class='amount' id='amount'>{format_amount(session.amount_total, session.currency)}</div>"
        f"{error_box}"
        f"<form method='post' action='/checkout/{html.escape(session.id, quote=True)}/pay'>"
        f"<label for='email'>Email</label><input id='email' name='email' type='email' "
        f"value='{html.escape(session.customer_email or '', quote=True)}'>"
        f"<label for='card'>Card number</label><input id='card' name='card' inputmode='numeric' "
        f"value='{html.escape(shown_card, quote=True)}'>"
        "<label for='expiry'>Expiry</label><input id='expiry' name='expiry' value='12 / 34'>"
        "<label for='cvc'>CVC</label><input id='cvc' name='cvc' value='123'>"
        "<button type='submit' id='pay'>Pay</button></form>"
        f"<p class='hint'>Test card {decline} is declined; any other valid number pays.</p>{cancel}"
    )


def _closed_page(session: SessionRecord) -> HTMLResponse:
    link = f"<p><a href='{html.escape(session.cancel_url, quote=True)}'>Return to the app</a></p>" if session.cancel_url else ""
    return _page("Checkout closed", f"<h1>This checkout is {html.escape(session.status)}</h1>"
                 f"<p>Start a new purchase from the app to pay again.</p>{link}", status_code=409)


def _not_found(session_id: str) -> HTMLResponse:
    return _page("Checkout not found", f"<h1>Checkout not found</h1><p>No session '{html.escape(session_id)}' exists "
                 "on this Stripe stand-in.</p>", status_code=404)


def build_checkout_page_router(store: StripeStore, deliverer: WebhookDeliverer) -> APIRouter:
    router = APIRouter(prefix="/checkout")

    @router.get("/{session_id}", response_class=HTMLResponse)
    async def show_checkout(session_id: str) -> Response:
        try:
            session = store.get_session(session_id)
        except StandinRequestError:
            return _not_found(session_id)
        if session.status != "open":
            return _closed_page(session)
        return _page("Pay with the Stripe stand-in", _payment_form(session))

    @router.post("/{session_id}/pay", response_class=HTMLResponse)
    async def pay(session_id: str, request: Request) -> Response:
        try:
            session = store.get_session(session_id)
        except StandinRequestError:
            return _not_found(session_id)
        if session.status != "open":
            return _closed_page(session)
        form = dict(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True))
        card = form.get("card", "")
        try:
            charge_card(card)
        except CardDeclinedError as exc:
            digits = "".join(char for char in card if char.isdigit())
            return _page("Payment declined", _payment_form(session, error=exc.message, card=digits), status_code=402)
        event = store.complete_session(session_id)
        await deliverer.deliver([event.id])
        target = session.success_url.replace("{CHECKOUT_SESSION_ID}", session.id)
        return RedirectResponse(target, status_code=303)

    return router
