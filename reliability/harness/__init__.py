"""Helpers of the reliability suite: services (PostgreSQL, Redis), processes
(gunicorn, uvicorn, db_worker, celery worker, manage.py) and the HTTP load."""
