"""Malformed and forged payloads for scenario 7, sent straight to a running
db_worker or celery worker. No Django import: the test process reads the
expectations too.

Each entry: (name, payload, expectation, signing)
    "refused"  the worker logs "Refused a payload" and the task fails
    "fails"    the task fails without the receiver running (not refused by
               name: see reliability/README.rst, findings)
    signing    how ``manage.py forge`` signs it with the site's SECRET_KEY:
               "signed" (as if the key had leaked, or a sender ran other
               code: every check after the signature's is exercised),
               "unsigned", or "tampered" (signed, then changed)
No forged payload may run a receiver (they all name request ids forged-*),
nor have any other effect (the os.system one would touch MARKER).
"""

POST_SAVE = "django.db.models.signals.post_save"
RECEIVER = "relapp.receivers.record_run"
SENDER = {"$t": "modelclass", "label": "relapp.Request"}


def instance(rid: str, **changes: object) -> dict:
    return {
        "$t": "model",
        "label": "relapp.Request",
        "pk": 1,
        "db": "default",
        "adding": False,
        "fields": {"id": 1, "rid": rid},
        **changes,
    }


def payload(name: str, **changes: object) -> dict:
    return {
        "v": 2,
        "signal": POST_SAVE,
        "receiver": RECEIVER,
        "sender": SENDER,
        "kwargs": {"instance": instance(f"forged-{name}"), "created": True},
        "robust": False,
        "attempt": 1,
        **changes,
    }


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def forged(marker: str, engine: str) -> list[tuple[str, object, str, str]]:
    kwargs = payload("x")["kwargs"]
    unsigned = [
        ("unsigned", payload("unsigned"), "refused", "unsigned"),
        # A superuser smuggled in after signing.
        (
            "tampered",
            payload("tampered", kwargs={**kwargs, "is_superuser": True}),
            "refused",
            "tampered",
        ),
    ]
    cases = [
        ("string", "not a payload", "refused"),
        ("null", None, "refused"),
        ("list", [1, 2, 3], "refused"),
        ("wrong-version", payload("wrong-version", v=99), "refused"),
        ("no-signal", {k: v for k, v in payload("no-signal").items() if k != "signal"}, "refused"),
        ("unknown-signal", payload("unknown-signal", signal="os.system"), "refused"),
        (
            "signal-not-async",
            payload("not-async", signal="django.db.models.signals.pre_delete"),
            "refused",
        ),
        (
            "os-system",
            payload("os-system", receiver="os.system", kwargs={"command": f"touch {marker}"}),
            "refused",
        ),
        ("builtins-exec", payload("exec", receiver="builtins.exec"), "refused"),
        (
            "receiver-of-another-sender",
            payload("other-sender", sender={"$t": "modelclass", "label": "relapp.ReceiverRun"}),
            "refused",
        ),
        (
            "unknown-model",
            payload("unknown-model", sender={"$t": "modelclass", "label": "auth.User"}),
            "refused",
        ),
        (
            "unknown-tag",
            payload("unknown-tag", kwargs={**kwargs, "x": {"$t": "pickle", "v": "gASV"}}),
            "refused",
        ),
        (
            "malformed-tag",
            payload("malformed-tag", kwargs={**kwargs, "x": {"$t": "decimal", "v": [1]}}),
            "refused",
        ),
        (
            "bad-float",
            payload("bad-float", kwargs={**kwargs, "x": {"$t": "float", "v": "1e999"}}),
            "refused",
        ),
        # A class path the worker never imported: the payload must not import it.
        (
            "class-import",
            payload("class-import", kwargs={**kwargs, "x": {"$t": "class", "path": "this.Zen"}}),
            "refused",
        ),
        ("kwargs-not-object", payload("kwargs-list", kwargs=[1, 2]), "refused"),
        ("attempt-zero", payload("attempt-zero", attempt=0), "refused"),
        ("attempt-bool", payload("attempt-bool", attempt=True), "refused"),
        ("attempt-text", payload("attempt-text", attempt="1"), "refused"),
        (
            "unknown-field",
            payload(
                "unknown-field",
                kwargs={
                    "instance": instance("forged-unknown-field", fields={"nope": 1}),
                    "created": True,
                },
            ),
            "refused",
        ),
        (
            "pk-not-a-number",
            payload(
                "pk",
                refetch=True,
                kwargs={"instance": instance("forged-pk", pk="abc"), "created": True},
            ),
            "refused",
        ),
        (
            "unknown-database",
            payload(
                "unknown-db",
                refetch=True,
                kwargs={"instance": instance("forged-unknown-db", db="nope"), "created": True},
            ),
            "refused",
        ),
        ("sender-in-kwargs", payload("sender-kwarg", kwargs={**kwargs, "sender": 1}), "refused"),
    ]
    if engine == "celery":
        # Valid JSON that Celery carries; django-tasks' enqueue() refuses it
        # itself (its JSON normalisation overflows the stack first).
        cases.append(
            ("deep-nesting", payload("deep", kwargs={**kwargs, "x": nested(600)}), "refused")
        )
    return [(*case, "signed") for case in cases] + unsigned
