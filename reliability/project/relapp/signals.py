from eventx_signals import AsyncSignal

#: Sent with ``await lag_signal.asend(...)`` by the async view (scenario 5),
#: on the "lag" thread-backend alias.
lag_signal = AsyncSignal(backend="lag")
