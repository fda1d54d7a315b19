"""Price cases after the inspection: the operator's worklist and decisions (freeze, dismiss),
the supplier's own cases, one case with its offer's price history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case as sql_case
from sqlalchemy import column, func, select, table
from sqlalchemy.orm import Session

from catalog.models import Category, Offer, OfferStatus, PriceChange, Product
from mall.core.audit import record_event
from mall.core.auth import OVERSIGHT_STAFF, SUPPLIER_STAFF, Actor, OrganisationKind, Role
from mall.core.clock import now
from mall.core.errors import Conflict, NotFound, ValidationFailed
from mall.core.inputs import check_text
from mall.core.money import format_fen
from mall.i18n_messages import N_
from mall.purchasing.orders.notifications import notify
from supervision.prices.models import CaseStatus, PriceCase
from suppliers import moderation

# The account tables belong to a higher layer than catalog; read names by table name here too.
ORGANISATIONS = table("organisations", column("id"), column("name"))
PAGE_SIZE = 50
NOTE_LENGTH = 1000


@dataclass(frozen=True)
class CaseRow:
    """A case with what a list shows beside it."""

    case: PriceCase
    offer: Offer
    product: Product
    category: Category
    supplier_name: str


@dataclass(frozen=True)
class CaseFilter:
    """The worklist's filters (None: any)."""

    supplier_id: int | None = None
    category_id: int | None = None
    status: CaseStatus | None = None


def _rows(session: Session, conditions: list, *, page: int) -> tuple[list[CaseRow], int]:
    """One page of the cases meeting ``conditions`` (on the cases' own columns), open first
    and newest first, and how many there are. The page's ids are chosen on the cases table
    alone; only those fifty rows are joined to their offer, product and supplier."""
    total = session.scalar(select(func.count()).select_from(PriceCase).where(*conditions)) or 0
    order = (sql_case((PriceCase.status == CaseStatus.OPEN, 0), else_=1),
             PriceCase.opened_at.desc(), PriceCase.id.desc())
    chosen = (select(PriceCase.id).where(*conditions).order_by(*order).limit(PAGE_SIZE)
              .offset((max(page, 1) - 1) * PAGE_SIZE).scalar_subquery())
    found = session.execute(case_query().where(PriceCase.id.in_(chosen)).order_by(*order)).all()
    return [CaseRow(*row) for row in found], total


def case_query():
    return (select(PriceCase, Offer, Product, Category, ORGANISATIONS.c.name)
            .join(Offer, Offer.id == PriceCase.offer_id)
            .join(Product, Product.id == PriceCase.product_id)
            .join(Category, Category.id == PriceCase.category_id)
            .join(ORGANISATIONS, ORGANISATIONS.c.id == PriceCase.supplier_id))


def worklist(session: Session, actor: Actor, *, filters: CaseFilter = CaseFilter(),
             page: int = 1) -> tuple[list[CaseRow], int]:
    """Every supplier's cases for the operator and the supervisor: open ones first, newest
    first within; filtered by supplier, category and status."""
    actor.require_role(*OVERSIGHT_STAFF)
    conditions = []
    if filters.supplier_id is not None:
        conditions.append(PriceCase.supplier_id == filters.supplier_id)
    if filters.category_id is not None:
        conditions.append(PriceCase.category_id == filters.category_id)
    if filters.status is not None:
        conditions.append(PriceCase.status == filters.status)
    return _rows(session, conditions, page=page)


def supplier_cases(session: Session, actor: Actor, *, page: int = 1
                   ) -> tuple[list[CaseRow], int]:
    """A supplier's own cases, open ones first."""
    actor.require_role(*SUPPLIER_STAFF)
    return _rows(session, [PriceCase.supplier_id == actor.organisation_id], page=page)


def filter_choices(session: Session, actor: Actor
                   ) -> tuple[list[tuple[int, str]], list[tuple[int, str, str]]]:
    """The suppliers (id, name) and categories (id, code, name) that have cases."""
    actor.require_role(*OVERSIGHT_STAFF)
    supplier_ids = select(PriceCase.supplier_id).distinct().scalar_subquery()
    category_ids = select(PriceCase.category_id).distinct().scalar_subquery()
    suppliers = session.execute(select(ORGANISATIONS.c.id, ORGANISATIONS.c.name)
                                .where(ORGANISATIONS.c.id.in_(supplier_ids))
                                .order_by(ORGANISATIONS.c.name)).all()
    categories = session.execute(select(Category.id, Category.code, Category.name)
                                 .where(Category.id.in_(category_ids))
                                 .order_by(Category.code)).all()
    return ([(r[0], r[1]) for r in suppliers], [(r[0], r[1], r[2]) for r in categories])


def get_case(session: Session, actor: Actor, case_id: int) -> CaseRow:
    """One case: oversight sees any, a supplier its own; anyone else is told it does not exist."""
    row = session.execute(case_query().where(PriceCase.id == case_id)).first()
    if row is None:
        raise NotFound()
    found = CaseRow(*row)
    if actor.is_oversight:
        actor.require_role(*OVERSIGHT_STAFF)
    elif (actor.organisation_kind is not OrganisationKind.SUPPLIER
          or actor.organisation_id != found.case.supplier_id):
        raise NotFound()
    return found


@dataclass(frozen=True)
class PricePoint:
    at: datetime
    price_fen: int


def price_history(session: Session, actor: Actor, case_id: int) -> list[PricePoint]:
    """The offer's prices over time (each change), oldest first."""
    found = get_case(session, actor, case_id)
    return [PricePoint(at, price) for at, price in session.execute(
        select(PriceChange.changed_at, PriceChange.new_price_fen)
        .where(PriceChange.offer_id == found.offer.id)
        .order_by(PriceChange.changed_at, PriceChange.id)).all()]


def _open_case_for_decision(session: Session, actor: Actor, case_id: int, note: str
                            ) -> tuple[PriceCase, str]:
    actor.require_role(Role.OPERATOR)
    found = session.get(PriceCase, case_id, with_for_update=True)
    if found is None:
        raise NotFound()
    note = (note or "").strip()
    if not note:
        raise ValidationFailed(errors={"note": [N_("Write why.")]})
    if len(note) > NOTE_LENGTH:
        raise ValidationFailed(errors={"note": [N_("Write at most 1000 characters.")]})
    check_text("note", note, multiline=True)
    if found.status is not CaseStatus.OPEN:
        raise Conflict(N_("This price case is already closed."), code="price_case_closed")
    return found, note


def _close(session: Session, actor: Actor, found: PriceCase, status: CaseStatus, note: str,
           offer: Offer) -> None:
    found.status, found.closed_at, found.closed_by_id = status, now(), actor.user_id
    found.note, found.closing_price_fen = note, offer.price_fen
    record_event(session, action=f"price_case.{status.value}", object_type="price_case",
                 object_id=found.id, actor=actor,
                 data={"offer_id": offer.id, "price_fen": offer.price_fen, "note": note})
    kind = "price_case_frozen" if status is CaseStatus.FROZEN else "price_case_dismissed"
    notify(session, found.supplier_id, None, kind, case=found.id, sku=offer.supplier_sku,
           price=format_fen(offer.price_fen), note=note)
    session.flush()


def freeze_case(session: Session, actor: Actor, case_id: int, *, note: str) -> PriceCase:
    """The operator freezes the offer of an open case (through listing moderation) and closes
    the case as a violation; an offer already frozen or delisted stays as it is."""
    found, note = _open_case_for_decision(session, actor, case_id, note)
    offer = session.get(Offer, found.offer_id)
    assert offer is not None  # the foreign key cascades: a case has its offer
    if offer.status in (OfferStatus.LISTED, OfferStatus.PENDING_REVIEW):
        moderation.decide_offers(session, actor, offer_ids=[offer.id], action="freeze",
                                 reason=note)
    _close(session, actor, found, CaseStatus.FROZEN, note, offer)
    return found


def dismiss_case(session: Session, actor: Actor, case_id: int, *, note: str) -> PriceCase:
    """The operator finds the price justified and closes the case with the reason; the offer
    stays on sale, and later inspections open no new case for it unless its price rises
    above the price the operator accepted."""
    found, note = _open_case_for_decision(session, actor, case_id, note)
    offer = session.get(Offer, found.offer_id)
    assert offer is not None
    _close(session, actor, found, CaseStatus.DISMISSED, note, offer)
    return found
