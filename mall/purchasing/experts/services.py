"""Random expert acceptance (随机抽取专家验收): the rule, the buyer's request, the draw (the pool
of experts is managed in mall.purchasing.experts.pool).

An order whose total reaches the operator's amount, or whose buyer asked for it, is
accepted by a panel of experts drawn at random from the pool (docs/expert-acceptance.md):

- eligible: active experts whose catalogue codes cover every category of the order, and
  who have no tie to the buyer or the supplier (employed there, a declared tie that still
  lasts, or a person of either party: one of its users with the expert's name or e-mail);
- the draw: ``random.Random(seed).sample(eligible ids in ascending order, panel size)``;
  the seed (made with ``secrets`` unless the operator gives one) is stored with the ids
  considered, excluded and chosen, so that anyone can draw again and get the same panel;
- while a panel is required the buyer cannot record the acceptance alone: the guard below
  is connected to mall.purchasing.orders.services.acceptance_requested. The panel's own
  reviews and its acceptance are in mall.purchasing.experts.reviews.
"""

from __future__ import annotations

import random
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from mall.accounts.models import Organisation, User
from mall.core.audit import record_event
from mall.core.auth import OVERSIGHT_STAFF, Actor, OrganisationKind, Role
from mall.core.clock import local_today, now
from mall.core.errors import Conflict, NotFound, ValidationFailed
from mall.core.inputs import check_text
from mall.core.money import POSITIVE_AMOUNT, require
from mall.i18n_messages import N_
from mall.purchasing.experts.models import (
    ExpertDraw,
    ExpertProfile,
    ExpertRequest,
    ExpertReview,
    ExpertSettings,
)
from mall.purchasing.orders.models import Order, OrderStatus
from mall.purchasing.orders.notifications import MESSAGES, notify
from mall.purchasing.orders.services import acceptance_requested

S = OrderStatus
DEFAULT_THRESHOLD_FEN = 100_000_000  # 100万元: from this order total experts accept
DEFAULT_PANEL_SIZE = 3
# A panel may be asked for until the goods are accepted; drawn once the contract is in force.
REQUESTABLE = (S.PENDING_APPROVAL, S.SENT, S.CONFIRMED, S.SUPPLIER_SIGNED, S.SIGNED, S.SHIPPED,
               S.DELIVERED)
DRAWABLE = (S.SIGNED, S.SHIPPED, S.DELIVERED)
SEED_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# Why an expert of the order's categories was left out of a draw (shown in words).
EXCLUSION_REASONS = {
    "employer_buyer": N_("Works for the purchasing unit"),
    "employer_supplier": N_("Works for the supplier"),
    "tie_buyer": N_("Declared a tie to the purchasing unit"),
    "tie_supplier": N_("Declared a tie to the supplier"),
    "person_buyer": N_("A person of the purchasing unit (same name or e-mail)"),
    "person_supplier": N_("A person of the supplier (same name or e-mail)"),
}
BASIS_LABELS = {"amount": N_("The order's total reaches the amount that needs experts"),
                "request": N_("The purchasing unit asked for experts")}

MESSAGES.update({
    "experts_drawn": N_("Acceptance experts were drawn for order %(number)s; they record its "
                        "acceptance once the goods are received."),
    "experts_requested": N_("The purchasing unit asked for expert acceptance of order "
                            "%(number)s: draw the experts."),
})


class ExpertAcceptancePending(Conflict):
    """The buyer tried to accept an order whose acceptance belongs to a panel of experts."""

    code = "expert_acceptance_required"


class TooFewExperts(Conflict):
    code = "too_few_experts"


# -- the rule -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    threshold_fen: int
    panel_size: int


def current_rule(session: Session) -> Rule:
    """The operator's amount and panel size, or the defaults."""
    row = session.get(ExpertSettings, 1)
    if row is None:
        return Rule(DEFAULT_THRESHOLD_FEN, DEFAULT_PANEL_SIZE)
    return Rule(row.threshold_fen, row.panel_size)


def update_rule(session: Session, actor: Actor, *, threshold_fen: object,
                panel_size: object) -> Rule:
    """The operator sets the amount from which orders need experts, and the panel's size."""
    actor.require_role(Role.OPERATOR)
    errors: dict[str, list[str]] = {}
    try:
        require(threshold_fen, POSITIVE_AMOUNT, "threshold")
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if type(panel_size) is not int or not 1 <= panel_size <= 9:
        errors["panel_size"] = [N_("Enter a panel of 1 to 9 experts.")]
    if errors:
        raise ValidationFailed(errors=errors)
    assert isinstance(threshold_fen, int) and isinstance(panel_size, int)
    row = session.get(ExpertSettings, 1, with_for_update=True)
    if row is None:
        row = ExpertSettings(id=1, threshold_fen=threshold_fen, panel_size=panel_size,
                             updated_by=actor.user_id, updated_at=now())
        session.add(row)
    row.threshold_fen, row.panel_size = threshold_fen, panel_size
    row.updated_by, row.updated_at = actor.user_id, now()
    session.flush()
    record_event(session, action="expert_settings.updated", object_type="expert_settings",
                 object_id=1, actor=actor,
                 data={"threshold_fen": threshold_fen, "panel_size": panel_size})
    return Rule(threshold_fen, panel_size)


@dataclass(frozen=True)
class Requirement:
    """Whether an order's acceptance belongs to experts, why, and its draw if made."""

    basis: str | None  # amount / request; None: the buyer accepts alone
    draw: ExpertDraw | None
    request: ExpertRequest | None

    @property
    def required(self) -> bool:
        return self.basis is not None


def requirement(session: Session, order: Order) -> Requirement:
    """A drawn panel always decides; before the draw a request or the amount rule does."""
    draw = session.scalar(select(ExpertDraw).where(ExpertDraw.order_id == order.id))
    request = session.scalar(select(ExpertRequest).where(ExpertRequest.order_id == order.id))
    if draw is not None:
        return Requirement(draw.basis, draw, request)
    if request is not None:
        return Requirement("request", None, request)
    if order.total_fen >= current_rule(session).threshold_fen:
        return Requirement("amount", None, None)
    return Requirement(None, None, None)


@acceptance_requested.connect
def _refuse_the_buyer_alone(order: Order, *, session: Session, actor: Actor,
                            panel: int | None, **_: object) -> None:
    """While experts must accept the order, only their panel records its acceptance."""
    state = requirement(session, order)
    if panel is not None:
        if state.draw is None or state.draw.id != panel:
            raise NotFound()
        return
    if state.required:
        raise ExpertAcceptancePending(N_("This order is accepted by drawn experts: its "
                                         "acceptance is recorded when all of them have signed."))


def request_experts(session: Session, actor: Actor, order_id: int, *, reason: str) -> ExpertRequest:
    """The buyer asks for expert acceptance of its order (below the amount that needs it)."""
    order = session.get(Order, order_id, with_for_update=True)
    if order is None or order.buyer_org_id != actor.organisation_id:
        raise NotFound()
    actor.require_role(Role.BUYER, Role.APPROVER)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(errors={"reason": ["Give a reason."]})
    if len(reason) > 500:
        raise ValidationFailed(errors={"reason": [N_("Write at most 500 characters.")]})
    check_text("reason", reason, multiline=True)
    state = requirement(session, order)
    if state.required:
        raise Conflict(N_("Experts already accept this order."), code="experts_already_required")
    if order.status not in REQUESTABLE:
        raise Conflict(N_("Experts can be asked for only until the goods are accepted."),
                       code="order_state_conflict")
    row = ExpertRequest(order_id=order.id, reason=reason, requested_by=actor.user_id,
                        requested_at=now())
    session.add(row)
    session.flush()
    record_event(session, action="expert_acceptance.requested", object_type="order",
                 object_id=order.id, actor=actor, data={"reason": reason})
    for operator_id in session.scalars(select(Organisation.id).where(
            Organisation.kind == OrganisationKind.OPERATOR, Organisation.active.is_(True))):
        notify(session, operator_id, order, "experts_requested")
    return row


# -- the draw ---------------------------------------------------------------------------------

def orders_needing_draw(session: Session, actor: Actor, *, limit: int = 200) -> list[Order]:
    """Open orders that need experts (by amount or request) and have none drawn yet."""
    actor.require_role(*OVERSIGHT_STAFF)
    requested = exists().where(ExpertRequest.order_id == Order.id)
    drawn = exists().where(ExpertDraw.order_id == Order.id)
    threshold = current_rule(session).threshold_fen
    return list(session.scalars(
        select(Order).where(Order.status.in_(REQUESTABLE), ~drawn,
                            or_(Order.total_fen >= threshold, requested))
        .order_by(Order.id).limit(limit)))


def recent_draws(session: Session, actor: Actor, *, limit: int = 100) -> list[ExpertDraw]:
    actor.require_role(*OVERSIGHT_STAFF)
    return list(session.scalars(select(ExpertDraw).order_by(ExpertDraw.id.desc()).limit(limit)))


def _people_of(session: Session, organisation_ids: tuple[int, int]) -> dict[int, set[str]]:
    """Names and e-mails (lower case) of the users of the buyer and the supplier."""
    found: dict[int, set[str]] = {i: set() for i in organisation_ids}
    for org_id, display_name, email in session.execute(
            select(User.organisation_id, User.display_name, User.email)
            .where(User.organisation_id.in_(organisation_ids))):
        found[org_id].add(display_name.strip().lower())
        if email:
            found[org_id].add(email.strip().lower())
    return found


def exclusions(session: Session, order: Order,
               candidates: list[ExpertProfile]) -> dict[int, list[str]]:
    """Why each candidate may not judge this order (no entry: free of ties)."""
    today = local_today()
    parties = {"buyer": order.buyer_org_id, "supplier": order.supplier_id}
    people = _people_of(session, (order.buyer_org_id, order.supplier_id))
    emails = dict(session.execute(select(User.id, User.email).where(
        User.id.in_([c.user_id for c in candidates]))).all()) if candidates else {}
    found: dict[int, list[str]] = {}
    for expert in candidates:
        reasons = []
        ties = {t.organisation_id for t in expert.ties if t.lasts_on(today)}
        email = emails.get(expert.user_id)
        marks = {expert.name.strip().lower()} | ({email.strip().lower()} if email else set())
        for side, org_id in parties.items():
            if expert.employer_org_id == org_id:
                reasons.append(f"employer_{side}")
            if org_id in ties:
                reasons.append(f"tie_{side}")
            if marks & people[org_id]:
                reasons.append(f"person_{side}")
        if reasons:
            found[expert.id] = reasons
    return found


def candidates_for(session: Session, order: Order) -> list[ExpertProfile]:
    """Active experts whose codes cover every category of the order, by id."""
    categories = {line.category_code for line in order.lines}
    pool = session.scalars(select(ExpertProfile).where(ExpertProfile.active.is_(True))
                           .order_by(ExpertProfile.id))
    return [e for e in pool if categories and all(e.judges(c) for c in categories)]


def draw_panel(seed: str, eligible_ids: list[int], size: int) -> list[int]:
    """The draw itself: the same seed over the same ids gives the same panel."""
    return random.Random(seed).sample(sorted(eligible_ids), size)


def draw_experts(session: Session, actor: Actor, order_id: int, *,
                 seed: str | None = None) -> ExpertDraw:
    """The operator draws the order's panel at random among the eligible experts."""
    actor.require_role(Role.OPERATOR)
    seed = (seed or "").strip() or secrets.token_hex(16)
    if not SEED_PATTERN.fullmatch(seed):
        raise ValidationFailed(errors={"seed": [
            N_("A seed is 1 to 64 letters, digits or . _ : - (leave it empty for a random one).")]})
    order = session.get(Order, order_id, with_for_update=True, populate_existing=True)
    if order is None:
        raise NotFound()
    state = requirement(session, order)
    if state.draw is not None:
        raise Conflict(N_("The experts of this order are drawn already."), code="already_drawn")
    if not state.required:
        raise Conflict(N_("This order does not need expert acceptance."),
                       code="experts_not_required")
    if order.status not in DRAWABLE:
        raise Conflict(N_("Experts are drawn once the contract is in force and until the goods "
                          "are accepted."), code="order_state_conflict")
    size = current_rule(session).panel_size
    candidates = candidates_for(session, order)
    excluded = exclusions(session, order, candidates)
    eligible = [e.id for e in candidates if e.id not in excluded]
    if len(eligible) < size:
        raise TooFewExperts(N_("Only %(count)d experts of the order's categories are free of ties "
                               "to either party; the panel needs %(size)d."),
                            params={"count": len(eligible), "size": size})
    chosen = draw_panel(seed, eligible, size)
    draw = ExpertDraw(order_id=order.id, basis=state.basis or "amount", seed=seed, panel_size=size,
                      eligible_ids=eligible, chosen_ids=chosen,
                      excluded=[{"expert_id": i, "reasons": r} for i, r in excluded.items()],
                      drawn_by=actor.user_id, drawn_at=now())
    draw.reviews = [ExpertReview(expert_id=expert_id, position=n)
                    for n, expert_id in enumerate(chosen, start=1)]
    session.add(draw)
    session.flush()
    record_event(session, action="expert_draw.drawn", object_type="order", object_id=order.id,
                 actor=actor, data={"draw_id": draw.id, "seed": seed, "basis": draw.basis,
                                    "eligible": eligible, "chosen": chosen,
                                    "excluded": draw.excluded})
    for organisation_id in (order.buyer_org_id, order.supplier_id):
        notify(session, organisation_id, order, "experts_drawn")
    return draw


def get_draw(session: Session, actor: Actor, order_id: int) -> ExpertDraw | None:
    actor.require_role(*OVERSIGHT_STAFF)
    return session.scalar(select(ExpertDraw).where(ExpertDraw.order_id == order_id))


@dataclass(frozen=True)
class Reproduction:
    panel: list[int]
    matches: bool


def reproduce(draw: ExpertDraw) -> Reproduction:
    """Draw again from the stored seed and eligible ids: the same panel, or a tampered row."""
    panel = draw_panel(draw.seed, draw.eligible_ids, draw.panel_size)
    return Reproduction(panel, panel == list(draw.chosen_ids))


def expert_names(session: Session, ids: set[int] | list[int]) -> dict[int, str]:
    ids = set(ids)
    if not ids:
        return {}
    return dict(session.execute(select(ExpertProfile.id, ExpertProfile.name)
                                .where(ExpertProfile.id.in_(ids))).all())


def order_numbers(session: Session, order_ids: list[int]) -> dict[int, str]:
    if not order_ids:
        return {}
    return dict(session.execute(select(Order.id, Order.number).where(Order.id.in_(order_ids))).all())


def requested_ids(session: Session, order_ids: list[int]) -> set[int]:
    """Which of these orders their buyer asked experts for."""
    if not order_ids:
        return set()
    return set(session.scalars(select(ExpertRequest.order_id)
                               .where(ExpertRequest.order_id.in_(order_ids))))
