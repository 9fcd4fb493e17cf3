import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relproj.settings")
application = get_asgi_application()

# Production tuning for a long-running ASGI process: move everything loaded at
# start-up (Django, the project, their caches) out of the collector's sight.
# Without it, each full collection walks them all: about 80 ms on the 2-core
# machine this was measured on, once every ~600 requests, with or without
# django-eventx, and alone over scenario 5's 20 ms bound.
if os.environ.get("REL_GC_FREEZE", "1") == "1":
    gc.collect()
    gc.freeze()
