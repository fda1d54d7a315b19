"""Timed jobs of purchasing: the 72-hour confirmation deadline, reminders, overdue payments,
notice publication, card payment (and return refund) reconciliation and e-mail."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from mall.accounts.models import Organisation
from mall.core.auth import OrganisationKind
from mall.core.clock import format_local, now
from mall.core.db import claiming
from mall.core.jobs import job
from mall.purchasing.contracts import notices
from mall.purchasing.orders import return_refunds
from mall.purchasing.orders import services as orders
from mall.purchasing.orders.models import Order, OrderStatus
from mall.purchasing.orders.notifications import notify, send_pending_email
from mall.purchasing.payments import services as payments
from mall.purchasing.payments.stripe_gateway import StripeSettings

REMIND_HOURS_BEFORE = 24
PAY_REMIND_DAYS_BEFORE = 5


def _claim(session: Session, *conditions, limit: int | None = None) -> list[Order]:
    """The orders a sweep works on, claimed so that two scheduler processes share them."""
    query = select(Order).where(*conditions)
    return list(session.scalars(claiming(query if limit is None else query.limit(limit), session)))


def cancel_unconfirmed(session: Session, *, limit: int = 200) -> int:
    """Orders the supplier left unconfirmed past their deadline are cancelled, all released."""
    overdue = _claim(session, Order.status == OrderStatus.SENT, Order.confirm_by < now(), limit=limit)
    for order in overdue:
        orders.cancel_unconfirmed(session, order, "not confirmed by the supplier within 72 hours")
    return len(overdue)


def remind_confirmation(session: Session) -> int:
    soon = now() + timedelta(hours=REMIND_HOURS_BEFORE)
    due = _claim(session, Order.status == OrderStatus.SENT, Order.confirm_reminded.is_(False),
                 Order.confirm_by <= soon)
    for order in due:
        for organisation_id in (order.supplier_id, order.buyer_org_id):
            notify(session, organisation_id, order, "confirm_reminder",
                   deadline=format_local(order.confirm_by))
        order.confirm_reminded = True
    return len(due)


def remind_payment(session: Session) -> int:
    """The unit is reminded a few days before an invoice falls due."""
    soon = now() + timedelta(days=PAY_REMIND_DAYS_BEFORE)
    due = _claim(session, Order.status == OrderStatus.INVOICED, Order.pay_reminded.is_(False),
                 Order.pay_by <= soon)
    for order in due:
        notify(session, order.buyer_org_id, order, "payment_reminder",
               pay_by=format_local(order.pay_by))
        order.pay_reminded = True
    return len(due)


def alert_overdue_payments(session: Session) -> int:
    """Unpaid 30 days after the invoice: the unit and the supervisor are alerted."""
    late = _claim(session, Order.status == OrderStatus.INVOICED, Order.overdue_alerted.is_(False),
                  Order.pay_by < now())
    supervisors = list(session.scalars(select(Organisation.id).where(
        Organisation.kind == OrganisationKind.SUPERVISOR)))
    for order in late:
        for organisation_id in (order.buyer_org_id, *supervisors):
            notify(session, organisation_id, order, "payment_overdue",
                   pay_by=format_local(order.pay_by))
        order.overdue_alerted = True
    return len(late)


@job(id="purchasing.deadlines", seconds=60)
def deadlines(session: Session) -> None:
    cancel_unconfirmed(session)
    remind_confirmation(session)
    remind_payment(session)
    alert_overdue_payments(session)


@job(id="purchasing.notices", seconds=60)
def publish_notices(session: Session) -> None:
    notices.publish_due(session)


@job(id="purchasing.payments", seconds=30)
def reconcile_payments(session: Session) -> None:
    """Card payments whose webhook has not come, and card refunds of returned goods the
    network had not finished: asked at the gateway and applied."""
    settings = StripeSettings.from_config(current_app.config)
    payments.reconcile(session, settings)
    return_refunds.check_pending_refunds(session, settings)


@job(id="purchasing.email", seconds=60)
def email_notifications(session: Session) -> None:
    smtp = current_app.config.get("SMTP_URL")
    if smtp:
        send_pending_email(session, smtp, current_app.config.get("MAIL_FROM", "noreply@mall.example.cn"))
