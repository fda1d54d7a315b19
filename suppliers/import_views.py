"""Supplier pages for bulk import: upload, progress, error reports, templates."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _

from mall.core.auth import SUPPLIER_STAFF
from mall.core.clock import now
from mall.core.errors import ValidationFailed
from mall.core.unit_of_work import unit_of_work
from mall.extensions import db
from mall.i18n_messages import N_
from mall.web import current_actor, page
from suppliers.imports import service
from suppliers.models import ImportJob, ImportStatus

blueprint = Blueprint("imports", __name__, url_prefix="/supplier/imports")
log = logging.getLogger(__name__)
RESTART_WAITING_AFTER = timedelta(seconds=5)


@blueprint.route("/", methods=["GET", "POST"])
@page(*SUPPLIER_STAFF)
def index():
    """The upload form, the supplier's latest imports with live progress, and templates."""
    actor = current_actor()
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        upload = request.files.get("file")
        try:
            if upload is None or not upload.filename:
                raise ValidationFailed(errors={"file": [N_("Choose a file to upload.")]})
            job = service.create_import_job(
                db.session(), actor, filename=upload.filename, stream=upload.stream,
                locale=str(get_locale()), var_dir=current_app.config["MALL_VAR_DIR"],
                max_bytes=current_app.config["IMPORT_MAX_BYTES"])
        except ValidationFailed as exc:
            errors = exc.errors
        else:
            flash(_("File received; the import has started."), "success")
            response = redirect(url_for("imports.index"))
            if not current_app.config.get("SCHEDULER_ENABLED"):
                # No scheduler here: run it in this process once the job is committed
                # (responses close after the request's commit).
                # Flask types current_app as the app itself rather than the proxy it is.
                app = current_app._get_current_object()  # type: ignore[attr-defined]
                job_id = job.id
                response.call_on_close(lambda: start_in_background(app, job_id))
            return response
    jobs = service.list_import_jobs(db.session(), actor)
    return render_template(
        "suppliers/imports.html", jobs=jobs, errors=errors,
        progress={job.id: progress_of(job) for job in jobs},
        categories=service.admitted_categories(db.session(), actor),
        max_rows=service.MAX_ROWS, max_mb=current_app.config["IMPORT_MAX_BYTES"] // (1024 * 1024),
        busy=any(job.status in (ImportStatus.QUEUED, ImportStatus.RUNNING) for job in jobs)
    ), (422 if errors else 200)


def start_in_background(app: Flask, job_id: int) -> threading.Thread:
    """Run one import in a thread with its own app context and session."""

    def work() -> None:
        with app.app_context():
            try:
                with unit_of_work(db.session, remove=True) as session:
                    service.run_import(session, job_id, var_dir=app.config["MALL_VAR_DIR"])
            except Exception:
                log.exception("background import %s failed", job_id)

    thread = threading.Thread(target=work, name=f"import-{job_id}", daemon=True)
    thread.start()
    return thread


@blueprint.route("/<int:job_id>/progress")
@page(*SUPPLIER_STAFF)
def progress(job_id: int):
    """Where an import stands, as JSON for the page's progress bar.

    Without a scheduler, an import still waiting a few seconds after its upload (its
    runner thread never started, or the process restarted) is started again from here,
    and one whose runner died is failed from here; the claim makes sure only one runner
    works on it.
    """
    if not current_app.config.get("SCHEDULER_ENABLED"):
        service.fail_stalled_imports(db.session())
    job = service.get_import_job(db.session(), current_actor(), job_id)
    if (job.status is ImportStatus.QUEUED and not current_app.config.get("SCHEDULER_ENABLED")
            and now() - job.created_at > RESTART_WAITING_AFTER):
        log.warning("import %s still queued; starting it from the progress poll", job.id)
        # Flask types current_app as the app itself rather than the proxy it is.
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        start_in_background(app, job.id)
    return jsonify(progress_of(job))


def progress_of(job: ImportJob) -> dict:
    """The counts and status of an import, as the page and its script show them."""
    total = job.rows_total or 0
    finished = job.status in (ImportStatus.DONE, ImportStatus.FAILED)
    percent = 100 if job.status is ImportStatus.DONE else (
        min(99, job.rows_done * 100 // total) if total else None)
    return {
        "id": job.id, "status": job.status.value, "status_text": status_text(job.status),
        "finished": finished, "rows_total": total, "rows_done": job.rows_done,
        "percent": percent, "created": job.rows_created, "updated": job.rows_updated,
        "unchanged": job.rows_unchanged, "invalid": job.rows_invalid,
        "in_review": job.rows_in_review,
        "failure": failure_text(job) if job.status is ImportStatus.FAILED else None,
        "error_report": (url_for("imports.error_report", job_id=job.id)
                         if job.error_path else None),
    }


def status_text(status: ImportStatus) -> str:
    """An import's status for people ("queued" alone already means "queued for review")."""
    return {ImportStatus.QUEUED: _("Waiting to start"), ImportStatus.RUNNING: _("Importing"),
            ImportStatus.DONE: _("Finished"), ImportStatus.FAILED: _("Failed")}[status]


def failure_text(job: ImportJob) -> str:
    """Why an import failed, in the reader's language."""
    detail = (job.summary or {}).get("failure_detail", "")
    texts = {
        "missing_columns": _("Required columns are missing: %(columns)s", columns=detail),
        "empty_file": _("The file has no header row."),
        "too_many_rows": _("The file has more than 1,000,000 rows."),
        "bad_encoding": _("The file is neither UTF-8 nor GB18030 text."),
        "bad_csv": _("The file is not valid CSV."),
        "bad_xlsx": _("The file is not an Excel workbook (.xlsx)."),
        "interrupted": _("The import was interrupted; upload the file again to finish it."),
    }
    return texts.get(job.failure or "", _("The import stopped because of an error on our side; "
                                         "rows saved before it are kept."))


@blueprint.route("/<int:job_id>/errors.csv")
@page(*SUPPLIER_STAFF)
def error_report(job_id: int):
    """The rows that were not imported: row number, column and reason."""
    job = service.get_import_job(db.session(), current_actor(), job_id)
    path = service.error_report_path(job, current_app.config["MALL_VAR_DIR"])
    return send_file(path, mimetype="text/csv", as_attachment=True,
                     download_name=f"import-{job.id}-errors.csv", max_age=0)


@blueprint.route("/templates/<code>.csv")
@page(*SUPPLIER_STAFF)
def template(code: str):
    """A CSV template for one category, headed in the reader's language."""
    text = service.category_template(db.session(), current_actor(), code=code,
                                     locale=str(get_locale()))
    response = current_app.response_class(text.encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="offers-{code}.csv"'
    return response
