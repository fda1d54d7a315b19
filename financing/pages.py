"""The page blueprint of contract financing (suppliers' and banks' pages, financing.views) and
the names its pages give to loan statuses, loan steps, consent scopes and read channels."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from financing.products import percent_text

blueprint = Blueprint("financing", __name__, url_prefix="/financing")

LOAN_LABELS = {
    "applied": _l("Application received"), "approved": _l("Approved"),
    "rejected": _l("Not granted (loan)"), "disbursed": _l("Paid out"), "repaid": _l("Fully repaid"),
    "closed": _l("Closed"), "repayment": _l("Repayment"),
    "released": _l("Account lock released by the bank"),
}
SCOPE_LABELS = {"all": _l("All contracts, present and future"), "chosen": _l("Chosen contracts")}
VIA_LABELS = {
    "feed": _l("Contract feed (API)"), "detail": _l("Contract lookup by number (API)"),
    "lookup": _l("Lookup by credit code (API)"), "page": _l("The bank's financing page"),
}

DELIVERY_LABELS = {"pending": _l("Being delivered"), "delivered": _l("Delivered"),
                   "failed": _l("Failed (replay by hand)")}
EVENT_LABELS = {
    "contract.signed": _l("Contract signed"), "order.accepted": _l("Order accepted"),
    "order.invoiced": _l("Order invoiced"), "order.paid": _l("Order paid"),
    "contract.account_changed": _l("Payee account changed"),
    "order.cancelled": _l("Order cancelled"), "order.returned": _l("Order returned"),
}


def delivery_problem(delivery) -> str:
    """Why the last attempt failed, in words (the raw error stays in the API's log)."""
    if delivery.last_status_code:
        return str(_l("The endpoint answered HTTP %(code)s", code=delivery.last_status_code))
    error = delivery.last_error or ""
    if not error:
        return ""
    if "Timeout" in error:
        return str(_l("No answer in time"))
    if "Connection" in error:
        return str(_l("Could not connect to the endpoint"))
    return str(_l("Not delivered"))


def _label(table: Mapping, value) -> str:
    value = getattr(value, "value", value)
    return str(table.get(value, value)) if value is not None else ""


@blueprint.app_context_processor
def inject_financing_helpers():
    # ``financing_pages`` tells base.html and the home page that these pages are registered.
    return {"financing_pages": True, "percent_text": percent_text,
            "loan_label": lambda v: _label(LOAN_LABELS, v),
            "scope_label": lambda v: _label(SCOPE_LABELS, v),
            "via_label": lambda v: _label(VIA_LABELS, v),
            "delivery_label": lambda v: _label(DELIVERY_LABELS, v),
            "event_label": lambda v: _label(EVENT_LABELS, v),
            "delivery_problem": delivery_problem}
