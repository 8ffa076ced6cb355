"""Run by tests/test_inline_django.py: an inbound webhook delivered inline into this project's WSGI
application, inside a django.test.TestCase's transaction."""

import threading
from email.message import EmailMessage

from django.core.wsgi import get_wsgi_application
from django.test import TestCase

from mailgun_mock import MailgunMock

from . import views
from .models import Customer, Reply


def reply_from(sender: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "support@example.com", "Re: your order"
    msg.set_content("Yes, please ship it.")
    return msg.as_bytes()


class InboundReplyTest(TestCase):
    def test_the_view_sees_the_tests_uncommitted_rows(self) -> None:
        Customer.objects.create(email="bob@example.net")  # inside TestCase's transaction, never committed
        with MailgunMock(deliver="inline", port=0) as mock:
            mock.wsgi_targets({"http://shop.test": get_wsgi_application()})
            mock.create_route('match_recipient("support@example.com")', 'forward("http://shop.test/inbound")')
            mock.inject(reply_from("bob@example.net"), wait=False)
            mock.inject(reply_from("eve@example.org"), wait=False)
            outcomes = [(a["status"], a["outcome"]) for a in mock.deliveries]
        self.assertEqual(outcomes, [(200, "delivered"), (406, "rejected")])
        self.assertEqual(views.THREADS, [threading.get_ident()] * 2)  # the test's own thread, before inject returned
        self.assertEqual([(r.customer.email, r.subject) for r in Reply.objects.all()],
                         [("bob@example.net", "Re: your order")])
        Customer.objects.create(email="ann@example.net")  # the test's transaction is still usable
        self.assertEqual(Customer.objects.count(), 2)
