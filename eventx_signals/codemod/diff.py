"""
The unified diff of one file, made to apply as printed with ``git apply`` and
``patch -p1`` run from the current directory.

What that takes, beyond ``difflib.unified_diff``:

- each line keeps its own newline, so a CRLF (or mixed) file gets ``\\r\\n`` lines that
  match its bytes, and the last line of a file without a final newline is followed by
  ``\\ No newline at end of file``;
- the headers are ``--- a/<name>`` and ``+++ b/<name>`` with ``<name>`` relative to the
  current directory, and no ``diff --git`` line: ``git apply`` reads paths of such a
  "traditional" diff relative to the current directory (not to the repository's top),
  as ``patch -p1`` does, so it applies from a subdirectory of a repository too; a name
  with a space ends with a tab, as in ``git diff``, for ``patch`` to see where it ends;
- the diff is text that standard output writes as UTF-8, so the byte order mark of a
  ``utf-8-sig`` file is kept on its first line, and a file in another encoding is only
  diffed if the lines shown are the same bytes in both encodings (ASCII, in practice).
"""

from __future__ import annotations

import codecs
import difflib

__all__ = ["DiffError", "unified_diff"]

NO_NEWLINE = "\\ No newline at end of file\n"


class DiffError(ValueError):
    """A change that a diff printed as UTF-8 text could not reproduce."""


def unified_diff(name: str, encoding: str, before: str, after: str) -> str:
    """The diff turning ``before`` into ``after``, every line ending with one newline."""
    if codecs.lookup(encoding).name == "utf-8-sig":  # decoding dropped the mark; the file has it
        before, after = f"\ufeff{before}", f"\ufeff{after}"
    end = "\t" if " " in name else ""
    diff = "".join(
        line if line.endswith("\n") else f"{line}\n{NO_NEWLINE}"
        for line in difflib.unified_diff(
            _lines(before), _lines(after), f"a/{name}{end}", f"b/{name}{end}", lineterm="\n"
        )
    )
    if codecs.lookup(encoding).name not in ("utf-8", "utf-8-sig"):
        try:
            same_bytes = diff.encode(encoding) == diff.encode("utf-8")
        except UnicodeEncodeError:
            same_bytes = False
        if not same_bytes:
            raise DiffError(
                f"its diff is not printed: the file is encoded in {encoding} and the lines "
                "around the change hold non-ASCII text, which the diff (UTF-8) cannot match; "
                "run the command again with --apply to change it in place"
            )
    return diff


def _lines(text: str) -> list[str]:
    """The lines of a text as git and patch see them: split after each "\\n", kept."""
    lines = [f"{line}\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]  # the text after the last "\n": empty, or a last line without one
    return lines if lines[-1] else lines[:-1]
