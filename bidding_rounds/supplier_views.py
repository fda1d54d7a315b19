"""Pages of bidding rounds for suppliers: the open rounds it may quote in, the quote form
(prefilled with its mall prices or its last quote, with every refusal next to its line), its
quotes with their rank once closed, and the awards waiting for its answer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from bidding_rounds import awards, eligibility, quotes
from bidding_rounds.forms import quote_errors, read_quote_form
from bidding_rounds.models import BiddingRound, RoundStatus
from bidding_rounds.page_helpers import category_names, organisation_names, translated_errors
from bidding_rounds.pages import blueprint
from mall.core.auth import SUPPLIER_STAFF, Actor
from mall.core.clock import local_today, now
from mall.core.errors import Conflict, MallError, ValidationFailed
from mall.core.money import format_fen, yuan_text
from mall.extensions import db
from mall.web import current_actor, page
from mall.web.unit_of_work import discard_changes


@blueprint.route("/opportunities")
@page(*SUPPLIER_STAFF)
def opportunities():
    """Open rounds the supplier may quote in, soonest deadline first, and whether it quoted."""
    session = db.session()
    found = quotes.opportunities(session, current_actor())
    codes = {item.category_code for o in found for item in o.round.items}
    return render_template(
        "bidding_rounds/opportunities.html", rows=found,
        buyers=organisation_names(session, {o.round.buyer_org_id for o in found}),
        categories=category_names(session, codes))


def _prefill(bidding_round: BiddingRound, own, limits) -> dict[str, str]:
    """Each item's price field: the supplier's last quote, else its mall price or the
    agreement's ceiling (the most it may quote)."""
    quoted = {line.item_id: line.unit_price_fen for line in own.lines} if own else {}
    values = {}
    for item in bidding_round.items:
        fen = quoted.get(item.id)
        if fen is None and limits.get(item.id):
            fen = min(cap.fen for cap in limits[item.id])
        values[f"price-{item.id}"] = yuan_text(fen) if fen else ""
    return values


def _render_quote(round_id: int, *, form: Any = None, errors: dict[str, list[str]] | None = None,
                  reasons: list[str] | None = None, status: int = 200):
    actor = current_actor()
    session = db.session()
    bidding_round = quotes.quotable_round(session, round_id)
    own = quotes.own_quote(session, actor, round_id)
    limits = eligibility.caps(session, bidding_round, actor.organisation_id)
    moment = now()
    is_open = bidding_round.status is RoundStatus.OPEN and bidding_round.deadline > moment
    if reasons is None and is_open:
        reasons = eligibility.refusals(session, bidding_round, actor.organisation_id,
                                       today=local_today())
    values = form if form is not None else {**_prefill(bidding_round, own, limits),
                                            "sme_goods": "1" if own and own.sme_goods else ""}
    return render_template(
        "bidding_rounds/quote.html", round=bidding_round, own=own, limits=limits,
        is_open=is_open, reasons=[_translate(r) for r in reasons or []],
        errors=errors or {}, form=values,
        buyer=organisation_names(session, [bidding_round.buyer_org_id]).get(
            bidding_round.buyer_org_id, ""),
        categories=category_names(session, {i.category_code for i in bidding_round.items}),
        remaining=max(bidding_round.deadline - moment, timedelta(0)),
    ), status


def _translate(message: str) -> str:
    return translated_errors({"m": [message]})["m"][0]


@blueprint.route("/<int:round_id>/quote", methods=["GET", "POST"])
@page(*SUPPLIER_STAFF)
def quote_page(round_id: int):
    """The quote form: one unit price per item in yuan and the SME declaration; the supplier
    may revise its quote until the deadline (the last one counts)."""
    if request.method == "GET":
        return _render_quote(round_id)
    actor = current_actor()
    session = db.session()
    bidding_round = quotes.quotable_round(session, round_id)
    read = read_quote_form(request.form, [item.id for item in bidding_round.items])
    if read.errors:
        return _render_quote(round_id, form=request.form, errors=translated_errors(read.errors),
                             status=422)
    origin = quotes.Origin(client_ip=request.remote_addr,
                           user_agent=request.headers.get("User-Agent"),
                           device_fingerprint=read.fingerprint)
    try:
        quote = quotes.submit_quote(session, actor, round_id, lines=read.lines,
                                    sme_goods=read.sme_goods, origin=origin)
    except quotes.NotEligible as exc:
        discard_changes()
        return _render_quote(round_id, form=request.form, reasons=exc.errors.get("round", []),
                             status=exc.status)
    except MallError as exc:
        discard_changes()
        errors = quote_errors(exc.errors, read.lines) if isinstance(exc, ValidationFailed) else {}
        errors = translated_errors(errors)
        if not errors or exc.code == "above_ceiling" or isinstance(exc, Conflict):
            errors.setdefault("_form", []).insert(0, exc.translated(_))
        return _render_quote(round_id, form=request.form, errors=errors, status=exc.status)
    flash(_("Your quote of %(total)s was submitted; you may revise it until the deadline.",
            total=format_fen(quote.total_fen)), "success")
    return redirect(url_for(".quote_page", round_id=round_id))


def _render_my_quotes(actor: Actor, *, errors: dict[str, list[str]] | None = None,
                      form: Any = None, status: int = 200):
    session = db.session()
    mine = quotes.my_quotes(session, actor)
    waiting = awards.awards_to_confirm(session, actor)
    return render_template(
        "bidding_rounds/my_quotes.html", rows=mine, waiting=waiting, errors=errors or {},
        form=form or {},
        buyers=organisation_names(session, {r.buyer_org_id for r, _q in mine}
                                  | {r.buyer_org_id for r, _a, _q in waiting})), status


@blueprint.route("/my-quotes")
@page(*SUPPLIER_STAFF)
def my_quotes():
    """The supplier's quotes (its rank once the round closed) and the awards to confirm."""
    return _render_my_quotes(current_actor())


@blueprint.route("/<int:round_id>/award/confirm", methods=["POST"])
@page(*SUPPLIER_STAFF)
def confirm_award(round_id: int):
    """The winner confirms: the award becomes the unit's order, shown next."""
    try:
        order = awards.confirm_award(db.session(), current_actor(), round_id)
    except MallError as exc:
        discard_changes()
        flash(exc.translated(_), "error")
        return redirect(url_for(".my_quotes"))
    flash(_("Award confirmed: order %(number)s was made at your quoted prices.",
            number=order.number), "success")
    return redirect(url_for("purchasing.order_page", order_id=order.id))


@blueprint.route("/<int:round_id>/award/decline", methods=["POST"])
@page(*SUPPLIER_STAFF)
def decline_award(round_id: int):
    """The winner declines with a reason; the award passes to the next in rank."""
    actor = current_actor()
    try:
        awards.decline_award(db.session(), actor, round_id, reason=request.form.get("reason", ""))
    except ValidationFailed as exc:
        discard_changes()
        reason = translated_errors(exc.errors).get("reason") or [exc.translated(_)]
        errors = {f"reason-{round_id}": reason}
        return _render_my_quotes(actor, errors=errors, form=request.form, status=422)
    except MallError as exc:
        discard_changes()
        flash(exc.translated(_), "error")
        return redirect(url_for(".my_quotes"))
    flash(_("You declined the award; it passes to the next in rank."), "success")
    return redirect(url_for(".my_quotes"))
