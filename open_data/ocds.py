"""OCDS publication: the releases of a day or a month, release packages and record packages.

Releases are not stored: they are built on each read from the orders, rounds and notices
(open_data.orders, open_data.rounds), with ids and dates fixed by the step that made them,
so the same release reads the same every time. One contracting process (one ocid, the
``OCDS_OCID_PREFIX`` setting + ``-`` + a number) is a direct purchase (its order number) or a
bidding round (the round's number; the order its award made continues that process).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bidding_rounds.models import Award, AwardOutcome, BiddingRound
from mall.core.clock import SHANGHAI
from mall.core.errors import NotFound
from mall.i18n_messages import N_
from mall.purchasing.contracts.models import Contract, Notice, NoticeKind
from mall.purchasing.orders.models import Order, OrderStatus, OrderStep, PurchaseMode
from open_data.common import EXTENSIONS, LICENSE, Release, stamp
from open_data.merge import compile_release
from open_data.orders import Names, chunks, direct_releases, load_orders
from open_data.rounds import load_rounds, round_releases

ORDER_NOTICES = (NoticeKind.RESULT, NoticeKind.CONTRACT)


@dataclass(frozen=True)
class Publisher:
    """Who publishes, under which ocid prefix, and the package's own address and time."""

    name: str
    prefix: str
    uri: str
    published: datetime
    publisher_uri: str | None = None


def _sorted(releases: Iterable[Release]) -> list[Release]:
    return sorted(releases, key=lambda r: (r["date"], r["id"]))


def _build(session: Session, prefix: str, order_ids: Iterable[int],
           round_ids: Iterable[int]) -> dict[str, list[Release]]:
    """The releases of these direct orders and rounds, by ocid."""
    names = Names()
    by_ocid: dict[str, list[Release]] = {}
    for facts in load_orders(session, order_ids, names):
        ocid = f"{prefix}-{facts.order.number}"
        if made := direct_releases(facts, names, ocid, prefix):
            by_ocid[ocid] = _sorted(made)
    for round_facts in load_rounds(session, round_ids, names):
        ocid = f"{prefix}-{round_facts.bidding_round.number}"
        if made := round_releases(round_facts, names, ocid, prefix):
            by_ocid[ocid] = _sorted(made)
    return by_ocid


def _touched(session: Session, start: datetime, end: datetime) -> tuple[set[int], set[int]]:
    """The orders and rounds that may have a release dated in [start, end): a notice
    published, a settlement order issued, an award confirmed or an order paid then."""
    order_ids = set(session.scalars(select(Notice.order_id).where(
        Notice.kind.in_(ORDER_NOTICES), Notice.published_at >= start, Notice.published_at < end,
        Notice.order_id.is_not(None))))
    order_ids |= set(session.scalars(select(Contract.order_id).where(
        Contract.created_at >= start, Contract.created_at < end)))
    order_ids |= set(session.scalars(select(OrderStep.order_id).where(
        OrderStep.status == OrderStatus.PAID.value, OrderStep.at >= start, OrderStep.at < end)))
    references = set(session.scalars(select(Notice.reference).where(
        Notice.reference.is_not(None), Notice.published_at >= start, Notice.published_at < end)))
    round_ids = set(session.scalars(select(Award.round_id).where(
        Award.outcome == AwardOutcome.CONFIRMED, Award.decided_at >= start,
        Award.decided_at < end)))
    for part in chunks(references):
        round_ids |= set(session.scalars(select(BiddingRound.id).where(
            BiddingRound.number.in_(part))))
    direct: set[int] = set()
    for part in chunks(order_ids):
        for order_id, mode in session.execute(select(Order.id, Order.purchase_mode).where(
                Order.id.in_(part))):
            if mode is PurchaseMode.DIRECT:
                direct.add(order_id)
        round_ids |= set(session.scalars(select(BiddingRound.id).where(
            BiddingRound.order_id.in_(part))))
    return direct, round_ids


def releases_between(session: Session, *, prefix: str, start: datetime,
                     end: datetime) -> list[Release]:
    """Every release dated in [start, end), oldest first."""
    direct, rounds = _touched(session, start, end)
    low, high = stamp(start), stamp(end)  # same offset: text order is time order
    return _sorted(r for made in _build(session, prefix, direct, rounds).values() for r in made
                   if low <= r["date"] < high)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=SHANGHAI)


def releases_of_day(session: Session, *, prefix: str, day: date) -> list[Release]:
    """The releases dated on ``day`` (an Asia/Shanghai day)."""
    return releases_between(session, prefix=prefix, start=_midnight(day),
                            end=_midnight(day + timedelta(days=1)))


def releases_of_month(session: Session, *, prefix: str, year: int, month: int) -> list[Release]:
    """The releases dated in a month (Asia/Shanghai)."""
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return releases_between(session, prefix=prefix, start=_midnight(first),
                            end=_midnight(following))


def releases_of(session: Session, *, prefix: str, ocid: str) -> list[Release]:
    """The releases of one contracting process, oldest first; NotFound if it has none."""
    number = ocid[len(prefix) + 1:] if ocid.startswith(prefix + "-") else ""
    found: list[Release] = []
    if number:
        order_id = session.scalar(select(Order.id).where(
            Order.number == number, Order.purchase_mode == PurchaseMode.DIRECT))
        round_id = session.scalar(select(BiddingRound.id).where(BiddingRound.number == number))
        found = _build(session, prefix, [order_id] if order_id else [],
                       [round_id] if round_id else []).get(ocid, [])
    if not found:
        raise NotFound(N_("No published contracting process has this ocid."),
                       code="ocid_not_found")
    return found


def _package(publisher: Publisher) -> dict[str, Any]:
    entity: dict[str, Any] = {"name": publisher.name}
    if publisher.publisher_uri:
        entity["uri"] = publisher.publisher_uri
    return {"uri": publisher.uri, "version": "1.1", "extensions": list(EXTENSIONS),
            "publishedDate": stamp(publisher.published), "publisher": entity,
            "license": LICENSE}


def release_package(releases: list[Release], publisher: Publisher) -> dict[str, Any]:
    """A release package of these releases; NotFound when there are none (the schema wants
    at least one release in a package)."""
    if not releases:
        raise NotFound(N_("No release is dated in this period."), code="no_releases")
    return {**_package(publisher), "releases": releases}


def record_package(ocid: str, releases: list[Release], publisher: Publisher) -> dict[str, Any]:
    """A record package: the ocid's releases (embedded, oldest first) and compiled release."""
    return {**_package(publisher), "records": [
        {"ocid": ocid, "releases": releases, "compiledRelease": compile_release(releases)}]}
