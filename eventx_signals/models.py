"""The app's models: the run log's (defined in ``runlog.model``)."""

from .runlog.model import ReceiverRun

__all__ = ["ReceiverRun"]
