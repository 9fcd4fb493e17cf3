"""
What a project sends through: ``AsyncSignal``, patched signals
(``patch_signal``, ``EVENTX_ASYNC_SIGNALS``), named events, the per-receiver
marks and the test switches (``modes``), and the pipeline a send goes
through to its backend (``sending``).

The top of the runtime: it may import every layer below (backends, engine,
run log, core, settings), and none of them imports it.
"""
