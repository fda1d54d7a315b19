"""In a real browser: a buyer logs in and lands on their home page; language switches."""

import pytest

from mall.core.auth import OrganisationKind

pytestmark = pytest.mark.browser


def test_a_buyer_logs_in_and_sees_the_home_page(page, live_server, make_live_member):
    _user_id, _org_id, unit_name = make_live_member(OrganisationKind.PURCHASING_UNIT,
                                                    "browser-buyer")
    page.goto(f"{live_server}/")
    assert page.url.startswith(f"{live_server}/login")
    page.get_by_label("用户名").fill("browser-buyer")
    page.get_by_label("密码").fill("Correct-Horse-42")
    page.keyboard.press("Enter")  # keyboard-usable: Enter submits the form
    page.wait_for_url(f"{live_server}/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("欢迎")
    assert unit_name in page.content()
    assert page.get_by_role("link", name="本单位").first.is_visible()


def test_a_wrong_password_is_explained_next_to_the_form(page, live_server, make_live_member):
    make_live_member(OrganisationKind.PURCHASING_UNIT, "browser-buyer2")
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill("browser-buyer2")
    page.get_by_label("密码").fill("wrong-password!")
    page.get_by_role("button", name="登录").click()
    assert page.get_by_role("alert").inner_text() == "用户名或密码错误。"
    assert page.get_by_label("用户名").input_value() == "browser-buyer2"


def test_the_interface_switches_to_english(page, live_server):
    page.goto(f"{live_server}/login")
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Log in"
    page.get_by_role("button", name="中文").click()
    assert page.get_by_role("heading", level=1).inner_text() == "登录"
