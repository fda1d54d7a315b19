"""Operator and supervisor pages: category switchboard (sale and centrally procured items) and
the audit trail viewer."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from catalog import services as catalog_services
from mall.core.audit import AuditEvent, verify_chain
from mall.core.auth import Role
from mall.core.errors import ValidationFailed
from mall.extensions import db
from mall.web import current_actor, page

blueprint = Blueprint("admin", __name__, url_prefix="/admin")


@blueprint.route("/categories")
@page(Role.OPERATOR, Role.SUPERVISOR)
def categories():
    """Browse the catalogue tree; operators switch leaves on and off for the mall and mark the
    centrally procured items."""
    parent = request.args.get("parent") or None
    text = request.args.get("q", "").strip()
    if text:
        rows = catalog_services.search_categories(db.session, text=text, limit=200)
        trail = []
    else:
        rows = catalog_services.list_children(db.session, parent_code=parent)
        trail = _trail(parent)
    counts = catalog_services.enabled_counts_by_parent(db.session)
    return render_template("admin/categories.html", rows=rows, trail=trail, parent=parent,
                           q=text, counts=counts,
                           can_edit=current_actor().has_role(Role.OPERATOR))


def _trail(code: str | None):
    trail = []
    while code:
        category = catalog_services.get_category(db.session, code)
        trail.insert(0, category)
        code = category.parent.code if category.parent else None
    return trail


@blueprint.route("/categories", methods=["POST"])
@page(Role.OPERATOR)
def set_categories():
    """Enable or disable the ticked leaves, or mark or clear them as centrally procured."""
    action = request.form.get("action")
    codes = request.form.getlist("codes")
    back = request.form.get("back") or url_for("admin.categories")
    try:
        if action in ("central", "not-central"):
            changed = catalog_services.set_centrally_procured(
                db.session, current_actor(), codes=codes, centrally_procured=action == "central")
        else:
            changed = catalog_services.set_categories_enabled(
                db.session, current_actor(), codes=codes, enabled=action == "enable")
    except ValidationFailed as exc:
        db.session.rollback()
        flash("; ".join(exc.errors.get("codes", [])) or _("Choose at least one category."),
              "error")
        return redirect(back)
    flash(_("%(count)d categories changed.", count=changed), "success")
    return redirect(back if back.startswith("/") else url_for("admin.categories"))


@blueprint.route("/audit")
@page(Role.OPERATOR, Role.SUPERVISOR)
def audit():
    """The newest audit entries and, on request, a verification of the whole chain."""
    rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(200)).all()
    report = verify_chain(db.session) if request.args.get("verify") else None
    return render_template("admin/audit.html", rows=rows, report=report)


@blueprint.route("/synonyms", methods=["GET", "POST"])
@page(Role.OPERATOR, Role.SUPERVISOR)
def synonyms():
    """The operator's search synonyms: add a group, remove one."""
    from catalog.models import SynonymGroup
    from catalog.synonyms import add_synonym_group, delete_synonym_group

    errors: dict[str, list[str]] = {}
    actor = current_actor()
    if request.method == "POST":
        try:
            if request.form.get("delete"):
                delete_synonym_group(db.session, actor, group_id=int(request.form["delete"]))
                flash(_("Synonym group removed."), "success")
            else:
                text = request.form.get("terms", "")
                terms = [t for t in text.replace("，", ",").replace("、", ",").split(",")]
                add_synonym_group(db.session, actor, terms=terms)
                flash(_("Synonym group added; searches use it within seconds."), "success")
            return redirect(url_for("admin.synonyms"))
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.errors
    groups = db.session.scalars(select(SynonymGroup).order_by(SynonymGroup.id)).all()
    return render_template("admin/synonyms.html", groups=groups, errors=errors,
                           form=request.form), (422 if errors else 200)
