"""The card gateway over real HTTP against localstripe, the embedded stand-in for Stripe."""

from __future__ import annotations

import json
import queue
import threading
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mall.purchasing.payments.stripe_gateway import (
    CardPayment,
    PaymentGatewayError,
    StripeSettings,
    create_card_payment,
    parse_webhook,
    refund,
    register_localstripe_webhook,
    retrieve_payment,
    start_localstripe,
)
from tests.purchasing.localstripe_server import free_port

DELIVERY_TIMEOUT = 10  # localstripe waits a second before it sends a webhook


def key() -> str:
    return uuid.uuid4().hex


def pay(settings: StripeSettings, amount_fen: int = 12_345, **options) -> CardPayment:
    return create_card_payment(settings, amount_fen=amount_fen, order_number=f"PO-{key()[:8]}",
                               idempotency_key=key(), **options)


def tokenise_card(settings: StripeSettings, number: str) -> dict:
    """POST /v1/tokens exactly as the Stripe.js stand-in's createToken() does from a browser."""
    body = urllib.parse.urlencode({"card[number]": number, "card[exp_month]": "12", "card[exp_year]": "2030",
                                   "card[cvc]": "123", "key": "pk_test_localstripe",
                                   "payment_user_agent": "localstripe"}).encode()
    request = urllib.request.Request(f"{settings.api_base}/v1/tokens", data=body, method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded",
                                              "Origin": "http://127.0.0.1:5000"})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:5000"
        return json.load(response)


class WebhookReceiver:
    """A tiny HTTP server on a free 127.0.0.1 port that queues every POST it receives."""

    def __init__(self):
        received: queue.Queue = queue.Queue()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.put((body, self.headers["Stripe-Signature"]))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.received = received
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/stripe/webhook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, intent_id: str) -> tuple[bytes, str]:
        """The first delivery about ``intent_id`` (other tests' payments may arrive too)."""
        while True:
            body, signature = self.received.get(timeout=DELIVERY_TIMEOUT)
            if json.loads(body)["data"]["object"]["id"] == intent_id:
                return body, signature

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture(scope="module")
def delivered(localstripe):
    """A 12,345 fen payment and the signed payment_intent.succeeded webhook localstripe sent for it."""
    settings = localstripe.settings()
    receiver = WebhookReceiver()
    try:
        register_localstripe_webhook(settings, name=f"test-{key()[:8]}", url=receiver.url,
                                     events=["payment_intent.succeeded"])
        payment = create_card_payment(settings, amount_fen=12_345, order_number="PO-2026-000123",
                                      idempotency_key=key())
        body, signature = receiver.wait_for(payment.intent_id)
    finally:
        receiver.close()
    return payment, body, signature


def test_a_card_payment_of_12345_fen_succeeds(stripe_settings):
    payment = pay(stripe_settings)

    assert payment.status == "succeeded"
    assert payment.amount_fen == 12_345
    assert payment.intent_id.startswith("pi_")
    assert payment.client_secret.startswith(payment.intent_id + "_secret_")


def test_retrieving_a_payment_returns_its_state(stripe_settings):
    payment = pay(stripe_settings)

    assert retrieve_payment(stripe_settings, payment.intent_id) == payment


def test_part_of_a_payment_can_be_refunded(stripe_settings):
    payment = pay(stripe_settings)

    refund_id = refund(stripe_settings, intent_id=payment.intent_id, amount_fen=2_345, idempotency_key=key())

    assert refund_id.startswith("re_")
    assert retrieve_payment(stripe_settings, payment.intent_id).status == "succeeded"


def test_a_refund_must_be_a_positive_amount_of_fen(stripe_settings):
    with pytest.raises(ValueError):
        refund(stripe_settings, intent_id="pi_x", amount_fen=0, idempotency_key=key())


def test_a_declined_card_is_a_failed_payment(stripe_settings):
    with pytest.raises(PaymentGatewayError) as refused:
        pay(stripe_settings, payment_method="pm_card_chargeCustomerFail")

    assert refused.value.code == "payment_failed"
    assert refused.value.gateway_code == "card_declined"
    assert refused.value.status == 402


def test_an_unknown_payment_is_not_found(stripe_settings):
    with pytest.raises(PaymentGatewayError) as missing:
        retrieve_payment(stripe_settings, "pi_doesnotexist")

    assert missing.value.code == "payment_not_found"


def test_an_intent_created_without_confirm_waits_for_confirmation(stripe_settings):
    payment = pay(stripe_settings, confirm=False)

    assert payment.status == "requires_confirmation"
    assert payment.client_secret


def test_a_card_tokenised_by_the_stripe_js_stand_in_pays_through_the_server(stripe_settings):
    token = tokenise_card(stripe_settings, "4242424242424242")

    payment = pay(stripe_settings, payment_method=token["card"]["id"])

    assert payment.status == "succeeded"


def test_a_3d_secure_card_is_confirmed_by_the_stand_ins_confirm_card_payment(stripe_settings):
    token = tokenise_card(stripe_settings, "4000002500003155")
    payment = pay(stripe_settings, payment_method=token["card"]["id"])
    assert payment.status == "requires_action"

    # What stripe.confirmCardPayment(clientSecret) sends when the buyer clicks "Complete authentication".
    request = urllib.request.Request(
        f"{stripe_settings.api_base}/v1/payment_intents/{payment.intent_id}/_authenticate?success=true",
        data=json.dumps({"key": "pk_test_localstripe", "client_secret": payment.client_secret}).encode(),
        method="POST")
    with urllib.request.urlopen(request, timeout=5):
        pass

    assert retrieve_payment(stripe_settings, payment.intent_id).status == "succeeded"


def test_a_registered_webhook_receives_a_signed_payment_succeeded_event(stripe_settings, delivered):
    payment, body, signature = delivered

    event = parse_webhook(stripe_settings, body, signature)

    assert event.type == "payment_intent.succeeded"
    assert event.id.startswith("evt_")
    assert event.intent_id == payment.intent_id
    assert event.status == "succeeded"
    assert event.amount_fen == 12_345
    assert event.order_number == "PO-2026-000123"


def test_a_tampered_webhook_payload_is_refused(stripe_settings, delivered):
    _, body, signature = delivered
    tampered = body.replace(b'"amount": 12345', b'"amount": 1')
    assert tampered != body

    with pytest.raises(PaymentGatewayError) as refused:
        parse_webhook(stripe_settings, tampered, signature)

    assert refused.value.code == "webhook_signature_invalid"


def test_a_webhook_signed_with_another_secret_is_refused(localstripe, delivered):
    _, body, signature = delivered

    with pytest.raises(PaymentGatewayError) as refused:
        parse_webhook(localstripe.settings(webhook_secret="whsec_someone_else"), body, signature)

    assert refused.value.code == "webhook_signature_invalid"


def test_a_webhook_without_signature_is_refused(stripe_settings, delivered):
    _, body, _ = delivered

    with pytest.raises(PaymentGatewayError) as refused:
        parse_webhook(stripe_settings, body, "")

    assert refused.value.code == "webhook_signature_invalid"


def test_an_unreachable_gateway_is_unavailable():
    closed = StripeSettings(api_key="sk_test_x", api_base=f"http://127.0.0.1:{free_port()}",
                            webhook_secret="whsec_x", timeout_seconds=5.0, max_network_retries=0)

    with pytest.raises(PaymentGatewayError) as payment_refused:
        pay(closed)
    with pytest.raises(PaymentGatewayError) as registration_refused:
        register_localstripe_webhook(closed, name="x", url="http://127.0.0.1:1/", events=[])

    assert payment_refused.value.code == "payment_gateway_unavailable"
    assert payment_refused.value.status == 503
    assert registration_refused.value.code == "payment_gateway_unavailable"


def test_settings_come_from_the_app_config():
    settings = StripeSettings.from_config({"STRIPE_API_KEY": "sk_test_a", "STRIPE_API_BASE": "http://h:1/",
                                           "STRIPE_WEBHOOK_SECRET": "whsec_b"})

    assert (settings.api_key, settings.api_base, settings.webhook_secret) == (
        "sk_test_a", "http://h:1", "whsec_b")


def test_localstripe_is_not_started_on_a_port_already_in_use(localstripe):
    with pytest.raises(PaymentGatewayError) as refused:
        start_localstripe(localstripe.port)

    assert refused.value.code == "payment_gateway_unavailable"
    assert localstripe.process.poll() is None
