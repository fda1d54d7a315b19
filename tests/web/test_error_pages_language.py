"""Error pages for the HTTP errors Werkzeug raises speak the reader's language: a Chinese page
never shows "Not Found" or "Method Not Allowed", an English one says it in English."""

from __future__ import annotations

from tests.conftest import post_form


def test_a_missing_page_and_a_wrong_method_read_in_chinese(client):
    missing = client.get("/supervision/price-cases/abc")
    assert missing.status_code == 404
    page = missing.get_data(as_text=True)
    assert "未找到" in page and "Not Found" not in page
    wrong = client.delete("/login")
    assert wrong.status_code == 405
    text = wrong.get_data(as_text=True)
    assert "无法在此操作" in text and "not allowed" not in text.lower()


def test_the_same_pages_in_english(client):
    post_form(client, "/login", "/language/en", {"next": "/login"})
    page = client.get("/no-such-page").get_data(as_text=True)
    assert "Not found" in page and "未找到" not in page


def test_the_api_keeps_its_problem_documents(client):
    answer = client.get("/api/v1/no-such-thing")
    assert answer.status_code == 404 and answer.mimetype == "application/problem+json"
    assert answer.json["code"] == "not_found"
