"""
The core: what the whole process shares. Counters (``stats()``) and
their percentiles, the registry of the signals known, process life
(draining at exit, SIGTERM, ``fork()``), database transactions and the
connections of long-lived threads, worker-thread identity, names for logs,
OpenTelemetry traces and metrics.

It may import the settings layer (``config``) and ``internals`` only.
"""
