"""Notifications reach people by e-mail through a real SMTP server when SMTP_URL is set."""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from mall.purchasing.orders.models import Notification
from mall.purchasing.orders.notifications import notify, send_pending_email
from tests.factories.accounts import make_organisation, make_user
from tests.factories.purchasing import make_unit
from tests.purchasing.localstripe_server import free_port


class Inbox(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def test_pending_notifications_are_emailed_once_to_the_organisations_people(app, session, smtp_server):
    controller, inbox = smtp_server
    unit = make_unit(session)
    unit.buyer_user.email = "buyer@unit.example.cn"
    supplier = make_organisation(session)
    silent = make_user(session, supplier)
    silent.email = None
    note = notify(session, unit.organisation.id, None, "payment_overdue", pay_by="2026-12-31")
    notify(session, supplier.id, None, "order_rated")  # nobody there has an address
    session.flush()
    url = f"smtp://127.0.0.1:{controller.port}"
    with app.app_context():  # as in the scheduler's job
        assert send_pending_email(session, url, "noreply@mall.example.cn") == 2
        assert send_pending_email(session, url, "noreply@mall.example.cn") == 0  # sent once
    (message,) = inbox.messages
    assert message["To"] == "buyer@unit.example.cn"
    body = message.get_payload(decode=True).decode()
    assert "2026-12-31" in body and "逾期" in body  # Chinese first, English after
    assert session.get(Notification, note.id).emailed_at is not None
