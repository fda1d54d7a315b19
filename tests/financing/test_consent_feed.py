"""Consent and the banks' feed through their services: a consent makes a supplier's contracts
readable (all of them, or the chosen ones) and puts them in the feed; the feed numbers every
change once and in order; revocation and expiry take effect at once; another bank, or a
supplier without consent, gets nothing; every read is logged for the supplier."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from financing import consent, feed
from financing.models import AccessRecord, FeedChange
from mall.core.clock import frozen_clock, local_today, now
from mall.core.errors import NotFound, PermissionDenied, ValidationFailed
from mall.purchasing.contracts.models import Contract
from tests.factories.financing import confirmed_orders, make_bank


def _drain(session) -> None:
    while feed.sequence_changes(session):
        pass


def _numbers(page) -> list[str]:
    return [item["contract"]["contract_number"] for item in page.items]


def _contract_number(session, order) -> str:
    return session.scalar(select(Contract.number).where(Contract.order_id == order.id))


def test_a_consent_to_all_contracts_puts_them_in_the_banks_feed_and_revoking_empties_it(session):
    deal = confirmed_orders(session, count=3)
    bank, other_bank = make_bank(session), make_bank(session)
    _drain(session)
    assert feed.pull(session, bank).items == []  # no consent yet

    granted = consent.grant(session, deal.supplier, bank_org_id=bank.organisation_id,
                            scope="all", expires_on=local_today() + timedelta(days=90))
    _drain(session)
    page = feed.pull(session, bank, after=0)
    wanted = sorted(_contract_number(session, o) for o in deal.orders)
    assert sorted(set(_numbers(page))) == wanted
    seqs = [item["seq"] for item in page.items]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert feed.pull(session, bank, after=page.next_after).items == []  # nothing twice
    assert feed.pull(session, other_bank).items == []

    # Every contract returned is logged for the supplier.
    reads = session.scalars(select(AccessRecord).where(
        AccessRecord.supplier_id == deal.supplier.organisation_id)).all()
    assert {r.order_id for r in reads} == {o.id for o in deal.orders}
    assert {r.bank_org_id for r in reads} == {bank.organisation_id}

    consent.revoke(session, deal.supplier, granted.id)
    assert feed.pull(session, bank, after=0).items == []
    with pytest.raises(NotFound):
        feed.contract(session, bank, number=wanted[0])


def test_a_chosen_consent_covers_its_contracts_only_and_ends_when_it_expires(session):
    deal = confirmed_orders(session, count=2)
    bank = make_bank(session)
    chosen, left_out = deal.orders
    consent.grant(session, deal.supplier, bank_org_id=bank.organisation_id, scope="chosen",
                  order_ids=[chosen.id], expires_on=local_today() + timedelta(days=1))
    _drain(session)
    assert set(_numbers(feed.pull(session, bank))) == {_contract_number(session, chosen)}
    assert feed.contract(session, bank, number=_contract_number(session, chosen))
    with pytest.raises(NotFound):
        feed.contract(session, bank, number=_contract_number(session, left_out))
    with frozen_clock(now() + timedelta(days=3)):
        assert feed.pull(session, bank).items == []


def test_new_steps_of_a_consented_contract_come_after_the_cursor(session):
    deal = confirmed_orders(session, count=1)
    bank = make_bank(session)
    consent.grant(session, deal.supplier, bank_org_id=bank.organisation_id, scope="all",
                  expires_on=local_today() + timedelta(days=30))
    _drain(session)
    first = feed.pull(session, bank)
    assert first.items
    feed.announce(session, [deal.orders[0].id], step="accept")
    _drain(session)
    following = feed.pull(session, bank, after=first.next_after)
    assert [item["step"] for item in following.items] == ["accept"]
    assert following.items[0]["seq"] == first.next_after + 1  # consecutive: no gap
    highest = session.scalar(select(FeedChange.seq).order_by(FeedChange.seq.desc()).limit(1))
    assert following.next_after == highest


def test_lookup_by_credit_code_needs_a_live_consent_and_only_banks_pull(session):
    from mall.accounts.models import Organisation

    deal = confirmed_orders(session, count=1)
    bank = make_bank(session)
    code = session.get_one(Organisation, deal.supplier.organisation_id).credit_code
    with pytest.raises(NotFound):
        feed.supplier_contracts(session, bank, credit_code=code)
    consent.grant(session, deal.supplier, bank_org_id=bank.organisation_id, scope="all",
                  expires_on=local_today() + timedelta(days=30))
    assert len(feed.supplier_contracts(session, bank, credit_code=code)) == 1
    with pytest.raises(PermissionDenied):
        feed.pull(session, deal.supplier)


def test_a_consent_names_a_bank_and_the_suppliers_own_contracts(session):
    deal = confirmed_orders(session, count=1)
    other = confirmed_orders(session, count=1)
    bank = make_bank(session)
    with pytest.raises(ValidationFailed) as refused:
        consent.grant(session, deal.supplier, bank_org_id=deal.unit.organisation.id,
                      scope="chosen", order_ids=[other.orders[0].id],
                      expires_on=local_today() - timedelta(days=1))
    assert set(refused.value.errors) == {"bank_org_id", "order_ids", "expires_on"}
    with pytest.raises(PermissionDenied):
        consent.grant(session, bank, bank_org_id=bank.organisation_id, scope="all",
                      expires_on=local_today())
