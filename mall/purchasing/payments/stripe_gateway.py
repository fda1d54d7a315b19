"""Card payments (公务卡支付) through the official Stripe SDK: Stripe in production, localstripe here.

No database access: the payment service stores what these functions return. Every call builds
its own ``StripeClient`` from ``StripeSettings``, so the app and the tests can point at
different servers without touching the SDK's global ``stripe.api_key``.

Known differences of localstripe (the embedded default) from Stripe, all checked against
localstripe 1.15: it ignores idempotency keys, never sends webhooks for refunds or charges, does
not refuse refunds above the amount paid, and its Stripe.js stand-in has no working
``createPaymentMethod`` (see ``register_localstripe_webhook`` and ``start_localstripe``).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import stripe
from stripe.params import PaymentIntentCreateParams

from mall.core.errors import MallError

CURRENCY = "cny"  # amounts are in fen (分), CNY's minor unit
TEST_PAYMENT_METHOD = "pm_card_visa"  # Stripe's test card; localstripe knows it too
ORDER_NUMBER_KEY = "order_number"


@dataclass(frozen=True)
class StripeSettings:
    """Where the card gateway is and how to authenticate to it and to verify its webhooks."""

    api_key: str
    api_base: str
    webhook_secret: str
    timeout_seconds: float = 30.0
    # The SDK retries connection errors and 409/5xx answers; Stripe makes that safe with the
    # idempotency key, localstripe does not (it ignores the key).
    max_network_retries: int = 2

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> StripeSettings:
        """Read STRIPE_API_KEY, STRIPE_API_BASE and STRIPE_WEBHOOK_SECRET from the app config."""
        return cls(api_key=config["STRIPE_API_KEY"],
                   api_base=(config.get("STRIPE_API_BASE") or "").rstrip("/"),
                   webhook_secret=config["STRIPE_WEBHOOK_SECRET"],
                   timeout_seconds=float(config.get("STRIPE_TIMEOUT_SECONDS", 30.0)),
                   max_network_retries=int(config.get("STRIPE_MAX_NETWORK_RETRIES", 2)))


@dataclass(frozen=True)
class CardPayment:
    """A PaymentIntent as the mall sees it."""

    intent_id: str
    status: str
    amount_fen: int
    client_secret: str | None


@dataclass(frozen=True)
class WebhookEvent:
    """A verified gateway event; ``status`` and ``amount_fen`` are those of the event's object."""

    id: str
    type: str
    created: int
    intent_id: str | None
    status: str | None
    amount_fen: int | None
    order_number: str | None


class PaymentGatewayError(MallError):
    """The card gateway refused or could not be reached; ``gateway_code`` is Stripe's own code.

    Codes: ``payment_failed`` (declined or refused request), ``payment_not_found``,
    ``payment_gateway_unavailable`` (network, outage, bad key), ``webhook_signature_invalid``,
    ``webhook_payload_invalid``.
    """

    code = "payment_failed"
    status = 402
    title = "Card payment failed"
    _statuses = {"payment_failed": 402, "payment_not_found": 404, "payment_gateway_unavailable": 503,
                 "webhook_signature_invalid": 400, "webhook_payload_invalid": 400}

    def __init__(self, detail: str = "", *, code: str | None = None, gateway_code: str | None = None):
        super().__init__(detail, code=code)
        self.status = self._statuses.get(self.code, self.status)
        self.gateway_code = gateway_code


def _translate(error: stripe.StripeError) -> PaymentGatewayError:
    """Sort an SDK error into the buyer's problem, a missing object, or the gateway's problem."""
    detail = error.user_message or str(error)
    http_status = error.http_status or 0
    unavailable = (stripe.APIConnectionError, stripe.AuthenticationError, stripe.PermissionError,
                   stripe.RateLimitError)
    if isinstance(error, unavailable) or http_status >= 500:
        code = "payment_gateway_unavailable"
    elif http_status == 404:
        code = "payment_not_found"
    else:
        code = "payment_failed"
    return PaymentGatewayError(detail, code=code, gateway_code=error.code)


@contextmanager
def _client(settings: StripeSettings) -> Iterator[stripe.StripeClient]:
    """A client for one call; SDK errors leave as PaymentGatewayError, the connection is closed."""
    http_client = stripe.RequestsClient(timeout=settings.timeout_seconds)
    client = stripe.StripeClient(
        settings.api_key, http_client=http_client, max_network_retries=settings.max_network_retries,
        base_addresses={"api": settings.api_base} if settings.api_base else None)
    try:
        yield client
    except stripe.StripeError as error:
        raise _translate(error) from error
    finally:
        http_client.close()


def _card_payment(intent: stripe.PaymentIntent) -> CardPayment:
    return CardPayment(intent_id=intent.id, status=intent.status, amount_fen=int(intent.amount),
                       client_secret=getattr(intent, "client_secret", None))


def _require_positive_fen(amount_fen: int) -> None:
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or amount_fen <= 0:
        raise ValueError(f"amount must be a positive whole number of fen, got {amount_fen!r}")


def create_card_payment(settings: StripeSettings, *, amount_fen: int, order_number: str,
                        idempotency_key: str, payment_method: str = TEST_PAYMENT_METHOD,
                        confirm: bool = True) -> CardPayment:
    """Create a CNY PaymentIntent for an order and, by default, charge the card at once.

    ``payment_method`` is a ``pm_…`` id, or with localstripe's Stripe.js stand-in the ``card_…``
    id of the token its ``createToken`` returns. A declined card raises ``payment_failed`` with
    ``gateway_code`` "card_declined"; a card that needs 3-D Secure comes back ``requires_action``.
    """
    _require_positive_fen(amount_fen)
    params: PaymentIntentCreateParams = {
        "amount": amount_fen, "currency": CURRENCY, "payment_method": payment_method,
        # Only cards: without it Stripe would also offer redirect methods and want a return_url.
        # The SDK's types follow its newest API version, which names this parameter
        # allowed_payment_method_types; localstripe knows only payment_method_types.
        "payment_method_types": ["card"],  # type: ignore[typeddict-unknown-key]
        "metadata": {ORDER_NUMBER_KEY: order_number}, "confirm": confirm}
    with _client(settings) as client:
        intent = client.v1.payment_intents.create(params=params,
                                                  options={"idempotency_key": idempotency_key})
    return _card_payment(intent)


def retrieve_payment(settings: StripeSettings, intent_id: str) -> CardPayment:
    """Ask the gateway for the current state of a PaymentIntent (for reconciliation)."""
    with _client(settings) as client:
        return _card_payment(client.v1.payment_intents.retrieve(intent_id))


def cancel_payment(settings: StripeSettings, intent_id: str, *, idempotency_key: str) -> CardPayment:
    """Cancel a PaymentIntent nobody will finish (a 3-D Secure check the buyer walked away from)."""
    with _client(settings) as client:
        return _card_payment(client.v1.payment_intents.cancel(
            intent_id, options={"idempotency_key": idempotency_key}))


@dataclass(frozen=True)
class CardRefund:
    """A Refund as the mall sees it: money is back only once ``status`` is "succeeded"
    (Stripe may answer "pending" first, and "failed" or "canceled" later)."""

    refund_id: str
    status: str
    amount_fen: int


def _card_refund(created: Any) -> CardRefund:
    return CardRefund(refund_id=created.id, status=created.status, amount_fen=int(created.amount))


def create_refund(settings: StripeSettings, *, intent_id: str, amount_fen: int,
                  idempotency_key: str) -> CardRefund:
    """Refund part or all of a paid PaymentIntent.

    The caller keeps the refunded total within the amount paid: localstripe does not check it.
    """
    _require_positive_fen(amount_fen)
    with _client(settings) as client:
        return _card_refund(client.v1.refunds.create(
            params={"payment_intent": intent_id, "amount": amount_fen},
            options={"idempotency_key": idempotency_key}))


def retrieve_refund(settings: StripeSettings, refund_id: str) -> CardRefund:
    """Ask the gateway whether a pending refund went through."""
    with _client(settings) as client:
        return _card_refund(client.v1.refunds.retrieve(refund_id))


def refund(settings: StripeSettings, *, intent_id: str, amount_fen: int, idempotency_key: str) -> str:
    """Refund part or all of a paid PaymentIntent; returns the refund id."""
    return create_refund(settings, intent_id=intent_id, amount_fen=amount_fen,
                         idempotency_key=idempotency_key).refund_id


def parse_webhook(settings: StripeSettings, payload: bytes, signature_header: str | None) -> WebhookEvent:
    """Verify a webhook's Stripe-Signature with the SDK and map its object to the mall's terms.

    The object may be a PaymentIntent, a Charge or a Refund; the intent id is taken from each.
    Replays within the SDK's five-minute tolerance pass: the caller deduplicates on ``id``.
    A signed body that is not a Stripe event (not JSON, not an object, fields of the wrong
    type) is ``webhook_payload_invalid``.
    """
    try:
        stripe.WebhookSignature.verify_header(payload, signature_header, settings.webhook_secret,
                                              stripe.Webhook.DEFAULT_TOLERANCE)
    except stripe.SignatureVerificationError as error:
        raise PaymentGatewayError("webhook signature does not match",
                                  code="webhook_signature_invalid") from error
    except ValueError as error:  # not UTF-8
        raise PaymentGatewayError("webhook payload is not JSON", code="webhook_payload_invalid") from error
    try:
        return _webhook_event(json.loads(payload))
    except (ValueError, RecursionError) as error:
        raise PaymentGatewayError(f"webhook payload is not a Stripe event: {error}",
                                  code="webhook_payload_invalid") from error


def _webhook_event(event: object) -> WebhookEvent:
    """The mall's view of a decoded Stripe event; ValueError if it is not shaped like one."""

    def field(container: object, key: str, kind: type | tuple[type, ...], *, required: bool = False):
        value = container.get(key) if isinstance(container, dict) else None
        if value is None and not required:
            return None
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ValueError(f"{key} is missing or not a {kind}")
        return value

    if not isinstance(event, dict):
        raise ValueError("the event is not an object")
    obj = field(field(event, "data", dict) or {}, "object", dict) or {}
    kind = field(obj, "object", str)
    if kind == "payment_intent":
        intent_id = field(obj, "id", str)
    elif kind in ("charge", "refund"):
        intent_id = field(obj, "payment_intent", str)
    else:
        intent_id = None
    amount = field(obj, "amount", int)
    return WebhookEvent(id=field(event, "id", str, required=True),
                        type=field(event, "type", str, required=True),
                        created=field(event, "created", int, required=True),
                        intent_id=intent_id, status=field(obj, "status", str), amount_fen=amount,
                        order_number=field(field(obj, "metadata", dict), ORDER_NUMBER_KEY, str))


def register_localstripe_webhook(settings: StripeSettings, *, name: str, url: str, events: list[str]) -> None:
    """Tell localstripe where to send which events, signed with our webhook secret.

    localstripe-only (``POST /_config/webhooks/<name>``; Stripe registers endpoints in its
    dashboard). Registrations live in the localstripe process until it stops, a second call
    with the same name replaces the first, and every event is sent once, about a second after
    it happens, with no retry. localstripe emits only ``payment_intent.succeeded`` and
    ``payment_intent.payment_failed`` for card payments: nothing for refunds.
    """
    body = json.dumps({"url": url, "secret": settings.webhook_secret, "events": list(events)}).encode()
    request = urllib.request.Request(f"{settings.api_base}/_config/webhooks/{name}", data=body,
                                     headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=settings.timeout_seconds):
            pass
    except (urllib.error.URLError, OSError) as error:
        raise PaymentGatewayError(f"localstripe refused the webhook registration: {error}",
                                  code="payment_gateway_unavailable") from error


def localstripe_command() -> str:
    """The ``localstripe`` console script installed next to this Python."""
    script = Path(sys.executable).parent / "localstripe"
    found = str(script) if script.exists() else shutil.which("localstripe")
    if not found:
        raise PaymentGatewayError("the localstripe command is not installed",
                                  code="payment_gateway_unavailable")
    return found


def localstripe_answers(base_url: str, timeout: float = 1.0) -> bool:
    """True when a localstripe server answers at ``base_url`` (its Stripe.js stand-in needs no key)."""
    try:
        with urllib.request.urlopen(f"{base_url}/js.stripe.com/v3/", timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start_localstripe(port: int, *, log_path: str | Path | None = None, from_scratch: bool = True,
                      timeout: float = 20.0) -> subprocess.Popen:
    """Start localstripe on ``port`` and return once it answers on 127.0.0.1.

    localstripe listens on every interface (it binds ``::``, dual-stack) and saves its whole
    state after each write to the fixed file /tmp/localstripe.pickle, which every localstripe
    on the machine (test runs included) overwrites. ``from_scratch`` (the default) therefore
    starts empty instead of loading that file, which may hold another run's objects or be cut
    short by a concurrent writer (localstripe then dies at start-up).
    """
    base_url = f"http://127.0.0.1:{port}"
    # Otherwise a server already there would answer for a localstripe that failed to bind.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise PaymentGatewayError(f"port {port} is already in use; localstripe not started",
                                      code="payment_gateway_unavailable")
    command = [localstripe_command(), "--port", str(port), *(["--from-scratch"] if from_scratch else [])]
    if log_path is None:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    else:
        with open(log_path, "ab") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while not localstripe_answers(base_url, timeout=0.5):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_localstripe(process)
            where = f"; see {log_path}" if log_path else ""
            raise PaymentGatewayError(f"localstripe did not start on port {port}{where}",
                                      code="payment_gateway_unavailable")
        time.sleep(0.05)
    return process


def stop_localstripe(process: subprocess.Popen, timeout: float = 5.0) -> None:
    """Stop a localstripe started by ``start_localstripe`` and reap it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
