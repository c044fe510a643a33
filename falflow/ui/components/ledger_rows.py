"""Plain dicts for the Billing page: credit packs and credit history lines."""

from __future__ import annotations

from typing import Any

from falflow.billing.history import HOLD_KIND, RELEASE_KIND, HistoryItem
from falflow.billing.models import LedgerKind
from falflow.billing.purchase_models import CreditPack
from falflow.ui.components.formatting import (
    format_credits,
    format_money,
    format_signed_credits,
    format_timestamp,
)

KIND_LABELS: dict[str, str] = {
    LedgerKind.GRANT.value: "Grant",
    LedgerKind.PURCHASE.value: "Purchase",
    LedgerKind.RUN_CHARGE.value: "Run charge",
    LedgerKind.REFUND_CLAWBACK.value: "Refund clawback",
    LedgerKind.DISPUTE_CLAWBACK.value: "Dispute clawback",
    LedgerKind.DISPUTE_REVERSAL.value: "Dispute reversal",
    LedgerKind.ADJUSTMENT.value: "Adjustment",
    HOLD_KIND: "Hold",
    RELEASE_KIND: "Release",
}

# Radix colour per kind: money in is green, money out red, holds and releases neutral.
KIND_COLOURS: dict[str, str] = {
    LedgerKind.GRANT.value: "green",
    LedgerKind.PURCHASE.value: "green",
    LedgerKind.DISPUTE_REVERSAL.value: "green",
    LedgerKind.RUN_CHARGE.value: "violet",
    LedgerKind.REFUND_CLAWBACK.value: "red",
    LedgerKind.DISPUTE_CLAWBACK.value: "red",
    LedgerKind.ADJUSTMENT.value: "gray",
    HOLD_KIND: "amber",
    RELEASE_KIND: "teal",
}


def pack_row(pack: CreditPack) -> dict[str, Any]:
    return {
        "id": pack.id,
        "name": pack.name,
        "credits": format_credits(pack.credits),
        "price": format_money(pack.amount_minor, pack.currency),
        "unit_price": f"{format_money(round(pack.amount_minor * 1000 / pack.credits), pack.currency)} per 1,000 credits",
    }


# Kinds that only set credits aside or return them to the available amount.
INFORMATIONAL_KINDS = frozenset({HOLD_KIND, RELEASE_KIND})


def _informational_note(item: HistoryItem) -> str:
    verb = "held" if item.kind == HOLD_KIND else "released"
    return f"{verb} {abs(item.amount):,}"


def history_row(item: HistoryItem) -> dict[str, Any]:
    """Build one line of the credit history.

    Holds and releases change the available credits, not the balance, so they carry a note
    (`held 93`) in place of a signed amount and read as information, not as charges.
    """
    informational = item.kind in INFORMATIONAL_KINDS
    return {
        "id": item.id,
        "kind": item.kind,
        "kind_label": KIND_LABELS.get(item.kind, item.kind.replace("_", " ").capitalize()),
        "colour": KIND_COLOURS.get(item.kind, "gray"),
        "when": format_timestamp(item.created_at),
        "informational": informational,
        "amount": "" if informational else format_signed_credits(item.amount),
        "note": _informational_note(item) if informational else "",
        "positive": item.amount > 0 and not informational,
        "balance_after": "" if item.balance_after is None else f"{item.balance_after:,}",
        "run_id": str(item.run_id) if item.run_id else "",
        "node_id": item.node_id or "",
        "model": item.model or "",
        "memo": item.memo,
    }
