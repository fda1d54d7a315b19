"""A supplier's consent that a bank read its contracts (all of them, or chosen ones), with an
expiry; revoked at once. Every bank read goes through ``readable`` (the one rule) and is
logged, and the supplier sees who read which contract, when."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session

from financing.models import AccessRecord, Consent, ConsentOrder, ConsentScope
from mall.accounts.models import Organisation
from mall.core.audit import record_event
from mall.core.auth import Actor, OrganisationKind, Role
from mall.core.bulk import insert as bulk_insert
from mall.core.clock import SHANGHAI, local_today, now
from mall.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from mall.i18n_messages import N_
from mall.purchasing.contracts.models import Contract
from mall.purchasing.orders.models import Order
from mall.purchasing.orders.notifications import MESSAGES, notify

MAX_CONSENT_DAYS = 3 * 366  # a consent runs at most three years

CONSENT_MESSAGES = {
    "consent_granted": N_("%(supplier)s let your bank read all its contracts until %(until)s."),
    "consent_granted_chosen": N_("%(supplier)s let your bank read %(count)s of its contracts "
                                 "until %(until)s."),
    "consent_revoked": N_("%(supplier)s revoked your bank's access to its contracts."),
}
MESSAGES.update(CONSENT_MESSAGES)


def require_supplier_admin(actor: Actor) -> None:
    if actor.organisation_kind is not OrganisationKind.SUPPLIER:
        raise PermissionDenied(N_("Only suppliers grant banks access to their contracts."),
                               code="role_required")
    actor.require_role(Role.SUPPLIER_ADMIN)


def require_bank(actor: Actor) -> None:
    if actor.organisation_kind is not OrganisationKind.FINANCE_PARTNER:
        raise PermissionDenied(N_("Only finance partners use this."), code="role_required")
    actor.require_role(Role.BANK_USER)


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=SHANGHAI)


def grant(session: Session, actor: Actor, *, bank_org_id: int, scope: str,
          order_ids: Sequence[int] = (), expires_on: date) -> Consent:
    """The supplier lets a bank read all its contracts, or the chosen ones, until the end of
    ``expires_on``; the bank's feed then carries the contracts already signed."""
    require_supplier_admin(actor)
    errors: dict[str, list[str]] = {}
    bank = session.get(Organisation, bank_org_id) if isinstance(bank_org_id, int) else None
    if bank is None or bank.kind is not OrganisationKind.FINANCE_PARTNER or not bank.active:
        errors["bank_org_id"] = [N_("Choose one of the mall's finance partners.")]
    try:
        chosen = ConsentScope(scope)
    except ValueError:
        errors["scope"] = [N_("Choose all contracts or the chosen ones.")]
        chosen = ConsentScope.CHOSEN
    today = local_today()
    if not isinstance(expires_on, date) or not today <= expires_on <= today + timedelta(
            days=MAX_CONSENT_DAYS):
        errors["expires_on"] = [N_("Choose an end date from today up to three years ahead.")]
    ids = sorted(set(order_ids))
    if chosen is ConsentScope.CHOSEN:
        own = set(session.scalars(select(Contract.order_id).join(Order, Order.id
                                                                 == Contract.order_id)
                                  .where(Order.supplier_id == actor.organisation_id,
                                         Contract.order_id.in_(ids)))) if ids else set()
        if not ids:
            errors["order_ids"] = [N_("Choose at least one of your contracts.")]
        elif set(ids) - own:
            errors["order_ids"] = [N_("Choose contracts of your company only.")]
    elif ids:
        errors["order_ids"] = [N_("A consent to all contracts lists none.")]
    if errors or bank is None:
        raise ValidationFailed(errors=errors)
    moment = now()
    consent = Consent(supplier_id=actor.organisation_id, bank_org_id=bank.id, scope=chosen,
                      granted_by_id=actor.user_id, granted_at=moment,
                      expires_at=_end_of(expires_on))
    consent.orders = [ConsentOrder(order_id=i) for i in ids]
    session.add(consent)
    session.flush()
    supplier = session.get_one(Organisation, actor.organisation_id)
    record_event(session, action="consent.granted", object_type="finance_consent",
                 object_id=consent.id, actor=actor,
                 data={"bank_org_id": bank.id, "scope": chosen.value, "orders": ids,
                       "expires_on": expires_on.isoformat()})
    if chosen is ConsentScope.ALL:
        notify(session, bank.id, None, "consent_granted", supplier=supplier.name,
               until=expires_on.isoformat())
    else:
        notify(session, bank.id, None, "consent_granted_chosen", supplier=supplier.name,
               count=len(ids), until=expires_on.isoformat())
    from financing.feed import announce  # the feed sits above consent

    announce(session, covered_orders(session, consent), step="consented")
    return consent


def revoke(session: Session, actor: Actor, consent_id: int) -> Consent:
    """Revoke at once: the bank's next read finds none of the contracts the consent covered."""
    require_supplier_admin(actor)
    consent = session.get(Consent, consent_id)
    if consent is None or consent.supplier_id != actor.organisation_id:
        raise NotFound()
    if consent.revoked_at is not None:
        raise Conflict(N_("This consent is already revoked."), code="consent_revoked")
    consent.revoked_at, consent.revoked_by_id = now(), actor.user_id
    session.flush()  # the next read in this transaction finds it revoked
    supplier = session.get_one(Organisation, actor.organisation_id)
    record_event(session, action="consent.revoked", object_type="finance_consent",
                 object_id=consent.id, actor=actor, data={"bank_org_id": consent.bank_org_id})
    notify(session, consent.bank_org_id, None, "consent_revoked", supplier=supplier.name)
    return consent


def covered_orders(session: Session, consent: Consent) -> list[int]:
    """The contracts (orders with a contract or settlement order) a consent covers now."""
    if consent.scope is ConsentScope.CHOSEN:
        return sorted(o.order_id for o in consent.orders)
    return list(session.scalars(select(Contract.order_id).join(Order, Order.id
                                                               == Contract.order_id)
                                .where(Order.supplier_id == consent.supplier_id)
                                .order_by(Contract.order_id)))


def readable(bank_org_id: Any, moment: datetime, *, order_id: Any,
             supplier_id: Any) -> ColumnElement[bool]:
    """The condition that a bank may read an order's contract now: a live consent of the
    order's supplier to this bank, for all its contracts or for this one. ``order_id`` and
    ``supplier_id`` (and ``bank_org_id``, an id or a column) are columns of the query the
    condition goes into; both subqueries correlate to it (SQLAlchemy correlates only to the
    immediately enclosing query by itself, so the inner one would otherwise take the order's
    table into its own FROM and match any order)."""
    chosen = (exists().where(ConsentOrder.consent_id == Consent.id,
                             ConsentOrder.order_id == order_id)
              .correlate_except(ConsentOrder))
    return exists().where(
        Consent.bank_org_id == bank_org_id, Consent.supplier_id == supplier_id,
        Consent.revoked_at.is_(None), Consent.expires_at > moment,
        or_(Consent.scope == ConsentScope.ALL,
            and_(Consent.scope == ConsentScope.CHOSEN, chosen))).correlate_except(Consent)


def log_reads(session: Session, actor: Actor, rows: Iterable[tuple[int, int]], via: str) -> None:
    """Record the bank's reads of (order id, supplier id) pairs, in one statement."""
    moment = now()
    bulk_insert(session, AccessRecord, [
        {"bank_org_id": actor.organisation_id, "supplier_id": supplier_id,
         "order_id": order_id, "user_id": actor.user_id if actor.token_id is None else None,
         "token_id": actor.token_id, "via": via, "at": moment}
        for order_id, supplier_id in rows])


def consents_of(session: Session, actor: Actor) -> list[Consent]:
    """A supplier's consents (newest first), or those a bank received."""
    column = (Consent.bank_org_id if actor.organisation_kind is OrganisationKind.FINANCE_PARTNER
              else Consent.supplier_id)
    return list(session.scalars(select(Consent).where(column == actor.organisation_id)
                                .order_by(Consent.id.desc())))


def access_log(session: Session, actor: Actor, *, limit: int = 500) -> list[AccessRecord]:
    """Who read which of the supplier's contracts, when (newest first)."""
    require_supplier_admin_or_staff(actor)
    return list(session.scalars(select(AccessRecord)
                                .where(AccessRecord.supplier_id == actor.organisation_id)
                                .order_by(AccessRecord.id.desc()).limit(limit)))


def require_supplier_admin_or_staff(actor: Actor) -> None:
    if actor.organisation_kind is not OrganisationKind.SUPPLIER:
        raise NotFound()
    actor.require_role(Role.SUPPLIER_ADMIN, Role.SUPPLIER_OPERATOR)
