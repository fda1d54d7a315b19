"""The Content-Security-Policy in Chromium: a stored contract keeps its print styles under its
own policy, and an inline script is refused and noticed by the CSP check of every browser test."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from mall.purchasing.contracts.document import render_html
from mall.web.security import page_policy, stored_document_policy
from tests.purchasing.test_contract_document import make_document

pytestmark = pytest.mark.browser


@contextmanager
def serving(html: str, policy: str):
    def application(environ, start_response):
        response = Response(html, mimetype="text/html")
        response.headers["Content-Security-Policy"] = policy
        return response(environ, start_response)

    server = make_server("127.0.0.1", 0, application)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def test_a_stored_contract_is_styled_under_its_own_policy(page):
    html = render_html(make_document())
    with serving(html, stored_document_policy(html)) as url:
        page.goto(url)
        heading = page.locator("h1")
        assert heading.evaluate("h => getComputedStyle(h).textAlign") == "center"


def test_an_inline_script_is_refused_and_reported(browser):
    with serving("<p id=x>before</p><script>document.getElementById('x').textContent='ran'"
                 "</script>", page_policy()) as url:
        context = browser.new_context()
        seen = len(browser.violations)
        tab = context.new_page()
        tab.goto(url)
        assert tab.locator("#x").inner_text() == "before"
        context.close()
    reported = browser.violations[seen:]
    assert len(reported) == 1 and "script-src" in reported[0]
    del browser.violations[seen:]  # expected here: not a failure of this test
