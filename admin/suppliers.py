"""Operator pages for suppliers: admission queue, review queue, supplier detail, frameworks."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from catalog.models import Category
from mall.accounts.models import Organisation
from mall.core.auth import OVERSIGHT_STAFF, OrganisationKind, Role
from mall.core.errors import MallError, ValidationFailed
from mall.core.inputs import page_number as parse_page_number
from mall.core.money import parse_yuan
from mall.extensions import db
from mall.web import current_actor, form_dict, load_form, page
from mall.web.security import safe_next
from mall.web.unit_of_work import discard_changes
from suppliers import admission, frameworks, moderation
from suppliers.forms import AgreementForm, CapForm, DecisionForm, OfferActionForm, SanctionForm
from suppliers.models import AdmissionApplication, ApplicationStatus, SupplierProfile

blueprint = Blueprint("admin_suppliers", __name__, url_prefix="/admin")


def _flash_error(exc: MallError) -> None:
    messages = [_(m) for m in sum(exc.errors.values(), [])] or [_(exc.detail)]
    flash("; ".join(messages), "error")


@blueprint.route("/admissions")
@page(*OVERSIGHT_STAFF)
def admissions():
    """Applications waiting for a decision, with each supplier's declared profile."""
    actor = current_actor()
    status = request.args.get("status", "submitted")
    chosen = ApplicationStatus(status) if status in {s.value for s in ApplicationStatus} else None
    rows = admission.list_applications(db.session(), actor, status=chosen)
    organisations = {o.id: o for o in db.session.scalars(select(Organisation).where(
        Organisation.id.in_([a.organisation_id for a in rows])))}
    profiles = {p.organisation_id: p for p in db.session.scalars(select(SupplierProfile).where(
        SupplierProfile.organisation_id.in_(list(organisations))))}
    names = dict(db.session.execute(select(Category.code, Category.name).where(
        Category.code.in_({c for a in rows for c in a.category_codes}))).all())
    return render_template("admin/admissions.html", rows=rows, organisations=organisations,
                           profiles=profiles, names=names, status=status,
                           statuses=list(ApplicationStatus))


@blueprint.route("/admissions/<int:application_id>", methods=["POST"])
@page(Role.OPERATOR)
def decide(application_id: int):
    """Approve (some or all categories), reject with a reason, or ask for more."""
    try:
        data = load_form(DecisionForm(), form_dict(request.form, ("category_codes",)))
        application = admission.decide_application(
            db.session(), current_actor(), application_id=application_id,
            decision=data["decision"], category_codes=data["category_codes"],
            reason=data["reason"])
    except MallError as exc:
        discard_changes()
        _flash_error(exc)
    else:
        flash(_("Application %(id)d: %(status)s.", id=application.id,
                status=_(application.status.value)), "success")
    return redirect(url_for("admin_suppliers.admissions"))


@blueprint.route("/reviews")
@page(*OVERSIGHT_STAFF)
def reviews():
    """The listing review queue: offers the automatic checks held back, with their reasons."""
    reason = request.args.get("reason") or None
    code = request.args.get("category") or None
    page_number = parse_page_number(request.args.get("page"))
    rows, total = moderation.review_queue(db.session(), current_actor(), category_code=code,
                                          reason=reason, limit=100,
                                          offset=(page_number - 1) * 100)
    return render_template("admin/reviews.html", rows=rows, total=total, reason=reason or "",
                           category=code or "", page=page_number)


@blueprint.route("/offers/decide", methods=["POST"])
@page(Role.OPERATOR)
def decide_offers():
    """Approve, reject, freeze, delist or reinstate the ticked offers."""
    back = safe_next(request.form.get("back"), url_for("admin_suppliers.reviews"))
    try:
        data = load_form(OfferActionForm(), form_dict(request.form, ("offer_ids",)))
        count = moderation.decide_offers(db.session(), current_actor(),
                                         offer_ids=data["offer_ids"], action=data["action"],
                                         reason=data["reason"])
    except MallError as exc:
        discard_changes()
        _flash_error(exc)
    else:
        flash(_("%(count)d offers: %(action)s.", count=count, action=_(data["action"])),
              "success")
    return redirect(back)


@blueprint.route("/suppliers")
@page(*OVERSIGHT_STAFF)
def suppliers():
    """Every supplier with its size and application state."""
    rows = db.session.scalars(select(Organisation).where(
        Organisation.kind == OrganisationKind.SUPPLIER).order_by(Organisation.name)).all()
    profiles = {p.organisation_id: p for p in db.session.scalars(select(SupplierProfile))}
    return render_template("admin/suppliers.html", rows=rows, profiles=profiles)


@blueprint.route("/suppliers/<int:supplier_id>")
@page(*OVERSIGHT_STAFF)
def supplier(supplier_id: int):
    """One supplier: profile, admissions with sanctions, offer counts, decisions."""
    actor = current_actor()
    organisation = db.session.get(Organisation, supplier_id)
    if organisation is None or organisation.kind is not OrganisationKind.SUPPLIER:
        from mall.core.errors import NotFound

        raise NotFound()
    profile = db.session.scalar(select(SupplierProfile).where(
        SupplierProfile.organisation_id == supplier_id))
    applications = db.session.scalars(select(AdmissionApplication).where(
        AdmissionApplication.organisation_id == supplier_id)
        .order_by(AdmissionApplication.id.desc())).all()
    return render_template(
        "admin/supplier.html", organisation=organisation, profile=profile,
        applications=applications,
        admissions=admission.list_admissions(db.session(), actor, supplier_id=supplier_id),
        counts=admission.offer_counts(db.session(), actor, supplier_id=supplier_id),
        decisions=moderation.offer_decisions(db.session(), actor, supplier_id=supplier_id,
                                             limit=50))


@blueprint.route("/admissions/category/<int:admission_id>", methods=["POST"])
@page(Role.OPERATOR)
def sanction(admission_id: int):
    """Suspend, end or reinstate one category admission."""
    actor = current_actor()
    back = safe_next(request.form.get("back"), url_for("admin_suppliers.suppliers"))
    try:
        data = load_form(SanctionForm(), form_dict(request.form))
        if data["action"] == "reinstate":
            admission.reinstate_admission(db.session(), actor, admission_id=admission_id,
                                          reason=data["reason"])
        else:
            admission.suspend_admission(db.session(), actor, admission_id=admission_id,
                                        reason=data["reason"], until=data["until"],
                                        end=data["action"] == "end")
    except MallError as exc:
        discard_changes()
        _flash_error(exc)
    else:
        flash(_("Admission updated."), "success")
    return redirect(back)


@blueprint.route("/frameworks", methods=["GET", "POST"])
@page(*OVERSIGHT_STAFF)
def agreements():
    """Framework agreements per category; operators record new ones."""
    actor = current_actor()
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        actor.require_role(Role.OPERATOR)
        try:
            data = load_form(AgreementForm(), form_dict(request.form, ("supplier_ids",)))
            frameworks.create_agreement(db.session(), actor, **data)
        except ValidationFailed as exc:
            discard_changes()
            errors = exc.errors
        except MallError as exc:
            discard_changes()
            errors = {"number": [exc.detail]}
        else:
            flash(_("Agreement %(number)s recorded.", number=data["number"]), "success")
            return redirect(url_for("admin_suppliers.agreements"))
    suppliers_list = db.session.scalars(select(Organisation).where(
        Organisation.kind == OrganisationKind.SUPPLIER).order_by(Organisation.name)).all()
    return render_template("admin/frameworks.html",
                           rows=frameworks.list_agreements(db.session(), actor),
                           suppliers=suppliers_list, errors=errors, form=request.form), \
        (422 if errors else 200)


@blueprint.route("/frameworks/<int:agreement_id>/caps", methods=["POST"])
@page(Role.OPERATOR)
def set_cap(agreement_id: int):
    """Set a ceiling price for one product under the agreement."""
    try:
        data = load_form(CapForm(), form_dict(request.form))
        try:
            cap = parse_yuan(data["cap"])
        except ValueError as exc:
            raise ValidationFailed(errors={"cap": ["Enter a price in yuan."]}) from exc
        frameworks.set_price_cap(db.session(), current_actor(), agreement_id=agreement_id,
                                 product_id=data["product_id"], cap_fen=cap)
    except MallError as exc:
        discard_changes()
        _flash_error(exc)
    else:
        flash(_("Ceiling price saved."), "success")
    return redirect(url_for("admin_suppliers.agreements"))
