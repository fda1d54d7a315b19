"""Pages of bidding rounds for purchasing units, operators and supervisors: the round form
(from the cart or blank, or re-running a failed round), the list of rounds and the round page
(sealed while open: the number of quotes and nothing else), with the unit's actions.

The suppliers' pages (bidding_rounds.supplier_views) and the operator's settings
(bidding_rounds.oversight_views) register on the same blueprint; the app imports this module
only, so it imports them at the end."""

from __future__ import annotations

import dataclasses
import secrets
from datetime import timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from bidding_rounds import awards, rounds
from bidding_rounds import settings as round_settings
from bidding_rounds.eligibility import live_agreements
from bidding_rounds.forms import BLANK_ROWS, ITEM_FIELDS, read_round_form
from bidding_rounds.models import BiddingRound, RoundStatus
from bidding_rounds.page_helpers import (
    PAGE_SIZE,
    category_names,
    leaf_choices,
    local_input,
    organisation_names,
    translated_errors,
)
from bidding_rounds.pages import blueprint
from mall.accounts.models import Organisation
from mall.core.auth import BUYERS, OVERSIGHT_STAFF, UNIT_STAFF, Actor
from mall.core.clock import local_today, now
from mall.core.errors import MallError, NotFound, ValidationFailed
from mall.core.inputs import page_number, whole_number
from mall.core.money import yuan_text
from mall.extensions import db
from mall.purchasing.budget import services as budget
from mall.purchasing.orders import cart
from mall.web import current_actor, page
from mall.web.unit_of_work import discard_changes

READERS = (*UNIT_STAFF, *OVERSIGHT_STAFF)


# -- the round form -----------------------------------------------------------------------------

def _blank_rows(count: int) -> list[dict[str, str]]:
    return [dict.fromkeys((*ITEM_FIELDS, "product_id"), "") for _ in range(count)]


def _defaults(actor: Actor) -> dict[str, str]:
    config = round_settings.current(db.session())
    unit = db.session().get(Organisation, actor.organisation_id)
    return {"mode": "quick", "delivery_days": "7", "sme_deduction_pct": "10",
            "region_code": (unit.region_code if unit else "") or "",
            "deadline": local_input(now() + timedelta(hours=config.default_window_hours))}


def _from_round(source: BiddingRound) -> tuple[dict[str, str], list[dict[str, str]]]:
    """A failed (or cancelled) round's form values, to run it again."""
    form = {"mode": source.mode.value, "title": source.title,
            "budget_line_id": str(source.budget_line_id), "ceiling": yuan_text(source.ceiling_fen),
            "region_code": source.region_code, "delivery_address": source.delivery_address,
            "contact": source.contact, "delivery_days": str(source.delivery_days),
            "sme_deduction_pct": str(source.sme_deduction_pct),
            "sme_reserved": "1" if source.sme_reserved else "", "rerun_of_id": str(source.id)}
    rows = [{"category_code": item.category_code, "name": item.name, "spec": item.spec,
             "quantity": str(item.quantity), "unit": item.unit,
             "product_id": str(item.product_id or "")} for item in source.items]
    return form, rows


def _framework_members(codes: set[str]) -> list[tuple[str, list[tuple[int, str]]]]:
    """(agreement, its members) under which the typed items could be bought, for inviting."""
    if len(codes) != 1:
        return []
    found = []
    for agreement in live_agreements(db.session(), next(iter(codes)), local_today()):
        names = organisation_names(db.session(), [m.supplier_id for m in agreement.members])
        found.append((f"{agreement.number} {agreement.title}",
                      sorted(names.items(), key=lambda pair: pair[1])))
    return found


def _render_form(actor: Actor, form: Any, rows: list[dict[str, str]], *,
                 errors: dict[str, list[str]] | None = None, refusals: list[str] | None = None,
                 status: int = 200):
    session = db.session()
    codes = {row["category_code"].upper() for row in rows if row.get("category_code")}
    lines = budget.budget_lines(session, actor, fiscal_year=local_today().year)
    leaves = leaf_choices(session)
    names = dict(leaves)
    names.update(category_names(session, codes | {line.category_code for line in lines}))
    invited = {str(v) for v in (form.getlist("invited_supplier_ids")
                                if hasattr(form, "getlist") else [])}
    return render_template(
        "bidding_rounds/new.html", form=form, rows=rows, errors=errors or {},
        token=form.get("token") or secrets.token_urlsafe(24),
        refusals=refusals or [], lines=lines, leaves=leaves, names=names,
        agreements=_framework_members(codes), invited=invited,
        year=local_today().year), status


@blueprint.route("/new", methods=["GET", "POST"])
@page(*BUYERS)
def new_round():
    """The round form: from the cart (?from_cart=1), re-running a round (?rerun=<id>), or blank;
    publishing it reserves the ceiling and opens the round for quotes."""
    actor = current_actor()
    rounds.require_buyer(actor)
    if request.method == "POST":
        return _submit_round(actor)
    form: dict[str, str] = _defaults(actor)
    rows: list[dict[str, str]] = []
    rerun = whole_number(request.args.get("rerun"), low=1)
    if rerun:
        values, rows = _from_round(rounds.get_round(db.session(), actor, rerun))
        form.update(values)
    elif request.args.get("from_cart") == "1":
        rows = [{"category_code": item.category_code, "name": item.name, "spec": item.spec,
                 "quantity": str(item.quantity), "unit": item.unit,
                 "product_id": str(item.product_id or "")}
                for item in rounds.items_from_cart(db.session(), actor)]
        if not rows:
            flash(_("Your cart is empty."), "info")
            return redirect(url_for("purchasing.cart_page"))
        form.update(from_cart="1", ceiling=yuan_text(rounds.cart_total(db.session(), actor)),
                    title=rows[0]["name"] if len(rows) == 1 else "")
    rows += _blank_rows(1 if rows else BLANK_ROWS)
    return _render_form(actor, MultiDict(form), rows)


def _submit_round(actor: Actor):
    form = request.form
    read = read_round_form(form)
    if form.get("add_row"):  # "add an item" without a script: the same form, one more row
        return _render_form(actor, form, read.rows + _blank_rows(1))
    errors = dict(read.errors)
    refusals: list[str] = []
    bidding_round = None
    try:
        data = dataclasses.replace(read.data, token=form.get("token") or None)
        bidding_round = rounds.create_round(db.session(), actor, data)
    except NotFound:
        errors.setdefault("budget_line_id", [_("Choose one of your unit's budget lines.")])
    except ValidationFailed as exc:
        errors = {**exc.errors, **errors}  # what could not be read explains itself
    except budget.BudgetExhausted as exc:
        errors.setdefault("budget_line_id", [exc.translated(_)])
    except MallError as exc:  # above the open-tender threshold: no round, and why
        refusals.append(exc.translated(_))
    if errors or refusals or bidding_round is None:
        discard_changes()
        rows = read.rows + _blank_rows(1)
        return _render_form(actor, form, rows, errors=translated_errors(errors),
                            refusals=refusals, status=422)
    if form.get("from_cart") == "1":
        cart.clear(db.session(), actor)  # the cart's lines are now the round's items
    flash(_("Bidding round %(number)s published; suppliers may quote until %(deadline)s.",
            number=bidding_round.number, deadline=local_input(bidding_round.deadline)
            .replace("T", " ")), "success")
    return redirect(url_for(".round_page", round_id=bidding_round.id))


# -- lists and the round page -------------------------------------------------------------------

@blueprint.route("")
@page(*READERS)
def rounds_page():
    """The unit's rounds (oversight: every unit's), newest first, by status."""
    actor = current_actor()
    status = request.args.get("status") or None
    if status not in {s.value for s in RoundStatus}:
        status = None
    number = page_number(request.args.get("page"))
    rows, total = rounds.list_rounds(db.session(), actor, status=status, page=number,
                                     page_size=PAGE_SIZE)
    return render_template("bidding_rounds/list.html", rows=rows, status=status,
                           statuses=[s.value for s in RoundStatus if s is not RoundStatus.CLOSED],
                           names=organisation_names(db.session(), {r.buyer_org_id for r in rows}),
                           page=number, pages=max(1, -(-total // PAGE_SIZE)), total=total)


def _is_buyer_of(actor: Actor, bidding_round: BiddingRound) -> bool:
    return actor.organisation_id == bidding_round.buyer_org_id and actor.has_role(*BUYERS)


def _render_round(round_id: int, *, action: str | None = None,
                  errors: dict[str, list[str]] | None = None, form: Any = None,
                  status: int = 200):
    actor = current_actor()
    session = db.session()
    bidding_round = rounds.get_round(session, actor, round_id)
    sealed = rounds.is_sealed(bidding_round)
    ranked = rounds.ranked_quotes(session, bidding_round)  # empty while sealed
    history = awards.award_history(session, bidding_round) if not sealed else []
    by_quote = {q.id: q for q in ranked}
    names = organisation_names(session, {q.supplier_id for q in ranked}
                               | {bidding_round.buyer_org_id})
    buyer = _is_buyer_of(actor, bidding_round)
    moment = now()
    return render_template(
        "bidding_rounds/round.html", round=bidding_round, sealed=sealed, ranked=ranked,
        history=history, by_quote=by_quote, names=names,
        categories=category_names(session, {i.category_code for i in bidding_round.items}),
        pending=awards.pending_award(session, bidding_round.id) if not sealed else None,
        remaining=max(bidding_round.deadline - moment, timedelta(0)),
        can_cancel=buyer and bidding_round.status is RoundStatus.OPEN
        and bidding_round.deadline > moment,
        can_declare=buyer and bidding_round.status is RoundStatus.AWARDED,
        can_rerun=buyer and bidding_round.status in (RoundStatus.FAILED, RoundStatus.CANCELLED),
        action=action, errors=errors or {}, form=form or {}), status


@blueprint.route("/<int:round_id>")
@page(*READERS)
def round_page(round_id: int):
    """One round: its items and terms; the number of quotes while open; once closed the ranked
    quotes with their prices and the award's history; the unit's actions."""
    return _render_round(round_id)


def _round_action(round_id: int, action: str, call, done: str):
    try:
        call(db.session(), current_actor(), round_id,
             reason=request.form.get("reason", ""))
    except NotFound:
        raise
    except MallError as exc:
        discard_changes()
        errors = translated_errors(exc.errors) if isinstance(exc, ValidationFailed) else {}
        if not errors:
            errors["_form"] = [exc.translated(_)]
        return _render_round(round_id, action=action, errors=errors, form=request.form,
                             status=exc.status)
    flash(done, "success")
    return redirect(url_for(".round_page", round_id=round_id))


@blueprint.route("/<int:round_id>/cancel", methods=["POST"])
@page(*BUYERS)
def cancel_round(round_id: int):
    """The unit withdraws its open round, with a reason (published); the budget is released."""
    return _round_action(round_id, "cancel", rounds.cancel_round,
                         _("The round was cancelled and its budget released."))


@blueprint.route("/<int:round_id>/unresponsive", methods=["POST"])
@page(*BUYERS)
def declare_unresponsive(round_id: int):
    """The unit declares the awarded supplier unresponsive; the award passes to the next."""
    return _round_action(round_id, "unresponsive", awards.declare_unresponsive,
                         _("The supplier was declared unresponsive; the award passed on."))


# The other pages of the blueprint (the app imports this module only).
from bidding_rounds import oversight_views, supplier_views  # noqa: E402,F401,I001
