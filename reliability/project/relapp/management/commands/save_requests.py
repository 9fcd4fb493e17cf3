"""manage.py save_requests --count N --prefix P

Saves N Requests (rids P-0 ... P-(N-1)), each in its own transaction, so
that each post_save dispatch goes to the configured backend at once."""

from django.core.management.base import BaseCommand

from relapp.models import Request


class Command(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--prefix", required=True)

    def handle(self, *args, count, prefix, **options):
        for number in range(count):
            Request.objects.create(rid=f"{prefix}-{number}")
