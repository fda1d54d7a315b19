"""Card payments whose bank asks for 3-D Secure, against a real localstripe: the buyer's
browser finishes the check with the client secret the mall fetches for it; a failed or
abandoned check leaves the order payable another way, and an intent nobody finishes is
cancelled at the gateway so that it can never be charged later."""

from __future__ import annotations

import json
import urllib.request
from datetime import timedelta

import pytest

from mall.core.clock import frozen_clock, local_today, now
from mall.core.errors import NotFound, PermissionDenied
from mall.purchasing.orders.models import Order, OrderStatus
from mall.purchasing.orders.steps import WrongState
from mall.purchasing.payments import services as payments
from mall.purchasing.payments.stripe_gateway import StripeSettings, retrieve_payment
from tests.factories.purchasing import make_unit
from tests.purchasing.test_payments import TOTAL, accepted_order, bearer, fresh
from tests.purchasing.test_stripe_gateway import tokenise_card

# The supplier recorded no account: a treasury transfer names the one it paid into.
ACCOUNT = "6230901000000001"

THREE_D_SECURE_CARD = "4000002500003155"  # Stripe's test card that always asks for 3-D Secure


def three_d_secure_card(settings: StripeSettings) -> str:
    """A card id as the Stripe.js stand-in's createToken() returns it in the browser."""
    return tokenise_card(settings, THREE_D_SECURE_CARD)["card"]["id"]


def authenticate(settings: StripeSettings, verification: payments.CardVerification, *,
                 success: bool) -> None:
    """What stripe.confirmCardPayment(client_secret) sends when the buyer clicks "Complete
    authentication" (or "Fail authentication") in the bank's window."""
    request = urllib.request.Request(
        f"{settings.api_base}/v1/payment_intents/{verification.intent_id}/_authenticate"
        f"?success={'true' if success else 'false'}",
        data=json.dumps({"key": "pk_test_localstripe",
                         "client_secret": verification.client_secret}).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=5):
        pass


@pytest.fixture
def client(app, session):
    return app.test_client()


def started(session, settings):
    world = accepted_order(session, invoiced=True)
    payment = payments.pay_by_card(session, world.unit.buyer, world.order_id, settings,
                                   payment_method=three_d_secure_card(settings))
    return world, payment


def test_a_card_that_asks_for_3d_secure_is_paid_once_the_buyer_passes_the_check(
        session, stripe_settings):
    world, payment = started(session, stripe_settings)
    assert payment.status == "requires_action"
    assert fresh(session, Order, world.order_id).status is OrderStatus.INVOICED

    verification = payments.card_verification(session, world.unit.finance, world.order_id,
                                              stripe_settings)
    assert (verification.payment_id, verification.status) == (payment.id, "requires_action")
    assert verification.client_secret.startswith(f"{payment.intent_id}_secret_")

    authenticate(stripe_settings, verification, success=True)
    # The webhook would say so; asking again (the page does, after the check) applies it too.
    after = payments.card_verification(session, world.unit.buyer, world.order_id, stripe_settings)
    assert (after.status, after.client_secret) == ("succeeded", None)
    order = fresh(session, Order, world.order_id)
    assert (order.status, order.paid_fen) == (OrderStatus.PAID, TOTAL)
    with pytest.raises(NotFound) as nothing:
        payments.card_verification(session, world.unit.buyer, world.order_id, stripe_settings)
    assert nothing.value.code == "no_verification_pending"


def test_a_failed_check_leaves_the_order_payable_by_another_card(session, stripe_settings):
    world, payment = started(session, stripe_settings)
    verification = payments.card_verification(session, world.unit.buyer, world.order_id,
                                              stripe_settings)
    authenticate(stripe_settings, verification, success=False)

    assert payments.card_verification(session, world.unit.buyer, world.order_id,
                                      stripe_settings).status == "failed"
    assert payment.status == "failed"
    second = payments.pay_by_card(session, world.unit.buyer, world.order_id, stripe_settings,
                                  payment_method="pm_card_visa")
    assert second.status == "processing" and second.id != payment.id


def test_while_a_check_waits_no_other_payment_is_taken_until_the_buyer_cancels_it(
        session, stripe_settings):
    world, waiting = started(session, stripe_settings)
    for attempt in (
            lambda: payments.pay_by_card(session, world.unit.buyer, world.order_id,
                                         stripe_settings, payment_method="pm_card_visa"),
            lambda: payments.record_treasury_payment(session, world.unit.finance, world.order_id,
                                                     voucher_number="GK-3DS",
                                                     paid_on=local_today(), amount_fen=TOTAL,
                                                     payee_account_number=ACCOUNT)):
        with pytest.raises(WrongState) as refused:
            attempt()
        assert refused.value.code == "payment_in_progress"
        assert "bank's check" in refused.value.detail
    assert waiting.status == "requires_action"
    assert retrieve_payment(stripe_settings, waiting.intent_id).status == "requires_action"

    with pytest.raises(PermissionDenied):
        payments.cancel_card_verification(session, world.supplier, world.order_id, stripe_settings)
    payments.cancel_card_verification(session, world.unit.buyer, world.order_id, stripe_settings)
    assert waiting.status == "canceled"
    # Cancelled at the gateway: the old bank window can no longer charge the card.
    assert retrieve_payment(stripe_settings, waiting.intent_id).status == "canceled"
    second = payments.pay_by_card(session, world.unit.buyer, world.order_id, stripe_settings,
                                  payment_method="pm_card_visa")
    assert second.status == "processing"


def test_reconciliation_cancels_a_check_nobody_finished_within_30_minutes(session, stripe_settings):
    world, payment = started(session, stripe_settings)
    with frozen_clock(now() + timedelta(minutes=5)):
        assert payments.reconcile(session, stripe_settings) == 1
    assert payment.status == "requires_action"  # the buyer may still be in the bank's window

    with frozen_clock(now() + timedelta(minutes=31)):
        assert payments.reconcile(session, stripe_settings) == 1
    assert payment.status == "canceled"
    assert retrieve_payment(stripe_settings, payment.intent_id).status == "canceled"
    # Nothing is in progress any more: the finance user may record a treasury transfer.
    assert fresh(session, Order, world.order_id).status is OrderStatus.INVOICED


def test_only_the_buying_unit_gets_the_client_secret(session, stripe_settings):
    world, _payment = started(session, stripe_settings)
    with pytest.raises(PermissionDenied):
        payments.card_verification(session, world.supplier, world.order_id, stripe_settings)
    stranger = make_unit(session)
    with pytest.raises(NotFound):
        payments.card_verification(session, stranger.buyer, world.order_id, stripe_settings)


def test_the_api_hands_the_client_secret_to_the_buyer_only(client, session, card_app,
                                                            stripe_settings):
    world, payment = started(session, stripe_settings)
    url = f"/api/v1/orders/{world.order_id}/card-verification"

    answer = client.post(url, json={}, headers=bearer(session, world.unit.approver))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.json["status"] == "requires_action"
    assert answer.json["client_secret"].startswith(f"{payment.intent_id}_secret_")

    refused = client.post(url, json={}, headers=bearer(session, world.supplier))
    assert refused.status_code == 403 and refused.json["code"] == "buyer_required"
    busy = client.post(f"/api/v1/orders/{world.order_id}/pay-card",
                       json={"payment_method": "pm_card_visa"},
                       headers=bearer(session, world.unit.approver))
    assert busy.status_code == 409 and busy.json["code"] == "payment_in_progress"
    cancelled = client.post(f"{url}/cancel", json={}, headers=bearer(session, world.unit.approver))
    assert cancelled.status_code == 200, cancelled.get_data(as_text=True)
    assert cancelled.json["status"] == "canceled"
    gone = client.post(url, json={}, headers=bearer(session, world.unit.approver))
    assert gone.status_code == 404 and gone.json["code"] == "no_verification_pending"


def test_a_request_without_card_details_leaves_the_waiting_check_alone(session, stripe_settings):
    from mall.core.errors import ValidationFailed

    world, payment = started(session, stripe_settings)
    with pytest.raises(ValidationFailed):
        payments.pay_by_card(session, world.unit.buyer, world.order_id, stripe_settings,
                             payment_method="")
    assert payment.status == "requires_action"
    assert retrieve_payment(stripe_settings, payment.intent_id).status == "requires_action"


def test_a_checked_payment_the_network_still_processes_shows_as_processing(session,
                                                                           stripe_settings):
    """Stripe may answer "processing" after the bank's check (localstripe goes straight to
    succeeded): the page must then poll, not offer the check again."""
    from mall.purchasing.orders.queries import order_record

    world, payment = started(session, stripe_settings)
    payments._apply_gateway_status(session, payment, "processing")
    assert payment.status == "processing"
    record = order_record(session, fresh(session, Order, world.order_id))
    assert record.payment_in_progress and not record.verification_pending
