"""The supervisor's anti-splitting (化整为零) worklist: the alerts with the unit, project and
category named, the orders behind each, acknowledging or escalating with a note, and the
warning share.

Supervisors act on alerts; operators (the trading centre) read them. Purchasing units see
none: an alert is a lead for the supervisor, and showing it to the unit would tell it where
the line is watched (it already learns at checkout when a purchase would pass the threshold).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from catalog.models import Category
from mall.accounts.models import Organisation
from mall.core.audit import record_event
from mall.core.auth import OVERSIGHT_STAFF, Actor, Role
from mall.core.clock import now
from mall.core.errors import Conflict, NotFound, ValidationFailed
from mall.core.inputs import check_text, in_id_range
from mall.i18n_messages import N_
from mall.purchasing.budget.models import BudgetLine
from supervision.splitting.models import (
    AlertLevel,
    AlertNote,
    AlertStatus,
    SplittingAlert,
    SplittingSettings,
    SplittingTotal,
)
from supervision.splitting.totals import CountedOrder, raise_alerts, sums, warn_pct

PAGE_SIZE = 50
MAX_NOTE = 1000
# Open alerts first, then those handed on, then the ones looked at, then the superseded.
STATUS_ORDER = {AlertStatus.OPEN: 0, AlertStatus.ESCALATED: 1, AlertStatus.ACKNOWLEDGED: 2,
                AlertStatus.SUPERSEDED: 3}
# From which statuses each action may be taken.
ACTIONS = {"acknowledged": (AlertStatus.OPEN,),
           "escalated": (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)}


@dataclass(frozen=True)
class AlertRow:
    """An alert as the worklist shows it: names instead of codes, the key's sum now."""

    alert: SplittingAlert
    unit_name: str
    project_name: str
    category_name: str
    current_fen: int
    order_count: int


def _read(actor: Actor) -> None:
    actor.require_role(*OVERSIGHT_STAFF)


def list_alerts(session: Session, actor: Actor, *, status: AlertStatus | None = None,
                page: int = 1) -> tuple[list[AlertRow], int]:
    """A page of alerts, open ones first, newest first within a status; and how many in all."""
    _read(actor)
    where = [] if status is None else [SplittingAlert.status == status]
    total = session.scalar(select(func.count()).select_from(SplittingAlert).where(*where)) or 0
    order = case({s.value: rank for s, rank in STATUS_ORDER.items()},
                 value=SplittingAlert.status)
    alerts = list(session.scalars(select(SplittingAlert).where(*where)
                                  .order_by(order, SplittingAlert.raised_at.desc(),
                                            SplittingAlert.id.desc())
                                  .offset((max(page, 1) - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
    return _rows(session, alerts), total


def _rows(session: Session, alerts: list[SplittingAlert]) -> list[AlertRow]:
    if not alerts:
        return []
    orgs = {a.organisation_id for a in alerts}
    units = dict(session.execute(select(Organisation.id, Organisation.name)
                                 .where(Organisation.id.in_(orgs))).all())
    categories = dict(session.execute(select(Category.code, Category.name).where(
        Category.code.in_({a.category_code for a in alerts}))).all())
    projects = {(org, year, code): name for org, year, code, name in session.execute(
        select(BudgetLine.organisation_id, BudgetLine.fiscal_year, BudgetLine.project_code,
               func.min(BudgetLine.project_name))
        .where(BudgetLine.organisation_id.in_(orgs))
        .group_by(BudgetLine.organisation_id, BudgetLine.fiscal_year,
                  BudgetLine.project_code)).all()}
    totals = {(t.organisation_id, t.fiscal_year, t.project_code, t.category_code): t
              for t in session.scalars(select(SplittingTotal).where(
                  SplittingTotal.organisation_id.in_(orgs)))}
    rows = []
    for alert in alerts:
        key = (alert.organisation_id, alert.fiscal_year, alert.project_code, alert.category_code)
        kept = totals.get(key)
        rows.append(AlertRow(
            alert, units.get(alert.organisation_id, ""),
            projects.get(key[:3], ""), categories.get(alert.category_code, alert.category_code),
            kept.total_fen if kept else 0, kept.order_count if kept else 0))
    return rows


def get_alert(session: Session, actor: Actor, alert_id: int) -> AlertRow:
    """One alert for oversight staff; not found for anyone else's asking."""
    _read(actor)
    alert = session.get(SplittingAlert, alert_id) if in_id_range(alert_id) else None
    if alert is None:
        raise NotFound()
    return _rows(session, [alert])[0]


def orders_behind(session: Session, alert: SplittingAlert) -> list[CountedOrder]:
    """The orders that make the alert's key's sum now, oldest first."""
    return orders_behind_alerts(session, [alert])[alert.id]


def orders_behind_alerts(session: Session, alerts: list[SplittingAlert]
                         ) -> dict[int, list[CountedOrder]]:
    """The orders behind each alert (by alert id), oldest first, read in one go."""
    def key(a: SplittingAlert) -> tuple[int, int, str, str]:
        return (a.organisation_id, a.fiscal_year, a.project_code, a.category_code)

    found = sums(session, [key(a) for a in alerts])
    return {a.id: sorted(found[key(a)].orders.values(), key=lambda o: (o.submitted_at, o.id))
            for a in alerts}


def _note(text: str | None) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(errors={"note": [N_("Write a note: what was found, or why it is "
                                                   "handed on.")]})
    if len(text) > MAX_NOTE:
        raise ValidationFailed(errors={"note": [N_("Keep the note to 1,000 characters.")]})
    check_text("note", text, multiline=True)
    return text


def act_on_alert(session: Session, actor: Actor, alert_id: int, *, action: str,
                 note: str | None) -> SplittingAlert:
    """A supervisor acknowledges an open alert, or escalates an open or acknowledged one,
    with a note; audited and kept in the alert's history."""
    actor.require_role(Role.SUPERVISOR)
    if action not in ACTIONS:
        raise ValidationFailed(errors={"action": [N_("Choose acknowledge or escalate.")]})
    text = _note(note)
    alert = session.scalar(select(SplittingAlert).where(SplittingAlert.id == alert_id)
                           .with_for_update()) if in_id_range(alert_id) else None
    if alert is None:
        raise NotFound()
    if alert.status not in ACTIONS[action]:
        raise Conflict(N_("This alert is no longer open to that action."),
                       code="splitting_alert_wrong_state")
    moment = now()
    alert.status, alert.updated_at = AlertStatus(action), moment
    alert.notes.append(AlertNote(action=action, note=text, user_id=actor.user_id, at=moment))
    session.flush()
    record_event(session, action=f"splitting_alert.{action}", object_type="splitting_alert",
                 object_id=alert.id, actor=actor, data={"note": text,
                                                        "level": alert.level.value})
    return alert


def history(session: Session, alert: SplittingAlert) -> list[tuple[AlertNote, str | None]]:
    """The alert's history with the name of who acted (None: the job)."""
    from mall.accounts.models import User

    names = dict(session.execute(select(User.id, User.display_name).where(
        User.id.in_({n.user_id for n in alert.notes if n.user_id}))).all())
    return [(n, names.get(n.user_id) if n.user_id else None) for n in alert.notes]


def save_warn_pct(session: Session, actor: Actor, *, pct: object) -> int:
    """An operator or supervisor sets the warning share; keys already at it are alerted now."""
    actor.require_role(*OVERSIGHT_STAFF)
    if isinstance(pct, bool) or not isinstance(pct, int) or not 1 <= pct <= 100:
        raise ValidationFailed(errors={"warn_pct": [N_("Enter a whole percentage from 1 to "
                                                       "100.")]})
    moment = now()
    row = session.scalar(select(SplittingSettings).order_by(SplittingSettings.id).limit(1))
    if row is None:
        row = SplittingSettings(warn_pct=pct, updated_at=moment, updated_by=actor.user_id)
        session.add(row)
    row.warn_pct, row.updated_at, row.updated_by = pct, moment, actor.user_id
    session.flush()
    record_event(session, action="splitting_settings.saved", object_type="splitting_settings",
                 object_id=row.id, actor=actor, data={"warn_pct": pct})
    totals = {(t.organisation_id, t.fiscal_year, t.project_code, t.category_code): t.total_fen
              for t in session.scalars(select(SplittingTotal).where(SplittingTotal.total_fen > 0))}
    raise_alerts(session, totals, moment=moment)
    return pct


def current_warn_pct(session: Session) -> int:
    return warn_pct(session)


def open_count(session: Session) -> int:
    """How many alerts wait for a supervisor (a to-do count for the home page)."""
    return session.scalar(select(func.count()).select_from(SplittingAlert).where(
        SplittingAlert.status == AlertStatus.OPEN)) or 0


LEVEL_LABELS = {AlertLevel.APPROACHING: N_("Approaching the threshold"),
                AlertLevel.PASSED: N_("Above the threshold")}
STATUS_LABELS = {AlertStatus.OPEN: N_("Open"), AlertStatus.ACKNOWLEDGED: N_("Acknowledged"),
                 AlertStatus.ESCALATED: N_("Escalated"), AlertStatus.SUPERSEDED: N_("Superseded")}
NOTE_LABELS = {"raised": N_("Raised by the running totals"),
               "superseded": N_("Superseded by the alert above the threshold"),
               "acknowledged": N_("Acknowledged"), "escalated": N_("Escalated")}

