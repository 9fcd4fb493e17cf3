import json
import logging
import time

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from eventx_signals import trigger_event

from .models import Order
from .receivers import ORDER_LIST_CACHE_KEY
from .signals import order_placed

logger = logging.getLogger(__name__)
User = get_user_model()


def _done(request, data, status=201):
    """JSON for API clients (and the demo); back to the home page for the
    browser forms, which send next=/."""
    next_url = request.POST.get("next")
    if next_url and next_url.startswith("/") and not next_url.startswith("//"):
        return HttpResponseRedirect(next_url)
    return JsonResponse(data, status=status)


@require_GET
def home(request):
    return render(request, "shop/home.html", {"users": User.objects.order_by("-pk")[:10]})


@require_POST
def register(request):
    username = request.POST.get("username", "").strip()
    email = request.POST.get("email", "").strip()
    errors = {}
    if not username:
        errors["username"] = "This field is required."
    elif User.objects.filter(username=username).exists():
        errors["username"] = "This user name is taken."
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = "Enter a valid e-mail address."
    if errors:
        return JsonResponse({"errors": errors}, status=400)

    # No password in this demo: a real shop would send a set-password link.
    user = User.objects.create_user(username=username, email=email)

    # A named event: its listeners (shop/listeners.py) run in the background.
    trigger_event("user_registered", user=user)

    return _done(request, {"user": user.pk, "username": user.username})


@require_http_methods(["GET", "POST"])
def orders(request):
    if request.method == "GET":
        return order_list(request)
    username = request.POST.get("username", "").strip()
    item = request.POST.get("item", "").strip()
    try:
        quantity = int(request.POST.get("quantity", "1"))
    except ValueError:
        quantity = 0
    customer = User.objects.filter(username=username).first()
    errors = {}
    if customer is None:
        errors["username"] = "No such user."
    if not item:
        errors["item"] = "This field is required."
    if quantity < 1:
        errors["quantity"] = "Enter a whole number of at least 1."
    if errors:
        return JsonResponse({"errors": errors}, status=400)

    # post_save of Order: write_audit_entry in the background (settings),
    # invalidate_order_list_cache inline (@keep_inline).
    order = Order.objects.create(customer=customer, item=item, quantity=quantity)

    # The AsyncSignal: notify_warehouse and send_order_confirmation in the
    # background. send() returns at once with one future per receiver.
    order_placed.send(sender=Order, order=order)

    return _done(request, {"order": order.pk})


def order_list(request):
    """The order list page, cached until shop.receivers.invalidate_order_list_cache
    clears it."""
    page = cache.get(ORDER_LIST_CACHE_KEY)
    if page is None:
        orders = Order.objects.select_related("customer").order_by("pk")
        page = render_to_string("shop/orders.html", {"orders": orders}, request=request)
        cache.set(ORDER_LIST_CACHE_KEY, page, timeout=300)
    return HttpResponse(page)


@csrf_exempt
@require_POST
def fake_warehouse_api(request):
    """A slow stand-in for the warehouse API, for runserver (the demo command
    starts its own on a free port). Takes ~200 ms, like a remote call."""
    time.sleep(0.2)
    try:
        payload = json.loads(request.body or b"{}")
    except ValueError:
        return JsonResponse({"error": "invalid JSON"}, status=400)
    logger.info("Fake warehouse API: shipment requested for order #%s.", payload.get("order"))
    return JsonResponse({"shipment": f"SHP-{payload.get('order')}"}, status=202)
