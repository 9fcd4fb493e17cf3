import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relproj.settings")
application = get_wsgi_application()

# Scenario 2 (gunicorn --preload): this module is imported once, in the
# master, before the workers are forked. Dispatch post_save there so that the
# master has a started pool with work still queued at the moment of fork().
if int(os.environ.get("REL_PRELOAD_SENDS", "0")):
    from relapp.preload import send_before_fork

    send_before_fork(int(os.environ["REL_PRELOAD_SENDS"]))
