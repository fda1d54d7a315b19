"""The audit viewer searched: by person, organisation, object (id or number), event and local
dates, 50 a page newest first, with names instead of ids and every event in words; the export
of a filtered slice checked outside the mall by scripts/verify_audit_export.py, which catches
a tampered entry; operators and supervisors only; bad filters get a message by the field."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from bidding_rounds.models import AwardOutcome
from financing.models import LoanStatus
from mall.accounts.services import actor_for
from mall.core.audit import AuditEvent, record_event, seal_pending
from mall.core.audit_anchor import publish_anchor
from mall.core.audit_labels import ACTION_LABELS, OBJECT_LABELS
from mall.core.auth import OrganisationKind, Role
from mall.purchasing.orders.models import OrderStatus
from suppliers.models import ApplicationStatus
from tests.conftest import csrf_from, login
from tests.factories.accounts import make_organisation, make_user
from tests.factories.splitting import buy, make_world

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "verify_audit_export.py"
RETURN_KINDS = ["return_requested", "return_agreed", "return_refused", "return_disputed",
                "return_dispute_agreed", "return_dispute_rejected", "return_shipped",
                "return_received", "return_refund_pending", "return_refund_failed",
                "return_refunded", "return_completed"]
# record_event calls whose action is computed: (file, expression) -> every value it takes.
DYNAMIC_SITES = {
    ("bidding_rounds/awards.py", "f'round.award_{outcome.value}'"):
        [f"round.award_{o.value}" for o in AwardOutcome],
    ("bidding_rounds/challenge_reminders.py", "PERIOD_REMINDED"):
        ["round.challenge_period_reminded"],
    ("bidding_rounds/challenges.py", "f'round.challenge_{decision}'"):
        ["round.challenge_upheld", "round.challenge_dismissed"],
    ("bidding_rounds/complaints.py", "f'round.complaint_{decision}'"):
        ["round.complaint_upheld", "round.complaint_dismissed"],
    ("catalog/services.py", "action"):
        ["category.enabled", "category.disabled", "category.centrally_procured",
         "category.not_centrally_procured"],
    ("financing/loans.py", "f'loan.{kind}'"):
        [f"loan.{s.value}" for s in LoanStatus] + ["loan.repayment", "loan.released"],
    ("mall/purchasing/budget/services.py", "action"):
        ["purchase_settlement.set", "purchase_split_window.set"],
    ("mall/purchasing/contracts/payee.py", "f'contract.{kind}'"):
        ["contract.payee_locked", "contract.payee_released"],
    ("mall/purchasing/orders/returns.py", "f'order.{kind}'"):
        [f"order.{kind}" for kind in RETURN_KINDS],
    ("mall/purchasing/orders/steps.py", "f'order.{status.value}'"):
        [f"order.{s.value}" for s in OrderStatus],
    ("mall/purchasing/payments/services.py", "f'payment.{status}'"):
        ["payment.succeeded", "payment.failed", "payment.canceled", "payment.processing"],
    ("supervision/performance/sanctions.py", "f'sanction.{kind.value}'"):
        ["sanction.warning", "sanction.points", "sanction.suspension", "sanction.expulsion",
         "sanction.bad_conduct"],
    ("supervision/prices/cases.py", "f'price_case.{status.value}'"):
        ["price_case.open", "price_case.frozen", "price_case.dismissed", "price_case.resolved"],
    ("supervision/splitting/services.py", "f'splitting_alert.{action}'"):
        ["splitting_alert.acknowledged", "splitting_alert.escalated"],
    ("suppliers/admission.py", "f'admission.{application.status.value}'"):
        [f"admission.{s.value}" for s in ApplicationStatus],
    ("suppliers/moderation.py", "f'offer.{action}'"):
        ["offer.approve", "offer.reject", "offer.freeze", "offer.delist", "offer.reinstate"],
}


def _record_event_calls():
    """(file, line, action expression, object_type expression) of every record_event call."""
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in (".venv", "tests", "benchmarks", "build") \
                or "migrations" in relative.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and (
                    getattr(node.func, "id", None) == "record_event"
                    or getattr(node.func, "attr", None) == "record_event"):
                keywords = {k.arg: k.value for k in node.keywords}
                yield relative.as_posix(), node.lineno, keywords.get("action"), \
                    keywords.get("object_type")


def test_every_action_recorded_in_the_code_has_a_label_and_every_object_kind_a_name():
    missing, unknown_sites, kinds = [], [], []
    calls = list(_record_event_calls())
    assert len(calls) > 50  # the walk found the code
    for path, line, action, object_type in calls:
        if isinstance(action, ast.Constant):
            values = [action.value]
        elif isinstance(action, ast.IfExp) and all(isinstance(v, ast.Constant)
                                                   for v in (action.body, action.orelse)):
            values = [action.body.value, action.orelse.value]  # type: ignore[attr-defined]
        else:
            key = (path, ast.unparse(action) if action is not None else "")
            if key not in DYNAMIC_SITES:
                unknown_sites.append(f"{path}:{line} {key[1]}")
                continue
            values = DYNAMIC_SITES[key]
        missing += [f"{path}:{line} {v}" for v in values if v not in ACTION_LABELS]
        if isinstance(object_type, ast.Constant) and object_type.value not in OBJECT_LABELS:
            kinds.append(f"{path}:{line} {object_type.value}")
    assert not unknown_sites, ("computed actions: list their values in DYNAMIC_SITES "
                               f"and label them: {unknown_sites}")
    assert not missing, f"actions without a label in mall/core/audit_labels.py: {missing}"
    assert not kinds, f"object kinds without a name in mall/core/audit_labels.py: {kinds}"


@pytest.fixture
def people(session):
    """An operator who reads the trail; two units whose people acted; events over three days."""
    centre = make_organisation(session, OrganisationKind.OPERATOR, name="交易中心")
    reader = make_user(session, centre, login="audit-reader", roles=[Role.OPERATOR])
    reader.preferred_locale = "en"
    east = make_organisation(session, name="东区教育局")
    west = make_organisation(session, name="西区卫生局")
    wang = make_user(session, east, login="wang-buyer", roles=[Role.BUYER])
    wang.display_name = "王敏"
    li = make_user(session, west, login="li-finance", roles=[Role.FINANCE])
    li.display_name = "李强"
    session.flush()
    return reader, actor_for(wang), actor_for(li)


def _at(day: int, hour: int = 4) -> datetime:
    return datetime(2026, 3, day, hour, 0, tzinfo=UTC)  # 12:00 Shanghai


def _event(session, actor, action: str, object_type: str, object_id, day: int, **data):
    event = record_event(session, action=action, object_type=object_type, object_id=object_id,
                         actor=actor, data=data)
    event.occurred_at = _at(day)
    return event


def _ids(page: str) -> list[int]:
    table = page[page.index('id="audit-entries"'):]
    return [int(part.split('"')[0]) for part in table.split('data-entry-id="')[1:]]


def test_filters_find_entries_by_person_organisation_object_event_and_local_dates(
        client, session, people):
    _reader, wang, li = people
    world = make_world(session)
    order = buy(session, world, 1)
    a = _event(session, wang, "budget_line.created", "budget_line", 7, 10)
    b = _event(session, wang, "order.cancelled", "order", order.id, 11, reason="买错了")
    c = _event(session, li, "budget_line.created", "budget_line", 8, 12)
    session.flush()
    seal_pending(session)
    login(client, "audit-reader")

    def found(**args) -> set[int]:
        answer = client.get("/admin/audit", query_string=args)
        assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
        return set(_ids(answer.get_data(as_text=True))) & {a.id, b.id, c.id}

    assert found() == {a.id, b.id, c.id}
    assert found(actor="王敏") == {a.id, b.id}
    assert found(actor="li-finance") == {c.id}
    assert found(organisation="西区") == {c.id}
    assert found(object_type="order", object_ref=order.number) == {b.id}
    assert found(object_type="order", object_ref=str(order.id)) == {b.id}
    assert found(action="budget_line.created") == {a.id, c.id}
    assert found(date_from="2026-03-11", date_to="2026-03-11") == {b.id}
    assert found(date_from="2026-03-11") == {b.id, c.id}
    assert found(actor="王敏", action="budget_line.created") == {a.id}
    # a Shanghai day runs from 16:00 UTC the day before
    late = _event(session, li, "budget_line.created", "budget_line", 9, 12)
    late.occurred_at = datetime(2026, 3, 12, 16, 30, tzinfo=UTC)  # 13 March 00:30 Shanghai
    session.flush()
    assert late.id in set(_ids(client.get("/admin/audit", query_string={
        "date_from": "2026-03-13", "date_to": "2026-03-13"}).get_data(as_text=True)))


def test_entries_show_names_numbers_and_events_in_words(client, session, people):
    _reader, wang, _li = people
    world = make_world(session)
    order = buy(session, world, 1)
    _event(session, wang, "order.cancelled", "order", order.id, 11)
    _event(session, wang, "user.created", "user", wang.user_id, 11)
    _event(session, wang, "gadget.polished", "gadget", 5, 11)  # an event of an older version
    session.flush()
    login(client, "audit-reader")
    page = client.get("/admin/audit", query_string={"actor": "wang-buyer"}).get_data(as_text=True)
    table = page[page.index('id="audit-entries"'):]
    assert "Order cancelled" in table and order.number in table
    assert "王敏 (wang-buyer)" in table and "东区教育局" in table
    assert "User created" in table and "Other event" in table and "gadget.polished" in table
    assert "order.cancelled" not in table


def test_pages_of_fifty_newest_first(client, session, people):
    _reader, wang, _li = people
    events = [_event(session, wang, "budget_line.created", "budget_line", n, 10)
              for n in range(120)]
    session.flush()
    login(client, "audit-reader")
    newest_first = [e.id for e in reversed(events)]
    page = client.get("/admin/audit?actor=wang-buyer").get_data(as_text=True)
    assert _ids(page) == newest_first[:50]
    seen = list(_ids(page))
    while 'id="older-link"' in page:
        link = page.split('id="older-link"')[0].rsplit('href="', 1)[1].split('"')[0]
        page = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
        assert "actor=wang-buyer" in link
        seen += _ids(page)
    assert seen == newest_first


def _export(client, **args) -> str:
    answer = client.get("/admin/audit/export.jsonl", query_string=args)
    assert answer.status_code == 200
    assert answer.mimetype == "application/jsonl"
    return answer.get_data(as_text=True)


def _verify(tmp_path: Path, text: str) -> subprocess.CompletedProcess:
    exported = tmp_path / "export.jsonl"
    exported.write_text(text, encoding="utf-8")
    # -I: isolated from the project (no site-packages, no current folder on the path)
    return subprocess.run([sys.executable, "-I", str(SCRIPT), str(exported)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)


def test_an_export_verifies_outside_the_mall_and_a_tampered_one_does_not(
        client, session, people, anchor_keys, tmp_path):
    _reader, wang, li = people
    for n in range(4):
        _event(session, wang, "budget_line.created", "budget_line", n, 10, amount_fen=n * 100,
               note="办公设备")
        _event(session, li, "budget_line.created", "budget_line", 100 + n, 10)
    session.flush()
    seal_pending(session)
    publish_anchor(session, anchor_keys)
    login(client, "audit-reader")

    whole = _export(client)
    records = [json.loads(line) for line in whole.splitlines()]
    header = records[0]
    assert header["type"] == "export" and header["contiguous"] is True
    assert [r["type"] for r in records[1:3]] == ["anchor", "public_key"]
    assert records[1]["signature_base64"] and '"seq"' in records[1]["payload"]
    checked = _verify(tmp_path, whole)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "OK" in checked.stdout and "1 entries checked against 1 published anchors" in \
        checked.stdout

    slice_ = _export(client, actor="wang-buyer")
    entries = [json.loads(line) for line in slice_.splitlines() if '"type": "entry"' in line]
    assert len(entries) == 4 and json.loads(slice_.splitlines()[0])["contiguous"] is False
    checked = _verify(tmp_path, slice_)
    assert checked.returncode == 0 and "gaps not checked" in checked.stdout

    tampered = whole.replace('"amount_fen": 200', '"amount_fen": 900')
    assert tampered != whole
    checked = _verify(tmp_path, tampered)
    assert checked.returncode == 1 and "altered after sealing" in checked.stdout

    # A rewrite with every hash recomputed passes link by link but not the anchor.
    from tests.factories.audit import rewrite_entry

    first = session.get(AuditEvent, entries[0]["id"])
    rewrite_entry(session, first, data={"amount_fen": 999})
    checked = _verify(tmp_path, _export(client))
    assert checked.returncode == 1 and "does not match the anchor" in checked.stdout
    assert _verify(tmp_path, "not json\n").returncode == 2


def test_only_operators_and_supervisors_read_and_export_the_trail(client, session, people):
    _reader, wang, _li = people
    supervisor = make_user(session, make_organisation(session, OrganisationKind.SUPERVISOR),
                           login="audit-sup", roles=[Role.SUPERVISOR])
    assert supervisor.id
    login(client, "wang-buyer")
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit/export.jsonl").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    login(client, "audit-sup")
    assert client.get("/admin/audit").status_code == 200
    assert client.get("/admin/audit/export.jsonl").status_code == 200


@pytest.mark.parametrize(("args", "field"), [
    ({"actor": "nobody-at-all"}, "actor"),
    ({"actor": "x" * 150}, "actor"),
    ({"organisation": "不存在的单位"}, "organisation"),
    ({"object_type": "spaceship"}, "object_type"),
    ({"object_ref": "DP2026"}, "object_type"),
    ({"object_type": "order", "object_ref": "DP-NO-SUCH"}, "object_ref"),
    ({"action": "order.teleported"}, "action"),
    ({"date_from": "2026-02-30"}, "date_from"),
    ({"date_to": "yesterday"}, "date_to"),
    ({"date_from": "2026-03-12", "date_to": "2026-03-11"}, "date_to"),
    ({"date_from": "99999-01-01"}, "date_from"),
])
def test_bad_filters_get_a_message_next_to_the_field_and_keep_what_was_typed(
        client, session, people, args, field):
    login(client, "audit-reader")
    answer = client.get("/admin/audit", query_string=args)
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    for name, value in args.items():
        if len(value) <= 100 and name not in ("action", "object_type"):  # lists: not typed
            assert f'value="{value}"' in page
    assert client.get("/admin/audit/export.jsonl", query_string=args).status_code == 422


def test_odd_paging_values_never_give_a_500(client, session, people):
    login(client, "audit-reader")
    for before in ("abc", "-1", "9" * 40, "0", "²", "①", "1²", "１２"):  # digits int() refuses
        assert client.get("/admin/audit", query_string={"before": before}).status_code == 200
        assert client.get("/admin/audit/export.jsonl",
                          query_string={"before": before}).status_code == 200
    assert client.get("/admin/audit", query_string={
        "object_type": "order", "object_ref": "9" * 40}).status_code == 422


def test_an_altered_entry_shows_on_the_first_page(client, session, people):
    _reader, wang, _li = people
    events = [_event(session, wang, "budget_line.created", "budget_line", n, 10)
              for n in range(3)]
    session.flush()
    seal_pending(session)
    session.execute(update(AuditEvent).where(AuditEvent.id == events[1].id)
                    .values(object_id="999"))
    session.expire_all()
    login(client, "audit-reader")
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "was altered after sealing" in page
