"""The supervisor's anti-splitting worklist: open alerts first with the unit, project and
category named, the orders behind an alert linked, acknowledge and escalate with a required
note kept in the alert's history and the audit trail; operators read; buyers and suppliers
are refused; bad input gets a message next to the field, never a 500."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from mall.accounts.models import User
from mall.core.audit import AuditEvent
from mall.core.auth import OrganisationKind
from mall.core.clock import now
from supervision.splitting.models import AlertStatus, SplittingAlert
from supervision.splitting.totals import process_changes
from tests.conftest import csrf_from, login, post_form
from tests.factories.splitting import award, make_world, oversight
from tests.factories.suppliers import DESKTOP


def _world_with_alerts(session):
    """Two alerts of one unit: approaching in paper, passed in desktops (acknowledged)."""
    world = make_world(session)
    first = award(session, world, 100_000_000)
    second = award(session, world, 70_000_000)
    award(session, world, 210_000_000, code=DESKTOP)
    session.flush()
    process_changes(session, moment=now() + timedelta(minutes=1))
    alerts = {a.category_code: a for a in session.scalars(select(SplittingAlert).where(
        SplittingAlert.organisation_id == world.unit.organisation.id))}
    return world, alerts, (first, second)


def test_the_supervisor_sees_open_alerts_first_with_names_and_the_orders_behind(client, session):
    world, alerts, (first, second) = _world_with_alerts(session)
    oversight(session, OrganisationKind.SUPERVISOR, "split-page-sup")
    alerts[DESKTOP].status = AlertStatus.ACKNOWLEDGED
    session.flush()
    login(client, "split-page-sup")
    page = client.get("/supervision/splitting-alerts").get_data(as_text=True)
    table = page[page.index('id="splitting-alerts"'):]
    assert table.index(f'data-alert-id="{alerts["A05040101"].id}"') < table.index(
        f'data-alert-id="{alerts[DESKTOP].id}"')
    assert world.unit.organisation.name in page and "办公设备购置" in page
    assert "Approaching the threshold" in page and "Above the threshold" in page
    assert "¥1,700,000.00" in page and "¥2,000,000.00" in page
    row = table[table.index(f'data-alert-id="{alerts["A05040101"].id}"'):]
    row = row[:row.index("</tr>")]
    assert first.number in row and second.number in row and "¥700,000.00" in row
    detail = client.get(f"/supervision/splitting-alerts/{alerts['A05040101'].id}")
    text = detail.get_data(as_text=True)
    assert detail.status_code == 200
    for order in (first, second):
        assert f'/purchasing/orders/{order.id}"' in text or f"/orders/{order.id}\"" in text
        assert order.number in text
    assert "Mall quick bidding" in text and "¥1,000,000.00" in text and "¥700,000.00" in text


def test_acknowledge_and_escalate_need_a_note_and_are_kept_in_the_history(client, session):
    _world, alerts, _orders = _world_with_alerts(session)
    oversight(session, OrganisationKind.SUPERVISOR, "split-act-sup")
    login(client, "split-act-sup")
    alert = alerts["A05040101"]
    url = f"/supervision/splitting-alerts/{alert.id}"
    empty = post_form(client, url, url, {"action": "acknowledged", "note": "   "})
    assert empty.status_code == 422
    assert 'id="note-error"' in empty.get_data(as_text=True)
    long = post_form(client, url, url, {"action": "escalated", "note": "x" * 1001})
    assert long.status_code == 422 and "x" * 1001 in long.get_data(as_text=True)
    bad = post_form(client, url, url, {"action": "delete", "note": "test"})
    assert bad.status_code == 422
    done = post_form(client, url, url, {"action": "acknowledged", "note": "预算项目分期执行，已核实"})
    assert done.status_code == 302
    again = post_form(client, url, url, {"action": "acknowledged", "note": "again"})
    assert again.status_code == 302
    assert "no longer open" in client.get(url).get_data(as_text=True)
    post_form(client, url, url, {"action": "escalated", "note": "移交监督检查处"})
    page = client.get(url).get_data(as_text=True)
    history = page[page.index('id="alert-history"'):]
    assert "预算项目分期执行，已核实" in history and "移交监督检查处" in history
    assert history.index("Acknowledged") < history.index("Escalated")
    session.expire_all()
    assert session.get(SplittingAlert, alert.id).status is AlertStatus.ESCALATED
    audited = session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "splitting_alert", AuditEvent.object_id == str(alert.id))
        .order_by(AuditEvent.id)).all()
    assert audited == ["splitting_alert.raised", "splitting_alert.acknowledged",
                       "splitting_alert.escalated"]


def _logout(client) -> None:
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})


def test_operators_read_but_do_not_act_and_units_and_suppliers_are_refused(client, session):
    world, alerts, _orders = _world_with_alerts(session)
    supplier = session.get_one(User, world.supplier.user_id)
    oversight(session, OrganisationKind.OPERATOR, "split-op")
    alert = alerts[DESKTOP]
    url = f"/supervision/splitting-alerts/{alert.id}"
    login(client, "split-op")
    page = client.get(url)
    assert page.status_code == 200 and "Acknowledge" not in page.get_data(as_text=True)
    refused = post_form(client, url, url, {"action": "acknowledged", "note": "operator"})
    assert refused.status_code == 403
    _logout(client)
    for login_name in (world.unit.buyer_user.login, supplier.login):
        login(client, login_name)
        assert client.get("/supervision/splitting-alerts").status_code == 403
        assert client.get(url).status_code == 403
        assert post_form(client, "/", url, {"action": "acknowledged", "note": "x"}
                         ).status_code == 403
        _logout(client)
    session.expire_all()
    assert session.get(SplittingAlert, alert.id).status is AlertStatus.OPEN


def test_missing_alerts_and_bad_page_values_never_give_a_500(client, session):
    oversight(session, OrganisationKind.SUPERVISOR, "split-bad-sup")
    login(client, "split-bad-sup")
    assert client.get("/supervision/splitting-alerts/999999").status_code == 404
    assert client.get("/supervision/splitting-alerts/" + "9" * 30).status_code == 404
    assert client.get("/supervision/splitting-alerts?page=x&status=nonsense").status_code == 200
    url = "/supervision/splitting-alerts"
    for typed in ("0", "101", "八十", "9" * 30):
        answer = post_form(client, url, url, {"warn_pct": typed})
        assert answer.status_code == 422, typed
        text = answer.get_data(as_text=True)
        assert 'id="warn_pct-error"' in text and f'value="{typed}"' in text
    assert post_form(client, url, url, {"warn_pct": "75"}).status_code == 302
    assert 'value="75"' in client.get(url).get_data(as_text=True)
