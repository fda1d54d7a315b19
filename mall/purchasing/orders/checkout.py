"""Checkout: the cart becomes one order per supplier in one transaction.

Stock is taken by one conditional UPDATE per offer (``stock >= quantity``), in offer-id
order so that concurrent checkouts lock rows in the same order; the price written on
the order line is the one that UPDATE returns. Budget and the direct-purchase limit
move the same way (mall.purchasing.budget.services and .limits). Any refusal rolls the whole checkout back.
A checkout token (form) or Idempotency-Key (API) makes a repeated submission return
the orders of the first one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from catalog.models import Offer, OfferStatus
from catalog.sync import offers_changed
from mall.core.audit import record_event
from mall.core.auth import Actor
from mall.core.clock import local_today, now
from mall.core.db import insert_ignoring_conflicts, rowcount
from mall.core.errors import Conflict, ValidationFailed
from mall.core.money import format_fen
from mall.i18n_messages import N_
from mall.purchasing.budget import limits
from mall.purchasing.budget import services as budget
from mall.purchasing.orders.cart import (
    CartLine,
    CartView,
    OutOfStock,
    require_buyer,
    view_cart,
    view_items,
)
from mall.purchasing.orders.cart import clear as clear_cart
from mall.purchasing.orders.models import (
    Checkout,
    Order,
    OrderLine,
    OrderStatus,
    OrderStep,
    PurchaseMode,
)
from mall.purchasing.orders.notifications import notify
from mall.purchasing.orders.splitting import SplitCheck
from mall.purchasing.orders.steps import order_changed
from suppliers.ceilings import PricedItem, require_within_ceilings

CONFIRM_HOURS = 72  # the supplier confirms within 72 hours, or the order is cancelled
DEFAULT_DELIVERY_DAYS, MAX_DELIVERY_DAYS = 7, 180


@dataclass
class CheckoutPreview:
    cart: CartView
    checks: list[limits.LimitCheck]
    # Why the cart is above the open-tender threshold, where neither checking out nor a
    # bidding round may buy it (None: a bidding round may).
    open_tender: limits.OpenTenderRequired | None = None

    @property
    def warnings(self) -> list[limits.LimitCheck]:
        return [c for c in self.checks if c.warning]

    @property
    def blocks(self) -> list[limits.LimitCheck]:
        return [c for c in self.checks if c.blocked]

    @property
    def round_possible(self) -> bool:
        """Whether the cart may be put out to a bidding round."""
        return bool(self.cart.groups) and self.open_tender is None

    @property
    def over_direct_limit(self) -> bool:
        """Whether checking out is refused for the direct-purchase limit (a category's total
        this year, or one supplier's order)."""
        limit = self.checks[0].limit_fen if self.checks else None
        return bool(self.blocks) or limit is not None and any(
            group.total_fen > limit for group in self.cart.groups)


@dataclass
class CheckoutResult:
    orders: list[Order]
    warnings: list[limits.LimitCheck]
    replayed: bool = False


def fiscal_year() -> int:
    """China's fiscal year is the calendar year (预算法 18)."""
    return local_today().year


def preview(session: Session, actor: Actor, offer_ids: list[int] | None = None) -> CheckoutPreview:
    """What checking out would do now: the cart, each category's limit standing, and whether
    the cart passes the open-tender threshold."""
    require_buyer(actor)
    cart = view_cart(session, actor, offer_ids)
    amounts = cart.amounts_by_category()
    year = fiscal_year()
    unit = budget.unit_limits(session, actor.organisation_id)
    checks = limits.check_limits(session, actor.organisation_id, year, amounts, limits=unit)
    try:
        limits.check_open_tender(session, actor.organisation_id, year, amounts,
                                 total_fen=cart.total_fen, limits=unit)
    except limits.OpenTenderRequired as refusal:
        return CheckoutPreview(cart, checks, refusal)
    return CheckoutPreview(cart, checks)


def checkout(session: Session, actor: Actor, *, budget_line_id: int, delivery_address: str,
             contact: str, token: str, secret: bool = False, offer_ids: list[int] | None = None,
             items: list[tuple[int, int]] | None = None,
             fingerprint: str | None = None,
             delivery_days: int = DEFAULT_DELIVERY_DAYS) -> CheckoutResult:
    """Create one order per supplier from the cart (or the chosen offers of it), or from
    ``items`` (offer id, quantity) given directly, which leaves the cart alone.

    ``token`` makes the checkout happen once: a repeat returns the first one's orders. An API
    client's token comes from its Idempotency-Key, with the request's ``fingerprint``: the
    same key sent with another request is refused (``idempotency_key_reused``)."""
    require_buyer(actor)
    errors: dict[str, list[str]] = {}
    if not delivery_address.strip():
        errors["delivery_address"] = ["Enter the delivery address."]
    if not contact.strip():
        errors["contact"] = ["Enter a contact name and phone number."]
    if (isinstance(delivery_days, bool) or not isinstance(delivery_days, int)
            or not 1 <= delivery_days <= MAX_DELIVERY_DAYS):
        errors["delivery_days"] = ["Enter a delivery term of 1 to 180 days."]
    if not token or len(token) > 80:
        errors["token"] = ["The checkout token is missing; reload the page."]
    if errors:
        raise ValidationFailed(errors=errors)
    # A refusal half-way (stock, budget, limit) undoes the stock already taken.
    with session.begin_nested():
        return _checkout(session, actor, budget_line_id=budget_line_id,
                         delivery_address=delivery_address, contact=contact, token=token,
                         secret=secret, offer_ids=offer_ids, items=items,
                         fingerprint=fingerprint, delivery_days=delivery_days)


def _checkout(session: Session, actor: Actor, *, budget_line_id: int, delivery_address: str,
              contact: str, token: str, secret: bool, offer_ids: list[int] | None,
              items: list[tuple[int, int]] | None, fingerprint: str | None,
              delivery_days: int) -> CheckoutResult:
    checkout_id, replay = claim_token(session, actor.user_id, token, fingerprint)
    if replay is not None:
        return CheckoutResult(replay, [], replayed=True)
    year = fiscal_year()
    line = budget.get_budget_line(session, actor, budget_line_id)
    cart = view_items(session, items) if items is not None else view_cart(session, actor, offer_ids)
    if not cart.groups:
        raise ValidationFailed("The cart is empty.", errors={"cart": ["The cart is empty."]},
                               code="cart_empty")
    if line.fiscal_year != year:
        raise ValidationFailed(errors={"budget_line_id": [
            N_("This budget line is for another fiscal year; choose a line of this year.")]})
    uncovered = sorted({ln.category_code for g in cart.groups for ln in g.lines
                        if not budget.covers(line, ln.category_code)})
    if uncovered:
        raise ValidationFailed(
            N_("Budget line %(project)s (%(code)s) does not cover %(categories)s."),
            errors={"budget_line_id": [N_("This budget line does not cover every category "
                                          "in the cart.")]}, code="budget_line_mismatch",
            params={"project": line.project_code, "code": line.category_code,
                    "categories": ", ".join(uncovered)})

    # Prices as read now; the stock is taken last, at these prices, so that the offers'
    # rows stay locked only for the end of the transaction.
    for ln in (ln for g in cart.groups for ln in g.lines):
        if not ln.available or ln.short_of_stock:  # refused before anything is written
            raise _not_available(ln, ln.available, ln.price_fen, ln.stock)
    require_within_ceilings(session, (PricedItem(ln.product_id, ln.price_fen, ln.title)
                                      for g in cart.groups for ln in g.lines), on=local_today())
    unit = budget.unit_limits(session, actor.organisation_id)
    amounts = cart.amounts_by_category()
    # Above the open-tender threshold nothing but an open tender may buy (化整为零 included);
    # within it, the way past the direct-purchase limit is a bidding round.
    limits.check_open_tender(session, actor.organisation_id, year, amounts,
                             total_fen=cart.total_fen, limits=unit)
    try:
        for group in cart.groups:
            total = group.total_fen
            if total > unit.direct_limit_fen:
                raise limits.LimitExceeded(
                    limits.ORDER_LIMIT_MESSAGE, errors={"cart": [group.supplier_name]},
                    params={"supplier": group.supplier_name, "order": format_fen(total),
                            "limit": format_fen(unit.direct_limit_fen)})
        standing = limits.add_to_running_totals(session, actor.organisation_id, year, amounts,
                                                limits=unit)
    except limits.LimitExceeded as refusal:
        refusal.round_possible = True
        raise
    approval_above = unit.approval_above_fen
    budget.reserve(session, line.id, cart.total_fen)
    moment = now()
    splits = None if approval_above is None else SplitCheck(
        session, organisation_id=actor.organisation_id, approval_above_fen=approval_above,
        window_days=budget.split_window_days(session, actor.organisation_id), moment=moment)
    references = dict(session.execute(select(Offer.id, Offer.reference_price_fen).where(
        Offer.id.in_([ln.offer_id for g in cart.groups for ln in g.lines]))).all())
    orders = []
    for position, group in enumerate(cart.groups, start=1):
        total = group.total_fen
        number = f"DP{local_today():%Y%m%d}{checkout_id:07d}{position:02d}"
        needs_approval = splits is not None and splits.needs_approval(group, number=number,
                                                                      moment=moment)
        order = Order(
            number=number,
            checkout_id=checkout_id, buyer_org_id=actor.organisation_id,
            buyer_user_id=actor.user_id, supplier_id=group.supplier_id, budget_line_id=line.id,
            fiscal_year=year, total_fen=total, delivery_address=delivery_address.strip(),
            delivery_days=delivery_days,
            contact=contact.strip(), secret=secret, submitted_at=moment,
            status=OrderStatus.PENDING_APPROVAL if needs_approval else OrderStatus.SENT,
            confirm_by=None if needs_approval else moment + timedelta(hours=CONFIRM_HOURS))
        order.lines = [OrderLine(
            offer_id=ln.offer_id, product_id=ln.product_id, category_code=ln.category_code,
            title=ln.title, brand=ln.brand, model=ln.model, unit=ln.unit, quantity=ln.quantity,
            unit_price_fen=ln.price_fen, reference_price_fen=references.get(ln.offer_id))
            for ln in group.lines]
        order.steps = [OrderStep(status="submitted", at=moment, user_id=actor.user_id)]
        if not needs_approval:
            order.steps.append(OrderStep(status=OrderStatus.SENT.value, at=moment,
                                         deadline=order.confirm_by))
        session.add(order)
        orders.append(order)
    session.flush()
    for order in orders:
        if splits is not None and order.status is OrderStatus.PENDING_APPROVAL:
            order.approval_basis = splits.basis(order, orders)
        record_event(session, action="order.submitted", object_type="order", object_id=order.id,
                     actor=actor, data={"number": order.number, "total_fen": order.total_fen,
                                        "supplier_id": order.supplier_id,
                                        **({"approval": order.approval_basis}
                                           if order.approval_basis else {})})
        order_changed(session, order, "submitted")
        if order.status is OrderStatus.SENT:
            notify(session, order.supplier_id, order, "order_received")
        else:
            notify(session, order.buyer_org_id, order, "approval_needed")
    if items is None:
        clear_cart(session, actor, [ln.offer_id for g in cart.groups for ln in g.lines])
    offers_changed(session, [ln.offer_id for g in cart.groups for ln in g.lines])
    _take_stock(session, cart)
    return CheckoutResult(orders, [c for c in standing if c.warning])


def _take_stock(session: Session, cart: CartView) -> None:
    """Decrement every line's stock at the price the order was made at, or refuse."""
    offers = Offer.__table__  # a plain UPDATE: no ORM bulk machinery on this hot path
    for ln in sorted((ln for g in cart.groups for ln in g.lines), key=lambda ln: ln.offer_id):
        taken = session.execute(
            update(offers).where(offers.c.id == ln.offer_id, offers.c.stock >= ln.quantity,
                                 offers.c.price_fen == ln.price_fen,
                                 offers.c.status == OfferStatus.LISTED,
                                 offers.c.suspended.is_(False))
            .values(stock=offers.c.stock - ln.quantity))
        if rowcount(taken) == 1:
            continue
        offer = session.get_one(Offer, ln.offer_id)
        session.refresh(offer)
        raise _not_available(ln, offer.visible, offer.price_fen, offer.stock)


def _not_available(ln: CartLine, visible: bool, price_fen: int, stock: int) -> OutOfStock:
    """Why a line cannot be bought: off sale, a changed price, or too little stock."""
    if not visible:
        return OutOfStock(N_("%(title)s is no longer on sale."), errors={"cart": [ln.title]},
                          params={"title": ln.title})
    if price_fen != ln.price_fen:
        return OutOfStock(N_("The price of %(title)s changed to %(price)s; check the cart again."),
                          code="price_changed", errors={"cart": [ln.title]},
                          params={"title": ln.title, "price": format_fen(price_fen)})
    return OutOfStock(N_("%(title)s: only %(stock)s left."), errors={"cart": [ln.title]},
                      params={"title": ln.title, "stock": stock})


def claim_token(session: Session, user_id: int, token: str,
                fingerprint: str | None) -> tuple[int, list[Order] | None]:
    """Record the user's token, or return the orders of the checkout that already used it
    (checkouts, and the orders bidding rounds' awards become).

    A concurrent checkout with the same token waits on the unique index (PostgreSQL; SQLite
    serialises writers) until the first one commits, then replays it; if the first one
    failed, nothing of it is left and this one runs."""
    checkout_id = insert_ignoring_conflicts(session, Checkout, {
        "user_id": user_id, "token": token, "request_hash": fingerprint,
        "created_at": now()}, returning=Checkout.id)
    if checkout_id is not None:
        return checkout_id, None
    found, first_request = session.execute(select(Checkout.id, Checkout.request_hash).where(
        Checkout.user_id == user_id, Checkout.token == token)).one()
    if first_request is not None and first_request != fingerprint:  # None: before 0007
        raise Conflict("This Idempotency-Key was used for a different request.",
                       code="idempotency_key_reused")
    return found, list(session.scalars(select(Order).where(Order.checkout_id == found)
                                       .order_by(Order.id)))


def restock(session: Session, lines: list[tuple[int | None, int]]) -> None:
    """Give quantities back to offers (cancellation, returns); a line bought without an offer
    (a bidding round's item named on a blank form, offer None) has no stock to give back."""
    stocked = sorted((offer_id, quantity) for offer_id, quantity in lines
                     if offer_id is not None and quantity)
    for offer_id, quantity in stocked:
        session.execute(update(Offer).where(Offer.id == offer_id)
                        .values(stock=Offer.stock + quantity)
                        .execution_options(synchronize_session=False))
    offers_changed(session, [offer_id for offer_id, _ in stocked])


def give_back_stock(session: Session, order: Order, lines: list[tuple[int | None, int]]) -> None:
    """Give goods of an order back to its offers' stock (offer id, quantity): only a direct
    purchase took stock; a bidding round's award sold what the supplier quoted."""
    if order.purchase_mode is PurchaseMode.DIRECT:
        restock(session, lines)


def remove_spend(session: Session, order: Order, amounts_by_category: dict[str, int]) -> None:
    """Take amounts of an order off the unit's running total it counted in: the direct
    purchases' (against the direct-purchase limit) or, for a bidding round's award, the
    bidding rounds'."""
    if order.purchase_mode is PurchaseMode.DIRECT:
        limits.remove_from_running_totals(session, order.buyer_org_id, order.fiscal_year,
                                          amounts_by_category)
    else:
        limits.remove_bidding_spend(session, order.buyer_org_id, order.fiscal_year,
                                    amounts_by_category)
