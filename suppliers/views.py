"""Supplier portal pages: dashboard, application, offers table with inline edit, decisions."""

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import UnaryExpression, func, or_, select

from catalog.models import Offer, OfferStatus, Product
from mall.core.auth import SUPPLIER_STAFF, Role
from mall.core.errors import ValidationFailed
from mall.core.inputs import page_number as parse_page_number
from mall.core.money import PRICE, read_yuan
from mall.extensions import db
from mall.web import current_actor, form_dict, load_form, page
from mall.web.security import safe_next
from suppliers import admission, moderation
from suppliers.forms import ProfileForm, QuickEditForm, profile_input
from suppliers.listings import PriceStockUpdate, figure_refusal, update_prices
from suppliers.models import AdmissionApplication, SupplierProfile

blueprint = Blueprint("suppliers", __name__, url_prefix="/supplier")
PAGE_SIZE = 50
SORTS: dict[str, UnaryExpression[Any]] = {
    "updated": Offer.updated_at.desc(), "price": Offer.price_fen.asc(),
    "-price": Offer.price_fen.desc(), "stock": Offer.stock.asc(), "sku": Offer.supplier_sku.asc()}


@blueprint.route("/")
@page(*SUPPLIER_STAFF)
def dashboard():
    """Counts of listed/pending/rejected offers, admissions and the latest decisions."""
    actor = current_actor()
    application = db.session.scalar(
        select(AdmissionApplication).where(
            AdmissionApplication.organisation_id == actor.organisation_id)
        .order_by(AdmissionApplication.id.desc()))
    return render_template(
        "suppliers/dashboard.html",
        counts=admission.offer_counts(db.session(), actor, supplier_id=actor.organisation_id),
        admissions=admission.list_admissions(db.session(), actor,
                                             supplier_id=actor.organisation_id),
        decisions=moderation.offer_decisions(db.session(), actor,
                                             supplier_id=actor.organisation_id, limit=10),
        application=application)


@blueprint.route("/apply", methods=["GET", "POST"])
@page(Role.SUPPLIER_ADMIN)
def apply():
    """Apply (or answer the operator's request for more) for admission to categories."""
    actor = current_actor()
    profile = db.session.scalar(select(SupplierProfile).where(
        SupplierProfile.organisation_id == actor.organisation_id))
    errors: dict[str, list[str]] = {}
    form = request.form if request.method == "POST" else _profile_defaults(profile)
    if request.method == "POST":
        try:
            data = load_form(ProfileForm(), form_dict(
                request.form, ("delivery_regions", "category_codes")))
            admission.apply_for_admission(
                db.session(), actor, profile=profile_input(data),
                category_codes=data["category_codes"], note=data["note"])
        except ValidationFailed as exc:
            errors = exc.errors
        else:
            flash(_("Your application was sent to the trading centre."), "success")
            return redirect(url_for("suppliers.dashboard"))
    return render_template("suppliers/apply.html", form=form, errors=errors,
                           categories=admission.enabled_leaves(db.session()), registering=False), \
        (422 if errors else 200)


def _profile_defaults(profile):
    from werkzeug.datastructures import MultiDict

    if profile is None:
        return MultiDict()
    values = {k: getattr(profile, k) for k in (
        "legal_representative", "controlling_shareholder", "contact_name", "contact_phone",
        "contact_email", "bank_name", "bank_account", "employees", "revenue_wan", "assets_wan")}
    data = MultiDict({k: "" if v is None else str(v) for k, v in values.items()})
    data["size"] = profile.size.value
    for region in profile.delivery_regions:
        data.add("delivery_regions", region)
    return data


@blueprint.route("/offers")
@page(*SUPPLIER_STAFF)
def offers():
    """The supplier's offers: filter by status and text, sort, paginate, edit price and stock."""
    actor = current_actor()
    status = request.args.get("status", "")
    text = request.args.get("q", "").strip()
    sort = request.args.get("sort", "updated")
    page_number = parse_page_number(request.args.get("page"))
    query = (select(Offer, Product).join(Product, Product.id == Offer.product_id)
             .where(Offer.supplier_id == actor.organisation_id))
    if status in {s.value for s in OfferStatus}:
        query = query.where(Offer.status == OfferStatus(status))
    if text:
        query = query.where(or_(Offer.supplier_sku == text, Product.title.contains(text),
                                Product.model.contains(text)))
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = db.session.execute(query.order_by(SORTS.get(sort, SORTS["updated"]), Offer.id)
                              .limit(PAGE_SIZE).offset((page_number - 1) * PAGE_SIZE)).all()
    return render_template("suppliers/offers.html", rows=rows, total=total, status=status,
                           q=text, sort=sort, page=page_number,
                           pages=max(1, -(-total // PAGE_SIZE)), statuses=list(OfferStatus))


@blueprint.route("/offers/<sku>/quick", methods=["POST"])
@page(*SUPPLIER_STAFF)
def quick_edit(sku: str):
    """Inline edit of one offer's price and stock from the offers table."""
    actor = current_actor()
    back = safe_next(request.form.get("back"), url_for("suppliers.offers"))
    try:
        data = load_form(QuickEditForm(), form_dict(request.form))
        price = read_yuan(data["price"], PRICE, "price")
        result = update_prices(db.session(), actor, supplier_id=actor.organisation_id,
                               updates=[PriceStockUpdate(sku, price_fen=price,
                                                         stock=data["stock"])],
                               max_ratio_pct=current_app.config["PRICE_RATIO_LIMIT_PCT"]
                               ).results[0]
    except ValidationFailed as exc:
        flash(_("Not saved: %(reason)s", reason="; ".join(
            _(m) for m in sum(exc.errors.values(), []))), "error")
        return redirect(back)
    if refusal := figure_refusal(result.error):
        flash(_("Not saved: %(reason)s", reason=_(refusal[1])), "error")
    elif result.error:
        flash(_("Unknown SKU."), "error")
    elif result.status == OfferStatus.PENDING_REVIEW.value and result.reasons:
        flash(_("Saved; the new price sends %(sku)s to review.", sku=sku), "info")
    else:
        flash(_("Saved %(sku)s.", sku=sku), "success")
    return redirect(back)


@blueprint.route("/decisions")
@page(*SUPPLIER_STAFF)
def decisions():
    """Every review decision on the supplier's offers."""
    actor = current_actor()
    rows = moderation.offer_decisions(db.session(), actor, supplier_id=actor.organisation_id,
                                      limit=500)
    return render_template("suppliers/decisions.html", rows=rows)
