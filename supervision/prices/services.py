"""The daily price inspection (价格监测): every listed offer against its reference public price
and against the other suppliers' prices for the same product.

One streamed pass over the listed offers in product order: per product the prices are
sorted once, and each offer's peers (the product's other suppliers' offers) are that list
without its own supplier's prices, so their quartiles come from index arithmetic. This is
linear in the offers on SQLite and PostgreSQL alike; PostgreSQL's ``percentile_cont`` would
need a self-join per offer (k² rows per product) to leave the offer's own supplier out.
Only what the pass finds is written: new cases in one bulk insert, resolved cases in one
bulk update, the offers above the hard ratio frozen through the moderation service.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Container, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain, groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from catalog.models import Offer, OfferStatus, Product
from mall.core import bulk
from mall.core.audit import record_event
from mall.core.clock import now, to_local
from mall.i18n_messages import N_
from mall.purchasing.orders.notifications import MESSAGES, notify
from supervision.prices import settings as price_settings
from supervision.prices.models import (
    ABOVE_PEERS,
    ABOVE_REFERENCE,
    CaseStatus,
    InspectedSupplier,
    PriceCase,
    PriceInspection,
)
from suppliers import moderation
from suppliers.review import ABOVE_MARKET_AVERAGE
from suppliers.review import ABOVE_REFERENCE as REVIEW_ABOVE_REFERENCE

PRICE_MESSAGES = {
    "price_cases_opened": N_("The price inspection of %(day)s found %(count)s of your offers "
                             "priced above their reference price or well above other "
                             "suppliers' prices; %(frozen)s of them were frozen at once. See "
                             "your price cases."),
    "price_case_frozen": N_("Price case %(case)s: your offer %(sku)s at %(price)s was frozen by "
                            "the operator: %(note)s"),
    "price_case_dismissed": N_("Price case %(case)s: the operator accepted the price %(price)s "
                               "of your offer %(sku)s: %(note)s"),
}
MESSAGES.update(PRICE_MESSAGES)

# A lock key of the inspection on PostgreSQL: a second scheduler's run waits its turn.
ADVISORY_LOCK = 0x5072_6963_6573  # "Prices"
STREAM_BATCH = 20_000


@dataclass(frozen=True)
class Verdict:
    """What the rules find about one offer: why it is a case, the evidence, whether to freeze.

    Quartiles are kept four times over (``q1x4`` …) so that they stay whole numbers: the
    quartiles of integer prices fall on quarters of a fen."""

    reasons: tuple[str, ...]
    peers: int
    q1x4: int | None
    q2x4: int | None
    q3x4: int | None
    ratio_permille: int | None
    freeze: bool


def quartiles_x4(prices: Sequence[int]) -> tuple[int, int, int]:
    """Four times the 1st, 2nd and 3rd quartiles of sorted ``prices`` (linear interpolation,
    as PostgreSQL's ``percentile_cont``)."""
    last = len(prices) - 1
    lo, rest = divmod(last, 4)
    q1 = prices[lo] * 4 + ((prices[lo + 1] - prices[lo]) * rest if rest else 0)
    lo, rest = divmod(last * 2, 4)
    q2 = prices[lo] * 4 + ((prices[lo + 1] - prices[lo]) * rest if rest else 0)
    lo, rest = divmod(last * 3, 4)
    q3 = prices[lo] * 4 + ((prices[lo + 1] - prices[lo]) * rest if rest else 0)
    return q1, q2, q3


def assess(price: int, reference: int | None, peers: int, q1x4: int | None, q2x4: int | None,
           q3x4: int | None, rules: price_settings.Settings) -> Verdict | None:
    """The rules of the inspection for one offer (None: nothing to report).

    A case: above the reference price, or (with at least ``min_peers`` peers) above the
    peers' upper quartile by more than ``quartile_margin_pct``. Frozen at once: at or above
    ``hard_ratio_pct`` of the reference price or of the peers' median."""
    middle: tuple[int, int] | None = (
        (q2x4, q3x4) if peers >= rules.min_peers and q2x4 is not None and q3x4 is not None
        else None)  # the peers' median and upper quartile, when there are enough peers
    reasons: list[str] = []
    if reference is not None and price > reference:
        reasons.append(ABOVE_REFERENCE)
    if middle is not None and price * 400 > middle[1] * (100 + rules.quartile_margin_pct):
        reasons.append(ABOVE_PEERS)
    if not reasons:
        return None
    hard = rules.hard_ratio_pct
    freeze = ((reference is not None and price * 100 >= reference * hard)
              or (middle is not None and price * 400 >= middle[0] * hard))
    ratio: int | None = None
    if reference is not None:
        ratio = (price * 1000 + reference // 2) // reference
    elif middle is not None and middle[0] > 0:
        ratio = (price * 4000 + middle[0] // 2) // middle[0]
    if middle is None:
        return Verdict(tuple(reasons), peers, None, None, None, ratio, freeze)
    return Verdict(tuple(reasons), peers, q1x4, q2x4, q3x4, ratio, freeze)


def _inspect_product(rows: Sequence, rules: price_settings.Settings, watched: Container[int]
                     ) -> Iterator[tuple[Any, Verdict | None]]:
    """The offers of one product (rows of id, product, supplier, price, reference) that are
    out of line, with their verdict, and those in ``watched`` that are not (verdict None).

    Each offer's peers are the product's prices without its own supplier's: when every
    supplier sells it once, the sorted prices without this one price. A quick test on the
    two rules' thresholds lets most offers through without building a verdict; ``assess``
    decides the others."""
    size, min_peers = len(rows), rules.min_peers
    factor = 100 + rules.quartile_margin_pct
    prices = sorted(r[3] for r in rows) if size > min_peers else []
    once_each = bool(prices) and len({r[2] for r in rows}) == size
    for row in rows:
        price, reference = row[3], row[4]
        quartiles: tuple[int | None, int | None, int | None] = (None, None, None)
        peers = 0
        if prices:
            if once_each:
                gap = bisect.bisect_left(prices, price)
                others = prices[:gap] + prices[gap + 1:]
            else:
                others = sorted(r[3] for r in rows if r[2] != row[2])
            peers = len(others)
            if peers >= min_peers:
                quartiles = quartiles_x4(others)
        q3 = quartiles[2]
        if (reference is not None and price > reference) or (
                q3 is not None and price * 400 > q3 * factor):
            if not prices:
                peers = sum(1 for r in rows if r[2] != row[2])
            yield row, assess(price, reference, peers, *quartiles, rules)
        elif row[0] in watched:
            yield row, None


def _offers_per_supplier(session: Session) -> dict[int, int]:
    """How many listed offers buyers can see, per supplier."""
    return dict(session.execute(
        select(Offer.supplier_id, func.count())
        .where(Offer.status == OfferStatus.LISTED, Offer.suspended.is_(False))
        .group_by(Offer.supplier_id)).all())


def _stream_listed(session: Session):
    """The listed offers buyers can see, in product order, a batch at a time."""
    # Core rows on the session's connection: loading ORM rows would cost more than the rules.
    # Whole partitions: read row by row, psycopg's server-side cursor fetches only a few
    # hundred rows per round trip.
    result = session.connection().execute(
        select(Offer.id, Offer.product_id, Offer.supplier_id, Offer.price_fen,
               Offer.reference_price_fen)
        .where(Offer.status == OfferStatus.LISTED, Offer.suspended.is_(False))
        .order_by(Offer.product_id, Offer.id),
        execution_options={"yield_per": STREAM_BATCH})
    return chain.from_iterable(result.partitions())


def _round4(value_x4: int | None) -> int | None:
    return None if value_x4 is None else (value_x4 + 2) // 4


def run_inspection(session: Session, *, at: datetime | None = None) -> PriceInspection:
    """Inspect every listed offer once: open a case with its evidence for each offer out of
    line that has no open case (frozen at once above the hard ratio), resolve the open cases
    of offers whose price is back in line, and record the run."""
    if bulk.on_postgresql(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
    moment = at or now()
    rules = price_settings.current(session)
    inspection = PriceInspection(started_at=moment, min_peers=rules.min_peers,
                                 quartile_margin_pct=rules.quartile_margin_pct,
                                 hard_ratio_pct=rules.hard_ratio_pct, offers_inspected=0,
                                 cases_opened=0, frozen=0, resolved=0)
    session.add(inspection)
    session.flush()
    open_cases = dict(session.execute(select(PriceCase.offer_id, PriceCase.id)
                                      .where(PriceCase.status == CaseStatus.OPEN)).all())
    # The operator accepted these prices (dismissed cases): no new case up to that price.
    accepted = dict(session.execute(
        select(PriceCase.offer_id, func.max(PriceCase.closing_price_fen))
        .where(PriceCase.status == CaseStatus.DISMISSED).group_by(PriceCase.offer_id)).all())
    inspected = _offers_per_supplier(session)
    found: list[tuple[tuple, Verdict]] = []
    back_in_line: list[tuple[int, int]] = []  # (case id, price)
    for _product, group in groupby(_stream_listed(session), key=itemgetter(1)):
        for row, verdict in _inspect_product(list(group), rules, open_cases):
            if verdict is not None and row[3] > accepted.get(row[0], 0):
                found.append((tuple(row), verdict))
            elif row[0] in open_cases:
                back_in_line.append((open_cases[row[0]], row[3]))
    opened, frozen_ids = _open_cases(session, inspection, found, open_cases, moment)
    if back_in_line:
        bulk.update(session, PriceCase, [
            {"id": case_id, "status": CaseStatus.RESOLVED, "closed_at": moment,
             "closing_price_fen": price} for case_id, price in back_in_line])
    bulk.insert(session, InspectedSupplier, [
        {"inspection_id": inspection.id, "supplier_id": supplier_id, "offers": offers}
        for supplier_id, offers in inspected.items()])
    total = sum(inspected.values())
    inspection.offers_inspected, inspection.cases_opened = total, opened
    inspection.frozen, inspection.resolved = len(frozen_ids), len(back_in_line)
    inspection.finished_at = now() if at is None else moment
    record_event(session, action="price_inspection.run", object_type="price_inspection",
                 object_id=inspection.id,
                 data={"offers_inspected": total, "cases_opened": opened,
                       "frozen": len(frozen_ids), "resolved": len(back_in_line)})
    session.flush()
    return inspection


def _open_cases(session: Session, inspection: PriceInspection,
                found: list[tuple[tuple, Verdict]], open_cases: dict[int, int],
                moment: datetime) -> tuple[int, list[int]]:
    """Insert the new cases in bulk and freeze what must be frozen; returns the number of
    cases opened and the ids of the offers frozen."""
    new = [(row, v) for row, v in found if row[0] not in open_cases]
    # An offer whose open case is now above the hard ratio is frozen too; its case with it.
    escalated = {open_cases[row[0]]: row for row, v in found
                 if row[0] in open_cases and v.freeze}
    categories = dict(session.execute(
        select(Product.id, Product.category_id)
        .where(bulk.among(session, Product.id, {row[1] for row, _v in new}))).all()) if new else {}
    bulk.insert(session, PriceCase, [
        {"offer_id": row[0], "supplier_id": row[2], "product_id": row[1],
         "category_id": categories[row[1]], "inspection_id": inspection.id, "opened_at": moment,
         "status": CaseStatus.FROZEN if v.freeze else CaseStatus.OPEN, "reasons": list(v.reasons),
         "price_fen": row[3], "reference_price_fen": row[4], "peers": v.peers,
         "peer_q1_fen": _round4(v.q1x4), "peer_median_fen": _round4(v.q2x4),
         "peer_q3_fen": _round4(v.q3x4), "ratio_permille": v.ratio_permille,
         "closed_at": moment if v.freeze else None, "closed_by_id": None, "note": None,
         "closing_price_fen": row[3] if v.freeze else None} for row, v in new])
    if escalated:
        bulk.update(session, PriceCase, [
            {"id": case_id, "status": CaseStatus.FROZEN, "closed_at": moment,
             "closing_price_fen": row[3]} for case_id, row in escalated.items()])
    to_freeze = {row[0]: v for row, v in new if v.freeze}
    to_freeze.update({row[0]: v for row, v in found if row[0] in open_cases and v.freeze})
    frozen_ids = _freeze(session, to_freeze)
    _tell_suppliers(session, new, moment)
    return len(new), frozen_ids


def _freeze(session: Session, verdicts: dict[int, Verdict]) -> list[int]:
    """Freeze the offers through the moderation service, grouped by the reason the
    supplier reads in its decision log."""
    if not verdicts:
        return []
    offers = session.scalars(select(Offer).where(bulk.among(session, Offer.id, verdicts)))
    by_reason: dict[str, list[Offer]] = defaultdict(list)
    for offer in offers:
        reason = (REVIEW_ABOVE_REFERENCE if ABOVE_REFERENCE in verdicts[offer.id].reasons
                  else ABOVE_MARKET_AVERAGE)
        by_reason[reason].append(offer)
    frozen: list[int] = []
    for reason, group in by_reason.items():
        frozen.extend(o.id for o in moderation.freeze_at_once(session, group, reason=reason))
    return frozen


def _tell_suppliers(session: Session, new: list[tuple[tuple, Verdict]], moment: datetime) -> None:
    counts: Counter[int] = Counter()
    frozen: Counter[int] = Counter()
    for row, verdict in new:
        counts[row[2]] += 1
        frozen[row[2]] += verdict.freeze
    day = to_local(moment).date().isoformat()
    for supplier_id, count in counts.items():
        notify(session, supplier_id, None, "price_cases_opened", day=day, count=count,
               frozen=frozen[supplier_id])
