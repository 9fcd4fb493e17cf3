"""The Django project served by gunicorn in the HTTP benchmark."""
