"""The seal (四不知): before a round closes, no read path tells anyone (the buyer, operators,
supervisors, other suppliers, the public) a price or which suppliers quoted; only the number
of quotes. Every page and endpoint that shows a round, its notices, the audit trail, the
inbox and the logs is read as each role while the round is open, then again after closing,
when the same markers must appear (so that the check can fail)."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest

from admin.audit_search import AuditFilters, search
from bidding_rounds import closing
from bidding_rounds.quotes import RelatedSupplierQuoted
from mall.accounts.models import Organisation
from mall.core.auth import OrganisationKind, Role
from mall.core.clock import frozen_clock
from mall.core.errors import ValidationFailed
from suppliers.models import SizeClass
from tests.conftest import login
from tests.factories.accounts import make_member, make_user
from tests.factories.rounds import make_bidder, paper_round, quote, unit_for_rounds

# Prices nobody else uses, and supplier names that appear nowhere else.
PRICES = (8_761, 8_823, 8_947)  # fen per 包, 100 包 each
NAMES = ("封存甲科技有限公司", "封存乙贸易有限公司", "封存丙办公用品有限公司")


def _markers() -> list[str]:
    shown = []
    for price in PRICES:
        yuan = f"{price // 100}.{price % 100:02d}"
        total = price * 100
        shown += [yuan, f"{total // 100:,}", str(total), str(price)]
    return [*NAMES, *shown]


def _events_of(session, organisation_id: int) -> list[str]:
    """The audit trail's events acted by one organisation, in words and order."""
    rows = search(session, AuditFilters(organisation_ids=[organisation_id]), limit=500).rows
    return sorted(row.action for row in rows)


def _leaks(text: str) -> list[str]:
    return [marker for marker in _markers() if marker in _readable(text)]


def _readable(text: str) -> str:
    """JSON answers with their escapes undone (names arrive as \\uXXXX)."""
    try:
        return json.dumps(json.loads(text), ensure_ascii=False)
    except ValueError:
        return text


@pytest.fixture
def sealed_round(session):
    unit = unit_for_rounds(session)
    bidders = [make_bidder(session, size=SizeClass.MEDIUM) for _ in NAMES]
    for bidder, name in zip(bidders, NAMES, strict=True):
        session.get_one(Organisation, bidder.id).name = name
    bidding_round = paper_round(session, unit, ceiling_fen=1_000_000, quantity=100)
    for bidder, price in zip(bidders, PRICES, strict=True):
        quote(session, bidder, bidding_round, price + 50)
        quote(session, bidder, bidding_round, price)  # revised: the last one counts
    operator = make_member(session, OrganisationKind.OPERATOR)
    supervisor = make_member(session, OrganisationKind.SUPERVISOR)
    outsider = make_bidder(session)  # admitted for paper too, did not quote
    session.flush()
    return {"round": bidding_round, "unit": unit, "bidders": bidders, "operator": operator,
            "supervisor": supervisor, "outsider": outsider}


def _paths(bidding_round) -> dict[str, list[str]]:
    rid = bidding_round.id
    public = ["/notices", "/api/v1/notices"]
    # The audit trail names every organisation an entry is about (the bidders' admissions,
    # made before the round, among them): what is read here is what it records of the round.
    round_audit = f"/admin/audit?object_type=bidding_round&object_ref={bidding_round.number}"
    rounds_pages = [f"/rounds/{rid}", "/rounds", f"/api/v1/rounds/{rid}", "/api/v1/rounds"]
    return {
        "buyer": [*public, *rounds_pages, "/notifications", "/"],
        "operator": [*public, *rounds_pages, round_audit, "/rounds/challenges",
                     "/rounds/signals", "/"],
        "supervisor": [*public, *rounds_pages, round_audit, "/rounds/signals", "/"],
        "outsider": [*public, "/rounds/opportunities", f"/api/v1/supplier/rounds/{rid}",
                     "/api/v1/supplier/rounds", f"/rounds/{rid}/quote", "/notifications", "/"],
        "anonymous": public,
    }


def _logins(data) -> dict[str, str | None]:
    return {"buyer": data["unit"].buyer_user.login, "operator": data["operator"].login,
            "supervisor": data["supervisor"].login, "outsider": data["outsider"].user.login,
            "anonymous": None}


def _read_all(app, data) -> dict[tuple[str, str], str]:
    pages = {}
    for role, path_list in _paths(data["round"]).items():
        with app.test_client() as client:
            if _logins(data)[role]:
                assert login(client, _logins(data)[role]).status_code in (302, 303)
            for path in path_list:
                response = client.get(path)
                assert response.status_code == 200, (role, path, response.status_code)
                pages[(role, path)] = _readable(response.get_data(as_text=True))
    return pages


def test_no_read_path_shows_a_price_or_a_quoting_supplier_before_closing(app, session,
                                                                         sealed_round):
    bidding_round = sealed_round["round"]
    assert bidding_round.quote_count == 3
    # Quoting leaves no trace in the audit trail: the bidders' entries are the outsider's.
    outsider_events = _events_of(session, sealed_round["outsider"].id)
    for bidder in sealed_round["bidders"]:
        assert _events_of(session, bidder.id) == outsider_events
    pages = _read_all(app, sealed_round)
    leaks = {key: found for key, text in pages.items() if (found := _leaks(text))}
    assert leaks == {}
    round_audit = next(text for (role, path), text in pages.items()
                       if role == "operator" and path.startswith("/admin/audit"))
    assert bidding_round.number in round_audit  # the round's own entries are listed
    # The count is what they may see.
    assert json.loads(pages[("buyer", f"/api/v1/rounds/{bidding_round.id}")])["quote_count"] == 3

    with frozen_clock(bidding_round.deadline + timedelta(seconds=1)):
        assert closing.close_due_rounds(session) == 1
    opened = _read_all(app, sealed_round)
    for key in (("buyer", f"/rounds/{bidding_round.id}"),
                ("operator", f"/api/v1/rounds/{bidding_round.id}"),
                ("anonymous", "/api/v1/notices")):
        assert all(name in opened[key] for name in NAMES), key  # the check can fail


def test_refusals_and_logs_tell_no_other_quote(session, sealed_round, caplog):
    bidding_round = sealed_round["round"]
    related = make_bidder(session, legal_representative=sealed_round["bidders"][0]
                          .legal_representative)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(RelatedSupplierQuoted) as refused:
        quote(session, related, bidding_round, 8_000)
    assert _leaks(refused.value.detail) == []
    with pytest.raises(ValidationFailed) as too_high:
        quote(session, sealed_round["outsider"], bidding_round, 20_000)
    assert _leaks(str(too_high.value.detail) + str(too_high.value.errors)) == []
    quote(session, sealed_round["outsider"], bidding_round, 8_999)
    assert _leaks(caplog.text) == []


def test_a_second_user_of_a_quoting_supplier_sees_its_own_quote_only(app, session, sealed_round):
    bidding_round = sealed_round["round"]
    first, second = sealed_round["bidders"][:2]
    colleague = make_user(session, session.get_one(Organisation, first.id),
                          roles=[Role.SUPPLIER_OPERATOR])
    with app.test_client() as client:
        login(client, colleague.login)
        text = client.get(f"/api/v1/supplier/rounds/{bidding_round.id}").get_data(as_text=True)
    assert str(PRICES[0] * 100) in text  # its own total
    assert str(PRICES[1] * 100) not in text and NAMES[1] not in text
    assert second.id != first.id
