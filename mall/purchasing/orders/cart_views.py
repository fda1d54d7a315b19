"""Pages of the cart and the checkout: lines grouped by supplier with the limit standing,
quantities, and the checkout into one order per supplier."""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from catalog.search_forms import CartAddSchema
from mall.core.auth import BUYERS
from mall.core.errors import MallError, NotFound, ValidationFailed
from mall.core.inputs import MAX_ID, whole_number
from mall.core.money import format_fen
from mall.extensions import db
from mall.purchasing.budget import limits
from mall.purchasing.budget import services as budget
from mall.purchasing.orders import cart, checkout
from mall.purchasing.pages import blueprint
from mall.web import current_actor, load_form, page
from mall.web.security import safe_next
from mall.web.unit_of_work import discard_changes


def _say(messages) -> str:
    return "; ".join(_(m) for m in messages)


def _int(text) -> int | None:
    """A whole number typed into a form (ids, quantities, days: INTEGER columns); None if it
    is none or out of that range (a field error, never an overflow in the database driver)."""
    return whole_number(None if text is None else str(text), low=-MAX_ID, high=MAX_ID)


# -- cart ---------------------------------------------------------------------------------------

@blueprint.route("/cart/add", methods=["POST"])
@page(*BUYERS)
def cart_add():
    """Put an offer in the cart from the product page, then go back there."""
    actor = current_actor()
    back = safe_next(request.form.get("next"), url_for("catalog.search"))
    try:
        data = load_form(CartAddSchema(), request.form.to_dict())
        cart.add_item(db.session(), actor, offer_id=data["offer_id"], quantity=data["quantity"])
    except NotFound:
        discard_changes()
        flash(_("This offer is no longer available."), "error")
        return redirect(back)
    except cart.OutOfStock as exc:
        discard_changes()
        flash(_("Not added to your cart: %(reason)s", reason=exc.translated(_)), "error")
        return redirect(back)
    except ValidationFailed as exc:
        discard_changes()
        reason = _say(sum(exc.errors.values(), [])) or exc.translated(_)
        flash(_("Not added to your cart: %(reason)s", reason=reason), "error")
        return redirect(back)
    flash(_("Added to your cart (%(count)d items).", count=cart.count_items(db.session(), actor)),
          "success")
    return redirect(back)


def limit_notes(preview: checkout.CheckoutPreview) -> list[tuple[str, str]]:
    """(level, message) for each category near or past the direct-purchase limit and each
    supplier's order past it; "error" blocks checking out, "warning" only tells."""
    notes = []
    for check in preview.checks:
        if check.blocked:  # the very refusal checkout would give
            notes.append(("error", limits.limit_exceeded(check).translated(_)))
        elif check.warning:
            notes.append(("warning", _(
                "Category %(code)s: with this cart the unit's direct purchases this fiscal year "
                "reach %(after)s, %(percent)d%% of the direct-purchase limit of %(limit)s.",
                code=check.category_code, after=format_fen(check.after_fen),
                percent=check.after_fen * 100 // check.limit_fen, limit=format_fen(check.limit_fen))))
    limit = preview.checks[0].limit_fen if preview.checks else None
    for group in preview.cart.groups:
        if limit is not None and group.total_fen > limit:
            notes.append(("error", _(limits.ORDER_LIMIT_MESSAGE, supplier=group.supplier_name,
                                     order=format_fen(group.total_fen), limit=format_fen(limit))))
    if preview.open_tender is not None:  # no bidding round either
        notes.append(("error", preview.open_tender.translated(_)))
    return notes


def line_problems(preview: checkout.CheckoutPreview) -> dict[int, str]:
    """Offer id → what stops that cart line from being bought."""
    problems = {}
    for group in preview.cart.groups:
        for line in group.lines:
            if not line.available:
                problems[line.offer_id] = _("No longer on sale; remove it from the cart.")
            elif line.short_of_stock:
                problems[line.offer_id] = _("Only %(stock)d in stock.", stock=line.stock)
    return problems


def _render_cart(errors=None, typed=None, status=200):
    preview = checkout.preview(db.session(), current_actor())
    return render_template("purchasing/cart.html", preview=preview, notes=limit_notes(preview),
                           problems=line_problems(preview), errors=errors or {},
                           typed=typed or {}), status


@blueprint.route("/cart")
@page(*BUYERS)
def cart_page():
    """The cart grouped by supplier, with the limit standing and lines that cannot be bought."""
    return _render_cart()


@blueprint.route("/cart/update", methods=["POST"])
@page(*BUYERS)
def cart_update():
    """Save the quantities typed in the cart (0 removes a line)."""
    actor = current_actor()
    typed, errors = {}, {}
    for group in cart.view_cart(db.session(), actor).groups:
        for line in group.lines:
            key = f"quantity-{line.offer_id}"
            if key not in request.form:
                continue
            typed[key] = request.form[key]
            quantity = _int(request.form[key])
            if quantity is None or quantity < 0:
                errors[key] = [_("Enter a whole number (0 removes the line).")]
                continue
            try:
                cart.set_quantity(db.session(), actor, offer_id=line.offer_id, quantity=quantity)
            except cart.OutOfStock as exc:
                errors[key] = [exc.translated(_)]
            except ValidationFailed as exc:
                errors[key] = [_(m) for m in exc.errors.get("quantity", [])] or [exc.translated(_)]
    if errors:
        discard_changes()
        return _render_cart(errors, typed, 422)
    flash(_("Cart updated."), "success")
    return redirect(url_for(".cart_page"))


@blueprint.route("/cart/remove", methods=["POST"])
@page(*BUYERS)
def cart_remove():
    try:
        cart.set_quantity(db.session(), current_actor(), offer_id=_int(request.form.get("offer_id")) or 0,
                          quantity=0)
    except NotFound:
        discard_changes()
        flash(_("That line is no longer in your cart."), "error")
    else:
        flash(_("Removed from your cart."), "success")
    return redirect(url_for(".cart_page"))


# -- checkout ---------------------------------------------------------------------------------

@blueprint.route("/checkout", methods=["GET", "POST"])
@page(*BUYERS)
def checkout_page():
    """Choose the budget line and delivery; one order per supplier; a token per form."""
    actor = current_actor()
    errors: dict[str, list[str]] = {}
    refusals: list[str] = []
    round_possible = False  # refused past the direct-purchase limit: a round may buy it
    status = 200
    form: Mapping[str, str]
    if request.method == "POST":
        form = request.form
        line_id = _int(form.get("budget_line_id"))
        typed_days = form.get("delivery_days", "").strip()
        # Empty: the default term; anything else must be a whole number of days (else refused).
        days = _int(typed_days) or 0 if typed_days else checkout.DEFAULT_DELIVERY_DAYS
        try:
            result = checkout.checkout(
                db.session(), actor, budget_line_id=line_id or 0, token=form.get("token", ""),
                delivery_address=form.get("delivery_address", ""), contact=form.get("contact", ""),
                secret=form.get("secret") in ("1", "on", "true"), delivery_days=days)
        except MallError as exc:
            discard_changes()
            errors, refusals = _checkout_refusal(exc)
            round_possible = isinstance(exc, limits.LimitExceeded) and exc.round_possible
            status = 422 if isinstance(exc, ValidationFailed | NotFound) else exc.status
            if line_id is None:
                errors["budget_line_id"] = [_("Choose a budget line.")]
        else:
            return _after_checkout(result)
    else:
        form = {"token": secrets.token_urlsafe(24)}
    preview = checkout.preview(db.session(), actor)
    if not preview.cart.groups and not refusals:
        flash(_("Your cart is empty."), "info")
        return redirect(url_for(".cart_page"))
    year = checkout.fiscal_year()
    return render_template("purchasing/checkout.html", form=form, errors=errors, refusals=refusals,
                           round_possible=round_possible, preview=preview,
                           notes=limit_notes(preview), year=year, problems=line_problems(preview),
                           lines=budget.budget_lines(db.session(), actor, fiscal_year=year)), status


def _after_checkout(result: checkout.CheckoutResult):
    numbers = ", ".join(o.number for o in result.orders)
    if result.replayed:
        flash(_("This checkout was already submitted; these are its orders: %(numbers)s",
                numbers=numbers), "info")
    else:
        flash(_("Orders submitted, one per supplier: %(numbers)s", numbers=numbers), "success")
    for check in result.warnings:
        flash(_("Category %(code)s: the unit's direct purchases this fiscal year now reach "
                "%(after)s of the %(limit)s limit; larger purchases need a bidding round.",
                code=check.category_code, after=format_fen(check.after_fen),
                limit=format_fen(check.limit_fen)), "warning")
    return redirect(url_for(".orders_page", new=",".join(str(o.id) for o in result.orders)))


def _checkout_refusal(exc: MallError) -> tuple[dict, list[str]]:
    """Field errors, and messages about the cart (stock, limits), of a refused checkout."""
    if isinstance(exc, NotFound):
        return {"budget_line_id": [_("Choose a budget line.")]}, []
    if isinstance(exc, budget.BudgetExhausted):
        return {"budget_line_id": [exc.translated(_)]}, []
    if isinstance(exc, ValidationFailed):
        errors = dict(exc.errors)
        return errors, [_(m) for m in errors.pop("cart", [])]
    # OutOfStock, LimitExceeded, OpenTenderRequired: name the line, limit or threshold, total
    return {}, [exc.translated(_)]
