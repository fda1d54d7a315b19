"""An operator's refused action is answered with a redirect and a message, and changes
nothing: the request discards its unit of work although its answer is below 400."""

from __future__ import annotations

from sqlalchemy import func, select

from catalog.models import Offer, OfferStatus
from mall.core.audit import AuditEvent
from mall.core.auth import OrganisationKind
from mall.core.outbox import OutboxEvent
from suppliers.models import ListingDecision
from tests.conftest import login, post_form
from tests.factories.accounts import make_member
from tests.factories.suppliers import admitted_supplier
from tests.factories.suppliers import listed_offer as make_offer


def _count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_refused_decision_on_ticked_offers_changes_none_of_them(client, session):
    _user, actor = admitted_supplier(session)
    held = make_offer(session, actor, sku="HELD-1", price_fen=5000, reference=3000)
    listed = make_offer(session, actor, sku="LISTED-1")
    ids = [held.offer_id, listed.offer_id]
    assert session.get(Offer, held.offer_id).status is OfferStatus.PENDING_REVIEW
    before = {"decisions": _count(session, ListingDecision, ListingDecision.offer_id.in_(ids)),
              "events": _count(session, AuditEvent),
              "outbox": _count(session, OutboxEvent)}
    make_member(session, OrganisationKind.OPERATOR, login="centre-refused")
    login(client, "centre-refused")
    before["events"] = _count(session, AuditEvent)  # the login is audited

    # The listed offer cannot be approved, so the held one is not approved either.
    answer = post_form(client, "/admin/reviews", "/admin/offers/decide",
                       {"offer_ids": [str(i) for i in ids], "action": "approve"})

    assert answer.status_code == 302
    session.expire_all()
    assert session.get(Offer, held.offer_id).status is OfferStatus.PENDING_REVIEW
    assert session.get(Offer, listed.offer_id).status is OfferStatus.LISTED
    assert {"decisions": _count(session, ListingDecision, ListingDecision.offer_id.in_(ids)),
            "events": _count(session, AuditEvent),
            "outbox": _count(session, OutboxEvent)} == before
    assert f"for offers [{listed.offer_id}]" in client.get("/admin/reviews").get_data(as_text=True)
