"""The demo's contract financing: two banks with products, consents of three suppliers, a
loan in every state made through the services (the paid-out one locking the payee account),
a webhook endpoint of the first bank, and seeded once."""

from __future__ import annotations

from sqlalchemy import func, select

from financing import consent, feed
from financing.models import (
    ConsentScope,
    FinanceProduct,
    Loan,
    LoanStatus,
    WebhookDelivery,
    WebhookEndpoint,
)
from mall.accounts.models import Organisation, User
from mall.accounts.services import actor_for
from mall.core.auth import OrganisationKind
from mall.demo.financing import WEBHOOK_URL, seed_financing
from mall.demo.seed import seed_demo
from mall.purchasing.contracts.payee import current_payee
from mall.purchasing.orders.models import Order

PASSWORD = "Demo-Password-1"


def _actor(session, login):
    return actor_for(session.scalars(select(User).where(User.login == login)).one())


def test_the_demo_has_two_banks_consents_and_a_loan_in_every_state(session):
    seed_demo(session, offers=300, seed=12, password=PASSWORD, echo=lambda _m: None)
    bank, bank2 = _actor(session, "bank"), _actor(session, "bank2")
    banks = session.scalars(select(Organisation.id).where(
        Organisation.kind == OrganisationKind.FINANCE_PARTNER)).all()
    assert sorted(banks) == sorted([bank.organisation_id, bank2.organisation_id])
    for actor in (bank, bank2):
        assert session.scalar(select(func.count()).select_from(FinanceProduct).where(
            FinanceProduct.bank_org_id == actor.organisation_id)) == 2

    given = {(c.supplier_id, c.bank_org_id): c for c in session.scalars(select(
        consent.Consent))}
    s1, s2, s3 = (_actor(session, f"supplier{n}") for n in (1, 2, 3))
    assert given[s1.organisation_id, bank.organisation_id].scope is ConsentScope.ALL
    chosen = given[s2.organisation_id, bank.organisation_id]
    assert chosen.scope is ConsentScope.CHOSEN and len(chosen.orders) == 2
    assert given[s3.organisation_id, bank2.organisation_id].scope is ConsentScope.ALL

    found = {loan.status: loan for loan in session.scalars(select(Loan))}
    assert sorted(found) == sorted(LoanStatus)
    paid_out = found[LoanStatus.DISBURSED]
    payee = current_payee(session, session.get_one(Order, paid_out.order_id))
    assert payee.locked_for_financing and payee.account_number == \
        paid_out.repayment_account_number
    for status in (LoanStatus.REPAID, LoanStatus.CLOSED):
        repaid = found[status]
        assert repaid.repaid_fen == repaid.disbursed_fen > 0
        assert not current_payee(session, session.get_one(Order, repaid.order_id)
                                 ).locked_for_financing
    assert found[LoanStatus.REJECTED].supplier_id == s2.organisation_id

    # The bank's feed carries the consenting suppliers' contracts once sequenced; its endpoint
    # gets their events (nothing listens in the demo: the deliveries wait to be retried).
    while feed.sequence_changes(session):
        pass
    page = feed.pull(session, bank, after=0)
    suppliers = {item["contract"]["supplier"]["credit_code"] for item in page.items}
    assert len(suppliers) == 2 and page.items
    (endpoint,) = session.scalars(select(WebhookEndpoint)).all()
    assert endpoint.url == WEBHOOK_URL and endpoint.bank_org_id == bank.organisation_id
    assert session.scalar(select(func.count()).select_from(WebhookDelivery)) > 0

    # Seeded once.
    assert seed_financing(session) == "financing already present"
    assert session.scalar(select(func.count()).select_from(Loan)) == len(LoanStatus)
