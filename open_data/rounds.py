"""The releases of a bidding round, one per published round notice, then its order's.

Every step reads the notice the round published for it, so the release says what the notice
said: the round notice (tender, ``active``), the result notice (every valid quote as a tenderer,
the award to the first in rank, ``pending``, and the tender ``complete``), each award change
(the previous award ``cancelled``, the next one ``pending``), the failure notice (the tender
``unsuccessful``: too few valid quotes (流标) or no ranked supplier confirmed; ``cancelled``:
withdrawn by the unit). When the winner confirms, the award becomes ``active`` (the award row's
decision) and the order it made continues the same contracting process: its contract and
payments are released under the round's ocid (open_data.orders).

Procurement methods (OCDS closed codelist ``method``): 入围竞价 (framework mode) is
``selective``: only the framework agreement's members may quote; 商城竞价 (quick mode) is
``open``: every supplier admitted to the mall for the category and region may quote, and
admission is open to any qualified supplier. Award criterion: ``priceOnly`` (the lowest
evaluated price wins; an SME's evaluated price is its price less the deduction).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bidding_rounds.models import Award, AwardOutcome, BiddingRound, RoundMode
from mall.purchasing.contracts.models import ROUND_NOTICE_KINDS, Notice, NoticeKind
from open_data.common import (
    Release,
    item,
    main_category,
    party,
    reference,
    release,
    stamp,
    value,
    yuan,
)
from open_data.orders import Names, OrderFacts, after_award, chunks, load_orders

METHODS = {RoundMode.QUICK: ("open", "商城竞价"), RoundMode.FRAMEWORK: ("selective", "入围竞价")}


@dataclass
class RoundFacts:
    bidding_round: BiddingRound
    notices: list[Notice]
    confirmed: Award | None
    order: OrderFacts | None
    rerun_of: str | None


def load_rounds(session: Session, round_ids: Iterable[int], names: Names) -> list[RoundFacts]:
    """The rounds with their published notices, confirmed award and order, batched."""
    facts: list[RoundFacts] = []
    for part in chunks(round_ids):
        rounds = list(session.scalars(select(BiddingRound).where(BiddingRound.id.in_(part))
                                      .order_by(BiddingRound.id)))
        numbers = [r.number for r in rounds]
        notices: dict[str, list[Notice]] = {}
        for notice in session.scalars(select(Notice).where(
                Notice.reference.in_(numbers), Notice.kind.in_(ROUND_NOTICE_KINDS),
                Notice.published_at.is_not(None), Notice.withheld.is_(False))
                .order_by(Notice.published_at, Notice.id)):
            notices.setdefault(notice.reference or "", []).append(notice)
        confirmed = {a.round_id: a for a in session.scalars(select(Award).where(
            Award.round_id.in_(part), Award.outcome == AwardOutcome.CONFIRMED))}
        orders = {f.order.id: f for f in load_orders(
            session, [r.order_id for r in rounds if r.order_id is not None], names)}
        earlier = {round_id: number for round_id, number in session.execute(
            select(BiddingRound.id, BiddingRound.number).where(
                BiddingRound.id.in_([r.rerun_of_id for r in rounds if r.rerun_of_id])))}
        names.load(session, organisation_ids=[r.buyer_org_id for r in rounds],
                   budget_line_ids=[r.budget_line_id for r in rounds],
                   codes=[i.category_code for r in rounds for i in r.items])
        for r in rounds:
            facts.append(RoundFacts(r, notices.get(r.number, []), confirmed.get(r.id),
                                    orders.get(r.order_id) if r.order_id else None,
                                    earlier.get(r.rerun_of_id) if r.rerun_of_id else None))
    return facts


def _award_id(number: str, rank: int) -> str:
    return f"{number}-award-{rank}"


class _Builder:
    """Walks a round's notices in publication order, keeping the award in force."""

    def __init__(self, facts: RoundFacts, names: Names, ocid: str, prefix: str):
        self.facts, self.names, self.ocid, self.prefix = facts, names, ocid, prefix
        self.round = facts.bidding_round
        self.buyer = names.party(self.round.buyer_org_id, ["buyer", "procuringEntity"],
                                 prefix=prefix)
        self.items: list[dict[str, Any]] = []
        self.current: str | None = None

    def _release(self, step: str, moment: datetime, tags: list[str], **sections: Any) -> Release:
        parties = [self.buyer, *sections.pop("parties", [])]
        return release(self.ocid, step, moment, tags, parties=parties,
                       buyer=reference(self.buyer), **sections)

    def _tenderer(self, entry: dict[str, Any], roles: list[str]) -> dict[str, Any]:
        code = entry.get("supplier_credit_code")
        return party(entry["supplier"], code, roles, fallback=f"{self.prefix}-org-{code}",
                     scale="sme" if entry.get("sme") else "large")

    def _award(self, entry: dict[str, Any], notice: Notice, supplier: dict[str, Any]) -> dict:
        priced = [{**row, "unit_price_fen": line["unit_price_fen"]}
                  for row, line in zip(self.items, entry["lines"], strict=False)]
        return {"id": _award_id(self.round.number, entry["rank"]), "status": "pending",
                "date": stamp(notice.created_at), "value": value(entry["total_fen"]),
                "suppliers": [reference(supplier)], "items": [
                    item(position, **row) for position, row in enumerate(priced, start=1)]}

    def tender(self, notice: Notice) -> Release:
        body = notice.body
        method, details = METHODS[self.round.mode]
        self.items = [{"description": " ".join(p for p in (row["name"], row.get("spec")) if p),
                       "category_code": row["category_code"],
                       "category_name": self.names.categories.get(row["category_code"], ""),
                       "quantity": row["quantity"], "unit": row["unit"]}
                      for row in body["items"]]
        deduction = f"小微企业报价扣除{body['sme_deduction_pct']}%后的评审价最低者成交"
        tender = {"id": self.round.number, "title": self.round.title, "status": "active",
                  "procurementMethod": method, "procurementMethodDetails": details,
                  "mainProcurementCategory": main_category(r["category_code"]
                                                           for r in body["items"]),
                  "items": [item(position, **row)
                            for position, row in enumerate(self.items, start=1)],
                  "value": value(body["ceiling_fen"]),
                  "tenderPeriod": {"startDate": stamp(notice.created_at),
                                   "endDate": stamp(datetime.fromisoformat(body["deadline"]))},
                  "submissionMethod": ["electronicSubmission"], "awardCriteria": "priceOnly",
                  "awardCriteriaDetails": deduction, "procuringEntity": reference(self.buyer)}
        if body.get("sme_reserved"):
            tender["eligibilityCriteria"] = "专门面向中小企业采购"
        related = None
        if self.facts.rerun_of:
            related = [{"id": "1", "relationship": ["unsuccessfulProcess"], "scheme": "ocid",
                        "identifier": f"{self.prefix}-{self.facts.rerun_of}"}]
        return self._release("tender", notice.published_at or notice.created_at, ["tender"],
                             planning=self.names.planning(self.round.budget_line_id),
                             tender=tender, relatedProcesses=related)

    def result(self, notice: Notice) -> Release:
        entries = notice.body["quotes"]
        tenderers = [self._tenderer(e, ["tenderer", *(["supplier"] if i == 0 else [])])
                     for i, e in enumerate(entries)]
        totals = [e["total_fen"] for e in entries]
        award = self._award(entries[0], notice, tenderers[0])
        self.current = award["id"]
        tender = {"id": self.round.number, "status": "complete",
                  "numberOfTenderers": len(entries),
                  "tenderers": [reference(t) for t in tenderers]}
        bids = {"statistics": [
            {"id": "validBids", "measure": "validBids", "value": len(entries)},
            {"id": "smeBids", "measure": "smeBids",
             "value": sum(1 for e in entries if e.get("sme"))},
            {"id": "lowestValidBidValue", "measure": "lowestValidBidValue",
             "value": yuan(min(totals)), "currency": "CNY"},
            {"id": "highestValidBidValue", "measure": "highestValidBidValue",
             "value": yuan(max(totals)), "currency": "CNY"}]}
        return self._release("award", notice.published_at or notice.created_at,
                             ["tenderUpdate", "award"], parties=tenderers, tender=tender,
                             bids=bids, awards=[award])

    def change(self, notice: Notice) -> Release:
        entry = notice.body["quotes"][0]
        supplier = self._tenderer(entry, ["tenderer", "supplier"])
        awards = [self._award(entry, notice, supplier)]
        if self.current:
            awards.insert(0, {"id": self.current, "status": "cancelled"})
        self.current = awards[-1]["id"]
        return self._release(f"awardUpdate-{entry['rank']}",
                             notice.published_at or notice.created_at, ["awardUpdate"],
                             parties=[supplier], awards=awards)

    def failure(self, notice: Notice) -> Release:
        body = notice.body
        cancelled = body.get("reason") == "cancelled"
        tender: dict[str, Any] = {"id": self.round.number,
                                  "status": "cancelled" if cancelled else "unsuccessful"}
        sections: dict[str, Any] = {}
        if "quote_count" in body:
            tender["numberOfTenderers"] = body["quote_count"]
            sections["bids"] = {"statistics": [{"id": "validBids", "measure": "validBids",
                                                "value": body["quote_count"]}]}
        tags = ["tenderCancellation"] if cancelled else ["tenderUpdate"]
        if self.current:
            sections["awards"] = [{"id": self.current, "status": "cancelled"}]
            tags.append("awardUpdate")
            self.current = None
        return self._release(tags[0], notice.published_at or notice.created_at, tags,
                             tender=tender, **sections)

    def build(self) -> list[Release]:
        steps = {NoticeKind.ROUND: self.tender, NoticeKind.ROUND_RESULT: self.result,
                 NoticeKind.AWARD_CHANGED: self.change, NoticeKind.ROUND_FAILED: self.failure}
        made = [steps[n.kind](n) for n in self.facts.notices if n.kind in steps]
        if not made:
            return []
        award = self.facts.confirmed
        if award is not None and award.decided_at is not None and self.current:
            made.append(self._release("awardUpdate-confirmed", award.decided_at,
                                      ["awardUpdate"],
                                      awards=[{"id": self.current, "status": "active"}]))
            if self.facts.order is not None and not self.facts.order.order.secret:
                made.extend(after_award(self.facts.order, self.names, self.ocid, self.prefix,
                                        award=self.current, awarded_at=award.decided_at,
                                        tenderer=True))
        return made


def round_releases(facts: RoundFacts, names: Names, ocid: str, prefix: str) -> list[Release]:
    """Every release of a round so far, its order's contract and payments included."""
    return _Builder(facts, names, ocid, prefix).build()
