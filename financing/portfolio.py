"""What the financing pages list: a supplier's contracts (to consent and to finance), and a
bank's consenting suppliers with the contracts it may read now, each read logged."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from financing.consent import consents_of, log_reads, readable, require_bank
from financing.loans import FINANCEABLE
from financing.models import Consent
from mall.accounts.models import Organisation
from mall.core.auth import SUPPLIER_STAFF, Actor, OrganisationKind
from mall.core.clock import now
from mall.core.errors import NotFound
from mall.purchasing.contracts.models import Contract
from mall.purchasing.orders.models import Acceptance, Order

MAX_ROWS = 500


@dataclass(frozen=True)
class ContractRow:
    """A contract as the financing pages show it."""

    order_id: int
    order_number: str
    contract_number: str
    supplier_id: int
    buyer_name: str
    total_fen: int
    status: str
    signed_at: datetime | None
    accepted_fen: int | None
    acceptance: str | None  # pass, partial, reject
    accepted_on: date | None
    paid_fen: int
    pay_by: datetime | None
    financeable: bool

    @property
    def value_fen(self) -> int:
        """What a loan is measured against: the accepted value once accepted, else the total."""
        return self.total_fen if self.accepted_fen is None else self.accepted_fen


@dataclass
class ConsentingSupplier:
    """A supplier that consented to the bank, its consents and its readable contracts."""

    supplier_id: int
    name: str
    credit_code: str
    consents: list[Consent] = field(default_factory=list)
    contracts: list[ContractRow] = field(default_factory=list)


def _rows(session: Session, *conditions) -> list[ContractRow]:
    buyer = Organisation.__table__.alias("buyer")
    found = session.execute(
        select(Order, Contract.number, Contract.buyer_signed_at, Contract.created_at,
               buyer.c.name, Acceptance.result, Acceptance.accepted_on)
        .join(Contract, Contract.order_id == Order.id)
        .join(buyer, buyer.c.id == Order.buyer_org_id)
        .outerjoin(Acceptance, Acceptance.order_id == Order.id)
        .where(*conditions).order_by(Order.id.desc()).limit(MAX_ROWS)).all()
    return [ContractRow(order_id=o.id, order_number=o.number, contract_number=number,
                        supplier_id=o.supplier_id, buyer_name=buyer_name,
                        total_fen=o.total_fen, status=o.status.value,
                        signed_at=signed_at or made_at, accepted_fen=o.accepted_fen,
                        acceptance=result.value if result else None, accepted_on=accepted_on,
                        paid_fen=o.paid_fen, pay_by=o.pay_by,
                        financeable=o.status in FINANCEABLE)
            for o, number, signed_at, made_at, buyer_name, result, accepted_on in found]


def supplier_contracts(session: Session, actor: Actor) -> list[ContractRow]:
    """The supplier's contracts and settlement orders, newest first."""
    if actor.organisation_kind is not OrganisationKind.SUPPLIER:
        raise NotFound()
    actor.require_role(*SUPPLIER_STAFF)
    return _rows(session, Order.supplier_id == actor.organisation_id)


def bank_portfolio(session: Session, actor: Actor) -> list[ConsentingSupplier]:
    """The suppliers that consented to the bank (live or not) and the contracts the bank may
    read now; the contracts shown are logged as read through the page."""
    require_bank(actor)
    consents = consents_of(session, actor)
    ids = sorted({c.supplier_id for c in consents})
    if not ids:
        return []
    names = {o.id: o for o in session.scalars(select(Organisation)
                                              .where(Organisation.id.in_(ids)))}
    suppliers = {i: ConsentingSupplier(i, names[i].name, names[i].credit_code or "")
                 for i in ids}
    for consent in consents:
        suppliers[consent.supplier_id].consents.append(consent)
    rows = _rows(session, Order.supplier_id.in_(ids),
                 readable(actor.organisation_id, now(), order_id=Order.id,
                          supplier_id=Order.supplier_id))
    if rows:
        log_reads(session, actor, {(r.order_id, r.supplier_id) for r in rows}, "page")
    for row in rows:
        suppliers[row.supplier_id].contracts.append(row)
    return sorted(suppliers.values(), key=lambda s: s.name)


def supplier_contract(session: Session, actor: Actor, order_id: int) -> ContractRow:
    """One of the supplier's contracts; another's is not found."""
    if actor.organisation_kind is not OrganisationKind.SUPPLIER:
        raise NotFound()
    actor.require_role(*SUPPLIER_STAFF)
    rows = _rows(session, Order.id == order_id, Order.supplier_id == actor.organisation_id)
    if not rows:
        raise NotFound()
    return rows[0]


def finance_partners(session: Session) -> list[tuple[int, str]]:
    """(id, name) of the mall's active finance partners, for the consent form."""
    return [(i, name) for i, name in session.execute(
        select(Organisation.id, Organisation.name)
        .where(Organisation.kind == OrganisationKind.FINANCE_PARTNER,
               Organisation.active.is_(True)).order_by(Organisation.name))]


def organisation_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    return dict(session.execute(select(Organisation.id, Organisation.name)
                                .where(Organisation.id.in_(wanted))).all())


def contract_numbers(session: Session, order_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """Order id -> (order number, contract number), for loans, consents and the access log."""
    wanted = set(order_ids)
    if not wanted:
        return {}
    return {i: (number, contract) for i, number, contract in session.execute(
        select(Order.id, Order.number, Contract.number)
        .join(Contract, Contract.order_id == Order.id).where(Order.id.in_(wanted)))}
