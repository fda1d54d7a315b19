"""Pages of contract financing. Suppliers (/financing): the banks' products, consents (grant,
revoke), their contracts with an "apply for financing" link, loans per contract with their
steps, and the access log. Banks (/financing/bank): consenting suppliers, loans with a form
per step, products; /financing/bank/contracts: the contracts it may read now (logged).

A refused form renders its page again with the errors next to the form that was sent (the
request commits nothing); a done step redirects with a message."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from financing import consent, loans, portfolio, products, webhook_endpoints
from financing.pages import blueprint
from mall.core.auth import SUPPLIER_STAFF, Actor, Role
from mall.core.clock import now as clock_now
from mall.core.errors import MallError, NotFound, ValidationFailed, translate_field_message
from mall.core.inputs import whole_number
from mall.core.money import POSITIVE_AMOUNT, parse_yuan, within
from mall.extensions import db
from mall.i18n_messages import N_
from mall.web import current_actor, page
from mall.web.unit_of_work import discard_changes

LOAN_STEPS = ("approve", "reject", "disburse", "repay", "close", "release")


def _errors(exc: MallError) -> dict[str, list[str]]:
    """A refusal's messages in the user's language, by field ("_form": not a field's)."""
    found = {key: [translate_field_message(m, _) for m in messages]
             for key, messages in (exc.errors if isinstance(exc, ValidationFailed) else {}).items()}
    return found or {"_form": [exc.translated(_)]}


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def _fen(text: str | None) -> int | None:
    """Yuan typed into a form as fen; None (refused by the service) if it is no amount."""
    try:
        fen = parse_yuan(text or "")
    except ValueError:
        return None
    return fen if within(fen, POSITIVE_AMOUNT) else None


def _act(call: Callable[[], Any], done: str, back: str, render: Callable[..., Any],
         target: str):
    """Run one service call; on refusal render the page again with the errors at ``target``."""
    try:
        call()
    except NotFound:
        raise
    except MallError as exc:
        discard_changes()
        return render(target=target, errors=_errors(exc), form=request.form, status=exc.status)
    flash(done, "success")
    return redirect(back)


# -- the supplier's page -------------------------------------------------------------------

def _render_supplier(*, target: str = "", errors: Mapping | None = None, form: Any = None,
                     status: int = 200):
    actor = current_actor()
    session = db.session()
    contracts = portfolio.supplier_contracts(session, actor)
    consents = consent.consents_of(session, actor)
    own_loans = loans.loans_of(session, actor)
    admin = actor.has_role(Role.SUPPLIER_ADMIN)
    access = consent.access_log(session, actor, limit=200)
    offered = products.active_products(session)
    by_order: dict[int, list] = {}
    for loan in own_loans:
        by_order.setdefault(loan.order_id, []).append(loan)
    names = portfolio.organisation_names(
        session, {c.bank_org_id for c in consents} | {r.bank_org_id for r in access}
        | {loan.bank_org_id for loan in own_loans})
    numbers = portfolio.contract_numbers(
        session, {r.order_id for r in access} | {o.order_id for c in consents for o in c.orders})
    return render_template(
        "financing/supplier.html", contracts=contracts, consents=consents, loans=by_order,
        access=access, products=offered, names=names, numbers=numbers, admin=admin,
        banks=portfolio.finance_partners(session) if admin else [],
        target=target, errors=errors or {}, form=form or {}, now=clock_now()), status


@blueprint.route("")
@page(*SUPPLIER_STAFF)
def supplier_page():
    """The supplier's financing: products, consents, contracts and loans, the access log."""
    return _render_supplier()


@blueprint.route("/consents", methods=["POST"])
@page(Role.SUPPLIER_ADMIN)
def grant_consent():
    """The supplier lets a bank read all its contracts or the chosen ones, until a date."""
    form = request.form
    ids = [i for i in (whole_number(v, low=1) for v in form.getlist("order_ids")) if i]
    bank_id = whole_number(form.get("bank_org_id"), low=1) or 0
    return _act(lambda: consent.grant(db.session(), current_actor(), bank_org_id=bank_id,
                                      scope=form.get("scope", ""), order_ids=ids,
                                      expires_on=_day(form.get("expires_on"))),  # type: ignore[arg-type]  # None is refused by grant
                _("Access granted."), url_for(".supplier_page"), _render_supplier, "grant")


@blueprint.route("/consents/<int:consent_id>/revoke", methods=["POST"])
@page(Role.SUPPLIER_ADMIN)
def revoke_consent(consent_id: int):
    """The supplier revokes a consent: the bank's next read finds none of its contracts."""
    return _act(lambda: consent.revoke(db.session(), current_actor(), consent_id),
                _("Access revoked."), url_for(".supplier_page"), _render_supplier,
                f"consent-{consent_id}")


def _render_apply(order_id: int, *, target: str = "", errors: Mapping | None = None,
                  form: Any = None, status: int = 200):
    session = db.session()
    row = portfolio.supplier_contract(session, current_actor(), order_id)
    offered = [(product, bank, loans.loan_cap(row.value_fen, product))
               for product, bank in products.active_products(session)]
    return render_template("financing/apply.html", row=row, products=offered,
                           errors=errors or {}, form=form or {}), status


@blueprint.route("/apply/<int:order_id>", methods=["GET", "POST"])
@page(Role.SUPPLIER_ADMIN)
def apply_page(order_id: int):
    """Apply for financing against one signed contract, to one bank's product."""
    if request.method == "GET":
        return _render_apply(order_id)
    form = request.form
    return _act(lambda: loans.apply_for_loan(
        db.session(), current_actor(), order_id=order_id,
        product_id=whole_number(form.get("product_id"), low=1) or 0,
        amount_fen=_fen(form.get("amount")) or 0, note=form.get("note", "")),
        _("Your application was sent to the bank."), url_for(".supplier_page"),
        lambda **kw: _render_apply(order_id, **kw), "apply")


# -- the bank's pages ----------------------------------------------------------------------

def _render_bank(*, target: str = "", errors: Mapping | None = None, form: Any = None,
                 status: int = 200):
    actor: Actor = current_actor()
    session = db.session()
    consent.require_bank(actor)
    received = consent.consents_of(session, actor)
    given = loans.loans_of(session, actor)
    names = portfolio.organisation_names(session, {c.supplier_id for c in received}
                                         | {loan.supplier_id for loan in given})
    numbers = portfolio.contract_numbers(session, {loan.order_id for loan in given})
    return render_template(
        "financing/bank.html", consents=received, loans=given, names=names, numbers=numbers,
        products=products.products_of_bank(session, actor), steps=loans.STEP_STATES,
        released=loans.lock_released, target=target, errors=errors or {}, form=form or {},
        webhooks=_webhooks(actor)), status


def _webhooks(actor: Actor) -> dict[str, Any]:
    """The bank's webhook endpoints and the latest deliveries to them."""
    session = db.session()
    return {"endpoints": webhook_endpoints.endpoints(session, actor),
            "deliveries": webhook_endpoints.deliveries(session, actor, limit=50)}


@blueprint.route("/bank")
@page(Role.BANK_USER)
def bank_page():
    """The bank's financing: consenting suppliers, loans with their steps, its products."""
    return _render_bank()


@blueprint.route("/bank/contracts")
@page(Role.BANK_USER)
def bank_contracts():
    """The contracts of consenting suppliers the bank may read now, with acceptance and
    payment; every contract shown is logged as read."""
    rows = portfolio.bank_portfolio(db.session(), current_actor())
    return render_template("financing/bank_contracts.html", suppliers=rows)


@blueprint.route("/bank/deliveries/<int:delivery_id>/replay", methods=["POST"])
@page(Role.BANK_USER)
def replay_delivery(delivery_id: int):
    """The bank sends a delivered or failed webhook event again."""
    return _act(lambda: webhook_endpoints.replay(db.session(), current_actor(), delivery_id),
                _("The event will be sent again."), url_for(".bank_page", _anchor="webhooks"),
                _render_bank, f"delivery-{delivery_id}")


@blueprint.route("/bank/products", methods=["POST"])
@page(Role.BANK_USER)
def create_product():
    """The bank offers a new product."""
    return _act(lambda: products.create_product(db.session(), current_actor(),
                                                products.product_data(request.form)),
                _("The product was published."), url_for(".bank_page"), _render_bank,
                "product-new")


@blueprint.route("/bank/products/<int:product_id>", methods=["POST"])
@page(Role.BANK_USER)
def update_product(product_id: int):
    """The bank changes one of its products."""
    return _act(lambda: products.update_product(db.session(), current_actor(), product_id,
                                                products.product_data(request.form)),
                _("The product was saved."), url_for(".bank_page"), _render_bank,
                f"product-{product_id}")


@blueprint.route("/bank/products/<int:product_id>/deactivate", methods=["POST"])
@page(Role.BANK_USER)
def deactivate_product(product_id: int):
    """The bank withdraws one of its products."""
    return _act(lambda: products.deactivate_product(db.session(), current_actor(), product_id),
                _("The product was withdrawn."), url_for(".bank_page"), _render_bank,
                f"product-{product_id}")


def _loan_step(step: str, loan_id: int) -> Callable[[], Any]:
    form, session, actor = request.form, db.session(), current_actor()
    calls: dict[str, Callable[[], Any]] = {
        "approve": lambda: loans.approve(
            session, actor, loan_id, amount_fen=_fen(form.get("amount")) or 0,
            rate_bp=products.rate_bp(form.get("rate")) or 0,
            term_days=whole_number(form.get("term_days"), low=1) or 0,
            note=form.get("note", "")),
        "reject": lambda: loans.reject(session, actor, loan_id, reason=form.get("reason", "")),
        "disburse": lambda: loans.disburse(
            session, actor, loan_id, amount_fen=_fen(form.get("amount")) or 0,
            value_date=_day(form.get("value_date")),  # type: ignore[arg-type]  # None is refused
            bank_name=form.get("bank_name", ""), account_name=form.get("account_name", ""),
            account_number=form.get("account_number", ""),
            bank_reference=form.get("bank_reference", "")),
        "repay": lambda: loans.repay(
            session, actor, loan_id, amount_fen=_fen(form.get("amount")) or 0,
            on_day=_day(form.get("on_day"))),  # type: ignore[arg-type]  # None is refused
        "close": lambda: loans.close(session, actor, loan_id, note=form.get("note", "")),
        "release": lambda: loans.release_lock_by_consent(session, actor, loan_id,
                                                         reason=form.get("reason", "")),
    }
    return calls[step]


DONE = {
    "approve": N_("The loan was approved."), "reject": N_("The application was rejected."),
    "disburse": N_("The payout was recorded; the contract's payee account is locked."),
    "repay": N_("The repayment was recorded."), "close": N_("The loan was closed."),
    "release": N_("The payee account lock was released."),
}


@blueprint.route("/bank/loans/<int:loan_id>/<step>", methods=["POST"])
@page(Role.BANK_USER)
def loan_step(loan_id: int, step: str):
    """One step of a loan by its bank: approve, reject, disburse, repay, close, release."""
    if step not in LOAN_STEPS:
        raise NotFound()
    return _act(_loan_step(step, loan_id), _(DONE[step]),
                url_for(".bank_page", _anchor=f"loan-{loan_id}"), _render_bank,
                f"loan-{loan_id}-{step}")
