"""What waits on a home page from supervision's side: each role's to-dos with their counts,
read with one count query each (the worklists themselves live in each part)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bidding_rounds.complaint_reads import pending_count
from mall.core.auth import OVERSIGHT_STAFF, SUPPLIER_STAFF, Actor, Role
from mall.core.clock import local_today
from mall.i18n_messages import N_
from mall.purchasing.experts.models import ExpertDraw, ExpertProfile, ExpertReview
from mall.purchasing.experts.services import orders_needing_draw
from supervision.performance.sanctions import current_sanctions, suspension_proposals
from supervision.prices.models import CaseStatus, PriceCase
from supervision.splitting.models import AlertStatus, SplittingAlert


@dataclass(frozen=True)
class Todo:
    """One line of a home page's work list: what (a msgid), how many, where to act."""

    label: str
    count: int
    endpoint: str
    urgent: int = 0  # how many of them are overdue or blocking
    urgent_label: str = ""


def _count(session: Session, query) -> int:
    return session.scalar(query) or 0


def todos(session: Session, actor: Actor) -> list[Todo]:
    """The to-dos of supervision, price monitoring, complaints and expert acceptance that
    wait for ``actor``; empty lists are kept (a zero says nothing waits)."""
    items: list[Todo] = []
    if actor.has_role(*OVERSIGHT_STAFF):
        open_cases = _count(session, select(func.count()).select_from(PriceCase)
                            .where(PriceCase.status == CaseStatus.OPEN))
        items.append(Todo(N_("Price cases to decide"), open_cases, "supervision.price_cases"))
        alerts = _count(session, select(func.count()).select_from(SplittingAlert)
                        .where(SplittingAlert.status == AlertStatus.OPEN))
        items.append(Todo(N_("Splitting alerts to review"), alerts,
                          "supervision.splitting_alerts"))
        items.append(Todo(N_("Supplier points past the threshold"),
                          len(suspension_proposals(session, actor)),
                          "supervision.performance_ranking"))
    if actor.has_role(Role.SUPERVISOR):
        items.append(Todo(N_("Complaints to decide"), pending_count(session),
                          "bidding_rounds.complaints_page",
                          urgent=pending_count(session, overdue_only=True),
                          urgent_label=N_("overdue")))
    if actor.has_role(Role.OPERATOR):
        items.append(Todo(N_("Orders waiting for an expert draw"),
                          len(orders_needing_draw(session, actor)),
                          "purchasing.expert_draws_page"))
    if actor.has_role(Role.EXPERT):
        waiting = _count(session, select(func.count()).select_from(ExpertReview)
                         .join(ExpertProfile, ExpertProfile.id == ExpertReview.expert_id)
                         .join(ExpertDraw, ExpertDraw.id == ExpertReview.draw_id)
                         .where(ExpertProfile.user_id == actor.user_id,
                                ExpertReview.signed_at.is_(None)))
        items.append(Todo(N_("Acceptances to record"), waiting, "purchasing.expert_assignments"))
    if actor.has_role(*SUPPLIER_STAFF):
        cases = _count(session, select(func.count()).select_from(PriceCase).where(
            PriceCase.supplier_id == actor.organisation_id,
            PriceCase.status.in_((CaseStatus.OPEN, CaseStatus.FROZEN))))
        items.append(Todo(N_("Price cases about our offers"), cases,
                          "supervision.my_price_cases"))
        sanctions = current_sanctions(session, actor.organisation_id, today=local_today())
        items.append(Todo(N_("Sanctions in force"), len(sanctions), "supervision.my_sanctions"))
    return items
