"""The audit anchors published to everyone, and the operator's audit page that checks the
chain against them."""

from __future__ import annotations

from mall.core.audit_anchor import publish_anchor
from mall.core.auth import OrganisationKind, Role
from tests.conftest import login
from tests.factories.accounts import make_member
from tests.factories.audit import DAY_ONE, record_sealed, rewrite_entry


def test_anchors_and_the_public_key_are_published_to_everyone(client, session, anchor_keys):
    record_sealed(session, 2)
    anchor = publish_anchor(session, anchor_keys, at=DAY_ONE)
    page = client.get("/audit/anchors")
    assert page.status_code == 200
    assert "2026-03-14" in page.get_data(as_text=True)
    key = client.get("/audit/anchors/public-key.pem")
    assert key.data.startswith(b"-----BEGIN PUBLIC KEY-----")
    with client.get("/audit/anchors/2026-03-14.json") as signed:
        assert signed.status_code == 200 and signed.json["hash"] == anchor.hash
    with client.get("/audit/anchors/2026-03-14.json.sig") as signature:
        assert len(signature.data) == 64
    assert client.get("/audit/anchors/..%2Fkey.pem").status_code == 404


def test_the_operators_audit_page_shows_anchor_status_and_a_rewrite(client, session, anchor_keys):
    user = make_member(session, OrganisationKind.OPERATOR, roles=[Role.OPERATOR],
                       login="audit-op")
    user.preferred_locale = "en"  # the Chinese texts arrive when the catalogue is merged
    session.flush()
    login(client, "audit-op")
    assert "No anchor has been published yet" in client.get("/admin/audit").get_data(as_text=True)
    events = record_sealed(session, 3)
    publish_anchor(session, anchor_keys)
    rewrite_entry(session, events[0], action="order.rejected")
    page = client.get("/admin/audit?verify=1").get_data(as_text=True)
    assert "1 anchors published" in page
    assert "no longer matches the anchor published for" in page
