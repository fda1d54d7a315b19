"""In-app notifications to an organisation's people, and e-mail when SMTP_URL is set."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from mall.accounts.models import User
from mall.core.auth import Actor
from mall.core.clock import now
from mall.core.db import claiming
from mall.core.money import format_fen
from mall.i18n_messages import N_
from mall.purchasing.orders.models import Notification, Order
from suppliers.frameworks import offers_held_above_ceiling

log = logging.getLogger(__name__)

# Notification kinds and their message (msgid, formatted with the order's number).
MESSAGES = {
    "order_received": N_("New order %(number)s: confirm it within 72 hours."),
    "approval_needed": N_("Order %(number)s waits for internal approval."),
    "order_approved": N_("Order %(number)s was approved and sent to the supplier."),
    "order_returned": N_("Order %(number)s was returned by the approver: %(reason)s"),
    "order_confirmed": N_("Order %(number)s was confirmed; sign its contract."),
    "order_cancelled": N_("Order %(number)s was cancelled: %(reason)s"),
    "contract_to_sign": N_("The supplier signed the contract of order %(number)s; sign it too."),
    "contract_signed": N_("The contract of order %(number)s is signed; ship the goods."),
    "settlement_issued": N_("Order %(number)s was confirmed and settled by settlement order "
                            "%(document)s instead of a contract; nothing to sign."),
    "settlement_to_ship": N_("Settlement order %(document)s of order %(number)s was issued; "
                             "ship the goods."),
    "order_shipped": N_("Order %(number)s was shipped (%(carrier)s %(tracking)s)."),
    "order_delivered": N_("Order %(number)s was received; record the acceptance."),
    "order_accepted": N_("Order %(number)s was accepted (%(result)s); send the invoice."),
    "order_invoiced": N_("Invoice %(invoice)s for order %(number)s: pay by %(pay_by)s."),
    "order_paid": N_("Order %(number)s was paid."),
    "order_returned_goods": N_("Order %(number)s was returned: %(reason)s"),
    "confirm_reminder": N_("Order %(number)s must be confirmed by %(deadline)s or it is cancelled."),
    "payment_reminder": N_("Order %(number)s is due for payment by %(pay_by)s."),
    "payment_overdue": N_("Payment of order %(number)s is overdue (due %(pay_by)s)."),
    "order_rated": N_("Order %(number)s was rated."),
    "payment_unexpected": N_("%(amount)s arrived for order %(number)s, which was not waiting for "
                             "it; the supplier must refund it."),
    "return_requested": N_("The unit asks to return goods of order %(number)s worth %(amount)s "
                           "(%(reason)s): agree or refuse."),
    "return_agreed": N_("The supplier agreed to the return of goods of order %(number)s; send "
                        "them back."),
    "return_refused": N_("The supplier refused the return of goods of order %(number)s: "
                         "%(reason)s. You may ask the operator to decide."),
    "return_disputed": N_("A return of goods of order %(number)s is disputed (%(reason)s): "
                          "decide it."),
    "return_dispute_agreed": N_("The operator decided that the goods of order %(number)s go "
                                "back: %(note)s"),
    "return_dispute_rejected": N_("The operator decided that the goods of order %(number)s are "
                                  "not returned: %(note)s"),
    "return_shipped": N_("The returned goods of order %(number)s were sent back (%(carrier)s "
                         "%(tracking)s); confirm when they arrive."),
    "return_refund_due": N_("The supplier received the returned goods of order %(number)s and "
                            "owes %(amount)s back; record its refund when the money arrives."),
    "return_refund_owed": N_("Refund %(amount)s for the returned goods of order %(number)s to "
                             "the unit's account."),
    "return_refund_failed": N_("The card refund of %(amount)s for order %(number)s failed; try "
                               "it again."),
    "return_refunded": N_("%(amount)s was refunded for the returned goods of order %(number)s."),
    "return_completed": N_("The returned goods of order %(number)s arrived; %(amount)s less is "
                           "due."),
    "payee_locked": N_("The payee account of contract %(contract)s (order %(number)s) is locked "
                       "to the repayment account of %(lender)s: %(bank)s %(account)s. Payments "
                       "go to this account only."),
    "payee_released": N_("%(lender)s released the payee account of contract %(contract)s (order "
                         "%(number)s): payments go to %(bank)s %(account)s again."),
    "offers_above_ceiling": N_("Framework agreement %(agreement)s sets a ceiling price of %(cap)s "
                               "for %(product)s: %(count)s of your offers above it were taken "
                               "off sale for review. Lower the price to the ceiling or below."),
}


def notify(session: Session, organisation_id: int, order: Order | None, kind: str,
           **params) -> Notification:
    """Tell an organisation about a step; shown in its inbox, e-mailed by a job."""
    if kind not in MESSAGES:
        raise ValueError(f"unknown notification kind {kind}")
    params = {"number": order.number if order else "", **{k: str(v) for k, v in params.items()}}
    note = Notification(organisation_id=organisation_id, order_id=order.id if order else None,
                        kind=kind, message=MESSAGES[kind], params=params, created_at=now())
    session.add(note)
    return note


def inbox(session: Session, actor: Actor, *, limit: int = 50) -> list[Notification]:
    return list(session.scalars(select(Notification).where(
        Notification.organisation_id == actor.organisation_id)
        .order_by(Notification.id.desc()).limit(limit)))


def unread_count(session: Session, actor: Actor) -> int:
    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.organisation_id == actor.organisation_id,
        Notification.read_at.is_(None))) or 0


def mark_read(session: Session, actor: Actor) -> None:
    session.execute(update(Notification).where(
        Notification.organisation_id == actor.organisation_id, Notification.read_at.is_(None))
        .values(read_at=now()))


def _in_default_language(note: Notification) -> str:
    """The message in the mall's default language (Chinese), as the inbox shows it."""
    from flask import current_app
    from flask_babel import force_locale, gettext

    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return gettext(note.message, **note.params)


def send_pending_email(session: Session, smtp_url: str, sender: str, *, limit: int = 200) -> int:
    """E-mail notifications not yet sent to the people of their organisation."""
    pending = list(session.scalars(claiming(
        select(Notification).where(Notification.emailed_at.is_(None))
        .order_by(Notification.id).limit(limit), session)))
    if not pending or not smtp_url:
        return 0
    parts = urlsplit(smtp_url)
    client_class = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    with client_class(parts.hostname or "127.0.0.1", parts.port or 25, timeout=10) as client:
        if parts.username:
            client.login(parts.username, parts.password or "")
        for note in pending:
            recipients = [email for email in session.scalars(select(User.email).where(
                User.organisation_id == note.organisation_id, User.active.is_(True),
                User.email.is_not(None))) if email is not None]
            if recipients:
                message = EmailMessage()
                message["From"], message["To"] = sender, ", ".join(recipients)
                message["Subject"] = "政府采购电子卖场 / Government online mall"
                message.set_content(f"{_in_default_language(note)}\n\n{note.message % note.params}")
                try:
                    client.send_message(message)
                except smtplib.SMTPException:  # this one is tried again on the next run
                    log.exception("e-mail of notification %s failed", note.id)
                    continue
            note.emailed_at = now()
    return len(pending)


@offers_held_above_ceiling.connect
def _tell_supplier_of_held_offers(_sender, *, session: Session, supplier_id: int,
                                  product_title: str, agreement_number: str, cap_fen: int,
                                  count: int) -> None:
    """Listed offers above a framework ceiling were held for review: tell their supplier."""
    notify(session, supplier_id, None, "offers_above_ceiling", agreement=agreement_number,
           cap=format_fen(cap_fen), product=product_title, count=count)
