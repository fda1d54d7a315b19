"""What a round makes public, and whom it tells: the round notice (at publication), the result
notice listing every valid quote (at closing, inside the 2 working days), the failure notice,
the notice of an award passing on; and the inbox messages of each step.

Nothing here is written before the deadline that could tell a price or a quoting supplier:
the round notice carries the purchase only; quotes appear in the result notice alone."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bidding_rounds.models import BiddingRound, Quote
from mall.accounts.models import Organisation
from mall.i18n_messages import N_
from mall.purchasing.contracts.models import NoticeKind
from mall.purchasing.contracts.notices import record_round_notice
from mall.purchasing.orders.notifications import MESSAGES, notify

# Inbox messages of rounds (kind -> msgid), added to the purchasing inbox's table.
ROUND_MESSAGES = {
    "round_award_offered": N_("You are first in bidding round %(round)s at %(amount)s: confirm "
                              "or decline the award by %(deadline)s."),
    "round_closed": N_("Bidding round %(round)s closed with %(count)s valid quotes; the award "
                       "went to %(supplier)s, who confirms by %(deadline)s."),
    "round_failed_too_few": N_("Bidding round %(round)s failed: %(count)s valid quotes, fewer "
                               "than %(minimum)s. Its budget was released; run it again or "
                               "buy another way."),
    "round_failed_no_winner": N_("Bidding round %(round)s failed: no ranked supplier confirmed "
                                 "the award. Its budget was released."),
    "round_award_passed": N_("The award of bidding round %(round)s passed to %(supplier)s."),
    "round_award_lost": N_("The award of bidding round %(round)s was withdrawn from you and "
                           "passed to the next in rank."),
    "round_award_confirmed": N_("%(supplier)s confirmed the award of bidding round %(round)s; "
                                "order %(order_number)s was made."),
}
MESSAGES.update(ROUND_MESSAGES)

MODE_TITLES = {"quick": "商城竞价", "framework": "入围竞价"}


def _items(bidding_round: BiddingRound) -> list[dict[str, Any]]:
    return [{"name": item.name, "spec": item.spec, "category_code": item.category_code,
             "quantity": item.quantity, "unit": item.unit} for item in bidding_round.items]


def _base(bidding_round: BiddingRound, buyer: Organisation) -> dict[str, Any]:
    return {"round_number": bidding_round.number, "mode": bidding_round.mode.value,
            "buyer": buyer.name, "items": _items(bidding_round),
            "ceiling_fen": bidding_round.ceiling_fen,
            "deadline": bidding_round.deadline.isoformat(),
            "sme_reserved": bidding_round.sme_reserved,
            "sme_deduction_pct": bidding_round.sme_deduction_pct,
            "region_code": bidding_round.region_code,
            "delivery_days": bidding_round.delivery_days}


def _codes(bidding_round: BiddingRound) -> list[str]:
    return sorted({item.category_code for item in bidding_round.items})


def publish_round_notice(session, bidding_round: BiddingRound, buyer: Organisation) -> None:
    """The round notice (竞价公告): the purchase, ceiling, deadline, mode, SME reservation."""
    record_round_notice(
        session, kind=NoticeKind.ROUND, reference=bidding_round.number,
        title=f"{buyer.name}{MODE_TITLES[bidding_round.mode.value]}公告（{bidding_round.number}）",
        buyer_name=buyer.name, supplier_name="", amount_fen=bidding_round.ceiling_fen,
        body=_base(bidding_round, buyer), category_codes=_codes(bidding_round), publish_now=True)


def quote_entry(quote: Quote, supplier: Organisation, sme: bool,
                names: dict[int, tuple[str, int, str]]) -> dict[str, Any]:
    """A ranked quote as the result notice shows it: supplier, SME, total, evaluated, lines."""
    return {"rank": quote.rank, "supplier": supplier.name,
            "supplier_credit_code": supplier.credit_code, "sme": sme,
            "sme_deducted": quote.sme_deducted, "total_fen": quote.total_fen,
            "evaluated_fen": quote.evaluated_fen,
            "lines": [{"name": names[ln.item_id][0], "quantity": names[ln.item_id][1],
                       "unit": names[ln.item_id][2], "unit_price_fen": ln.unit_price_fen}
                      for ln in quote.lines]}


def publish_result_notice(session, bidding_round: BiddingRound, buyer: Organisation,
                          entries: Sequence[dict[str, Any]]) -> None:
    """The result notice (成交结果公告): every valid quote with its supplier and evaluated price,
    the first in rank named as the winner (published at closing, inside 2 working days)."""
    winner = entries[0]
    record_round_notice(
        session, kind=NoticeKind.ROUND_RESULT, reference=bidding_round.number,
        title=f"{buyer.name}竞价成交结果公告（{bidding_round.number}）",
        buyer_name=buyer.name, supplier_name=winner["supplier"], amount_fen=winner["total_fen"],
        body={**_base(bidding_round, buyer), "quotes": list(entries),
              "winner": winner["supplier"]},
        category_codes=_codes(bidding_round), publish_now=True)


FAILURE_TITLES = {"too_few_quotes": "竞价失败（流标）公告", "no_winner": "竞价失败公告",
                  "cancelled": "竞价终止公告",
                  # the supervisor upheld a complaint and voided the result (bidding_rounds.complaints)
                  "complaint_voided": "竞价结果撤销公告"}


def publish_failure_notice(session, bidding_round: BiddingRound, reason: str,
                           buyer: Organisation | None = None, quote_count: int | None = None
                           ) -> None:
    """The failure notice: too few valid quotes (流标), no ranked supplier confirmed, or the
    unit withdrew the round (with its reason)."""
    buyer = buyer or session.get_one(Organisation, bidding_round.buyer_org_id)
    body = {**_base(bidding_round, buyer), "reason": reason,
            "min_quotes": bidding_round.min_quotes}
    if quote_count is not None:
        body["quote_count"] = quote_count
    if reason == "cancelled":
        body["cancel_reason"] = bidding_round.cancel_reason
    record_round_notice(
        session, kind=NoticeKind.ROUND_FAILED, reference=bidding_round.number,
        title=f"{buyer.name}{FAILURE_TITLES[reason]}（{bidding_round.number}）",
        buyer_name=buyer.name, supplier_name="", amount_fen=bidding_round.ceiling_fen,
        body=body, category_codes=_codes(bidding_round), publish_now=True)


def publish_award_change(session, bidding_round: BiddingRound, *, previous: str, successor: str,
                         reason: str, entry: dict[str, Any]) -> None:
    """The notice of an award passing to the next in rank (成交结果变更公告)."""
    buyer = session.get_one(Organisation, bidding_round.buyer_org_id)
    record_round_notice(
        session, kind=NoticeKind.AWARD_CHANGED, reference=bidding_round.number,
        title=f"{buyer.name}竞价成交结果变更公告（{bidding_round.number}）",
        buyer_name=buyer.name, supplier_name=successor, amount_fen=entry["total_fen"],
        body={**_base(bidding_round, buyer), "previous": previous, "winner": successor,
              "reason": reason, "quotes": [entry]},
        category_codes=_codes(bidding_round), publish_now=True)


def tell(session, organisation_id: int, kind: str, **params: object) -> None:
    """An inbox message about a round (no order attached)."""
    notify(session, organisation_id, None, kind, **params)
