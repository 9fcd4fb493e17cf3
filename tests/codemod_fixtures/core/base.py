from blinker import Signal as BlinkerSignal
from django.dispatch import Signal


class AuditedSignal(Signal):
    """A signal that logs every send."""

    def send(self, sender, **named):
        print("sending", sender)
        return super().send(sender, **named)


cache_cleared = Signal()
# blinker's Signal is not Django's: it stays as it is.
metrics_flushed = BlinkerSignal()
