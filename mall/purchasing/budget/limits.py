"""A unit's running totals per category and fiscal year, against the direct-purchase limit
and the open-tender threshold (docs/domain.md: Purchase modes and thresholds, Supervision →
Splitting 化整为零).

Direct purchases count in ``total_fen``, which the direct-purchase limit bounds; bidding-round
purchases count apart in ``bidding_fen``; both together stay within the open-tender
threshold, above which only an open tender (公开招标) may buy. The direct total moves by one
conditional UPDATE that also checks the limit, so that two checkouts racing for the last of
it cannot both pass.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mall.core.db import upsert_insert
from mall.core.errors import MallError
from mall.core.money import format_fen
from mall.i18n_messages import N_
from mall.purchasing.budget.models import CategorySpend
from mall.purchasing.budget.services import Limits, unit_limits


class LimitExceeded(MallError):
    """A direct purchase past the limit: the way forward is a bidding round, which
    ``round_possible`` says is open to it (within the open-tender threshold)."""

    code = "direct_purchase_limit_exceeded"
    status = 409
    title = "Direct purchase limit exceeded"
    round_possible = False


class OpenTenderRequired(MallError):
    """A purchase above the open-tender threshold: neither direct purchase nor a bidding
    round may make it, only an open tender (公开招标)."""

    code = "open_tender_required"
    status = 409
    title = "Open tender required"


@dataclass(frozen=True)
class LimitCheck:
    """Where a category's running total would stand after an order."""

    category_code: str
    running_total_fen: int  # before the order
    order_fen: int
    limit_fen: int
    warn_at_fen: int

    @property
    def after_fen(self) -> int:
        return self.running_total_fen + self.order_fen

    @property
    def blocked(self) -> bool:
        return self.after_fen > self.limit_fen or self.order_fen > self.limit_fen

    @property
    def warning(self) -> bool:
        return not self.blocked and self.after_fen >= self.warn_at_fen


def running_totals(session: Session, organisation_id: int, fiscal_year: int,
                   codes: set[str]) -> dict[str, int]:
    """The unit's direct purchases this year in each of ``codes``."""
    return {code: direct for code, (direct, _bidding) in
            _spend(session, organisation_id, fiscal_year, codes).items()}


def _spend(session: Session, organisation_id: int, fiscal_year: int,
           codes: set[str]) -> dict[str, tuple[int, int]]:
    """(direct, bidding) totals of the unit this year in each of ``codes``."""
    rows = session.execute(select(
        CategorySpend.category_code, CategorySpend.total_fen, CategorySpend.bidding_fen).where(
        CategorySpend.organisation_id == organisation_id, CategorySpend.fiscal_year == fiscal_year,
        CategorySpend.category_code.in_(codes))).all()
    totals = dict.fromkeys(codes, (0, 0))
    totals.update({code: (direct, bidding) for code, direct, bidding in rows})
    return totals


def check_limits(session: Session, organisation_id: int, fiscal_year: int,
                 amounts_by_category: dict[str, int], *, limits: Limits | None = None
                 ) -> list[LimitCheck]:
    """How each category of an order stands against the unit's limit (no change made)."""
    limits = limits or unit_limits(session, organisation_id)
    totals = running_totals(session, organisation_id, fiscal_year, set(amounts_by_category))
    return [LimitCheck(code, totals[code], amount, limits.direct_limit_fen, limits.warn_at_fen)
            for code, amount in sorted(amounts_by_category.items())]


LIMIT_MESSAGE = N_("Category %(category)s: this unit has bought %(total)s by direct purchase "
                   "this fiscal year; with %(order)s more it would pass the direct-purchase "
                   "limit of %(limit)s. Buy it through a bidding round (quick bidding) instead.")
ORDER_LIMIT_MESSAGE = N_("The order to %(supplier)s comes to %(order)s, over the direct-purchase "
                         "limit of %(limit)s for one order. Buy it through a bidding round "
                         "(quick bidding) instead.")
OPEN_TENDER_MESSAGE = N_("The purchase comes to %(amount)s, above the open-tender threshold of "
                         "%(threshold)s: neither a direct purchase nor a bidding round may make "
                         "it. It needs an open tender.")
OPEN_TENDER_CATEGORY_MESSAGE = N_(
    "Category %(category)s: this unit has bought %(total)s this fiscal year by direct purchase "
    "and bidding rounds; with %(amount)s more it would pass the open-tender threshold of "
    "%(threshold)s. Neither a direct purchase nor a bidding round may make it: it needs an "
    "open tender.")


def limit_exceeded(check: LimitCheck) -> LimitExceeded:
    """The refusal of a purchase past the limit, naming the limit, the total and the way on."""
    return LimitExceeded(LIMIT_MESSAGE, errors={"category": [check.category_code]}, params={
        "category": check.category_code, "total": format_fen(check.running_total_fen),
        "order": format_fen(check.order_fen), "limit": format_fen(check.limit_fen)})


def add_to_running_totals(session: Session, organisation_id: int, fiscal_year: int,
                          amounts_by_category: dict[str, int], *, limits: Limits | None = None
                          ) -> list[LimitCheck]:
    """Count an order against the limit, refusing atomically if a total would pass it;
    returns where each category stood (for the 80 % warning)."""
    limits = limits or unit_limits(session, organisation_id)
    limit = limits.direct_limit_fen
    checks = []
    insert = upsert_insert(session)
    spend = CategorySpend.__table__  # plain statements: no ORM bulk machinery on this hot path
    for code, amount in sorted(amounts_by_category.items()):
        after = None
        if amount <= limit:
            # One statement: create the row, or add to it only while it stays within the limit.
            statement = insert(spend).values(
                organisation_id=organisation_id, fiscal_year=fiscal_year, category_code=code,
                total_fen=amount, bidding_fen=0)
            after = session.execute(statement.on_conflict_do_update(
                index_elements=["organisation_id", "fiscal_year", "category_code"],
                set_={"total_fen": spend.c.total_fen + statement.excluded.total_fen},
                where=spend.c.total_fen + statement.excluded.total_fen <= limit,
            ).returning(spend.c.total_fen)).scalar()
        if after is None:
            raise limit_exceeded(check_limits(session, organisation_id, fiscal_year,
                                              {code: amount}, limits=limits)[0])
        checks.append(LimitCheck(code, after - amount, amount, limit, limits.warn_at_fen))
    return checks


def remove_from_running_totals(session: Session, organisation_id: int, fiscal_year: int,
                               amounts_by_category: dict[str, int]) -> None:
    """Take a direct purchase's amounts off the totals (cancelled, lowered, returned)."""
    for code, amount in amounts_by_category.items():
        session.execute(update(CategorySpend).where(
            CategorySpend.organisation_id == organisation_id,
            CategorySpend.fiscal_year == fiscal_year, CategorySpend.category_code == code,
        ).values(total_fen=CategorySpend.total_fen - amount).execution_options(
            synchronize_session=False))


# -- the open-tender threshold and the bidding totals ----------------------------------------

def check_open_tender(session: Session, organisation_id: int, fiscal_year: int,
                      amounts_by_category: dict[str, int], *, total_fen: int,
                      limits: Limits | None = None) -> None:
    """Refuse a purchase (direct or by a bidding round) of ``total_fen`` above the unit's
    open-tender threshold, or one that would take a category's direct and bidding totals
    this year past it (化整为零); no change made."""
    limits = limits or unit_limits(session, organisation_id)
    threshold = limits.open_tender_fen
    if total_fen > threshold:
        raise OpenTenderRequired(OPEN_TENDER_MESSAGE, errors={"total_fen": [
            N_("Above the open-tender threshold.")]}, params={
            "amount": format_fen(total_fen), "threshold": format_fen(threshold)})
    totals = _spend(session, organisation_id, fiscal_year, set(amounts_by_category))
    for code, amount in sorted(amounts_by_category.items()):
        so_far = sum(totals[code])
        if so_far + amount > threshold:
            raise OpenTenderRequired(OPEN_TENDER_CATEGORY_MESSAGE, errors={"category": [code]},
                                     params={"category": code, "total": format_fen(so_far),
                                             "amount": format_fen(amount),
                                             "threshold": format_fen(threshold)})


def add_bidding_spend(session: Session, organisation_id: int, fiscal_year: int,
                      amounts_by_category: dict[str, int]) -> None:
    """Count a bidding round's award in the unit's bidding totals (no limit: the round was
    checked against the open-tender threshold when it was put out)."""
    insert = upsert_insert(session)
    spend = CategorySpend.__table__
    for code, amount in sorted(amounts_by_category.items()):
        statement = insert(spend).values(
            organisation_id=organisation_id, fiscal_year=fiscal_year, category_code=code,
            total_fen=0, bidding_fen=amount)
        session.execute(statement.on_conflict_do_update(
            index_elements=["organisation_id", "fiscal_year", "category_code"],
            set_={"bidding_fen": spend.c.bidding_fen + statement.excluded.bidding_fen}))


def remove_bidding_spend(session: Session, organisation_id: int, fiscal_year: int,
                         amounts_by_category: dict[str, int]) -> None:
    """Take an award order's amounts off the bidding totals (cancelled, lowered, returned)."""
    for code, amount in sorted(amounts_by_category.items()):
        session.execute(update(CategorySpend).where(
            CategorySpend.organisation_id == organisation_id,
            CategorySpend.fiscal_year == fiscal_year, CategorySpend.category_code == code,
        ).values(bidding_fen=CategorySpend.bidding_fen - amount).execution_options(
            synchronize_session=False))
