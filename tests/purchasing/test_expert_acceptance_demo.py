"""The demo's expert acceptance: eight experts with the demo password, two tied to demo
parties and never drawn, one order drawn from its seed with one review signed."""

from __future__ import annotations

from sqlalchemy import select

from mall.accounts import services as accounts
from mall.accounts.models import User
from mall.demo.experts import SEED, seed_experts
from mall.demo.seed import seed_demo
from mall.purchasing.experts import services as experts
from mall.purchasing.experts.models import ExpertDraw, ExpertProfile
from mall.purchasing.orders.models import Order, OrderStatus

PASSWORD = "Demo-Password-1"


def test_the_demo_pool_draws_an_order_and_waits_for_two_reviews(session):
    seed_demo(session, offers=300, seed=12, password=PASSWORD, echo=lambda _m: None)
    profiles = {session.get_one(User, p.user_id).login: p
                for p in session.scalars(select(ExpertProfile))}
    assert sorted(profiles) == [f"expert{n}" for n in range(1, 9)]
    user = accounts.authenticate(session, login="expert1", password=PASSWORD, ip_address=None)
    assert user.login == "expert1"
    (draw,) = session.scalars(select(ExpertDraw)).all()
    assert draw.seed == SEED and experts.reproduce(draw).matches
    tied = {profiles["expert2"].id, profiles["expert5"].id}
    assert tied == {e["expert_id"] for e in draw.excluded} and not tied & set(draw.chosen_ids)
    assert [r.signed_at is not None for r in draw.reviews] == [True, False, False]
    assert session.get_one(Order, draw.order_id).status is OrderStatus.DELIVERED
    assert seed_experts(session) == "experts already present"
