"""The drawn experts' side of random expert acceptance: their work list, each expert's signed
review, and the panel's acceptance recorded through the order's own ``accept`` step once
every drawn expert has signed (docs/expert-acceptance.md).

The panel's verdict per line is the quantity a majority of the experts accepted (with three
experts: the middle one); the result follows from it: everything accepted passes, nothing
rejects, anything between is partial. Until the acceptance is recorded the buyer and the
supplier see the experts as 专家 1, 2, 3 with whether each has signed; their names show
afterwards. The operator and the supervisor always see them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from mall.core.audit import record_event
from mall.core.auth import Actor, OrganisationKind, Role
from mall.core.clock import now
from mall.core.errors import Conflict, NotFound, ValidationFailed
from mall.core.inputs import check_text
from mall.i18n_messages import N_
from mall.purchasing.experts.models import ExpertDraw, ExpertProfile, ExpertReview
from mall.purchasing.experts.services import REQUESTABLE, Requirement, requirement
from mall.purchasing.orders.models import AcceptanceResult, Order, OrderStatus
from mall.purchasing.orders.steps import transition

S = OrderStatus
REASONS_MAX = 1000  # the acceptance record's reasons column


@dataclass(frozen=True)
class Assignment:
    """One order an expert was drawn for, with the expert's own review."""

    review: ExpertReview
    draw: ExpertDraw
    order: Order


def _profile(session: Session, actor: Actor) -> ExpertProfile:
    actor.require_role(Role.EXPERT)
    profile = session.scalar(select(ExpertProfile).where(ExpertProfile.user_id == actor.user_id))
    if profile is None:
        raise NotFound()
    return profile


def assignments(session: Session, actor: Actor) -> list[Assignment]:
    """The expert's work list: orders it was drawn for, those still to sign first."""
    profile = _profile(session, actor)
    rows = session.execute(
        select(ExpertReview, ExpertDraw, Order)
        .join(ExpertDraw, ExpertDraw.id == ExpertReview.draw_id)
        .join(Order, Order.id == ExpertDraw.order_id)
        .where(ExpertReview.expert_id == profile.id)
        .order_by(ExpertReview.signed_at.is_not(None), ExpertDraw.id.desc()))
    return [Assignment(review, draw, order) for review, draw, order in rows]


def assignment(session: Session, actor: Actor, draw_id: int, *, lock: bool = False) -> Assignment:
    """One draw of the expert's own; any other draw is not found."""
    profile = _profile(session, actor)
    draw = session.get(ExpertDraw, draw_id, with_for_update=lock, populate_existing=lock)
    review = None if draw is None else next(
        (r for r in draw.reviews if r.expert_id == profile.id), None)
    if draw is None or review is None:
        raise NotFound()
    order = session.get(Order, draw.order_id)
    assert order is not None
    return Assignment(review, draw, order)


def _accepted(order: Order, result: AcceptanceResult, quantities: dict[int, object],
              errors: dict[str, list[str]]) -> dict[int, int]:
    accepted: dict[int, int] = {}
    for line in order.lines:
        if result is AcceptanceResult.PASS:
            accepted[line.id] = line.quantity
        elif result is AcceptanceResult.REJECT:
            accepted[line.id] = 0
        else:
            value = quantities.get(line.id, line.quantity)
            if type(value) is not int or not 0 <= value <= line.quantity:
                errors[f"quantities.{line.id}"] = [N_("Enter 0 up to the quantity ordered.")]
                continue
            accepted[line.id] = value
    if (result is AcceptanceResult.PARTIAL and len(accepted) == len(order.lines)
            and all(accepted[ln.id] == ln.quantity for ln in order.lines)):
        errors["quantities"] = [N_("A partial acceptance keeps back at least one item.")]
    return accepted


def record_review(session: Session, actor: Actor, draw_id: int, *, result: str,
                  quantities: dict[int, object] | None = None, opinion: str = "") -> ExpertReview:
    """A drawn expert signs its acceptance of the received goods; the last one to sign
    records the panel's acceptance of the order."""
    mine = assignment(session, actor, draw_id, lock=True)
    if mine.review.signed_at is not None:
        raise Conflict(N_("You signed your acceptance of this order already."),
                       code="already_reviewed")
    if mine.order.status is not S.DELIVERED:
        raise Conflict(N_("The goods of this order are not received yet, or its acceptance is "
                          "recorded already."), code="order_state_conflict")
    errors: dict[str, list[str]] = {}
    try:
        outcome = AcceptanceResult(result)
    except ValueError:
        raise ValidationFailed(errors={"result": ["Choose pass, partial or reject."]}) from None
    opinion = (opinion or "").strip()
    if not opinion or len(opinion) > 500:
        errors["opinion"] = [N_("Write your acceptance opinion (at most 500 characters).")]
    check_text("opinion", opinion, multiline=True, errors=errors)
    accepted = _accepted(mine.order, outcome, quantities or {}, errors)
    if errors:
        raise ValidationFailed(errors=errors)
    if outcome is AcceptanceResult.PARTIAL and not any(accepted.values()):
        outcome = AcceptanceResult.REJECT  # nothing accepted: the goods all go back
    review = mine.review
    review.result, review.opinion, review.signed_at = outcome, opinion, now()
    review.quantities = {str(k): v for k, v in accepted.items()}
    session.flush()
    record_event(session, action="expert_review.signed", object_type="order",
                 object_id=mine.order.id, actor=actor,
                 data={"draw_id": draw_id, "position": review.position, "result": outcome.value,
                       "quantities": review.quantities})
    if all(r.signed_at is not None for r in mine.draw.reviews):
        _conclude(session, actor, mine.draw, mine.order)
    return review


def panel_verdict(order: Order, reviews: list[ExpertReview]) -> tuple[AcceptanceResult, dict[int, int]]:
    """Per line the quantity a majority accepted (at least), and the result that follows."""
    majority = len(reviews) // 2 + 1
    accepted = {}
    for line in order.lines:
        counts = sorted(((r.quantities or {}).get(str(line.id), 0) for r in reviews), reverse=True)
        accepted[line.id] = counts[majority - 1]
    if all(accepted[ln.id] == ln.quantity for ln in order.lines):
        return AcceptanceResult.PASS, accepted
    if not any(accepted.values()):
        return AcceptanceResult.REJECT, accepted
    return AcceptanceResult.PARTIAL, accepted


def _conclude(session: Session, actor: Actor, draw: ExpertDraw, order: Order) -> None:
    """Record the panel's acceptance through the order's accept step, for the unit."""
    result, accepted = panel_verdict(order, draw.reviews)
    reasons = "；".join(f"专家{r.position}：{r.opinion}" for r in draw.reviews)[:REASONS_MAX]
    # The acceptance is the unit's (验收书), made by its panel: the step runs for the buyer
    # unit, signed by the expert who completed the panel; ``panel`` passes the guard.
    panel_actor = Actor(user_id=actor.user_id, organisation_id=order.buyer_org_id,
                        organisation_kind=OrganisationKind.PURCHASING_UNIT,
                        roles=frozenset({Role.BUYER}))
    transition(session, panel_actor, order.id, "accept",
               {"result": result.value, "quantities": accepted, "reasons": reasons,
                "accepted_on": None}, panel=draw.id)
    draw.concluded_at, draw.result = now(), result
    session.flush()
    record_event(session, action="expert_draw.concluded", object_type="order", object_id=order.id,
                 actor=actor, data={"draw_id": draw.id, "result": result.value,
                                    "accepted": {str(k): v for k, v in accepted.items()}})


# -- what each party sees of the panel --------------------------------------------------------

@dataclass(frozen=True)
class Member:
    position: int
    name: str | None  # None: hidden from this reader
    signed: bool
    result: str | None  # shown with the name


@dataclass(frozen=True)
class PanelView:
    """An order's expert acceptance as the reader may see it."""

    requirement: Requirement
    members: list[Member]
    names_shown: bool
    can_request: bool


def panel_view(session: Session, actor: Actor, order: Order) -> PanelView:
    """Who is on the panel, by name for oversight or once accepted, else by number."""
    state = requirement(session, order)
    draw = state.draw
    shown = actor.is_oversight or (draw is not None and draw.concluded_at is not None)
    members = []
    if draw is not None:
        names = dict(session.execute(select(ExpertProfile.id, ExpertProfile.name).where(
            ExpertProfile.id.in_([r.expert_id for r in draw.reviews]))).all())
        members = [Member(r.position, names.get(r.expert_id) if shown else None,
                          r.signed_at is not None,
                          r.result.value if shown and r.result is not None else None)
                   for r in draw.reviews]
    can_request = (not state.required and actor.organisation_id == order.buyer_org_id
                   and actor.has_role(Role.BUYER, Role.APPROVER)
                   and order.status in REQUESTABLE)
    return PanelView(state, members, shown, can_request)
