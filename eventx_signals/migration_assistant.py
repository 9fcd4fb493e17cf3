"""
The migration assistant behind ``manage.py eventx migrate [PATH ...] [--apply]``.

It reads Python sources (it never imports them) and reports what moving a project from
Django signals to django-eventx takes:

- a unified diff that turns each ``django.dispatch.Signal(...)`` call into
  ``AsyncSignal(...)`` and fixes the imports, editing only the tokens that must change;
- the ``EVENTX_ASYNC_SIGNALS`` setting for the built-in model signals the project
  receives, and the receivers of signals that must stay synchronous;
- every use of the value of ``send()``/``send_robust()``/``asend()``/``asend_robust()``,
  which now holds ``(receiver, Future)`` pairs.

Line numbers refer to the files as they are before ``--apply``.
"""

from __future__ import annotations

import ast
import bisect
import difflib
import errno
import io
import os
import re
import tokenize
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TextIO

__all__ = ["run"]

SIGNAL_CLASSES = frozenset({"django.dispatch.Signal", "django.dispatch.dispatcher.Signal"})
ASYNC_SIGNAL = "eventx_signals.AsyncSignal"
ASYNC_SIGNAL_IMPORT = "from eventx_signals import AsyncSignal"
RECEIVER_DECORATORS = frozenset(
    {"django.dispatch.receiver", "django.dispatch.dispatcher.receiver", "eventx_signals.receiver"}
)
SEND_METHODS = frozenset({"send", "send_robust", "asend", "asend_robust"})
# Directories never walked into, besides hidden ones and virtualenvs (found by pyvenv.cfg).
SKIPPED_DIRS = frozenset({"migrations", "__pycache__", "site-packages", "node_modules", "venv"})

_M = "django.db.models.signals."
_VETO = "receivers that mutate the instance or veto the {} lose their meaning in the background"
# Built-in model signals worth making asynchronous -> the caveat to print ("" if none).
PROPOSABLE = {
    _M + "pre_save": _VETO.format("save"),
    _M + "post_save": "",
    _M + "pre_delete": _VETO.format("delete"),
    _M + "post_delete": "",
    _M + "m2m_changed": "",
}
# Built-in signals that must stay synchronous -> why.
SYNCHRONOUS = {
    _M + "pre_init": "it fires inside Model.__init__, before the instance exists",
    _M + "post_init": "it fires inside Model.__init__; callers rely on its effects on the instance",
    _M + "class_prepared": "it fires while model classes are created, before the apps are ready",
    _M + "pre_migrate": "migrate relies on its receivers having finished before it goes on",
    _M + "post_migrate": "migrate relies on its receivers (permissions, content types) having run",
    "django.core.signals.request_started": "its receivers set up per-request state in that thread",
    "django.core.signals.request_finished": "its receivers clean up the request's connections",
    "django.core.signals.setting_changed": "caches must be reset before the new value is read",
    "django.db.backends.signals.connection_created": "its receivers configure the new connection",
    "django.utils.autoreload.file_changed": "the autoreloader reads its receivers' return values",
}
# Other import paths of the same signal objects.
ALIASES = {"django.test.signals.setting_changed": "django.core.signals.setting_changed"}

# How the value of send() is used, by the kind of node holding the call.
_USES: list[tuple[type[ast.AST] | tuple[type[ast.AST], ...], str]] = [
    ((ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr), "is assigned"),
    (ast.Return, "is returned"),
    ((ast.For, ast.AsyncFor), "is iterated"),
    ((ast.comprehension, ast.ListComp, ast.SetComp, ast.DictComp), "is used in a comprehension"),
    (ast.GeneratorExp, "is used in a comprehension"),
    (ast.Subscript, "is indexed"),
    (ast.Call, "is passed as an argument"),
    ((ast.If, ast.While, ast.IfExp, ast.Assert, ast.BoolOp, ast.UnaryOp), "is tested"),
]
_NEWLINE = re.compile(r"\r\n|\r|\n")
_LAST_NEWLINE = re.compile(r"(?:\r\n|\r|\n)\Z")
_LINE_REST = re.compile(r"[ \t]*(?:#[^\r\n]*)?(?:\r\n|\r|\n|\Z)")  # blanks, a comment, the EOL
_UNKNOWN_LABEL = 'app label unknown: write it as "app_label.{}"'

_Located = ast.expr | ast.stmt | ast.alias  # nodes with a position
_Edit = tuple[int, int, str]  # replace text[start:end] with the string
_Diagnostic = tuple[str, int, int, str]  # path, line, column (0: none), "severity: message"
_Label = tuple[str, str]  # "app_label.Model" (or a guess), and a comment asking to check it


@dataclass
class _Source:
    """One parsed file, with offsets in its text for ast and tokenize positions."""

    path: Path
    name: str
    encoding: str
    text: str
    tree: ast.Module

    @cached_property
    def nodes(self) -> list[ast.AST]:
        return list(ast.walk(self.tree))

    @cached_property
    def parents(self) -> dict[ast.AST, ast.AST]:
        return {kid: node for node in self.nodes for kid in ast.iter_child_nodes(node)}

    @cached_property
    def bindings(self) -> dict[str, str]:
        """Each name bound by an import -> the dotted path it stands for."""
        return {bound: target for _, _, bound, target in _imports(self.nodes)}

    @cached_property
    def line_starts(self) -> list[int]:
        return [0] + [match.end() for match in _NEWLINE.finditer(self.text)]

    @cached_property
    def tokens(self) -> list[tuple[int, int, str]]:
        """(start offset, end offset, string) of the tokens, without comments or blank lines."""
        skip = {tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT}
        tokens = tokenize.generate_tokens(io.StringIO(self.text, newline="").readline)

        def at(row: int, col: int) -> int:  # the final tokens may sit past the last line
            return (
                self.line_starts[row - 1] + col if row <= len(self.line_starts) else len(self.text)
            )

        return [(at(*t.start), at(*t.end), t.string) for t in tokens if t.type not in skip]

    def offset(self, line: int, col: int) -> int:
        """The offset in the text of an ast position (whose column counts UTF-8 bytes)."""
        start = self.line_starts[line - 1]
        if self.text[start : start + col].isascii():
            return start + col
        return start + len(self.text[start:].encode()[:col].decode(errors="ignore"))

    def span(self, node: _Located) -> tuple[int, int]:
        start = self.offset(node.lineno, node.col_offset)
        return start, self.offset(node.end_lineno or node.lineno, node.end_col_offset or 0)

    def line_start(self, offset: int) -> int:
        return self.line_starts[bisect.bisect_right(self.line_starts, offset) - 1]

    def next_line(self, offset: int) -> int:
        """The offset of the line after the one holding ``offset`` (or the end of the text)."""
        index = bisect.bisect_right(self.line_starts, offset)
        return self.line_starts[index] if index < len(self.line_starts) else len(self.text)

    def whole_lines(self, start: int, end: int) -> tuple[int, int] | None:
        """The span of the lines holding text[start:end], if only a comment shares them."""
        line_start, rest = self.line_start(start), _LINE_REST.match(self.text, end)
        if rest is None or self.text[line_start:start].strip(" \t"):
            return None
        return line_start, rest.end()

    def diagnostic(self, node: _Located, message: str) -> _Diagnostic:
        start = self.offset(node.lineno, node.col_offset)
        return self.name, node.lineno, start - self.line_start(start) + 1, message


@dataclass
class _Index:
    """What is known from all the scanned files together."""

    app_labels: dict[Path, str]  # app directory -> its label
    signal_names: set[str]  # names that hold signals, to recognise their send() calls


@dataclass(frozen=True)
class _Receiver:
    signal: str
    sender: _Label | None  # None: any sender, or one the code does not name plainly
    where: str


def run(paths: Sequence[str | os.PathLike[str]], *, apply: bool, stdout: TextIO) -> int:
    """Print (and with ``apply``, write) the migration of ``paths``; 1 if a file did not parse."""
    sources: list[_Source] = []
    diagnostics: list[_Diagnostic] = []
    for path, name in sorted(_python_files(paths), key=lambda item: item[1]):
        loaded = _load(path, name)
        if isinstance(loaded, _Source):
            sources.append(loaded)
        else:
            diagnostics.append(loaded)
    index = _build_index(sources)
    receivers: list[_Receiver] = []
    changed: list[tuple[_Source, str]] = []
    for src in sources:
        new_text = src.text
        for start, end, new in sorted(_signal_edits(src, diagnostics), reverse=True):
            new_text = new_text[:start] + new + new_text[end:]
        if new_text != src.text:
            changed.append((src, new_text))
        receivers += _receivers(src, index, diagnostics)
        diagnostics += _send_value_uses(src, index)
    for src, new_text in changed:
        if apply:
            src.path.write_bytes(new_text.encode(src.encoding))
            continue
        before, after = (_NEWLINE.split(_LAST_NEWLINE.sub("", t)) for t in (src.text, new_text))
        diff = difflib.unified_diff(before, after, f"a/{src.name}", f"b/{src.name}", lineterm="")
        print(*diff, sep="\n", file=stdout)
    for name, line, col, message in sorted(diagnostics):
        print(
            f"{name}:{line}:{col}: {message}" if col else f"{name}:{line}: {message}", file=stdout
        )
    print(*_settings_snippet(receivers), sep="\n", file=stdout)
    for src, _ in changed if apply else ():
        print(f"Wrote {src.name}", file=stdout)
    if not changed:
        print("No Signal() definitions to change.", file=stdout)
    elif not apply:
        print(
            f"{len(changed)} file(s) would change; run again with --apply to write them.",
            file=stdout,
        )
    return 1 if any(message.startswith("error:") for *_, message in diagnostics) else 0


def _python_files(paths: Sequence[str | os.PathLike[str]]) -> Iterator[tuple[Path, str]]:
    """Yield (path, name to show) of each file to scan, once."""
    seen: set[Path] = set()
    cwd = Path.cwd()
    for given in map(Path, paths):
        if not given.exists():
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(given))
        found = [given] if given.is_file() else []
        for root, dirs, names in os.walk(given):  # yields nothing for a file
            dirs[:] = sorted(
                d
                for d in dirs
                if not (
                    d.startswith(".") or d in SKIPPED_DIRS or Path(root, d, "pyvenv.cfg").exists()
                )
            )
            found += [Path(root, name) for name in sorted(names) if name.endswith(".py")]
        for path in found:
            if (resolved := path.resolve()) not in seen:
                seen.add(resolved)
                shown = resolved.relative_to(cwd) if resolved.is_relative_to(cwd) else path
                yield path, shown.as_posix()


def _load(path: Path, name: str) -> _Source | _Diagnostic:
    """Parse a file, keeping its encoding and newlines; an error diagnostic if it cannot be."""
    try:
        raw = path.read_bytes()
        encoding = tokenize.detect_encoding(io.BytesIO(raw).readline)[0]
        text = raw.decode(encoding)  # no newline translation: written back as it was
        return _Source(path, name, encoding, text, ast.parse(text, filename=name))
    except (SyntaxError, UnicodeDecodeError, ValueError) as exc:
        message = getattr(exc, "msg", None) or str(exc)
        line = getattr(exc, "lineno", None) or 1
        return name, line, 0, f"error: cannot parse (file left untouched): {message}"


def _imports(
    nodes: list[ast.AST],
) -> Iterator[tuple[ast.Import | ast.ImportFrom, ast.alias, str, str]]:
    """Yield (statement, alias, bound name, dotted target); relative targets start with dots."""
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                root = alias.name.partition(".")[0]
                yield node, alias, alias.asname or root, alias.name if alias.asname else root
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (f"{node.module}." if node.module else "")
            for alias in node.names:
                yield node, alias, alias.asname or alias.name, module + alias.name


def _dotted(node: ast.AST, bindings: dict[str, str]) -> str | None:
    """The dotted path an expression such as ``signals.post_save`` was imported as."""
    if isinstance(node, ast.Name):
        return bindings.get(node.id)
    if isinstance(node, ast.Attribute) and (base := _dotted(node.value, bindings)):
        return f"{base}.{node.attr}"
    return None


def _app_dir(path: Path) -> Path | None:
    if path.name in ("models.py", "apps.py"):
        return path.parent.resolve()
    return path.parent.parent.resolve() if path.parent.name == "models" else None


def _build_index(sources: list[_Source]) -> _Index:
    # An app's label: its AppConfig's label, else the last part of its name, else its directory.
    by_directory: dict[Path, str] = {}
    by_config: dict[Path, str] = {}
    signal_names = {path.rpartition(".")[2] for path in (*PROPOSABLE, *SYNCHRONOUS)}
    for src in sources:
        if (app_dir := _app_dir(src.path)) is not None:
            by_directory[app_dir] = app_dir.name
        for node in src.nodes:
            if not isinstance(node, ast.Assign):
                continue
            targets = {getattr(t, "id", getattr(t, "attr", "")) for t in node.targets}
            value = getattr(node.value, "value", None)
            if app_dir is not None and src.path.name == "apps.py" and isinstance(value, str):
                if "label" in targets:
                    by_config[app_dir] = value
                elif "name" in targets:
                    by_config.setdefault(app_dir, value.rpartition(".")[2])
            elif isinstance(node.value, ast.Call):
                if _dotted(node.value.func, src.bindings) in SIGNAL_CLASSES | {ASYNC_SIGNAL}:
                    signal_names |= targets
    return _Index({**by_directory, **by_config}, signal_names)


def _signal_edits(src: _Source, out: list[_Diagnostic]) -> list[_Edit]:
    """Edits turning Signal(...) calls into AsyncSignal(...) and fixing the imports."""
    calls: list[ast.Call] = []
    for node in src.nodes:
        if isinstance(node, ast.Call) and _dotted(node.func, src.bindings) in SIGNAL_CLASSES:
            calls.append(node)
        elif isinstance(node, ast.ClassDef):
            if any(_dotted(base, src.bindings) in SIGNAL_CLASSES for base in node.bases):
                message = (
                    f"note: class {node.name} subclasses django.dispatch.Signal and was left "
                    "unchanged: subclassing needs review (derive from AsyncSignal if its "
                    "receivers may run in the background)"
                )
                out.append(src.diagnostic(node, message))
    if not calls:
        return []
    async_name = next((bound for bound, path in src.bindings.items() if path == ASYNC_SIGNAL), None)
    edits = [(*src.span(call.func), async_name or "AsyncSignal") for call in calls]
    return edits + _import_edits(src, calls, add_import=async_name is None)


def _import_edits(src: _Source, calls: list[ast.Call], *, add_import: bool) -> list[_Edit]:
    """Drop the imported names that only the replaced calls used; import AsyncSignal."""
    replaced = {n: n.id for call in calls for n in ast.walk(call.func) if isinstance(n, ast.Name)}
    used = {n.id for n in src.nodes if isinstance(n, ast.Name) and n not in replaced}
    used |= _dunder_all(src.tree)
    roots = set(replaced.values())
    stale: dict[ast.Import | ast.ImportFrom, list[ast.alias]] = {}
    for stmt, alias, bound, target in _imports(src.nodes):
        leads_to_signal = any(f"{cls}.".startswith(f"{target}.") for cls in SIGNAL_CLASSES)
        if bound in roots and leads_to_signal:
            stale.setdefault(stmt, []).extend([alias] if bound not in used else [])
    unused = sorted((s for s, names in stale.items() if len(names) == len(s.names)), key=_position)
    edits: list[_Edit] = []
    if add_import and unused:  # the old import becomes the new one, in place
        edits.append((*src.span(unused.pop(0)), ASYNC_SIGNAL_IMPORT))
    elif add_import and stale:  # the new import goes on the line after the last old one
        start, end = src.span(max(stale, key=_position))
        line_start = src.line_start(start)
        indent = src.text[line_start : _blanks_end(src.text, line_start)]
        eol = match.group() if (match := _NEWLINE.search(src.text)) else "\n"
        at = src.next_line(end - 1)
        if src.text[:at].endswith(("\n", "\r")):
            edits.append((at, at, f"{indent}{ASYNC_SIGNAL_IMPORT}{eol}"))
        else:  # the last line of the file, without a newline
            edits.append((at, at, f"{eol}{indent}{ASYNC_SIGNAL_IMPORT}"))
    deleted: list[ast.stmt] = []
    for stmt in unused:  # deleted if on lines of its own, and if its block keeps a statement
        lines = src.whole_lines(*src.span(stmt))
        if lines and any(s is not stmt and s not in deleted for s in _block_of(stmt, src.parents)):
            deleted.append(stmt)
            edits.append((*lines, ""))
    for stmt, names in stale.items():
        if names and len(names) < len(stmt.names):
            edits += _alias_deletions(src, stmt, names)
    return edits


def _block_of(stmt: ast.stmt, parents: dict[ast.AST, ast.AST]) -> list[ast.stmt]:
    """The statements of the block (body, else or finally) that holds ``stmt``."""
    for field in ("body", "orelse", "finalbody"):
        block: list[ast.stmt] = getattr(parents[stmt], field, [])
        if stmt in block:
            return block
    return []


def _alias_deletions(
    src: _Source, stmt: ast.Import | ast.ImportFrom, stale: list[ast.alias]
) -> list[_Edit]:
    """Remove some names from an import statement, with their commas (and lines, if alone)."""
    stmt_start, stmt_end = src.span(stmt)
    tokens = [token for token in src.tokens if token[0] >= stmt_start]
    parenthesised = any(string == "(" and start < stmt_end for start, _, string in tokens)
    spans: list[tuple[int, int]] = []
    for alias in stale:
        start, end = src.span(alias)
        _, after, string = next(token for token in tokens if token[0] >= end)
        lines = src.whole_lines(start, after if string == "," else end)
        if parenthesised and lines:
            spans.append(lines)
        elif string == ",":
            spans.append((start, _blanks_end(src.text, after)))
        else:  # the last name goes with the comma after the name kept before it
            kept = [a for a in stmt.names if a not in stale and _position(a) < _position(alias)]
            spans.append((src.span(kept[-1])[1], end))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return [(start, end, "") for start, end in merged]


def _blanks_end(text: str, offset: int) -> int:
    """The offset after the spaces and tabs found at ``offset``."""
    while offset < len(text) and text[offset] in " \t":
        offset += 1
    return offset


def _position(node: _Located) -> tuple[int, int]:
    return node.lineno, node.col_offset


def _dunder_all(tree: ast.Module) -> set[str]:
    """The names listed in ``__all__``: a re-exported import stays."""
    for node in tree.body:
        targets = getattr(node, "targets", [])
        if isinstance(node, ast.Assign) and "__all__" in {getattr(t, "id", "") for t in targets}:
            elements = getattr(node.value, "elts", [])
            return {e.value for e in elements if isinstance(getattr(e, "value", None), str)}
    return set()


def _receivers(src: _Source, index: _Index, out: list[_Diagnostic]) -> list[_Receiver]:
    """Receivers of built-in signals; notes for those that stay synchronous or are pre_*."""
    receivers: list[_Receiver] = []
    for call, handler, sender, signals in _receiver_sites(src):
        for node in signals:
            path = _dotted(node, src.bindings) or ""
            signal = ALIASES.get(path, path)
            short = signal.rpartition(".")[2]
            if signal in SYNCHRONOUS:
                reason = SYNCHRONOUS[signal]
                out.append(
                    src.diagnostic(
                        call, f"note: {handler} receives {short}, left synchronous: {reason}"
                    )
                )
            elif signal in PROPOSABLE:
                if caveat := PROPOSABLE[signal]:
                    message = (
                        f"warning: {handler} receives {short}; once {short} is async, {caveat}"
                    )
                    out.append(src.diagnostic(call, message))
                label = None if sender is None else _sender_label(src, sender, index)
                receivers.append(_Receiver(signal, label, f"{src.name}:{call.lineno} {handler}"))
    return receivers


def _receiver_sites(
    src: _Source,
) -> Iterator[tuple[ast.Call, str, ast.expr | None, list[ast.expr]]]:
    """Yield (call, handler, sender, signals) for each @receiver(...) and .connect(...)."""
    for node in src.nodes:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for dec in node.decorator_list:
                if (
                    isinstance(dec, ast.Call)
                    and _dotted(dec.func, src.bindings) in RECEIVER_DECORATORS
                ):
                    keywords = {k.arg: k.value for k in dec.keywords}
                    signal = dec.args[0] if dec.args else keywords.get("signal")
                    signals = signal.elts if isinstance(signal, (ast.List, ast.Tuple)) else [signal]
                    yield dec, node.name, keywords.get("sender"), [s for s in signals if s]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr != "connect":
                continue
            keywords = {k.arg: k.value for k in node.keywords}
            handler = node.args[0] if node.args else keywords.get("receiver")
            sender = node.args[1] if len(node.args) > 1 else keywords.get("sender")
            yield node, ast.unparse(handler) if handler else "?", sender, [node.func.value]


def _sender_label(src: _Source, sender: ast.expr, index: _Index) -> _Label | None:
    """The model label of a sender, or a guess with a comment; None if not a model named plainly."""
    if isinstance(sender, ast.Constant) and isinstance(sender.value, str) and "." in sender.value:
        return sender.value, ""  # a lazy "app_label.Model" reference
    cls = sender.id if isinstance(sender, ast.Name) else getattr(sender, "attr", "")
    if not cls[:1].isupper() or cls.isupper():
        return None  # an instance, a setting, a call...
    dotted = _dotted(sender, src.bindings)
    if dotted is None:  # a class of this file (or from a star import)
        app_dir = _app_dir(src.path)
        local = cls in {n.name for n in src.tree.body if isinstance(n, ast.ClassDef)}
        if app_dir is not None and local and isinstance(sender, ast.Name):
            return f"{index.app_labels[app_dir]}.{cls}", ""
        return cls, _UNKNOWN_LABEL.format(cls)
    module = dotted.rpartition(".")[0]
    parts = module.lstrip(".").split(".")
    if "models" not in parts:
        return cls, _UNKNOWN_LABEL.format(cls)
    at = len(parts) - 1 - parts[::-1].index("models")
    if any(part[:1].isupper() for part in parts[at + 1 :]):
        return None  # an attribute of a model, such as Order.tags.through
    app_parts = parts[:at]
    if level := len(module) - len(module.lstrip(".")):  # a relative import: find the directory
        app_dir = src.path.parent.joinpath(*[".."] * (level - 1), *app_parts).resolve()
        if app_dir in index.app_labels:
            return f"{index.app_labels[app_dir]}.{cls}", ""
        app_parts = [app_dir.name]
    if len(app_parts) == 3 and app_parts[:2] == ["django", "contrib"]:
        return f"{app_parts[2]}.{cls}", ""
    if not app_parts:
        return cls, _UNKNOWN_LABEL.format(cls)
    matches = {label for path, label in index.app_labels.items() if path.name == app_parts[-1]}
    if len(matches) == 1:
        return f"{matches.pop()}.{cls}", ""
    return f"{app_parts[-1]}.{cls}", "guessed from the import path: confirm the app label"


def _send_value_uses(src: _Source, index: _Index) -> Iterator[_Diagnostic]:
    """Warn where the value of a signal's send()/asend() is used rather than discarded."""
    for call in src.nodes:
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
            continue
        if call.func.attr not in SEND_METHODS:
            continue
        target = call.func.value
        name = getattr(target, "id", getattr(target, "attr", ""))
        signal_like = name in index.signal_names or "signal" in name.lower()
        if not (signal_like or any(keyword.arg == "sender" for keyword in call.keywords)):
            continue
        parents = src.parents
        node = parents[call] if isinstance(parents[call], ast.Await) else call
        parent = parents[node]
        if isinstance(parent, (ast.keyword, ast.Starred)):
            node, parent = parent, parents[parent]
        if isinstance(parent, ast.Expr):
            continue
        how = "is used"
        if not isinstance(parent, ast.Subscript) or parent.value is node:
            how = next((how for types, how in _USES if isinstance(parent, types)), how)
        yield src.diagnostic(
            call,
            f"warning: the value of {ast.unparse(call.func)}() {how}: it now holds "
            "(receiver, Future) pairs; call future.result() to get the value",
        )


def _settings_snippet(receivers: list[_Receiver]) -> list[str]:
    """The EVENTX_ASYNC_SIGNALS to paste into settings: a dict when every sender is known."""
    if not receivers:
        return [
            "# No receivers of built-in model signals found: nothing to add to EVENTX_ASYNC_SIGNALS."
        ]
    open_ended = sorted(r.where for r in receivers if r.sender is None)
    lines = ["# Add to your settings:"]
    if open_ended:
        lines.append(
            "# (a list: these receivers take any sender, or one not known from the code alone:"
        )
        lines += [f"#   {where}" for where in open_ended] + ["# )", "EVENTX_ASYNC_SIGNALS = ["]
    else:
        lines.append("EVENTX_ASYNC_SIGNALS = {")
    for signal in sorted({r.signal for r in receivers}):
        if PROPOSABLE[signal]:
            lines.append(f"    # {signal.rpartition('.')[2]}: {PROPOSABLE[signal]}.")
        if open_ended:
            lines.append(f'    "{signal}",')
            continue
        lines.append(f'    "{signal}": [')
        for label, comment in sorted(
            {r.sender for r in receivers if r.signal == signal and r.sender}
        ):
            lines.append(f'        "{label}",' + (f"  # {comment}" if comment else ""))
        lines.append("    ],")
    lines.append("]" if open_ended else "}")
    return lines
