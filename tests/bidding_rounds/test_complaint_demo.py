"""The demo's complaints: one pending with its round suspended (the winner's contract waits),
one dismissed and published; made through the services, seeded once."""

from __future__ import annotations

from sqlalchemy import select

from bidding_rounds import complaint_reads
from bidding_rounds.complaints import supervisor_ids
from bidding_rounds.holds import suspending_complaint
from bidding_rounds.models import Complaint, ComplaintStatus
from mall.demo.complaints import seed_complaints
from mall.demo.seed import seed_demo
from mall.purchasing.orders.models import Notification


def test_the_demo_has_a_suspending_pending_complaint_and_a_published_dismissal(session):
    seed_demo(session, offers=300, seed=12, password="Demo-Password-1", echo=lambda _m: None)
    found = {c.status: c for c in session.scalars(select(Complaint))}
    assert set(found) == {ComplaintStatus.PENDING, ComplaintStatus.DISMISSED}
    pending = found[ComplaintStatus.PENDING]
    assert pending.suspended
    assert suspending_complaint(session, pending.round_id) is not None
    rows, total = complaint_reads.published_decisions(session)
    assert total == 1 and rows[0].complaint.id == found[ComplaintStatus.DISMISSED].id
    assert session.scalar(select(Notification.id).where(
        Notification.kind == "complaint_filed",
        Notification.organisation_id.in_(supervisor_ids(session)))) is not None
    assert seed_complaints(session) == "complaints already present"
