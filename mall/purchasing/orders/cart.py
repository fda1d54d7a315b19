"""A buyer's cart: offers and quantities, shown grouped by supplier at today's prices."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from catalog.models import Offer
from mall.accounts.models import Organisation
from mall.core.auth import BUYERS, Actor, OrganisationKind
from mall.core.clock import now
from mall.core.errors import MallError, NotFound, PermissionDenied, ValidationFailed
from mall.core.money import QUANTITY, require
from mall.i18n_messages import N_
from mall.purchasing.orders.models import CartItem


class OutOfStock(MallError):
    """Fewer units on sale than asked for (in the cart or at checkout): 409 everywhere."""

    code = "out_of_stock"
    status = 409
    title = "Not enough stock"


MAX_LINES = 200  # the messages below name this limit


@dataclass
class CartLine:
    offer_id: int
    product_id: int
    title: str
    brand: str
    model: str
    unit: str
    category_code: str
    quantity: int
    price_fen: int
    stock: int
    available: bool  # still listed and visible

    @property
    def amount_fen(self) -> int:
        return self.quantity * self.price_fen

    @property
    def short_of_stock(self) -> bool:
        return self.quantity > self.stock


@dataclass
class SupplierGroup:
    supplier_id: int
    supplier_name: str
    lines: list[CartLine] = field(default_factory=list)

    @property
    def total_fen(self) -> int:
        return sum(line.amount_fen for line in self.lines)


@dataclass
class CartView:
    groups: list[SupplierGroup]

    @property
    def total_fen(self) -> int:
        return sum(g.total_fen for g in self.groups)

    @property
    def count(self) -> int:
        return sum(len(g.lines) for g in self.groups)

    def amounts_by_category(self) -> dict[str, int]:
        amounts: dict[str, int] = {}
        for group in self.groups:
            for line in group.lines:
                amounts[line.category_code] = amounts.get(line.category_code, 0) + line.amount_fen
        return amounts


def require_buyer(actor: Actor) -> None:
    if actor.organisation_kind is not OrganisationKind.PURCHASING_UNIT:
        raise PermissionDenied("Only purchasing units buy in the mall.", code="buyer_required")
    actor.require_role(*BUYERS)


def _check_quantity(quantity: int) -> None:
    require(quantity, QUANTITY, "quantity")


def add_item(session: Session, actor: Actor, *, offer_id: int, quantity: int = 1) -> CartItem:
    """Put an offer in the cart (adding to the quantity already there)."""
    require_buyer(actor)
    _check_quantity(quantity)
    offer = session.get(Offer, offer_id)
    if offer is None or not offer.visible:
        raise NotFound("This offer is not on sale.")
    item = session.scalar(select(CartItem).where(CartItem.user_id == actor.user_id,
                                                 CartItem.offer_id == offer_id))
    wanted = quantity + (item.quantity if item else 0)
    if wanted > offer.stock:
        raise OutOfStock(N_("Only %(stock)s in stock."),
                               errors={"quantity": [N_("Not enough stock.")]},
                               params={"stock": offer.stock})
    _check_quantity(wanted)
    if item is None:
        if count_items(session, actor) >= MAX_LINES:
            raise ValidationFailed(errors={"offer_id": [N_("A cart holds at most 200 offers.")]})
        item = CartItem(user_id=actor.user_id, offer_id=offer_id, quantity=wanted, added_at=now())
        session.add(item)
    else:
        item.quantity = wanted
    session.flush()
    return item


def set_quantity(session: Session, actor: Actor, *, offer_id: int, quantity: int) -> None:
    """Change a line's quantity; 0 removes it."""
    require_buyer(actor)
    item = session.scalar(select(CartItem).where(CartItem.user_id == actor.user_id,
                                                 CartItem.offer_id == offer_id))
    if item is None:
        raise NotFound()
    if quantity == 0:
        session.delete(item)
    else:
        _check_quantity(quantity)
        offer = session.get_one(Offer, offer_id)
        if quantity > offer.stock:
            raise OutOfStock(N_("Only %(stock)s in stock."),
                                   errors={"quantity": [N_("Not enough stock.")]},
                                   params={"stock": offer.stock})
        item.quantity = quantity
    session.flush()


def clear(session: Session, actor: Actor, offer_ids: list[int] | None = None) -> None:
    query = delete(CartItem).where(CartItem.user_id == actor.user_id)
    if offer_ids is not None:
        query = query.where(CartItem.offer_id.in_(offer_ids))
    session.execute(query)


def count_items(session: Session, actor: Actor) -> int:
    return session.scalar(select(func.count()).select_from(CartItem)
                          .where(CartItem.user_id == actor.user_id)) or 0


def view_cart(session: Session, actor: Actor, offer_ids: list[int] | None = None) -> CartView:
    """The cart at today's prices, one group per supplier."""
    query = select(CartItem.offer_id, CartItem.quantity).where(
        CartItem.user_id == actor.user_id).order_by(CartItem.id)
    if offer_ids is not None:
        query = query.where(CartItem.offer_id.in_(offer_ids))
    return view_items(session, [(offer_id, quantity) for offer_id, quantity in session.execute(query)])


def view_items(session: Session, items: list[tuple[int, int]]) -> CartView:
    """Offers and quantities (a cart, or an API client's "buy now" list) grouped by supplier."""
    quantities: dict[int, int] = {}
    for offer_id, quantity in items:
        _check_quantity(quantity)
        quantities[offer_id] = quantities.get(offer_id, 0) + quantity
    if len(quantities) > MAX_LINES:
        raise ValidationFailed(errors={"items": [N_("At most 200 offers per order.")]})
    rows = session.execute(select(Offer, Organisation.name)
                           .join(Organisation, Organisation.id == Offer.supplier_id)
                           .where(Offer.id.in_(list(quantities)))).all()
    found = {offer.id: (offer, name) for offer, name in rows}
    missing = [offer_id for offer_id in quantities if offer_id not in found]
    if missing:
        raise ValidationFailed(errors={"items": [f"No such offer: {missing[0]}."]}, code="offer_unknown")
    groups: dict[int, SupplierGroup] = {}
    for offer_id, quantity in quantities.items():
        offer, supplier_name = found[offer_id]
        product = offer.product
        group = groups.setdefault(offer.supplier_id, SupplierGroup(offer.supplier_id, supplier_name))
        group.lines.append(CartLine(
            offer_id=offer.id, product_id=product.id, title=product.title, brand=product.brand,
            model=product.model, unit=product.unit, category_code=product.category.code,
            quantity=quantity, price_fen=offer.price_fen, stock=offer.stock,
            available=offer.visible))
    return CartView(sorted(groups.values(), key=lambda g: (g.supplier_name, g.supplier_id)))
