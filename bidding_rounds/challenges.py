"""Challenges (质疑) of a round's result: a supplier that quoted files one within 7 working days
of the result notice (published at closing), with its grounds and, if it says so, the quote
that should be struck; the operator answers within 7 working days, upholding or dismissing it.

While a challenge that may change the result is pending, the award's contract is not signed
(a signing guard registered with mall.purchasing.contracts.services). An upheld challenge that
strikes a quote re-ranks the others; if the struck quote held the award, the award ends
(struck) and passes to the next in rank, cancelling its order first if the order was made but
not signed; too few valid quotes left and the round fails. Reminders go out a day before
either deadline (bidding_rounds.challenge_reminders)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bidding_rounds.awards import pass_on
from bidding_rounds.closing import fail, ranked
from bidding_rounds.holds import pending_challenge, refuse_while_suspended
from bidding_rounds.models import (
    Award,
    AwardOutcome,
    BiddingRound,
    Challenge,
    ChallengeStatus,
    Quote,
    QuoteStatus,
    RoundStatus,
)
from bidding_rounds.publication import tell
from bidding_rounds.quotes import own_quote, quotable_round, require_supplier
from bidding_rounds.rounds import ranked_quotes
from mall.accounts.models import Organisation
from mall.core.audit import record_event
from mall.core.auth import OVERSIGHT_STAFF, Actor, OrganisationKind, Role
from mall.core.clock import format_local, now, working_day_deadline
from mall.core.errors import Conflict, MallError, NotFound, PermissionDenied, ValidationFailed
from mall.core.inputs import check_text
from mall.i18n_messages import N_
from mall.purchasing.budget import services as budget
from mall.purchasing.budget.services import BudgetExhausted
from mall.purchasing.contracts.services import guard_signing
from mall.purchasing.orders.models import Order, OrderStatus, PurchaseMode
from mall.purchasing.orders.notifications import MESSAGES
from mall.purchasing.orders.services import cancelled
from mall.purchasing.orders.steps import apply_move

FILING_DAYS = 7  # working days after the result notice
ANSWER_DAYS = 7  # working days after filing
MAX_GROUNDS = 5000
MAX_ANSWER = 2000
# Rounds whose result was published and still stands: a challenge may change it.
CHALLENGEABLE = (RoundStatus.AWARDED, RoundStatus.CONFIRMED)
# An award order not yet signed by both parties can still be withdrawn.
UNSIGNED = (OrderStatus.SENT, OrderStatus.CONFIRMED, OrderStatus.SUPPLIER_SIGNED)

# Inbox messages of challenges (kind -> msgid), added to the purchasing inbox's table.
CHALLENGE_MESSAGES = {
    "challenge_filed": N_("%(supplier)s challenged the result of bidding round %(round)s; "
                          "answer it by %(deadline)s."),
    "challenge_filed_buyer": N_("A supplier challenged the result of bidding round %(round)s; "
                                "the award's contract is signed after the operator's answer "
                                "(due by %(deadline)s)."),
    "challenge_answer_due": N_("The challenge of bidding round %(round)s must be answered by "
                               "%(deadline)s."),
    "challenge_period_ending": N_("The period to challenge the result of bidding round "
                                  "%(round)s ends at %(deadline)s."),
    "challenge_upheld": N_("Your challenge of bidding round %(round)s was upheld: %(answer)s"),
    "challenge_dismissed": N_("Your challenge of bidding round %(round)s was dismissed: "
                              "%(answer)s"),
    "challenge_upheld_buyer": N_("A challenge of bidding round %(round)s was upheld; see the "
                                 "round for its award."),
    "challenge_dismissed_buyer": N_("A challenge of bidding round %(round)s was dismissed; its "
                                    "result stands."),
    "round_quote_struck": N_("Your quote in bidding round %(round)s was struck after an upheld "
                             "challenge."),
}
MESSAGES.update(CHALLENGE_MESSAGES)


class ChallengePending(MallError):
    code = "challenge_pending"
    status = 409
    title = "A challenge of the award is pending"


def filing_deadline(bidding_round: BiddingRound) -> datetime | None:
    """The end of the 7th working day after the result notice (the round's closing)."""
    if bidding_round.closed_at is None:
        return None
    return working_day_deadline(bidding_round.closed_at, FILING_DAYS)


def _holder(session: Session, round_id: int) -> Award | None:
    """The award that stands: pending, or confirmed into the round's order."""
    return session.scalar(select(Award).where(
        Award.round_id == round_id,
        Award.outcome.in_((AwardOutcome.PENDING, AwardOutcome.CONFIRMED)))
        .order_by(Award.id.desc()).limit(1))


def _grounds(text: str) -> str:
    check_text("grounds", text, multiline=True)
    if not text.strip() or len(text) > MAX_GROUNDS:
        raise ValidationFailed(errors={"grounds": [N_("State the grounds of the challenge in at "
                                                      "most 5,000 characters.")]})
    return text.strip()


def operator_ids(session: Session) -> list[int]:
    return list(session.scalars(select(Organisation.id).where(
        Organisation.kind == OrganisationKind.OPERATOR)))


def file_challenge(session: Session, actor: Actor, round_id: int, *, grounds: str,
                   target_quote_id: int | None = None) -> Challenge:
    """A supplier that quoted challenges the result, once, within the filing period."""
    require_supplier(actor)
    bidding_round = quotable_round(session, round_id, lock=True)
    mine = own_quote(session, actor, round_id)
    if mine is None:
        raise PermissionDenied(N_("Only a supplier that quoted in this round may challenge its "
                                  "result."), code="not_a_bidder")
    deadline = filing_deadline(bidding_round)
    if deadline is None or bidding_round.status not in CHALLENGEABLE:
        raise Conflict(N_("This round has no result that can be challenged."),
                       code="round_not_challengeable")
    moment = now()
    if moment > deadline:
        raise Conflict(N_("The period to challenge this result ended at %(deadline)s."),
                       code="challenge_period_over", params={"deadline": format_local(deadline)})
    if session.scalar(select(Challenge.id).where(Challenge.round_id == round_id,
                                                 Challenge.supplier_id == actor.organisation_id)):
        raise Conflict(N_("Your company has already challenged this round's result."),
                       code="challenge_already_filed")
    text = _grounds(grounds)
    target = None
    if target_quote_id is not None:
        target = session.get(Quote, target_quote_id)
        if target is None or target.round_id != round_id or target.id == mine.id \
                or target.status is not QuoteStatus.VALID:
            raise ValidationFailed(errors={"target_quote_id": [N_(
                "Choose another supplier's valid quote of this round, or none.")]})
    holder = _holder(session, round_id)
    # Another ground (no quote named) may change anything; naming a quote changes the result
    # only if that quote holds the award (the guard also looks again when the award moves).
    may_change = target is None or (holder is not None and holder.quote_id == target.id)
    challenge = Challenge(round_id=round_id, supplier_id=actor.organisation_id,
                          filed_by_id=actor.user_id, filed_at=moment, grounds=text,
                          target_quote_id=target.id if target else None,
                          may_change_result=may_change,
                          answer_by=working_day_deadline(moment, ANSWER_DAYS))
    session.add(challenge)
    session.flush()
    supplier = session.get_one(Organisation, actor.organisation_id)
    for operator in operator_ids(session):
        tell(session, operator, "challenge_filed", round=bidding_round.number,
             supplier=supplier.name, deadline=format_local(challenge.answer_by))
    if may_change:
        tell(session, bidding_round.buyer_org_id, "challenge_filed_buyer",
             round=bidding_round.number, deadline=format_local(challenge.answer_by))
    record_event(session, action="round.challenge_filed", object_type="bidding_round",
                 object_id=round_id, actor=actor,
                 data={"challenge_id": challenge.id, "target_quote_id": challenge.target_quote_id,
                       "may_change_result": may_change,
                       "answer_by": challenge.answer_by.isoformat()})
    return challenge


def answer_challenge(session: Session, actor: Actor, challenge_id: int, *, decision: str,
                     answer: str, strike_quote_id: int | None = None) -> Challenge:
    """The operator upholds (striking a quote if the challenge named one) or dismisses."""
    if actor.organisation_kind is not OrganisationKind.OPERATOR:
        raise PermissionDenied(N_("Only the mall's operator answers challenges."),
                               code="operator_required")
    actor.require_role(Role.OPERATOR)
    errors: dict[str, list[str]] = {}
    if decision not in (ChallengeStatus.UPHELD.value, ChallengeStatus.DISMISSED.value):
        errors["decision"] = [N_("Uphold or dismiss the challenge.")]
    check_text("answer", answer, multiline=True, errors=errors)
    if not answer.strip() or len(answer) > MAX_ANSWER:
        errors.setdefault("answer", [N_("Write the answer in at most 2,000 characters.")])
    if errors:
        raise ValidationFailed(errors=errors)
    challenge = session.scalar(select(Challenge).where(Challenge.id == challenge_id)
                               .with_for_update())
    if challenge is None:
        raise NotFound()
    bidding_round = session.scalar(select(BiddingRound).where(
        BiddingRound.id == challenge.round_id).with_for_update().execution_options(
        populate_existing=True))
    if challenge.status is not ChallengeStatus.PENDING or bidding_round is None:
        raise Conflict(N_("This challenge has already been answered."),
                       code="challenge_answered")
    moment = now()
    challenge.status = ChallengeStatus(decision)
    challenge.answer, challenge.answered_at = answer.strip(), moment
    challenge.answered_by_id = actor.user_id
    effect: dict[str, object] = {}
    if challenge.status is ChallengeStatus.UPHELD and strike_quote_id is not None:
        if strike_quote_id != challenge.target_quote_id:
            raise ValidationFailed(errors={"strike_quote_id": [N_(
                "Strike the quote the challenge names, or none.")]})
        effect = strike(session, bidding_round, session.get_one(Quote, strike_quote_id),
                        actor, moment)
    kind = ("challenge_upheld" if challenge.status is ChallengeStatus.UPHELD
            else "challenge_dismissed")
    tell(session, challenge.supplier_id, kind, round=bidding_round.number,
         answer=challenge.answer)
    tell(session, bidding_round.buyer_org_id, f"{kind}_buyer", round=bidding_round.number)
    record_event(session, action=f"round.challenge_{decision}", object_type="bidding_round",
                 object_id=bidding_round.id, actor=actor,
                 data={"challenge_id": challenge.id, "answer": challenge.answer,
                       "late": moment > challenge.answer_by, **effect})
    return challenge


def strike(session: Session, bidding_round: BiddingRound, quote: Quote, actor: Actor,
           moment: datetime) -> dict[str, object]:
    """Strike a quote, re-rank the valid ones and move the award if the result changed; what
    was done, for the audit entry."""
    if quote.round_id != bidding_round.id or quote.status is not QuoteStatus.VALID:
        raise Conflict(N_("This quote is no longer valid in this round."),
                       code="quote_not_valid")
    quote.status, quote.rank = QuoteStatus.STRUCK, None
    session.flush()
    valid = ranked(list(session.scalars(select(Quote).where(
        Quote.round_id == bidding_round.id, Quote.status == QuoteStatus.VALID))))
    for rank, remaining in enumerate(valid, start=1):
        remaining.rank = rank
    tell(session, quote.supplier_id, "round_quote_struck", round=bidding_round.number)
    effect: dict[str, object] = {"struck_quote_id": quote.id, "struck_supplier_id":
                                 quote.supplier_id,
                                 "ranks": {str(q.supplier_id): q.rank for q in valid}}
    holder = _holder(session, bidding_round.id)
    too_few = len(valid) < bidding_round.min_quotes
    if holder is None or not (holder.quote_id == quote.id or too_few):
        return effect
    if holder.outcome is AwardOutcome.CONFIRMED:
        order = session.get(Order, bidding_round.order_id, with_for_update=True,
                            populate_existing=True) if bidding_round.order_id else None
        if order is None or order.status not in UNSIGNED:
            # Signed before the challenge was filed: the contract stands; the operator's
            # answer and the audit record what was found.
            effect["order_signed"] = True
            return effect
        reason = f"bidding round {bidding_round.number}: award struck after a challenge"
        apply_move(session, order, actor, cancelled(session, order, reason))
        effect["cancelled_order"] = order.number
        bidding_round.order_id = None
        if not too_few:
            try:  # the round holds its ceiling again for the next in rank
                budget.reserve(session, bidding_round.budget_line_id, bidding_round.ceiling_fen)
                bidding_round.reserved_fen = bidding_round.ceiling_fen
            except BudgetExhausted:
                too_few = True
                effect["budget_exhausted"] = True
    holder.outcome, holder.decided_at, holder.decided_by_id = (AwardOutcome.STRUCK, moment,
                                                               actor.user_id)
    holder.reason = ("too few valid quotes after a challenge" if holder.quote_id != quote.id
                     else "quote struck after a challenge")
    if holder.quote_id != quote.id:
        holder_quote = session.get_one(Quote, holder.quote_id)
        tell(session, holder_quote.supplier_id, "round_award_lost", round=bidding_round.number)
    record_event(session, action="round.award_struck", object_type="bidding_round",
                 object_id=bidding_round.id, actor=actor,
                 data={"quote_id": holder.quote_id, "reason": holder.reason})
    if too_few:
        fail(session, bidding_round,
             "no_winner" if effect.get("budget_exhausted") else "too_few_quotes",
             quote_count=len(valid))
        effect["round_failed"] = True
    else:
        pass_on(session, bidding_round, previous=quote, outcome=AwardOutcome.STRUCK,
                moment=moment)
        effect["passed_on"] = True
    return effect


# -- the signing guard ------------------------------------------------------------------------

@guard_signing
def refuse_signing_while_challenged(session: Session, order: Order) -> None:
    """A pending challenge that may change a round's award holds its contract's signing; so
    does a complaint on which the supervisor suspended the round."""
    if order.purchase_mode is PurchaseMode.DIRECT:
        return
    bidding_round = session.scalar(select(BiddingRound).where(BiddingRound.order_id == order.id))
    if bidding_round is None:
        return
    refuse_while_suspended(session, bidding_round.id, bidding_round.number)
    pending = pending_challenge(session, bidding_round.id, order.supplier_id)
    if pending is not None:
        raise ChallengePending(
            N_("The result of bidding round %(round)s is challenged; the contract can be signed "
               "once the operator has answered the challenge (due by %(deadline)s)."),
            params={"round": bidding_round.number, "deadline": format_local(pending.answer_by)})


# -- reading ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChallengeRow:
    """A challenge with its round and the names a worklist shows."""

    challenge: Challenge
    round: BiddingRound
    supplier: str
    target_supplier: str | None
    target_rank: int | None

    @property
    def overdue(self) -> bool:
        return (self.challenge.status is ChallengeStatus.PENDING
                and now() > self.challenge.answer_by)


def _rows(session: Session, challenges: list[Challenge]) -> list[ChallengeRow]:
    rounds = {r.id: r for r in session.scalars(select(BiddingRound).where(
        BiddingRound.id.in_({c.round_id for c in challenges})))} if challenges else {}
    targets = {q.id: q for q in session.scalars(select(Quote).where(
        Quote.id.in_({c.target_quote_id for c in challenges if c.target_quote_id})))}
    org_ids = {c.supplier_id for c in challenges} | {q.supplier_id for q in targets.values()}
    names = dict(session.execute(select(Organisation.id, Organisation.name).where(
        Organisation.id.in_(org_ids))).all()) if org_ids else {}
    rows = []
    for c in challenges:
        target = targets.get(c.target_quote_id) if c.target_quote_id else None
        rows.append(ChallengeRow(c, rounds[c.round_id], names.get(c.supplier_id, ""),
                                 names.get(target.supplier_id) if target else None,
                                 target.rank if target else None))
    return rows


def worklist(session: Session, actor: Actor, *, status: str | None = "pending",
             limit: int = 200) -> list[ChallengeRow]:
    """Challenges for the operator and the supervisor; pending ones by their answer deadline."""
    actor.require_role(*OVERSIGHT_STAFF)
    if not actor.is_oversight:
        raise NotFound()
    query = select(Challenge)
    if status in {s.value for s in ChallengeStatus}:
        query = query.where(Challenge.status == status)
    query = query.order_by(Challenge.answer_by if status == "pending" else Challenge.id.desc())
    return _rows(session, list(session.scalars(query.limit(limit))))


def my_challenges(session: Session, actor: Actor, *, limit: int = 200) -> list[ChallengeRow]:
    """The acting supplier's challenges with their answers, newest first."""
    require_supplier(actor)
    return _rows(session, list(session.scalars(select(Challenge).where(
        Challenge.supplier_id == actor.organisation_id).order_by(Challenge.id.desc())
        .limit(limit))))


@dataclass(frozen=True)
class FilingView:
    """What the supplier's challenge page shows: the published ranking, the period, its own
    challenge if filed."""

    round: BiddingRound
    own: Quote
    deadline: datetime | None
    open: bool
    quotes: list[tuple[Quote, str]]
    challenge: ChallengeRow | None


def filing_view(session: Session, actor: Actor, round_id: int) -> FilingView:
    """The round as a supplier that quoted may challenge it (others: 404)."""
    require_supplier(actor)
    bidding_round = quotable_round(session, round_id)
    mine = own_quote(session, actor, round_id)
    if mine is None:
        raise NotFound()
    deadline = filing_deadline(bidding_round)
    # The ranking is what the result notice published: nothing before closing (the seal).
    quotes = ranked_quotes(session, bidding_round)
    names = dict(session.execute(select(Organisation.id, Organisation.name).where(
        Organisation.id.in_({q.supplier_id for q in quotes}))).all()) if quotes else {}
    existing = session.scalar(select(Challenge).where(
        Challenge.round_id == round_id, Challenge.supplier_id == actor.organisation_id))
    is_open = (deadline is not None and bidding_round.status in CHALLENGEABLE
               and now() <= deadline and existing is None)
    return FilingView(bidding_round, mine, deadline, is_open,
                      [(q, names.get(q.supplier_id, "")) for q in quotes],
                      _rows(session, [existing])[0] if existing else None)
