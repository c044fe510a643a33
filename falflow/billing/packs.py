"""The credit pack catalog: the default packs and the lookups checkout uses.

Prices are server-side only. `ensure_default_packs` inserts any default pack the table lacks
and leaves existing rows alone, so an operator's edits (a new price, `active = false`) stick.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from falflow.billing.purchase_models import CreditPack
from falflow.kit.errors import InvalidInputError, NotFoundError

logger = logging.getLogger("falflow.billing")


@dataclass(frozen=True)
class PackSpec:
    id: str
    name: str
    credits: int
    amount_minor: int
    currency: str


DEFAULT_PACKS: tuple[PackSpec, ...] = (
    PackSpec("starter", "Starter: 5,000 credits", 5_000, 500, "usd"),
    PackSpec("creator", "Creator: 12,000 credits", 12_000, 1_000, "usd"),
    PackSpec("studio", "Studio: 30,000 credits", 30_000, 2_500, "usd"),
)


def ensure_default_packs(session: Session, packs: tuple[PackSpec, ...] = DEFAULT_PACKS) -> int:
    """Insert the packs missing from the catalog; return how many were added."""
    existing = set(session.exec(select(CreditPack.id)).all())
    added = 0
    for order, spec in enumerate(packs):
        if spec.id in existing:
            continue
        try:
            with session.begin_nested():
                session.add(CreditPack(id=spec.id, name=spec.name, credits=spec.credits, amount_minor=spec.amount_minor,
                                       currency=spec.currency, sort_order=order))
        except IntegrityError:
            # Another process seeded the same pack between our read and this insert.
            continue
        added += 1
    if added:
        logger.info("billing.packs.seeded", extra={"added": added})
    return added


def list_active_packs(session: Session) -> list[CreditPack]:
    statement = select(CreditPack).where(col(CreditPack.active).is_(True)).order_by(col(CreditPack.sort_order), col(CreditPack.id))
    return list(session.exec(statement).all())


def get_pack_for_checkout(session: Session, pack_id: str) -> CreditPack:
    """Return an active pack, or raise 404 for an unknown id and 422 for a retired one."""
    pack = session.get(CreditPack, pack_id)
    if pack is None:
        known = ", ".join(p.id for p in list_active_packs(session)) or "none"
        raise NotFoundError(f"Credit pack '{pack_id}' was not found; choose one of: {known} (GET /api/billing/packs).")
    if not pack.active:
        raise InvalidInputError(
            f"Credit pack '{pack_id}' is no longer sold; choose a pack listed by GET /api/billing/packs.",
            errors=[{"field": "pack_id", "value": pack_id, "message": "pack_id: this pack is no longer sold"}],
        )
    return pack
