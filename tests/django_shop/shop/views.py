"""The inbound webhook view: a reply from a known customer is stored, any other sender refused (406,
which Mailgun does not retry)."""

import threading

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from .models import Customer, Reply

#: The thread each call of the view ran on.
THREADS: list[int] = []


@csrf_exempt
def inbound(request: HttpRequest) -> HttpResponse:
    THREADS.append(threading.get_ident())
    customer = Customer.objects.filter(email=request.POST["sender"]).first()
    if customer is None:
        return HttpResponse("unknown sender", status=406)
    Reply.objects.create(customer=customer, subject=request.POST["subject"])
    return HttpResponse("ok")
