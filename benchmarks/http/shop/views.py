from __future__ import annotations

import os
import uuid
from decimal import Decimal

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from .models import Order

_PID = str(os.getpid())


def _tag_worker(response: HttpResponse) -> HttpResponse:
    # Which gunicorn worker answered: a keep-alive connection stays with one
    # worker, so the load client uses this to spread its connections evenly.
    response["X-Worker-Pid"] = _PID
    return response


# The load client is not a browser and has no CSRF cookie.
@csrf_exempt
@require_POST
def create_order(request: HttpRequest) -> HttpResponse:
    order = Order.objects.create(number=uuid.uuid4().hex[:12], total=Decimal("19.90"))
    return _tag_worker(JsonResponse({"id": order.pk, "number": order.number}, status=201))


# Readiness probe: no database access, so polling it opens no session.
@require_GET
def health(request: HttpRequest) -> HttpResponse:
    return _tag_worker(HttpResponse("ok", content_type="text/plain"))
