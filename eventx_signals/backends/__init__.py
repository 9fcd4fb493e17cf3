"""
The backends: what runs the receivers of a delivery, and where. ``base``
holds the contract, ``handler`` the instances of ``EVENTX_BACKENDS``;
``immediate`` runs receivers in the caller, ``thread`` on worker threads of
this process, ``django_tasks`` and ``celery`` in the engines' worker
processes (``out_of_process``: what those two share).

This layer may import the engine, the run log, the core and the settings,
never the signals (``dispatch``).
"""

from .base import BaseBackend
from .handler import BackendHandler, backends

__all__ = ["BackendHandler", "BaseBackend", "backends"]
