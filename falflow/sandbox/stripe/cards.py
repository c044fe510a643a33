"""Stripe's test card numbers as the stand-in treats them."""

from __future__ import annotations

SUCCESS_CARD = "4242424242424242"
DECLINE_CARD = "4000000000000002"


class CardDeclinedError(Exception):
    """The card was declined; `message` is the text the payment page shows."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _passes_luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def charge_card(number: str) -> None:
    """Accept a test card number, or raise `CardDeclinedError` as Stripe would for it."""
    digits = "".join(char for char in number if char.isdigit())
    if len(digits) not in range(13, 20) or not _passes_luhn(digits):
        raise CardDeclinedError("Your card number is invalid. Use the test card 4242 4242 4242 4242.",
                                code="incorrect_number")
    if digits == DECLINE_CARD:
        raise CardDeclinedError("Your card was declined. Try the test card 4242 4242 4242 4242.", code="card_declined")
