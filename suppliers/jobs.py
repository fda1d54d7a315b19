"""Timed jobs of the suppliers package."""

from flask import current_app

from mall.core.clock import local_today
from mall.core.jobs import job
from suppliers.admission import lift_expired_suspensions
from suppliers.frameworks import end_expired_agreements, hold_offers_above_ceilings
from suppliers.imports.service import (
    delete_files,
    fail_stalled_imports,
    next_queued_import,
    release_old_files,
    run_import,
)


@job(id="suppliers.imports", seconds=2)
def run_queued_imports(session) -> None:
    """Run queued bulk imports one at a time, oldest first; fail those whose runner died.

    Each import claims its job before running, so a second scheduler (or the web
    process's own thread) never runs the same file twice.
    """
    fail_stalled_imports(session)
    session.commit()
    var_dir = current_app.config["MALL_VAR_DIR"]
    while (job_id := next_queued_import(session)) is not None:
        run_import(session, job_id, var_dir=var_dir)


@job(id="suppliers.import_files_purge", seconds=3600)
def purge_import_files(session) -> None:
    """Delete uploads and error reports of imports finished over 30 days ago: the records
    first, the files once that has committed (a failed commit deletes nothing)."""
    files = release_old_files(session, current_app.config["MALL_VAR_DIR"])
    session.commit()
    delete_files(files)


@job(id="suppliers.framework_ceilings", seconds=3600)
def enforce_framework_ceilings(session) -> None:
    """End agreements past their term, then hold for review listed offers above a ceiling
    in force today (an agreement whose term has just begun, a ceiling set in the meantime)."""
    today = local_today()
    end_expired_agreements(session, today=today)
    hold_offers_above_ceilings(session, today=today)


@job(id="suppliers.suspensions", seconds=3600)
def lift_suspensions(session) -> None:
    """Reinstate admissions whose timed suspension has run out: the supplier's offers in the
    category are on sale again and it may list new ones.

    The date changes once a day, but the sweep runs hourly, as the ceiling sweep does: an
    interval of a day would first run a day after each scheduler start, and restarts could
    put it off for good. Runs that find nothing change nothing."""
    lift_expired_suspensions(session, today=local_today())
