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
            "delivery_label": lambda v: _label(DELIVERY_LABELS, v)}
