"""Backends run the receivers of a delivery; ``backends`` holds one per
alias of EVENTX_BACKENDS."""

from .base import BackendHandler, BaseBackend, backends

__all__ = ["BackendHandler", "BaseBackend", "backends"]
