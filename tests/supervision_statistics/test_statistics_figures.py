"""The statistics' figures from the job's facts: savings rate and SME share of a seeded set
worked out by hand, the filters, lead times and overdue payments, a new order picked up by
the next run of the job (and not before), bad filters and who may read."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mall.accounts.services import actor_for
from mall.core.auth import OrganisationKind
from mall.core.errors import PermissionDenied, ValidationFailed
from supervision.statistics import aggregates, services
from supervision.statistics.jobs import refresh_statistics
from tests.factories.accounts import make_member
from tests.supervision_statistics.statistics_mall import buy

# (amount, budget, SME, local) of each deal in March and Q1, as the fixture makes them.
MARCH_DEALS = [(29_900, 32_900, True, True), (20_000, 24_000, False, True),
               (14_950, 16_450, True, False), (700_000, 1_000_000, True, True)]


def supervisor(session):
    return actor_for(make_member(session, OrganisationKind.SUPERVISOR))


def by_hand(deals):
    amount = sum(d[0] for d in deals)
    budget = sum(d[1] for d in deals)
    sme_amount = sum(d[0] for d in deals if d[2])
    return {"deals": len(deals), "amount_fen": amount, "budget_fen": budget,
            "savings_rate_pct": round(100 * (budget - amount) / budget, 2),
            "sme_share_count_pct": round(100 * sum(d[2] for d in deals) / len(deals), 2),
            "sme_share_amount_pct": round(100 * sme_amount / amount, 2),
            "local_share_count_pct": round(100 * sum(d[3] for d in deals) / len(deals), 2)}


def totals_of(figures) -> dict:
    t = figures.totals
    return {name: getattr(t, name) for name in by_hand(MARCH_DEALS)}


def test_savings_rate_and_sme_share_equal_the_hand_worked_figures(session, mall):
    figures = services.figures(session, supervisor(session), {"quarter": "2026-Q1"})
    assert totals_of(figures) == by_hand(MARCH_DEALS)
    assert figures.totals.savings_rate_pct == 28.74  # (1,073,350 - 764,850) / 1,073,350
    assert [p.month for p in figures.trend] == ["2026-01", "2026-02", "2026-03"]
    assert [p.deals for p in figures.trend] == [0, 0, 4]
    direct, quick, framework = figures.by_mode
    assert (direct.mode, direct.deals, direct.amount_fen, direct.budget_fen) == (
        "direct", 3, 64_850, 73_350)
    assert (quick.deals, quick.amount_fen, quick.budget_fen) == (1, 700_000, 1_000_000)
    assert framework.deals == 0 and framework.savings_rate_pct is None
    assert [s.id for s in figures.top_suppliers] == [mall.sme.id, mall.large.id]
    assert figures.top_suppliers[0].sme and not figures.top_suppliers[1].sme
    assert [c.code for c in figures.top_categories] == ["A05040000"]  # 纸制文具 under A0504
    rounds = figures.rounds
    assert (rounds.rounds, rounds.failed, rounds.failure_rate_pct) == (2, 1, 50.0)
    assert (rounds.quotes, rounds.avg_quotes) == (4, 2.0)
    assert (rounds.challenges, rounds.challenge_rate_pct) == (1, 50.0)
    assert rounds.complaints == 0 and rounds.complaint_rate_pct == 0.0


def test_filters_by_region_quarter_unit_and_mode(session, mall):
    actor = supervisor(session)
    beijing = services.figures(session, actor, {"quarter": "2026-Q1", "region": "110000"})
    assert totals_of(beijing) == by_hand([MARCH_DEALS[2]])
    assert beijing.rounds.rounds == 0
    hunan_city = services.figures(session, actor, {"quarter": "2026-Q1", "region": "430100"})
    assert hunan_city.totals.deals == 3 and hunan_city.rounds.rounds == 2
    unit = services.figures(session, actor, {"quarter": "2026-Q1",
                                             "unit_id": mall.beijing.organisation.id})
    assert unit.totals.amount_fen == 14_950
    quick = services.figures(session, actor, {"quarter": "2026-Q1", "mode": "quick"})
    assert totals_of(quick) == by_hand([MARCH_DEALS[3]])
    assert [m.mode for m in quick.by_mode] == ["quick"]
    second = services.figures(session, actor, {"quarter": "2026-Q2"})
    assert (second.totals.deals, second.totals.amount_fen, second.totals.budget_fen) == (
        1, 10_000, 12_000)
    assert second.rounds.rounds == 0
    year = services.figures(session, actor, {"from_month": "2026-01", "to_month": "2026-12"})
    assert year.totals.deals == 5 and len(year.trend) == 12
    supplier = services.figures(session, actor, {"quarter": "2026-Q1",
                                                 "supplier_id": mall.large.id})
    assert supplier.totals.amount_fen == 20_000 and supplier.rounds is None
    category = services.figures(session, actor, {"quarter": "2026-Q1", "category": "A05000000"})
    assert category.totals.deals == 4
    other = services.figures(session, actor, {"quarter": "2026-Q1", "category": "A02000000"})
    assert other.totals.deals == 0 and other.totals.savings_rate_pct is None


def test_lead_times_and_overdue_payments_come_from_the_orders_steps(session, mall):
    from mall.purchasing.orders.jobs import alert_overdue_payments
    from mall.purchasing.orders.models import Order, OrderStatus, OrderStep

    mall.clock[0] += timedelta(hours=1)  # after the fixture's counting, in April
    order = session.get_one(Order, mall.deals[0].id)
    submitted = order.submitted_at
    order.steps.append(OrderStep(status=OrderStatus.DELIVERED.value,
                                 at=submitted + timedelta(days=3)))
    order.status, order.pay_by = OrderStatus.INVOICED, mall.clock[0] - timedelta(minutes=1)
    session.flush()
    assert alert_overdue_payments(session) == 1
    aggregates.refresh(session)
    figures = services.figures(session, supervisor(session), {"from_month": "2026-03",
                                                              "to_month": "2026-03"})
    assert figures.totals.avg_delivery_days == 3.0 and figures.totals.delivered == 1
    assert figures.totals.overdue == 1 and figures.totals.overdue_pct == 25.0
    assert figures.totals.avg_payment_days is None


def test_a_new_order_counts_after_the_job_runs_and_only_its_month_is_recounted(session, mall):
    actor = supervisor(session)
    before = services.figures(session, actor, {"quarter": "2026-Q2"}).totals
    mall.clock[0] += timedelta(hours=1)
    buy(session, mall, mall.beijing, mall.sme_offer, 3, mall.sme.actor)  # 8,970 of 9,870
    assert services.figures(session, actor, {"quarter": "2026-Q2"}).totals == before
    mall.clock[0] += timedelta(minutes=5)
    refresh_statistics(session)
    after = services.figures(session, actor, {"quarter": "2026-Q2"}).totals
    assert (after.deals, after.amount_fen, after.budget_fen) == (
        before.deals + 1, before.amount_fen + 8_970, before.budget_fen + 9_870)
    assert after.local_deals == before.local_deals  # Beijing unit, Hunan supplier
    mall.clock[0] += timedelta(hours=1)
    # The next run reads again what changed within its margin before the last one ...
    assert aggregates.refresh(session).months == [202604]
    mall.clock[0] += timedelta(hours=1)
    assert aggregates.refresh(session).months == []  # ... then nothing changed since
    first = services.figures(session, actor, {"quarter": "2026-Q1"}).totals
    assert first.deals == 4


@pytest.mark.parametrize(("data", "field"), [
    ({"from_month": "2026-13"}, "from_month"),
    ({"to_month": "March"}, "to_month"),
    ({"from_month": "2026-05", "to_month": "2026-04"}, "to_month"),
    ({"quarter": "2026-Q5"}, "quarter"),
    ({"quarter": "2026-Q1", "from_month": "2026-01"}, "quarter"),
    ({"region": "43"}, "region"),
    ({"unit_id": "abc"}, "unit_id"),
    ({"unit_id": "0"}, "unit_id"),
    ({"unit_id": "99999999999"}, "unit_id"),
    ({"category": "A05040101"}, "category"),  # a leaf: facts are kept by level 2
    ({"category": "A99000000"}, "category"),
    ({"category": "=1+1"}, "category"),
    ({"supplier_id": "1.5"}, "supplier_id"),
    ({"mode": "tender"}, "mode"),
])
def test_bad_filters_are_refused_by_name(session, mall, data, field):
    with pytest.raises(ValidationFailed) as refused:
        services.figures(session, supervisor(session), data)
    assert field in refused.value.errors


def test_a_unit_or_supplier_id_of_another_kind_is_refused(session, mall):
    actor = supervisor(session)
    with pytest.raises(ValidationFailed) as refused:
        services.figures(session, actor, {"unit_id": str(mall.sme.id),
                                          "supplier_id": str(mall.hunan.organisation.id)})
    assert set(refused.value.errors) == {"unit_id", "supplier_id"}


def test_only_operators_and_supervisors_read_the_statistics(session, mall):
    operator = actor_for(make_member(session, OrganisationKind.OPERATOR))
    assert services.figures(session, operator, {"quarter": "2026-Q1"}).totals.deals == 4
    for actor in (mall.hunan.buyer, mall.sme.actor):
        with pytest.raises(PermissionDenied):
            services.figures(session, actor, {})


def test_the_roll_ups_hold_the_same_sums_as_the_detailed_facts(session, mall):
    from sqlalchemy import func, select

    from supervision.statistics.models import CategoryFact, OrderFact, SupplierFact

    def sums(model):
        return session.execute(select(model.month, func.sum(model.deals),
                                      func.sum(model.amount_fen), func.sum(model.budget_fen),
                                      func.sum(model.sme_amount_fen))
                               .group_by(model.month).order_by(model.month)).all()

    assert sums(OrderFact) == sums(CategoryFact) == sums(SupplierFact)
    assert [tuple(row) for row in sums(OrderFact)] == [
        (202603, 4, 764_850, 1_073_350, 744_850), (202604, 1, 10_000, 12_000, 0)]
    actor = supervisor(session)  # a unit's filter reads the detailed facts, the same figures
    hunan = services.figures(session, actor, {"quarter": "2026-Q1",
                                              "unit_id": mall.hunan.organisation.id})
    region = services.figures(session, actor, {"quarter": "2026-Q1", "region": "430100"})
    assert hunan.totals == region.totals
    assert [s.amount_fen for s in hunan.top_suppliers] == [
        s.amount_fen for s in region.top_suppliers]
