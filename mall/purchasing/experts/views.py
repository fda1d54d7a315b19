"""Pages of random expert acceptance, on the purchasing blueprint.

Operator (the supervisor reads): /experts the pool, its rule and each expert's ties;
/expert-draws the orders waiting for a draw and the draws made; /expert-draws/<order> the
draw of one order with those excluded and why, and the check that its seed gives the same
panel again. Buyer: "ask for expert acceptance" on its order page (the order page shows the
panel through ``expert_panel``). Expert: /expert/assignments its work list and the review
form of each order it was drawn for.

A refused form renders its page again with the errors next to the fields and what was typed
(the request commits nothing); a done step redirects with a message."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from mall.core.auth import OVERSIGHT_STAFF, Role
from mall.core.errors import MallError, NotFound, ValidationFailed, translate_field_message
from mall.core.inputs import whole_number
from mall.core.money import POSITIVE_AMOUNT, read_yuan
from mall.extensions import db
from mall.i18n_messages import N_
from mall.purchasing.experts import pool, reviews, services
from mall.purchasing.orders import queries
from mall.purchasing.orders import steps as order_steps
from mall.purchasing.orders.views import _render_order as render_order
from mall.purchasing.pages import blueprint
from mall.web import current_actor, optional_actor, page
from mall.web.unit_of_work import discard_changes

# The new organisation kind and role, named in words wherever kinds and roles are shown.
KIND_AND_ROLE_NAMES = [N_("expert_pool"), N_("expert")]
LABELS = {
    **{key: _l(text) for key, text in services.EXCLUSION_REASONS.items()},
    **{key: _l(text) for key, text in services.BASIS_LABELS.items()},
}


def _errors(exc: MallError) -> dict[str, list[str]]:
    found = {key: [translate_field_message(m, _) for m in messages]
             for key, messages in (exc.errors if isinstance(exc, ValidationFailed) else {}).items()}
    return found or {"_form": [exc.translated(_)]}


def _act(call: Callable[[], Any], done: str, back: str, render: Callable[..., Any], target: str):
    """One service call; on refusal the page again with the errors at ``target``."""
    try:
        call()
    except NotFound:
        raise
    except MallError as exc:
        discard_changes()
        return render(target=target, errors=_errors(exc), form=request.form, status=exc.status)
    flash(done, "success")
    return redirect(back)


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "").strip()) if (text or "").strip() else None
    except ValueError:
        raise ValidationFailed(errors={"until": ["Not a valid date."]}) from None


@blueprint.app_context_processor
def inject_expert_helpers():
    def expert_panel(order):
        actor = optional_actor()
        return None if actor is None else reviews.panel_view(db.session(), actor, order)

    return {"expert_panel": expert_panel, "expert_label": lambda key: str(LABELS.get(key, key))}


# -- the pool (operator; the supervisor reads) ------------------------------------------------

def _render_pool(*, target: str = "", errors: Mapping | None = None, form: Any = None,
                 status: int = 200):
    session = db.session()
    actor = current_actor()
    experts = pool.list_experts(session, actor)
    org_ids = ({e.employer_org_id for e in experts if e.employer_org_id}
               | {t.organisation_id for e in experts for t in e.ties})
    return render_template(
        "purchasing/experts/pool.html", experts=experts, rule=services.current_rule(session),
        names=queries.organisation_names(session, org_ids),
        logins=pool.expert_logins(session, experts),
        operator=actor.has_role(Role.OPERATOR), target=target, errors=errors or {},
        form=form or {}), status


@blueprint.route("/experts")
@page(*OVERSIGHT_STAFF)
def experts_page():
    """The expert pool with each expert's categories and ties, and the rule."""
    return _render_pool()


@blueprint.route("/experts/rule", methods=["POST"])
@page(Role.OPERATOR)
def update_expert_rule():
    """The operator sets the amount from which orders need experts, and the panel size."""
    form = request.form

    def call():
        threshold = read_yuan(form.get("threshold"), POSITIVE_AMOUNT, "threshold")
        size = whole_number(form.get("panel_size"), low=1, high=9)
        services.update_rule(db.session(), current_actor(), threshold_fen=threshold,
                             panel_size=size)

    return _act(call, _("Rule saved."), url_for(".experts_page"), _render_pool, "rule")


@blueprint.route("/experts", methods=["POST"])
@page(Role.OPERATOR)
def add_expert():
    """The operator adds an expert (a login of the pool) with its categories."""
    form = request.form
    return _act(lambda: pool.add_expert(
        db.session(), current_actor(), login=form.get("login", ""), name=form.get("name", ""),
        password=form.get("password", ""), employer_name=form.get("employer_name", ""),
        employer_credit_code=form.get("employer_credit_code", ""),
        category_codes=form.get("category_codes", ""), email=form.get("email", "")),
        _("Expert added to the pool."), url_for(".experts_page"), _render_pool, "add")


@blueprint.route("/experts/<int:expert_id>/ties", methods=["POST"])
@page(Role.OPERATOR)
def add_expert_tie(expert_id: int):
    """The operator records a tie the expert declared."""
    form = request.form
    return _act(lambda: pool.add_tie(
        db.session(), current_actor(), expert_id, credit_code=form.get("credit_code", ""),
        note=form.get("note", ""), until=_day(form.get("until"))),
        _("Tie recorded: the expert is not drawn for that organisation's orders."),
        url_for(".experts_page") + f"#expert-{expert_id}", _render_pool, f"tie-{expert_id}")


@blueprint.route("/experts/<int:expert_id>/active", methods=["POST"])
@page(Role.OPERATOR)
def set_expert_active(expert_id: int):
    """The operator takes an expert out of the pool, or back into it."""
    active = request.form.get("active") == "1"
    return _act(lambda: pool.set_active(db.session(), current_actor(), expert_id,
                                            active=active),
                _("Expert back in the pool.") if active else _("Expert taken out of the pool."),
                url_for(".experts_page") + f"#expert-{expert_id}", _render_pool,
                f"expert-{expert_id}")


# -- draws (operator; the supervisor reads) ---------------------------------------------------

@blueprint.route("/expert-draws")
@page(*OVERSIGHT_STAFF)
def expert_draws_page():
    """Orders that need experts and have none drawn; the draws made, newest first."""
    session = db.session()
    actor = current_actor()
    waiting = services.orders_needing_draw(session, actor)
    draws = services.recent_draws(session, actor)
    numbers = services.order_numbers(session, [d.order_id for d in draws])
    names = queries.organisation_names(session, {o.buyer_org_id for o in waiting}
                                       | {o.supplier_id for o in waiting})
    return render_template("purchasing/experts/draws.html", waiting=waiting, draws=draws,
                           numbers=numbers, names=names,
                           requested=services.requested_ids(session, [o.id for o in waiting]),
                           rule=services.current_rule(session))


def _render_draw(order_id: int, *, target: str = "", errors: Mapping | None = None,
                 form: Any = None, status: int = 200):
    session = db.session()
    actor = current_actor()
    order = order_steps.get_order(session, actor, order_id)
    draw = services.get_draw(session, actor, order_id)
    state = services.requirement(session, order)
    ids: set[int] = set()
    if draw is not None:
        ids = set(draw.eligible_ids) | {e["expert_id"] for e in draw.excluded}
    return render_template(
        "purchasing/experts/draw.html", order=order, draw=draw, state=state,
        experts=services.expert_names(session, ids),
        names=queries.organisation_names(session, {order.buyer_org_id, order.supplier_id}),
        reproduction=services.reproduce(draw) if draw is not None else None,
        panel=reviews.panel_view(session, actor, order),
        operator=actor.has_role(Role.OPERATOR), target=target, errors=errors or {},
        form=form or {}), status


@blueprint.route("/expert-draws/<int:order_id>")
@page(*OVERSIGHT_STAFF)
def expert_draw_page(order_id: int):
    """One order's draw: the eligible and the excluded with why, the panel, the reproduction."""
    return _render_draw(order_id)


@blueprint.route("/expert-draws/<int:order_id>", methods=["POST"])
@page(Role.OPERATOR)
def draw_experts(order_id: int):
    """The operator draws the order's experts (with the seed given, or a random one)."""
    return _act(lambda: services.draw_experts(db.session(), current_actor(), order_id,
                                              seed=request.form.get("seed", "")),
                _("Experts drawn."), url_for(".expert_draw_page", order_id=order_id),
                lambda **kw: _render_draw(order_id, **kw), "draw")


# -- the buyer's request ---------------------------------------------------------------------

@blueprint.route("/orders/<int:order_id>/experts-request", methods=["POST"])
@page(Role.BUYER, Role.APPROVER)
def request_experts(order_id: int):
    """The buyer asks for expert acceptance of its order."""
    return _act(lambda: services.request_experts(db.session(), current_actor(), order_id,
                                                 reason=request.form.get("reason", "")),
                _("Expert acceptance requested: the operator draws the experts."),
                url_for(".order_page", order_id=order_id) + "#experts",
                lambda **kw: render_order(order_id, action="experts-request",
                                          errors=kw["errors"], form=kw["form"],
                                          status=kw["status"]), "experts-request")


# -- the expert's work list and review --------------------------------------------------------

@blueprint.route("/expert/assignments")
@page(Role.EXPERT)
def expert_assignments():
    """The orders the expert was drawn for, those to sign first."""
    session = db.session()
    rows = reviews.assignments(session, current_actor())
    names = queries.organisation_names(session, {a.order.buyer_org_id for a in rows}
                                       | {a.order.supplier_id for a in rows})
    return render_template("purchasing/experts/assignments.html", rows=rows, names=names)


def _render_assignment(draw_id: int, *, target: str = "", errors: Mapping | None = None,
                       form: Any = None, status: int = 200):
    session = db.session()
    mine = reviews.assignment(session, current_actor(), draw_id)
    return render_template(
        "purchasing/experts/assignment.html", mine=mine,
        names=queries.organisation_names(session, {mine.order.buyer_org_id,
                                                   mine.order.supplier_id}),
        target=target, errors=errors or {}, form=form or {}), status


@blueprint.route("/expert/assignments/<int:draw_id>")
@page(Role.EXPERT)
def expert_assignment(draw_id: int):
    """One order the expert was drawn for: its goods and the review form."""
    return _render_assignment(draw_id)


@blueprint.route("/expert/assignments/<int:draw_id>", methods=["POST"])
@page(Role.EXPERT)
def sign_review(draw_id: int):
    """The expert signs its acceptance: result, quantities accepted, opinion."""
    form = request.form
    quantities: dict[int, object] = {}
    for key in form:
        if key.startswith("quantity-"):
            line_id = whole_number(key.removeprefix("quantity-"), low=1)
            if line_id is not None:
                value = whole_number(form.get(key))
                quantities[line_id] = value if value is not None else form.get(key)
    return _act(lambda: reviews.record_review(db.session(), current_actor(), draw_id,
                                              result=form.get("result", ""),
                                              quantities=quantities,
                                              opinion=form.get("opinion", "")),
                _("Your acceptance is signed."), url_for(".expert_assignments"),
                lambda **kw: _render_assignment(draw_id, **kw), "review")
