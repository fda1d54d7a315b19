"""Fixtures for the purchasing tests: one localstripe server per test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.purchasing.localstripe_server import LocalStripe, running_localstripe


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory) -> Iterator[LocalStripe]:
    """A real localstripe on a free port; its log is in the session's temporary folder."""
    with running_localstripe(tmp_path_factory.mktemp("localstripe") / "localstripe.log") as server:
        yield server


@pytest.fixture
def stripe_settings(localstripe):
    """Gateway settings pointing at the session's localstripe."""
    return localstripe.settings()


@pytest.fixture
def card_app(app, stripe_settings, monkeypatch):
    """The shared test app pointed at the session's localstripe (no webhook comes to it)."""
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", stripe_settings.api_base)
    monkeypatch.setitem(app.config, "STRIPE_API_KEY", stripe_settings.api_key)
    monkeypatch.setitem(app.config, "STRIPE_MAX_NETWORK_RETRIES", 0)
    return app
