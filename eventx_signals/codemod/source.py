"""
One Python file as the codemod sees it: read without being imported, kept in its own
encoding and newlines, with its syntax tree and the names its imports bind.

Changes to a file are edits ``(start, end, new text)`` on offsets of its text, so that
only the characters that must change do; positions from ``ast`` and ``tokenize`` are
turned into such offsets here.
"""

from __future__ import annotations

import ast
import bisect
import io
import re
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

Located = ast.expr | ast.stmt | ast.alias  # nodes with a position
Edit = tuple[int, int, str]  # replace text[start:end] with the string
Diagnostic = tuple[str, int, int, str]  # path, line, column (0: none), "severity: message"

_NEWLINE = re.compile(r"\r\n|\r|\n")
_LINE_REST = re.compile(r"[ \t]*(?:#[^\r\n]*)?(?:\r\n|\r|\n|\Z)")  # blanks, a comment, the EOL


@dataclass
class Source:
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
        return {bound: target for _, _, bound, target in imports(self.nodes)}

    @cached_property
    def line_starts(self) -> list[int]:
        return [0] + [match.end() for match in _NEWLINE.finditer(self.text)]

    @cached_property
    def newline(self) -> str:
        """The newline the file uses (its first one), for lines added to it."""
        return match.group() if (match := _NEWLINE.search(self.text)) else "\n"

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

    def span(self, node: Located) -> tuple[int, int]:
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

    def diagnostic(self, node: Located, message: str) -> Diagnostic:
        start = self.offset(node.lineno, node.col_offset)
        return self.name, node.lineno, start - self.line_start(start) + 1, message


def load(path: Path, name: str) -> Source | Diagnostic:
    """Parse a file, keeping its encoding and newlines; an error diagnostic if it cannot be."""
    try:
        raw = path.read_bytes()
        encoding = tokenize.detect_encoding(io.BytesIO(raw).readline)[0]
        text = raw.decode(encoding)  # no newline translation: written back as it was
        return Source(path, name, encoding, text, ast.parse(text, filename=name))
    except (SyntaxError, UnicodeDecodeError, ValueError) as exc:
        message = getattr(exc, "msg", None) or str(exc)
        line = getattr(exc, "lineno", None) or 1
        return name, line, 0, f"error: cannot parse (file left untouched): {message}"


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """The text with the edits made (they must not overlap)."""
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def imports(
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


def dotted(node: ast.AST, bindings: dict[str, str]) -> str | None:
    """The dotted path an expression such as ``signals.post_save`` was imported as."""
    if isinstance(node, ast.Name):
        return bindings.get(node.id)
    if isinstance(node, ast.Attribute) and (base := dotted(node.value, bindings)):
        return f"{base}.{node.attr}"
    return None
