"""The ``mall`` command: Flask's CLI plus the mall's own commands."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from mall.core.unit_of_work import unit_of_work


def _create_app(*_args) -> Flask:
    from mall import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True)
def main() -> None:
    """Government online mall (政府采购电子卖场)."""


def register_commands(app: Flask) -> None:
    """Attach the mall's commands to the app's CLI."""
    app.cli.add_command(catalogue_group)
    app.cli.add_command(audit_group)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(up_command)
    app.cli.add_command(search_group)


@click.group("search")
def search_group() -> None:
    """The product search index."""


@search_group.command("reindex")
@with_appcontext
def search_reindex() -> None:
    """Rebuild the index from the database into a fresh index and switch over when complete."""
    from catalog.sync import count_documents, reindex
    from mall.extensions import db

    backend = current_app.extensions["search"]()
    total = count_documents(db.session())
    with click.progressbar(length=total, label="indexing offers") as bar, \
            unit_of_work(db.session) as session:
        written = reindex(session, backend, progress=bar.update)
    click.echo(f"search index rebuilt: {written:,} offers")


@click.group("catalogue")
def catalogue_group() -> None:
    """The official procurement category catalogue."""


@catalogue_group.command("load")
@with_appcontext
def catalogue_load() -> None:
    """Load (or refresh) the 2022 catalogue from the shipped data file."""
    from catalog.services import load_catalogue
    from catalog.synonyms import ensure_default_synonyms
    from mall.extensions import db

    with unit_of_work(db.session) as session:
        report = load_catalogue(session)
        ensure_default_synonyms(session)
    click.echo(f"catalogue 2022: {report.total} codes ({report.added} added, "
               f"{report.renamed} renamed)")


@click.group("audit")
def audit_group() -> None:
    """The hash-chained audit trail."""


@audit_group.command("seal")
@with_appcontext
def audit_seal() -> None:
    """Seal committed audit events into the chain now."""
    from mall.core.audit import seal_pending
    from mall.extensions import db

    total = 0
    while True:
        with unit_of_work(db.session) as session:
            sealed = seal_pending(session)
        if not sealed:
            break
        total += sealed
    click.echo(f"sealed {total} events")


@audit_group.command("verify")
@with_appcontext
def audit_verify() -> None:
    """Recompute the chain and check it against the published anchors; exit 1 and name the
    first broken entry if anything was altered."""
    from mall.core.audit_anchor import AnchorKeys, verify_against_anchors
    from mall.extensions import db

    report, published = verify_against_anchors(db.session(),
                                               AnchorKeys.from_config(current_app.config))
    for name in published.rejected:
        click.echo(f"anchor {name} REJECTED: its signature does not match the audit key",
                   err=True)
    if not report.ok:
        click.echo(f"audit chain BROKEN at entry {report.broken_seq}: {report.reason} "
                   f"({report.checked} entries verified before it)", err=True)
    if not report.ok or published.rejected:
        sys.exit(1)
    latest = published.latest
    anchored = (f"matches its {len(published.anchors)} published anchors "
                f"(latest {latest.label}, entry {latest.seq})" if latest
                else "no anchor published yet (mall audit anchor)")
    click.echo(f"audit chain intact: {report.checked} entries verified, "
               f"{report.unsealed} not yet sealed; {anchored}")


@audit_group.command("anchor")
@with_appcontext
def audit_anchor() -> None:
    """Sign and publish today's chain head now (the daily job does this on its own)."""
    from mall.core.audit_anchor import AnchorKeys, publish_anchor
    from mall.extensions import db

    keys = AnchorKeys.from_config(current_app.config)
    anchor = publish_anchor(db.session(), keys)
    if anchor is None:
        click.echo("today's anchor is already published")
        return
    click.echo(f"anchor {keys.directory / anchor.file} published: entry {anchor.seq}, "
               f"hash {anchor.hash}")


@click.command("seed-demo")
@click.option("--offers", default=20_000, show_default=True, help="How many offers to create.")
@click.option("--seed", default=2026, show_default=True, help="Random seed (same seed, same mall).")
@with_appcontext
def seed_demo_command(offers: int, seed: int) -> None:
    """Build a believable demo mall: suppliers, units, enabled categories, offers, demo users."""
    from mall.demo.seed import seed_demo
    from mall.extensions import db

    summary = seed_demo(db.session(), offers=offers, seed=seed,
                        password=current_app.config["DEMO_PASSWORD"], echo=click.echo)
    click.echo(summary)


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the timed jobs in this process (production: one or more of these)."""
    from mall.core.jobs import REGISTRY, build_scheduler

    # Flask types current_app as the app itself rather than the proxy it is.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    scheduler = build_scheduler(app, blocking=True)
    click.echo(f"scheduler running {len(REGISTRY)} jobs: {', '.join(sorted(REGISTRY))}")
    scheduler.start()


@click.command("up")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--offers", default=20_000, show_default=True,
              help="Offers to generate when the database has no demo data yet.")
@with_appcontext
def up_command(host: str, port: int, offers: int) -> None:
    """Migrate, load the catalogue and demo data if missing, start the scheduler and serve."""
    from flask_migrate import upgrade

    from mall.core.jobs import start_scheduler
    from mall.demo.seed import demo_logins, has_demo_data, seed_demo
    from mall.extensions import db

    app = current_app._get_current_object()  # type: ignore[attr-defined]  # (as above)
    upgrade()
    from catalog.services import load_catalogue
    from catalog.synonyms import ensure_default_synonyms

    with unit_of_work(db.session) as session:
        load_catalogue(session)
        ensure_default_synonyms(session)
    password = app.config["DEMO_PASSWORD"]
    if not has_demo_data(db.session()):
        click.echo(seed_demo(db.session(), offers=offers, seed=2026, password=password,
                             echo=click.echo))
    backend = app.extensions["search"]()
    if backend.count() == 0:
        from catalog.sync import reindex

        with unit_of_work(db.session) as session:
            written = reindex(session, backend)
        click.echo(f"search index built: {written:,} offers")
    if "scheduler" not in app.extensions:
        start_scheduler(app)
    _start_localstripe(app, host, port)
    click.echo(f"\nDemo logins (password for all: {password})")
    for role, login in demo_logins(db.session()):
        click.echo(f"  {role:<28} {login}")
    db.session.remove()
    click.echo(f"\nThe mall is at http://{host}:{port}/")
    # Flask refuses app.run() inside a CLI command; werkzeug's server is what it would start.
    from werkzeug.serving import run_simple

    run_simple(host, port, app, use_reloader=False, threaded=True)


def _start_localstripe(app: Flask, host: str, port: int) -> None:
    """The embedded payments default: localstripe on STRIPE_API_BASE, our webhook registered."""
    import atexit
    import signal
    from urllib.parse import urlsplit

    from mall.purchasing.payments.stripe_gateway import (
        StripeSettings,
        localstripe_answers,
        register_localstripe_webhook,
        start_localstripe,
        stop_localstripe,
    )

    settings = StripeSettings.from_config(app.config)
    base = urlsplit(settings.api_base)
    if base.hostname not in ("127.0.0.1", "localhost"):
        return  # real Stripe: webhooks are configured in its dashboard
    if not localstripe_answers(settings.api_base):
        log = Path(app.config["MALL_VAR_DIR"]) / "localstripe.log"
        process = start_localstripe(base.port or 8420, log_path=log)
        atexit.register(stop_localstripe, process)
        # SIGTERM (as from a process manager) exits through atexit, stopping localstripe too.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        click.echo(f"localstripe started on {settings.api_base} (log: {log})")
    register_localstripe_webhook(settings, name="mall", events=[
        "payment_intent.succeeded", "payment_intent.payment_failed"],
        url=f"http://{host}:{port}/api/v1/payments/stripe-webhook")
