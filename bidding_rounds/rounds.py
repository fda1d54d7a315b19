"""Starting, reading and cancelling bidding rounds.

A buyer puts a purchase out to competition from its cart or from a blank form: the items, the
ceiling price (reserved on a budget line until the round ends), the delivery region, address
and term, the SME deduction rate and the quote deadline. The round notice is public at once.
Until the deadline the round's quotes are sealed (四不知): every read here gives the number of
quotes and nothing else; the ranked quotes come from ``ranked_quotes`` once the round is
closed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bidding_rounds import settings as round_settings
from bidding_rounds.eligibility import live_agreements
from bidding_rounds.models import (
    BiddingRound,
    Quote,
    QuoteStatus,
    RoundItem,
    RoundMode,
    RoundStatus,
)
from bidding_rounds.publication import publish_failure_notice, publish_round_notice
from catalog.models import Category, Product
from catalog.search.types import NATIONWIDE
from mall.accounts.models import Organisation, User
from mall.core.audit import record_event
from mall.core.auth import BUYERS, Actor, OrganisationKind, require_same_organisation
from mall.core.clock import local_today, now
from mall.core.errors import (
    Conflict,
    FieldMessage,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from mall.core.inputs import check_text
from mall.core.money import POSITIVE_AMOUNT, QUANTITY, within
from mall.i18n_messages import N_
from mall.purchasing.budget import limits
from mall.purchasing.budget import services as budget
from mall.purchasing.orders.cart import view_cart
from suppliers.models import FrameworkMember

MAX_ITEMS = 50
MIN_INVITED = 3
MAX_DELIVERY_DAYS = 180
REGION = re.compile(r"\d{6}")
OPEN_STATES = (RoundStatus.OPEN,)


@dataclass(frozen=True)
class ItemInput:
    category_code: str
    name: str
    quantity: int
    unit: str
    spec: str = ""
    product_id: int | None = None


@dataclass(frozen=True)
class RoundInput:
    mode: str
    items: Sequence[ItemInput]
    budget_line_id: int
    ceiling_fen: int
    delivery_address: str
    contact: str
    title: str = ""
    region_code: str | None = None  # None: the unit's own region
    delivery_days: int = 7
    sme_deduction_pct: int = 10
    deadline: datetime | None = None  # None: the default window after publication
    invited_supplier_ids: Sequence[int] = ()
    sme_reserved: bool = False
    rerun_of_id: int | None = None
    # The form's one-time token: a second submission of the same form (a double click, a
    # resent request) gets the round of the first instead of publishing another.
    token: str | None = None


def require_buyer(actor: Actor) -> None:
    if actor.organisation_kind is not OrganisationKind.PURCHASING_UNIT:
        raise PermissionDenied(N_("Only purchasing units start bidding rounds."),
                               code="role_required")
    actor.require_role(*BUYERS)


def items_from_cart(session: Session, actor: Actor) -> list[ItemInput]:
    """The cart's lines as the items of a round (its products named, quantities kept)."""
    require_buyer(actor)
    cart = view_cart(session, actor)
    return [ItemInput(category_code=ln.category_code, name=ln.title[:300],
                      spec=" ".join(part for part in (ln.brand, ln.model) if part)[:1000],
                      quantity=ln.quantity, unit=ln.unit, product_id=ln.product_id)
            for group in cart.groups for ln in group.lines]


def cart_total(session: Session, actor: Actor) -> int:
    """What the cart costs at mall prices: the ceiling a round from it starts with."""
    return view_cart(session, actor).total_fen


def _check_items(session: Session, items: Sequence[ItemInput],
                 errors: dict[str, list[str]]) -> None:
    if not items:
        errors["items"] = [N_("Add at least one item.")]
        return
    if len(items) > MAX_ITEMS:
        errors["items"] = [N_("A round takes at most 50 items.")]
        return
    codes = {item.category_code for item in items}
    leaves = set(session.scalars(select(Category.code).where(
        Category.code.in_(codes), Category.is_leaf.is_(True), Category.enabled.is_(True))))
    named = {item.product_id for item in items if isinstance(item.product_id, int)}
    products = dict(session.execute(
        select(Product.id, Category.code).join(Category, Category.id == Product.category_id)
        .where(Product.id.in_(named))).all()) if named else {}
    for index, item in enumerate(items):
        key = f"items.{index}"
        if item.category_code not in leaves:
            errors[f"{key}.category_code"] = [N_("Choose a category sold in the mall.")]
        if item.product_id is not None and products.get(item.product_id) != item.category_code:
            errors[f"{key}.product_id"] = [N_("Not a product of the mall in this item's "
                                             "category.")]
        if not item.name.strip():
            errors[f"{key}.name"] = [N_("Enter the item's name.")]
        elif len(item.name) > 300:
            errors[f"{key}.name"] = [N_("Use at most 300 characters.")]
        if len(item.spec) > 1000:
            errors[f"{key}.spec"] = [N_("Use at most 1,000 characters.")]
        if not within(item.quantity, QUANTITY):
            errors[f"{key}.quantity"] = [QUANTITY.message]
        if not item.unit.strip() or len(item.unit) > 10:
            errors[f"{key}.unit"] = [N_("Enter a unit of at most 10 characters (台, 件, 箱).")]
        check_text(f"{key}.name", item.name, errors=errors)
        check_text(f"{key}.spec", item.spec, multiline=True, errors=errors)
        check_text(f"{key}.unit", item.unit, errors=errors)


def create_round(session: Session, actor: Actor, data: RoundInput) -> BiddingRound:
    """Publish a round: validate, reserve the ceiling on the budget line, publish its notice."""
    require_buyer(actor)
    if data.token is not None:
        replay = _replay(session, actor, data.token)
        if replay is not None:
            return replay
    errors: dict[str, list[str]] = {}
    if data.rerun_of_id is not None:
        _check_rerun(session, actor, data.rerun_of_id, errors)
    try:
        mode = RoundMode(data.mode)
    except ValueError:
        errors["mode"] = [N_("Choose quick bidding or admitted-supplier bidding.")]
        mode = RoundMode.QUICK
    _check_items(session, data.items, errors)
    if not within(data.ceiling_fen, POSITIVE_AMOUNT):
        errors["ceiling_fen"] = [POSITIVE_AMOUNT.message]
    if not data.delivery_address.strip():
        errors["delivery_address"] = [N_("Enter the delivery address.")]
    if not data.contact.strip():
        errors["contact"] = [N_("Enter a contact name and phone number.")]
    check_text("delivery_address", data.delivery_address, errors=errors)
    check_text("contact", data.contact, errors=errors)
    check_text("title", data.title, errors=errors)
    if len(data.title) > 200 or len(data.delivery_address) > 300 or len(data.contact) > 100:
        errors.setdefault("title", [N_("Use at most 200 characters.")])
    if type(data.delivery_days) is not int or not 1 <= data.delivery_days <= MAX_DELIVERY_DAYS:
        errors["delivery_days"] = [N_("Enter a delivery term of 1 to 180 days.")]
    if type(data.sme_deduction_pct) is not int or not 10 <= data.sme_deduction_pct <= 20:
        errors["sme_deduction_pct"] = [N_("Choose an SME price deduction of 10 to 20 percent.")]
    unit = session.get_one(Organisation, actor.organisation_id)
    region = data.region_code or unit.region_code or ""
    if not REGION.fullmatch(region) or region == NATIONWIDE:
        errors["region_code"] = [N_("Enter a six-digit region code, such as 430102.")]
    config = round_settings.current(session)
    moment = now()
    deadline = data.deadline or moment + timedelta(hours=config.default_window_hours)
    if deadline.tzinfo is None or deadline < moment + timedelta(hours=config.min_window_hours):
        errors["deadline"] = [FieldMessage(N_("The quote deadline must be at least %(hours)s "
                                              "hours after publication."),
                                           hours=config.min_window_hours)]
    elif deadline > moment + timedelta(days=round_settings.MAX_WINDOW_DAYS):
        errors["deadline"] = [N_("The quote deadline must be within 30 days.")]
    line = None
    if isinstance(data.budget_line_id, int) and not isinstance(data.budget_line_id, bool):
        try:
            line = budget.get_budget_line(session, actor, data.budget_line_id)
        except NotFound:
            line = None
    if line is None:
        errors["budget_line_id"] = [N_("Choose one of your unit's budget lines.")]
    elif line.fiscal_year != local_today().year:
        errors["budget_line_id"] = [N_("This budget line is for another fiscal year; choose a "
                                       "line of this year.")]
    elif not all(budget.covers(line, item.category_code) for item in data.items):
        errors["budget_line_id"] = [N_("This budget line does not cover every item's category.")]
    agreement_id, invited = _framework(session, mode, data, errors)
    if errors or line is None:
        raise ValidationFailed(errors=errors)
    with session.begin_nested():  # a refusal below leaves no reservation behind
        return _publish(session, actor, data, mode=mode, line=line, unit=unit, region=region,
                        deadline=deadline, moment=moment, config=config,
                        agreement_id=agreement_id, invited=invited)


def _publish(session: Session, actor: Actor, data: RoundInput, *, mode: RoundMode,
             line: budget.BudgetLine, unit: Organisation, region: str, deadline: datetime,
             moment: datetime, config: round_settings.Settings, agreement_id: int | None,
             invited: list[int] | None) -> BiddingRound:
    codes = sorted({item.category_code for item in data.items})
    # The reservation first: it locks the budget line, so that two rounds published on it at
    # once count each other below.
    budget.reserve(session, line.id, data.ceiling_fen)
    pending = _pending_by_category(session, actor.organisation_id, line.fiscal_year, codes)
    limits.check_open_tender(session, actor.organisation_id, line.fiscal_year,
                             {code: data.ceiling_fen + pending.get(code, 0) for code in codes},
                             total_fen=data.ceiling_fen)
    bidding_round = BiddingRound(
        number="", mode=mode, status=RoundStatus.OPEN,
        title=(data.title.strip() or data.items[0].name.strip())[:200],
        buyer_org_id=actor.organisation_id, buyer_user_id=actor.user_id,
        budget_line_id=line.id, fiscal_year=line.fiscal_year, ceiling_fen=data.ceiling_fen,
        reserved_fen=data.ceiling_fen, region_code=region,
        delivery_address=data.delivery_address.strip(), contact=data.contact.strip(),
        delivery_days=data.delivery_days, sme_deduction_pct=data.sme_deduction_pct,
        sme_reserved=bool(data.sme_reserved), framework_agreement_id=agreement_id,
        invited_supplier_ids=invited, min_quotes=config.min_quotes,
        confirm_hours=config.confirm_hours, published_at=moment, deadline=deadline,
        rerun_of_id=data.rerun_of_id, request_token=data.token)
    bidding_round.items = [RoundItem(position=i, category_code=item.category_code,
                                     product_id=item.product_id, name=item.name.strip(),
                                     spec=item.spec.strip(), quantity=item.quantity,
                                     unit=item.unit.strip())
                           for i, item in enumerate(data.items, start=1)]
    session.add(bidding_round)
    session.flush()
    prefix = "JJ" if mode is RoundMode.QUICK else "RW"
    bidding_round.number = f"{prefix}{local_today():%Y%m%d}{bidding_round.id:07d}"
    publish_round_notice(session, bidding_round, unit)
    record_event(session, action="round.published", object_type="bidding_round",
                 object_id=bidding_round.id, actor=actor,
                 data={"number": bidding_round.number, "mode": mode.value,
                       "ceiling_fen": data.ceiling_fen, "deadline": deadline.isoformat()})
    return bidding_round


def _replay(session: Session, actor: Actor, token: str) -> BiddingRound | None:
    """The round this user already published with ``token``, if any. The user's row lock
    makes a second submission racing the first wait for it, then find its round."""
    if not token or len(token) > 80:
        raise ValidationFailed(errors={"token": [N_("The form has expired; reload the page.")]})
    session.execute(select(User.id).where(User.id == actor.user_id).with_for_update())
    return session.scalar(select(BiddingRound).where(BiddingRound.buyer_user_id == actor.user_id,
                                                     BiddingRound.request_token == token))


def _check_rerun(session: Session, actor: Actor, round_id: int,
                 errors: dict[str, list[str]]) -> None:
    """A round is re-run from one of the unit's rounds that failed or was cancelled."""
    earlier = session.get(BiddingRound, round_id) if isinstance(round_id, int) else None
    if earlier is None or earlier.buyer_org_id != actor.organisation_id \
            or earlier.status not in (RoundStatus.FAILED, RoundStatus.CANCELLED):
        errors["rerun_of_id"] = [N_("Only a round of your unit that failed or was cancelled "
                                    "can be run again.")]


def _pending_by_category(session: Session, organisation_id: int, fiscal_year: int,
                         codes: Sequence[str]) -> dict[str, int]:
    """What the unit's rounds still under way hold per category (their reserved ceilings), so
    that several rounds cannot together pass the open-tender threshold (化整为零). A round of
    several categories counts its whole reservation in each."""
    rows = session.execute(
        select(RoundItem.category_code, BiddingRound.id, BiddingRound.reserved_fen)
        .join(BiddingRound, BiddingRound.id == RoundItem.round_id)
        .where(BiddingRound.buyer_org_id == organisation_id,
               BiddingRound.fiscal_year == fiscal_year, BiddingRound.reserved_fen > 0,
               RoundItem.category_code.in_(codes))
        .distinct()).all()
    pending: dict[str, int] = {}
    for code, _round_id, reserved in rows:
        pending[code] = pending.get(code, 0) + int(reserved)
    return pending


def _framework(session: Session, mode: RoundMode, data: RoundInput,
               errors: dict[str, list[str]]) -> tuple[int | None, list[int] | None]:
    """The live agreement an admitted-supplier round runs under, and its invited members."""
    invited = sorted(set(data.invited_supplier_ids))
    if mode is RoundMode.QUICK:
        if invited:
            errors["invited_supplier_ids"] = [N_("Only admitted-supplier bidding invites "
                                                 "suppliers.")]
        return None, None
    codes = {item.category_code for item in data.items}
    if len(codes) != 1:
        errors["items"] = [N_("Admitted-supplier bidding buys items of one category, under "
                              "its framework agreement.")]
        return None, None
    agreements = live_agreements(session, codes.pop(), local_today())
    if not agreements:
        errors["mode"] = [N_("No framework agreement is in force for this category; use quick "
                             "bidding.")]
        return None, None
    agreement = agreements[0]
    if invited:
        members = set(session.scalars(select(FrameworkMember.supplier_id).where(
            FrameworkMember.agreement_id == agreement.id)))
        if len(invited) < MIN_INVITED:
            errors["invited_supplier_ids"] = [N_("Invite at least 3 suppliers, or none to "
                                                 "invite every member.")]
        elif not set(invited) <= members:
            errors["invited_supplier_ids"] = [N_("Invite members of the framework agreement "
                                                 "only.")]
    return agreement.id, invited or None


# -- reading ----------------------------------------------------------------------------------

def get_round(session: Session, actor: Actor, round_id: int, *, lock: bool = False
              ) -> BiddingRound:
    """A round its unit or oversight may manage; others (suppliers included) get 404 here
    (suppliers read rounds through the opportunities)."""
    query = select(BiddingRound).where(BiddingRound.id == round_id)
    if lock:
        query = query.with_for_update()
    found = session.scalar(query)
    if found is None:
        raise NotFound()
    require_same_organisation(actor, found.buyer_org_id)
    return found


def list_rounds(session: Session, actor: Actor, *, status: str | None = None,
                page: int = 1, page_size: int = 20) -> tuple[list[BiddingRound], int]:
    """The unit's own rounds (all rounds for oversight), newest first."""
    query = select(BiddingRound)
    if not actor.is_oversight:
        require_buyer_or_finance(actor)
        query = query.where(BiddingRound.buyer_org_id == actor.organisation_id)
    if status:
        query = query.where(BiddingRound.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(BiddingRound.id.desc())
                           .limit(page_size).offset((page - 1) * page_size))
    return list(rows), total


def require_buyer_or_finance(actor: Actor) -> None:
    if actor.organisation_kind is not OrganisationKind.PURCHASING_UNIT:
        raise NotFound()


def ranked_quotes(session: Session, bidding_round: BiddingRound) -> list[Quote]:
    """The round's quotes in rank order (valid first, struck ones after) — only once the round
    has closed: before its deadline (and for a round cancelled while open) they stay sealed."""
    if bidding_round.closed_at is None:
        return []
    return list(session.scalars(select(Quote).where(Quote.round_id == bidding_round.id)
                                .order_by(Quote.status != QuoteStatus.VALID,
                                          Quote.rank.is_(None), Quote.rank, Quote.id)))


def is_sealed(bidding_round: BiddingRound) -> bool:
    return bidding_round.closed_at is None


def cancel_round(session: Session, actor: Actor, round_id: int, *, reason: str) -> BiddingRound:
    """The unit withdraws an open round (with a reason, published); its budget is released and
    its quotes are never opened."""
    require_buyer(actor)
    check_text("reason", reason, multiline=True)
    if not reason.strip() or len(reason) > 300:
        raise ValidationFailed(errors={"reason": [N_("Give a reason of at most 300 "
                                                     "characters.")]})
    bidding_round = get_round(session, actor, round_id, lock=True)
    if bidding_round.status is not RoundStatus.OPEN or bidding_round.deadline <= now():
        raise Conflict(N_("Only an open round can be cancelled before its deadline."),
                       code="round_not_open")
    bidding_round.status = RoundStatus.CANCELLED
    bidding_round.cancel_reason = reason.strip()
    release_reservation(session, bidding_round)
    publish_failure_notice(session, bidding_round, "cancelled")
    record_event(session, action="round.cancelled", object_type="bidding_round",
                 object_id=bidding_round.id, actor=actor, data={"reason": reason.strip()})
    return bidding_round


def release_reservation(session: Session, bidding_round: BiddingRound) -> None:
    """Give the round's budget reservation back to its line."""
    if bidding_round.reserved_fen:
        budget.move(session, bidding_round.budget_line_id, bidding_round.reserved_fen,
                    "reserved", "released")
        bidding_round.reserved_fen = 0
