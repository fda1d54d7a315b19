"""Pages answer errors with one template: the status, the title and the detail in the
reader's language, and a way back; what an error says is shown as text, never as markup."""

from __future__ import annotations

import re

import pytest

from mall.core.errors import Conflict
from mall.i18n_messages import N_
from tests.conftest import build_app, dispose


def _section(html: str) -> str:
    return re.search(r'<section class="card narrow">.*?</section>', html, re.DOTALL).group(0)


def test_a_missing_page_says_so_in_chinese_with_a_link_home(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response.mimetype == "text/html"
    section = _section(response.get_data(as_text=True))
    assert "<h1>404 · " in section
    assert "<p>此地址没有内容，或您无权查看。</p>" in section and "<h1>404 · 未找到</h1>" in section
    assert '<a href="/">返回首页</a>' in section and "返回表单" not in section


@pytest.fixture
def refusing_app(tmp_path):
    """An app with one page refusing with a message that quotes what a supplier typed."""
    application = build_app("sqlite://", tmp_path / "var")

    @application.route("/refuse")
    def refuse():
        raise Conflict(N_("%(title)s is no longer on sale."),
                       params={"title": "<b>A4</b> & 'B5'"})

    yield application
    dispose(application)


def test_what_an_error_quotes_is_shown_as_text(refusing_app):
    response = refusing_app.test_client().get("/refuse")
    assert response.status_code == 409
    section = _section(response.get_data(as_text=True))
    assert "<b>" not in section
    assert "&lt;b&gt;A4&lt;/b&gt; &amp; &#39;B5&#39;" in section
