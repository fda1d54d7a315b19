"""Pages of challenges (质疑) and collusion signals: the supplier files a challenge of a round it
quoted in and reads the answer; the operator's worklist with the deadlines and the answer
form (the supervisor reads it); the collusion signals with their evidence for oversight.

Registered on bidding_rounds.pages.blueprint; the app imports this module."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from bidding_rounds import challenges, collusion
from bidding_rounds.models import ChallengeStatus
from bidding_rounds.page_helpers import translated_errors
from bidding_rounds.pages import blueprint
from mall.core.auth import OVERSIGHT_STAFF, SUPPLIER_STAFF, Role
from mall.core.errors import MallError, ValidationFailed
from mall.core.inputs import page_number, whole_number
from mall.extensions import db
from mall.web import current_actor, page
from mall.web.unit_of_work import discard_changes

SIGNALS_PAGE_SIZE = 50
CHALLENGE_STATUS = {"pending": _l("Waiting for the operator's answer"), "upheld": _l("Upheld"),
                    "dismissed": _l("Dismissed"), "all": _l("All")}


@blueprint.app_context_processor
def inject_challenge_helpers():
    def challenge_status(value) -> str:
        key = str(getattr(value, "value", value))
        return str(CHALLENGE_STATUS.get(key, key))

    return {"challenge_status": challenge_status}


def _errors(exc: MallError) -> dict[str, list[str]]:
    errors = translated_errors(exc.errors) if isinstance(exc, ValidationFailed) else {}
    if not errors:
        errors["_form"] = [exc.translated(_)]
    return errors


@blueprint.route("/<int:round_id>/challenge", methods=["GET", "POST"])
@page(*SUPPLIER_STAFF)
def challenge_form(round_id: int):
    """A supplier that quoted challenges the round's result (once, within 7 working days of the
    result notice), naming the quote it says should be struck; afterwards, the answer."""
    actor = current_actor()
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        try:
            challenges.file_challenge(
                db.session(), actor, round_id, grounds=request.form.get("grounds", ""),
                target_quote_id=whole_number(request.form.get("target_quote_id"), low=1))
        except MallError as exc:
            discard_changes()
            errors, status = _errors(exc), exc.status
        else:
            flash(_("Your challenge was filed; the operator answers it within 7 working days."),
                  "success")
            return redirect(url_for(".challenge_form", round_id=round_id))
    view = challenges.filing_view(db.session(), actor, round_id)
    return render_template("bidding_rounds/challenge_form.html", view=view, errors=errors,
                           form=request.form), status


@blueprint.route("/challenges/mine")
@page(*SUPPLIER_STAFF)
def my_challenges():
    """The supplier's challenges with their answers."""
    rows = challenges.my_challenges(db.session(), current_actor())
    return render_template("bidding_rounds/challenge_mine.html", rows=rows)


def _render_worklist(errors: dict[int, dict[str, list[str]]] | None = None, status: int = 200):
    actor = current_actor()
    chosen = request.args.get("status", "pending")
    if chosen not in {s.value for s in ChallengeStatus} | {"all"}:
        chosen = "pending"
    rows = challenges.worklist(db.session(), actor, status=chosen)
    return render_template("bidding_rounds/challenges.html", rows=rows, status=chosen,
                           statuses=[s.value for s in ChallengeStatus],
                           can_answer=actor.has_role(Role.OPERATOR), errors=errors or {},
                           form=request.form), status


@blueprint.route("/challenges")
@page(*OVERSIGHT_STAFF)
def challenges_page():
    """The operator's worklist: pending challenges by their answer deadline (the supervisor
    reads it), answered ones by status."""
    return _render_worklist()


@blueprint.route("/challenges/<int:challenge_id>/answer", methods=["POST"])
@page(Role.OPERATOR)
def answer_challenge(challenge_id: int):
    """Uphold (striking the named quote if chosen) or dismiss a challenge, with the answer."""
    try:
        challenges.answer_challenge(
            db.session(), current_actor(), challenge_id,
            decision=request.form.get("decision", ""), answer=request.form.get("answer", ""),
            strike_quote_id=whole_number(request.form.get("strike_quote_id"), low=1))
    except MallError as exc:
        discard_changes()
        return _render_worklist({challenge_id: _errors(exc)}, exc.status)
    flash(_("The challenge was answered; the supplier and the unit were told."), "success")
    return redirect(url_for(".challenges_page"))


@blueprint.route("/signals")
@page(*OVERSIGHT_STAFF)
def signals_page():
    """Collusion signals of closed rounds with their evidence; they block nothing."""
    kind = request.args.get("kind") or None
    number = page_number(request.args.get("page"))
    rows, total = collusion.list_signals(db.session(), current_actor(), kind=kind, page=number,
                                         page_size=SIGNALS_PAGE_SIZE)
    return render_template("bidding_rounds/signals.html", rows=rows, kind=kind or "",
                           kinds=collusion.KINDS, page=number,
                           pages=max(1, -(-total // SIGNALS_PAGE_SIZE)), total=total)
