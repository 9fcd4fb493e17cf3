"""
The engine: a ``Delivery`` (one send's receivers, their futures and a
snapshot of its arguments) and how it runs, on whatever thread or process a
backend runs it: the run loop, its steps (retries, counters, logging, the
run log), ``async def`` receivers and the event loops workers keep for them.

It may import the run log, the core and the settings layer; never the
backends nor the signals.
"""
