"""Framework ceiling prices (框架协议最高限价) in force: which apply to a product today, and the
refusal of a purchase above one.

A ceiling is live while its agreement is active and today lies within its term. Listing,
review and checkout all ask here, so an offer above a live ceiling is neither listed nor
bought, however it got its price.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mall.core import bulk
from mall.core.errors import Conflict
from mall.core.money import format_fen
from mall.i18n_messages import N_
from suppliers.models import AgreementStatus, FrameworkAgreement, FrameworkPriceCap


class AboveCeiling(Conflict):
    """A purchase at a price above a live framework ceiling price."""

    code = "above_framework_cap"


ABOVE_CEILING_MESSAGE = N_("%(title)s costs %(price)s, above the framework ceiling price of "
                           "%(cap)s; it cannot be bought at this price.")


def live_ceilings(session: Session, product_ids: Collection[int], *, on: date) -> dict[int, int]:
    """The lowest ceiling price per product among the agreements in force on ``on``."""
    if not product_ids:
        return {}
    rows = session.execute(
        select(FrameworkPriceCap.product_id, func.min(FrameworkPriceCap.cap_fen))
        .join(FrameworkAgreement, FrameworkAgreement.id == FrameworkPriceCap.agreement_id)
        .where(bulk.among(session, FrameworkPriceCap.product_id, set(product_ids)),
               FrameworkAgreement.status == AgreementStatus.ACTIVE,
               FrameworkAgreement.starts_on <= on, FrameworkAgreement.ends_on >= on)
        .group_by(FrameworkPriceCap.product_id)).all()
    return {product_id: int(cap) for product_id, cap in rows if product_id is not None}


@dataclass(frozen=True)
class PricedItem:
    """Something about to be bought: its product, price and the title to name it by."""

    product_id: int
    price_fen: int
    title: str


def require_within_ceilings(session: Session, items: Iterable[PricedItem], *, on: date) -> None:
    """Refuse (``above_framework_cap``) when any item's price is above a live ceiling."""
    items = list(items)
    caps = live_ceilings(session, {i.product_id for i in items}, on=on)
    over = [i for i in items if i.product_id in caps and i.price_fen > caps[i.product_id]]
    if over:
        first = over[0]
        raise AboveCeiling(ABOVE_CEILING_MESSAGE, errors={"cart": [i.title for i in over]},
                           params={"title": first.title, "price": format_fen(first.price_fen),
                                   "cap": format_fen(caps[first.product_id])})
