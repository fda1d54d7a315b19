"""A bank's webhook endpoints (each with its secret, shown once), the log of the deliveries to
them and replay by hand; the events and their delivery are in financing.webhooks."""

from __future__ import annotations

import ipaddress
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from financing.consent import require_bank
from financing.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from financing.webhooks import EVENT_TYPES
from mall.core.audit import record_event
from mall.core.auth import Actor
from mall.core.clock import now
from mall.core.errors import Conflict, NotFound, ValidationFailed
from mall.i18n_messages import N_


@dataclass(frozen=True)
class EndpointSecret:
    """An endpoint with its new secret: shown to the bank this once."""

    endpoint: WebhookEndpoint
    secret: str


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


FULL_ADDRESS = N_("Give the endpoint's full address, starting with https://.")
PUBLIC_ONLY = N_("Endpoints are public https addresses; this one points inside a network.")
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_NUMBER = re.compile(r"0x[0-9a-f]*|[0-9]+")


def _check_url(url: str, *, allow_local: bool = False) -> list[str]:
    """An endpoint is an https address of a public host. Addresses inside a network
    (loopback, private, link-local such as the cloud metadata address, reserved), names like
    ``localhost`` and numbers written other ways (``127.1``, ``0x7f000001``) are refused, so
    that a bank cannot make the mall call into its own network. ``allow_local`` (tests and
    the demo, on this machine only) admits plain http to 127.0.0.1 or localhost."""
    try:
        parts = urlsplit(url or "")
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return [FULL_ADDRESS]
    host = (parts.hostname or "").lower()
    if len(url) > 500 or not host or parts.username or parts.password:
        return [FULL_ADDRESS]
    if host in LOCAL_HOSTS or host.endswith((".localhost", ".local", ".internal")):
        local_ok = allow_local and parts.scheme in ("http", "https") and host != "::1"
        return [] if local_ok else [PUBLIC_ONLY]
    if parts.scheme != "https":
        return [N_("Endpoints use https.")]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if all(_NUMBER.fullmatch(label) for label in host.split(".")):
            return [PUBLIC_ONLY]  # 127.1, 0x7f000001, 2130706433: a number, not a name
        return []
    if not address.is_global:
        return [PUBLIC_ONLY]
    return []


def _own_endpoint(session: Session, actor: Actor, endpoint_id: int) -> WebhookEndpoint:
    require_bank(actor)
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.bank_org_id != actor.organisation_id:
        raise NotFound()
    return endpoint


def endpoints(session: Session, actor: Actor) -> list[WebhookEndpoint]:
    """The bank's endpoints, newest first (secrets are never shown again)."""
    require_bank(actor)
    return list(session.scalars(select(WebhookEndpoint)
                                .where(WebhookEndpoint.bank_org_id == actor.organisation_id)
                                .order_by(WebhookEndpoint.id.desc())))


def add_endpoint(session: Session, actor: Actor, url: str, events: Sequence[str] = (), *,
                 allow_local: bool = False) -> EndpointSecret:
    """A bank's new endpoint for the events listed (none: all of them), with its secret."""
    require_bank(actor)
    errors: dict[str, list[str]] = {}
    if url_errors := _check_url(url, allow_local=allow_local):
        errors["url"] = url_errors
    chosen = sorted(set(events or ()))
    if set(chosen) - set(EVENT_TYPES):
        errors["events"] = [N_("Choose among the mall's event types.")]
    if errors:
        raise ValidationFailed(errors=errors)
    secret = _new_secret()
    endpoint = WebhookEndpoint(bank_org_id=actor.organisation_id, url=url, secret=secret,
                               events=chosen, active=True)
    session.add(endpoint)
    session.flush()
    record_event(session, action="webhook_endpoint.added", object_type="finance_webhook_endpoint",
                 object_id=endpoint.id, actor=actor, data={"url": url, "events": chosen})
    return EndpointSecret(endpoint, secret)


def rotate_secret(session: Session, actor: Actor, endpoint_id: int) -> EndpointSecret:
    """A new secret for the endpoint, signing every attempt from now on."""
    endpoint = _own_endpoint(session, actor, endpoint_id)
    endpoint.secret = _new_secret()
    record_event(session, action="webhook_endpoint.secret_rotated",
                 object_type="finance_webhook_endpoint", object_id=endpoint.id, actor=actor)
    return EndpointSecret(endpoint, endpoint.secret)


def deactivate(session: Session, actor: Actor, endpoint_id: int) -> WebhookEndpoint:
    """Stop sending to the endpoint; its pending deliveries fail (replayable elsewhere)."""
    endpoint = _own_endpoint(session, actor, endpoint_id)
    if not endpoint.active:
        raise Conflict(N_("This endpoint is already switched off."), code="endpoint_inactive")
    endpoint.active = False
    session.execute(update(WebhookDelivery)
                    .where(WebhookDelivery.endpoint_id == endpoint.id,
                           WebhookDelivery.status == DeliveryStatus.PENDING)
                    .values(status=DeliveryStatus.FAILED,
                            last_error=N_("The endpoint was switched off."))
                    .execution_options(synchronize_session=False))
    record_event(session, action="webhook_endpoint.deactivated",
                 object_type="finance_webhook_endpoint", object_id=endpoint.id, actor=actor)
    return endpoint


def deliveries(session: Session, actor: Actor, *, status: str | None = None,
               limit: int = 100) -> list[WebhookDelivery]:
    """The delivery log of the bank's endpoints, newest first, optionally of one status."""
    require_bank(actor)
    query = (select(WebhookDelivery).join(WebhookEndpoint,
                                          WebhookEndpoint.id == WebhookDelivery.endpoint_id)
             .where(WebhookEndpoint.bank_org_id == actor.organisation_id))
    if status:
        try:
            query = query.where(WebhookDelivery.status == DeliveryStatus(status))
        except ValueError:
            raise ValidationFailed(errors={"status": [N_("Choose pending, delivered or failed.")]}
                                   ) from None
    return list(session.scalars(query.order_by(WebhookDelivery.id.desc())
                                .limit(max(1, min(limit, 1000)))))


def replay(session: Session, actor: Actor, delivery_id: int) -> WebhookDelivery:
    """Send a delivered or failed event again, as it was (same id), with fresh retries."""
    require_bank(actor)
    delivery = session.get(WebhookDelivery, delivery_id)
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id) if delivery else None
    if delivery is None or endpoint is None or endpoint.bank_org_id != actor.organisation_id:
        raise NotFound()
    if delivery.status is DeliveryStatus.PENDING:
        raise Conflict(N_("This event is still being delivered."), code="delivery_pending")
    if not endpoint.active:
        raise Conflict(N_("This endpoint is switched off."), code="endpoint_inactive")
    delivery.status, delivery.attempts, delivery.next_attempt_at = (DeliveryStatus.PENDING, 0,
                                                                    now())
    record_event(session, action="webhook_delivery.replayed",
                 object_type="finance_webhook_delivery", object_id=delivery.id, actor=actor,
                 data={"event_id": delivery.event_id})
    session.flush()
    return delivery
