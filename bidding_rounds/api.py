"""Bidding rounds API: the unit's rounds and the suppliers' opportunities, quotes and
complaints.

The seal (四不知) holds here as on the pages: a round read by its unit or by oversight carries
``quote_count`` and nothing about who quoted or at what price until the round has closed
(``rounds.ranked_quotes`` stays empty until then, and the answer leaves ``quotes`` and
``awards`` out); a supplier reads its own quote alone, and no count.
"""

from __future__ import annotations

from typing import Any

from flask import request
from sqlalchemy import select
from sqlalchemy.orm import Session

from bidding_rounds import awards, complaint_reads, complaints, quotes, rounds
from bidding_rounds.complaint_schemas import ComplaintCreateSchema, ComplaintSchema
from bidding_rounds.eligibility import caps, refusals
from bidding_rounds.models import BiddingRound, Quote
from bidding_rounds.schemas import (
    AwardOrderSchema,
    AwardReasonSchema,
    CancelReasonSchema,
    OwnQuoteSchema,
    QuoteInSchema,
    RoundCreateSchema,
    RoundPageSchema,
    RoundQuerySchema,
    RoundSchema,
    SupplierRoundSchema,
)
from catalog.models import CATALOGUE_VERSION, Category
from mall.accounts.models import Organisation
from mall.core.auth import BUYERS, OVERSIGHT_STAFF, SUPPLIER_STAFF, UNIT_STAFF, Actor, Scope
from mall.core.clock import local_today
from mall.extensions import db
from mall.web import current_actor
from mall.web.access import access
from mall.web.idempotency import idempotent
from mall.web.parsing import Blueprint
from suppliers.models import SupplierProfile

blueprint = Blueprint("rounds_api", __name__, url_prefix="/rounds",
                      description="Bidding rounds of purchasing units")
supplier_blueprint = Blueprint("supplier_rounds_api", __name__, url_prefix="/supplier/rounds",
                               description="Bidding opportunities, quotes and awards of suppliers")

ROUND_READERS = (*UNIT_STAFF, *OVERSIGHT_STAFF)
REFUSALS_DOC = {"responses": {
    "403": {"description": "scope_required, role_required; not_eligible (errors.round says "
                           "why the supplier may not quote)"},
    "409": {"description": "round_closed (past the deadline or not open), "
                           "related_supplier_quoted"},
    "422": {"description": "validation_failed, above_ceiling, above_mall_price, "
                           "above_framework_price"}}}
AWARD_DOC = {"responses": {"409": {"description": "no_pending_award, award_lapsed"}}}


# -- answers ----------------------------------------------------------------------------------

def _items(session: Session, bidding_round: BiddingRound) -> list[dict[str, Any]]:
    codes = {item.category_code for item in bidding_round.items}
    names = {code: name for code, name in session.execute(
        select(Category.code, Category.name).where(Category.version == CATALOGUE_VERSION,
                                                   Category.code.in_(codes)))}
    return [{"id": item.id, "category_code": item.category_code,
             "category_name": names.get(item.category_code, ""), "name": item.name,
             "spec": item.spec, "quantity": item.quantity, "unit": item.unit,
             "product_id": item.product_id} for item in bidding_round.items]


def _lines(quote: Quote) -> list[dict[str, int]]:
    return [{"item_id": ln.item_id, "unit_price_fen": ln.unit_price_fen} for ln in quote.lines]


def _round_answer(session: Session, bidding_round: BiddingRound, *,
                  detail: bool = True) -> dict[str, Any]:
    """The round as its unit and oversight read it; ranked quotes and awards only once closed."""
    answer: dict[str, Any] = {name: getattr(bidding_round, name)
                              for name in RoundSchema().fields if name not in {
                                  "items", "quotes", "awards"}}
    answer["items"] = _items(session, bidding_round)
    if not detail or rounds.is_sealed(bidding_round):
        return answer  # the seal: no quotes, no awards, no supplier, no price
    ranked = rounds.ranked_quotes(session, bidding_round)
    history = awards.award_history(session, bidding_round)
    ids = {q.supplier_id for q in ranked}
    names = {org_id: name for org_id, name in session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids)))}
    smes = {p.organisation_id: p.is_sme for p in session.scalars(
        select(SupplierProfile).where(SupplierProfile.organisation_id.in_(ids)))}

    def supplier(supplier_id: int) -> dict[str, Any]:
        return {"id": supplier_id, "name": names.get(supplier_id, "")}

    answer["quotes"] = [{"rank": q.rank, "supplier": supplier(q.supplier_id),
                         "sme": bool(smes.get(q.supplier_id)), "sme_deducted": q.sme_deducted,
                         "total_fen": q.total_fen, "evaluated_fen": q.evaluated_fen,
                         "status": q.status, "lines": _lines(q)} for q in ranked]
    by_quote = {q.id: q.supplier_id for q in ranked}
    answer["awards"] = [{"rank": a.rank, "supplier": supplier(by_quote.get(a.quote_id, 0)),
                         "offered_at": a.offered_at, "confirm_by": a.confirm_by,
                         "outcome": a.outcome, "decided_at": a.decided_at, "reason": a.reason}
                        for a in history]
    return answer


def _own_quote(quote: Quote, *, sealed: bool) -> dict[str, Any]:
    return {"round_id": quote.round_id, "total_fen": quote.total_fen,
            "evaluated_fen": quote.evaluated_fen, "sme_goods": quote.sme_goods,
            "sme_deducted": quote.sme_deducted, "revisions": quote.revisions,
            "first_at": quote.first_at, "final_at": quote.final_at, "status": quote.status,
            "rank": None if sealed else quote.rank, "lines": _lines(quote)}


def _supplier_answer(session: Session, actor: Actor, bidding_round: BiddingRound,
                     own: Quote | None, *, detail: bool = True) -> dict[str, Any]:
    """The round as a supplier reads it: the purchase and its own quote; in detail also its
    pending award, why it may not quote and its price caps (the list of opportunities leaves
    them out: an open round has no award yet, an opportunity no refusal, and each costs
    queries per round)."""
    answer: dict[str, Any] = {name: getattr(bidding_round, name)
                              for name in SupplierRoundSchema().fields if name not in {
                                  "items", "own_quote", "pending_award", "refusals", "caps"}}
    answer["items"] = _items(session, bidding_round)
    answer["own_quote"] = None if own is None else _own_quote(
        own, sealed=rounds.is_sealed(bidding_round))
    if not detail:
        return answer
    award = awards.pending_award(session, bidding_round.id)
    answer["pending_award"] = ({"confirm_by": award.confirm_by}
                               if award and own and award.quote_id == own.id else None)
    answer["refusals"] = [str(r) for r in refusals(session, bidding_round, actor.organisation_id,
                                                   today=local_today())]
    answer["caps"] = {str(item_id): min(cap.fen for cap in found)
                      for item_id, found in caps(session, bidding_round,
                                                 actor.organisation_id).items() if found}
    return answer


# -- the unit's rounds ------------------------------------------------------------------------

@blueprint.route("", methods=["POST"])
@access(Scope.ROUNDS_WRITE, *BUYERS)
@idempotent
@blueprint.arguments(RoundCreateSchema)
@blueprint.response(201, RoundSchema)
@blueprint.doc(responses={"409": {"description": "budget_exhausted, open_tender_required and "
                                                 "the other refusals of the budget line"}})
def create_round(data):
    """Publish a round: its ceiling is reserved on the budget line and its notice published.

    Send an Idempotency-Key: a retry with the same key and body gets the first round back
    and publishes nothing twice.
    """
    items = [rounds.ItemInput(**item) for item in data.pop("items")]
    found = rounds.create_round(db.session(), current_actor(),
                                rounds.RoundInput(items=items, **data))
    return _round_answer(db.session(), found)


@blueprint.route("")
@access(Scope.ROUNDS_READ, *ROUND_READERS)
@blueprint.arguments(RoundQuerySchema, location="query")
@blueprint.response(200, RoundPageSchema)
def list_rounds(query):
    """The unit's own rounds (every round for oversight), newest first; no quotes here."""
    found, total = rounds.list_rounds(db.session(), current_actor(), status=query["status"],
                                      page=query["page"], page_size=query["page_size"])
    return {"items": [_round_answer(db.session(), r, detail=False) for r in found],
            "total": total}


@blueprint.route("/<int:round_id>")
@access(Scope.ROUNDS_READ, *ROUND_READERS)
@blueprint.response(200, RoundSchema)
def get_round(round_id: int):
    """One round; once closed, its ranked quotes and the history of its award."""
    return _round_answer(db.session(), rounds.get_round(db.session(), current_actor(), round_id))


@blueprint.route("/<int:round_id>/cancel", methods=["POST"])
@access(Scope.ROUNDS_WRITE, *BUYERS)
@blueprint.arguments(CancelReasonSchema)
@blueprint.response(200, RoundSchema)
@blueprint.doc(responses={"409": {"description": "round_not_open"}})
def cancel_round(data, round_id: int):
    """Withdraw an open round before its deadline (published with the reason); its quotes are
    never opened and its budget is released."""
    found = rounds.cancel_round(db.session(), current_actor(), round_id, reason=data["reason"])
    return _round_answer(db.session(), found)


@blueprint.route("/<int:round_id>/unresponsive", methods=["POST"])
@access(Scope.ROUNDS_WRITE, *BUYERS)
@blueprint.arguments(AwardReasonSchema)
@blueprint.response(200, RoundSchema)
@blueprint.doc(**AWARD_DOC)
def declare_unresponsive(data, round_id: int):
    """Declare the awarded supplier unresponsive (with a reason): the award passes to the next
    in rank, or the round fails."""
    found = awards.declare_unresponsive(db.session(), current_actor(), round_id,
                                        reason=data["reason"])
    return _round_answer(db.session(), found)


# -- the supplier's opportunities, quotes and awards ------------------------------------------

@supplier_blueprint.route("")
@access(Scope.ROUNDS_READ, *SUPPLIER_STAFF)
@supplier_blueprint.response(200, SupplierRoundSchema(many=True))
def list_opportunities():
    """Open rounds your company may quote in, soonest deadline first, each with your quote."""
    actor = current_actor()
    return [_supplier_answer(db.session(), actor, found.round, found.own, detail=False)
            for found in quotes.opportunities(db.session(), actor)]


def _supplier_round(actor: Actor, round_id: int) -> dict[str, Any]:
    own = quotes.own_quote(db.session(), actor, round_id)
    return _supplier_answer(db.session(), actor, quotes.quotable_round(db.session(), round_id),
                            own)


@supplier_blueprint.route("/<int:round_id>")
@access(Scope.ROUNDS_READ, *SUPPLIER_STAFF)
@supplier_blueprint.response(200, SupplierRoundSchema)
def get_opportunity(round_id: int):
    """A published round as your company sees it: the purchase, why you may not quote (if so),
    your price caps, your own quote and any award waiting for your answer."""
    return _supplier_round(current_actor(), round_id)


@supplier_blueprint.route("/<int:round_id>/quote", methods=["PUT"])
@access(Scope.ROUNDS_WRITE, *SUPPLIER_STAFF)
@supplier_blueprint.arguments(QuoteInSchema)
@supplier_blueprint.response(200, OwnQuoteSchema)
@supplier_blueprint.doc(**REFUSALS_DOC)
def submit_quote(data, round_id: int):
    """Quote (or revise your quote) until the deadline: one unit price per item; the last one
    counts. Answers your quote as it stands; nobody else sees it before the round closes."""
    origin = quotes.Origin(client_ip=request.remote_addr,
                           user_agent=request.headers.get("User-Agent"),
                           device_fingerprint=data["device_fingerprint"])
    quote = quotes.submit_quote(
        db.session(), current_actor(), round_id,
        lines=[(ln["item_id"], ln["unit_price_fen"]) for ln in data["lines"]],
        sme_goods=data["sme_goods"], origin=origin)
    return _own_quote(quote, sealed=True)  # quoting happens only while the round is open


@supplier_blueprint.route("/<int:round_id>/award/confirm", methods=["POST"])
@access(Scope.ROUNDS_WRITE, *SUPPLIER_STAFF)
@supplier_blueprint.response(201, AwardOrderSchema)
@supplier_blueprint.doc(**AWARD_DOC)
def confirm_award(round_id: int):
    """Confirm the award offered to your company: it becomes the unit's order at your quoted
    prices (confirmed by you), with its contract."""
    order = awards.confirm_award(db.session(), current_actor(), round_id)
    return {"order_id": order.id, "order_number": order.number}


@supplier_blueprint.route("/<int:round_id>/award/decline", methods=["POST"])
@access(Scope.ROUNDS_WRITE, *SUPPLIER_STAFF)
@supplier_blueprint.arguments(AwardReasonSchema)
@supplier_blueprint.response(200, SupplierRoundSchema)
@supplier_blueprint.doc(**AWARD_DOC)
def decline_award(data, round_id: int):
    """Decline the award offered to your company (with a reason); it passes to the next in
    rank."""
    actor = current_actor()
    awards.decline_award(db.session(), actor, round_id, reason=data["reason"])
    return _supplier_round(actor, round_id)


# -- the supplier's complaints (投诉) ----------------------------------------------------------

COMPLAINT_DOC = {"responses": {
    "404": {"description": "not_found: no challenge of your company with this id"},
    "409": {"description": "challenge_not_answered (the answer period still runs), "
                           "complaint_period_over, complaint_already_filed"}}}


def _complaint(row: complaint_reads.ComplaintRow) -> dict[str, Any]:
    c = row.complaint
    return {"id": c.id, "challenge_id": c.challenge_id, "round_id": c.round_id,
            "round_number": row.round.number, "grounds": c.grounds, "request": c.request,
            "filed_at": c.filed_at, "decide_by": c.decide_by, "suspended": row.suspending,
            "status": c.status, "remedy": c.remedy, "decision_reason": c.decision_reason,
            "decided_at": c.decided_at}


@supplier_blueprint.route("/challenges/<int:challenge_id>/complaint", methods=["POST"])
@access(Scope.ROUNDS_WRITE, *SUPPLIER_STAFF)
@supplier_blueprint.arguments(ComplaintCreateSchema)
@supplier_blueprint.response(201, ComplaintSchema)
@supplier_blueprint.doc(**COMPLAINT_DOC)
def file_complaint(data, challenge_id: int):
    """Complain to the supervisor about your company's challenge once it was answered, or its
    answer is late: once, within 15 working days of the end of the answer period. The
    supervisor decides within 30 working days; the decision is published."""
    filed = complaints.file_complaint(db.session(), current_actor(), challenge_id,
                                      grounds=data["grounds"], request=data["request"])
    return _complaint(complaint_reads.row_of(db.session(), filed))


@supplier_blueprint.route("/complaints")
@access(Scope.ROUNDS_READ, *SUPPLIER_STAFF)
@supplier_blueprint.response(200, ComplaintSchema(many=True))
def list_complaints():
    """Your company's complaints with their decisions, newest first."""
    return [_complaint(row) for row in complaint_reads.my_complaints(db.session(),
                                                                    current_actor())]
