"""Complaints (投诉) to the supervisor after a challenge (政府采购法 第五十五–五十七条): the supplier
whose challenge was answered, or not answered in time, complains once within 15 working days of
the end of the answer period (答复期满, or of a late answer); the supervisor decides within 30
working days, dismissing it (驳回) or upholding it (成立) with a remedy: strike a quote and pass
the award on, void the result (the round fails and the unit may run it again), or a finding
only (the contract was signed). While deciding, the supervisor may suspend the purchase
(暂停采购活动, at most 30 days: bidding_rounds.holds): the award is not confirmed nor its
contract signed. Decisions are public (投诉处理决定公告, 实施条例 第五十八条)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bidding_rounds.challenges import CHALLENGEABLE, UNSIGNED, _holder, operator_ids, strike
from bidding_rounds.models import (
    AwardOutcome,
    BiddingRound,
    Challenge,
    ChallengeStatus,
    Complaint,
    ComplaintRemedy,
    ComplaintStatus,
    Quote,
    QuoteStatus,
    RoundStatus,
)
from bidding_rounds.publication import publish_failure_notice, tell
from bidding_rounds.quotes import require_supplier
from bidding_rounds.rounds import release_reservation
from mall.accounts.models import Organisation
from mall.core.audit import record_event
from mall.core.auth import Actor, OrganisationKind, Role
from mall.core.clock import format_local, now, working_day_deadline
from mall.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from mall.core.inputs import check_text
from mall.i18n_messages import N_
from mall.purchasing.orders.models import Order
from mall.purchasing.orders.notifications import MESSAGES
from mall.purchasing.orders.services import cancelled
from mall.purchasing.orders.steps import apply_move

FILING_DAYS = 15  # working days after the end of the answer period
DECISION_DAYS = 30  # working days after filing
MAX_GROUNDS = 5000
MAX_REQUEST = 2000
MAX_REASON = 2000
VOIDED = "complaint_voided"  # the round's failure reason when a complaint voids its result

# Inbox messages of complaints (kind -> msgid), added to the purchasing inbox's table.
COMPLAINT_MESSAGES = {
    "complaint_filed": N_("%(supplier)s complained about bidding round %(round)s after its "
                          "challenge; decide by %(deadline)s."),
    "complaint_filed_party": N_("A supplier complained to the supervisor about bidding round "
                                "%(round)s; the supervisor decides by %(deadline)s."),
    "complaint_suspended": N_("The supervisor suspended bidding round %(round)s while deciding "
                              "a complaint (by %(deadline)s): the award is not confirmed nor "
                              "its contract signed meanwhile."),
    "complaint_decision_due": N_("The complaint about bidding round %(round)s must be decided "
                                 "by %(deadline)s."),
    "complaint_overdue": N_("The complaint about bidding round %(round)s was due to be decided "
                            "by %(deadline)s and is still pending."),
    "complaint_upheld": N_("The supervisor upheld your complaint about bidding round "
                           "%(round)s: %(reason)s"),
    "complaint_dismissed": N_("The supervisor dismissed your complaint about bidding round "
                              "%(round)s: %(reason)s"),
    "complaint_upheld_party": N_("The supervisor upheld a complaint about bidding round "
                                 "%(round)s; see the round for its award."),
    "complaint_dismissed_party": N_("The supervisor dismissed a complaint about bidding round "
                                    "%(round)s; its result stands."),
    "complaint_voided_buyer": N_("The supervisor voided the result of bidding round %(round)s "
                                 "after a complaint; the round failed, its budget was released "
                                 "and it may be run again."),
}
MESSAGES.update(COMPLAINT_MESSAGES)


def supervisor_ids(session: Session) -> list[int]:
    return list(session.scalars(select(Organisation.id).where(
        Organisation.kind == OrganisationKind.SUPERVISOR)))


def require_supervisor(actor: Actor) -> None:
    """Only the supervisor (监管部门) decides complaints and suspends purchases."""
    if actor.organisation_kind is not OrganisationKind.SUPERVISOR:
        raise PermissionDenied(N_("Only the supervisor decides complaints."),
                               code="supervisor_required")
    actor.require_role(Role.SUPERVISOR)


def filing_deadline(challenge: Challenge) -> datetime | None:
    """The end of the 15th working day after the answer period ended (or after a late answer);
    None while the answer period runs and no answer was given."""
    if challenge.status is ChallengeStatus.PENDING:
        if now() <= challenge.answer_by:
            return None
        start = challenge.answer_by
    else:
        start = max(challenge.answer_by, challenge.answered_at or challenge.answer_by)
    return working_day_deadline(start, FILING_DAYS)


def _own_challenge(session: Session, actor: Actor, challenge_id: int,
                   lock: bool = False) -> Challenge:
    """The acting supplier's challenge (another's: 404)."""
    require_supplier(actor)
    query = select(Challenge).where(Challenge.id == challenge_id)
    challenge = session.scalar(query.with_for_update() if lock else query)
    if challenge is None or challenge.supplier_id != actor.organisation_id:
        raise NotFound()
    return challenge


def _text(field: str, text: str | None, limit: int, message: str, *, required: bool,
          errors: dict[str, list[str]]) -> str:
    text = text or ""
    check_text(field, text, multiline=True, errors=errors)
    if (required and not text.strip()) or len(text) > limit:
        errors.setdefault(field, [message])
    return text.strip()


def file_complaint(session: Session, actor: Actor, challenge_id: int, *, grounds: str,
                   request: str = "") -> Complaint:
    """The challenger complains to the supervisor, once, within the filing period."""
    challenge = _own_challenge(session, actor, challenge_id, lock=True)
    errors: dict[str, list[str]] = {}
    grounds = _text("grounds", grounds, MAX_GROUNDS, N_(
        "State the grounds of the complaint in at most 5,000 characters."), required=True,
        errors=errors)
    wanted = _text("request", request, MAX_REQUEST, N_(
        "Write what you ask for in at most 2,000 characters."), required=False, errors=errors)
    if errors:
        raise ValidationFailed(errors=errors)
    if session.scalar(select(Complaint.id).where(Complaint.challenge_id == challenge.id)):
        raise Conflict(N_("Your company has already complained about this challenge."),
                       code="complaint_already_filed")
    deadline = filing_deadline(challenge)
    if deadline is None:
        raise Conflict(N_("A complaint may be filed once the challenge is answered or its "
                          "answer is late (due by %(deadline)s)."),
                       code="challenge_not_answered",
                       params={"deadline": format_local(challenge.answer_by)})
    moment = now()
    if moment > deadline:
        raise Conflict(N_("The period to complain about this challenge ended at %(deadline)s."),
                       code="complaint_period_over", params={"deadline": format_local(deadline)})
    complaint = Complaint(challenge_id=challenge.id, round_id=challenge.round_id,
                          supplier_id=actor.organisation_id, filed_by_id=actor.user_id,
                          grounds=grounds, request=wanted, filed_at=moment,
                          decide_by=working_day_deadline(moment, DECISION_DAYS))
    session.add(complaint)
    session.flush()
    bidding_round = session.get_one(BiddingRound, challenge.round_id)
    supplier = session.get_one(Organisation, actor.organisation_id)
    deadline_text = format_local(complaint.decide_by)
    for supervisor in supervisor_ids(session):
        tell(session, supervisor, "complaint_filed", round=bidding_round.number,
             supplier=supplier.name, deadline=deadline_text)
    for party in [bidding_round.buyer_org_id, *operator_ids(session)]:
        tell(session, party, "complaint_filed_party", round=bidding_round.number,
             deadline=deadline_text)
    record_event(session, action="round.complaint_filed", object_type="bidding_round",
                 object_id=bidding_round.id, actor=actor,
                 data={"complaint_id": complaint.id, "challenge_id": challenge.id,
                       "decide_by": complaint.decide_by.isoformat()})
    return complaint


def _pending(session: Session, complaint_id: int) -> tuple[Complaint, BiddingRound]:
    complaint = session.scalar(select(Complaint).where(Complaint.id == complaint_id)
                               .with_for_update())
    if complaint is None:
        raise NotFound()
    bidding_round = session.scalar(select(BiddingRound).where(
        BiddingRound.id == complaint.round_id).with_for_update().execution_options(
        populate_existing=True))
    if complaint.status is not ComplaintStatus.PENDING or bidding_round is None:
        raise Conflict(N_("This complaint has already been decided."),
                       code="complaint_decided")
    return complaint, bidding_round


def suspend(session: Session, actor: Actor, complaint_id: int) -> Complaint:
    """The supervisor suspends the round while deciding: the award is neither confirmed nor
    its contract signed until the decision (or 30 days)."""
    require_supervisor(actor)
    complaint, bidding_round = _pending(session, complaint_id)
    if complaint.suspended:
        raise Conflict(N_("This complaint already suspended the round."),
                       code="already_suspended")
    complaint.suspended, complaint.suspended_at = True, now()
    told = {bidding_round.buyer_org_id}
    holder = _holder(session, bidding_round.id)
    if holder is not None:
        told.add(session.get_one(Quote, holder.quote_id).supplier_id)
    for party in sorted(told):
        tell(session, party, "complaint_suspended", round=bidding_round.number,
             deadline=format_local(complaint.decide_by))
    record_event(session, action="round.complaint_suspended", object_type="bidding_round",
                 object_id=bidding_round.id, actor=actor, data={"complaint_id": complaint.id})
    return complaint


def _check_decision(session: Session, complaint: Complaint, decision: str, reason: str,
                    remedy: str | None, strike_quote_id: int | None) -> tuple[str, Quote | None]:
    errors: dict[str, list[str]] = {}
    if decision not in (ComplaintStatus.UPHELD.value, ComplaintStatus.DISMISSED.value):
        errors["decision"] = [N_("Uphold or dismiss the complaint.")]
    text = _text("reason", reason, MAX_REASON, N_(
        "Give the reasons of the decision in at most 2,000 characters."), required=True,
        errors=errors)
    target = None
    if decision == ComplaintStatus.UPHELD.value:
        if remedy not in {r.value for r in ComplaintRemedy}:
            errors["remedy"] = [N_("Choose what the upheld complaint changes.")]
        elif remedy == ComplaintRemedy.STRIKE.value:
            target = session.get(Quote, strike_quote_id) if strike_quote_id else None
            if target is None or target.round_id != complaint.round_id \
                    or target.status is not QuoteStatus.VALID:
                errors["strike_quote_id"] = [N_("Choose a valid quote of this round to "
                                                "strike.")]
    if errors:
        raise ValidationFailed(errors=errors)
    return text, target


def decide(session: Session, actor: Actor, complaint_id: int, *, decision: str, reason: str,
           remedy: str | None = None, strike_quote_id: int | None = None) -> Complaint:
    """The supervisor dismisses or upholds (with its remedy); the decision lifts a suspension,
    is published and told to the complainant, the unit and the operator."""
    require_supervisor(actor)
    complaint, bidding_round = _pending(session, complaint_id)
    text, target = _check_decision(session, complaint, decision, reason, remedy,
                                   strike_quote_id)
    moment = now()
    effect: dict[str, object] = {}
    if decision == ComplaintStatus.UPHELD.value and remedy != ComplaintRemedy.FINDING.value:
        if bidding_round.status not in CHALLENGEABLE:
            raise Conflict(N_("The round's result no longer stands; uphold the complaint as a "
                              "finding only."), code="round_result_gone")
        if target is not None:
            effect = strike(session, bidding_round, target, actor, moment)
            complaint.struck_quote_id = target.id
        else:
            effect = void_result(session, bidding_round, actor, moment)
    complaint.status = ComplaintStatus(decision)
    complaint.remedy = (ComplaintRemedy(remedy) if remedy is not None
                        and complaint.status is ComplaintStatus.UPHELD else None)
    complaint.decision_reason, complaint.decided_at = text, moment
    complaint.decided_by_id = actor.user_id
    kind = f"complaint_{decision}"
    tell(session, complaint.supplier_id, kind, round=bidding_round.number, reason=text)
    for party in [bidding_round.buyer_org_id, *operator_ids(session)]:
        tell(session, party, f"{kind}_party", round=bidding_round.number)
    record_event(session, action=f"round.complaint_{decision}", object_type="bidding_round",
                 object_id=bidding_round.id, actor=actor,
                 data={"complaint_id": complaint.id, "reason": text, "remedy": remedy,
                       "late": moment > complaint.decide_by,
                       "suspension_lifted": complaint.suspended, **effect})
    return complaint


def void_result(session: Session, bidding_round: BiddingRound, actor: Actor,
                moment: datetime) -> dict[str, object]:
    """The result is voided: the standing award ends (its unsigned order cancelled), the round
    fails with its budget released and the failure published; the unit may run it again."""
    effect: dict[str, object] = {}
    holder = _holder(session, bidding_round.id)
    if holder is not None and holder.outcome is AwardOutcome.CONFIRMED:
        order = session.get(Order, bidding_round.order_id, with_for_update=True,
                            populate_existing=True) if bidding_round.order_id else None
        if order is not None and order.status not in UNSIGNED:
            raise Conflict(N_("The award's contract was signed; uphold the complaint as a "
                              "finding only."), code="contract_signed")
        if order is not None:
            reason = f"bidding round {bidding_round.number}: result voided after a complaint"
            apply_move(session, order, actor, cancelled(session, order, reason))
            effect["cancelled_order"] = order.number
            bidding_round.order_id = None
    if holder is not None:
        holder.outcome, holder.decided_at = AwardOutcome.STRUCK, moment
        holder.decided_by_id, holder.reason = actor.user_id, "result voided after a complaint"
        tell(session, session.get_one(Quote, holder.quote_id).supplier_id, "round_award_lost",
             round=bidding_round.number)
    bidding_round.status, bidding_round.failure_reason = RoundStatus.FAILED, VOIDED
    release_reservation(session, bidding_round)
    publish_failure_notice(session, bidding_round, VOIDED)
    tell(session, bidding_round.buyer_org_id, "complaint_voided_buyer",
         round=bidding_round.number)
    record_event(session, action="round.failed", object_type="bidding_round",
                 object_id=bidding_round.id, actor=actor, data={"reason": VOIDED})
    effect["round_failed"] = True
    return effect
