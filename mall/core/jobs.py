"""Timed jobs: a registry of idempotent sweeps and the APScheduler that runs them.

Packages declare jobs in their ``jobs.py`` with ``@job``; the app factory imports
those modules so the registry is complete. Each job is one unit of work in its own
app context. In the dev server the scheduler runs in-process (SCHEDULER_ENABLED=1,
or ``mall up``); in production ``mall scheduler`` runs it in a
dedicated process, and the sweeps claim rows so that a second scheduler is harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Session

from mall.core.unit_of_work import unit_of_work

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """A registered sweep: a stable id, an interval and the function(session) it runs."""

    id: str
    seconds: int
    run: Callable[[Session], object]


REGISTRY: dict[str, Job] = {}
JobFunction = TypeVar("JobFunction", bound=Callable[[Session], object])


def job(*, id: str, seconds: int) -> Callable[[JobFunction], JobFunction]:
    """Register ``fn(session)`` to run every ``seconds`` under a stable id."""

    def decorator(fn: JobFunction) -> JobFunction:
        REGISTRY[id] = Job(id=id, seconds=seconds, run=fn)
        return fn

    return decorator


def run_job(app: Flask, job_id: str) -> None:
    """Run one job as a unit of work: commit at the end, roll back on any error."""
    # The app's Flask-SQLAlchemy, not mall.extensions: that module imports the web glue,
    # which sits above mall.core.
    db: SQLAlchemy = app.extensions["sqlalchemy"]
    with app.app_context():
        try:
            with unit_of_work(db.session, remove=True) as session:
                REGISTRY[job_id].run(session)
        except Exception:
            log.exception("job %s failed", job_id)


def build_scheduler(app: Flask, *, blocking: bool = False):
    """An APScheduler with every registered job, coalesced and never overlapping itself."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone="UTC")
    for entry in REGISTRY.values():
        scheduler.add_job(run_job, "interval", seconds=entry.seconds, id=entry.id,
                          args=[app, entry.id], coalesce=True, max_instances=1,
                          replace_existing=True)
    return scheduler


def start_scheduler(app: Flask):
    """Start the in-process scheduler of the dev server."""
    scheduler = build_scheduler(app)
    scheduler.start()
    app.extensions["scheduler"] = scheduler
    return scheduler
