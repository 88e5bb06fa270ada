"""Limits every dialect's parser applies to a frame, so that no input makes it raise.

Invariants:
- ``nesting_problem`` refuses a frame that nests arrays/objects more than
  ``MAX_NESTING`` levels deep (brackets inside JSON strings do not count) or holds more
  than ``MAX_BRACKETS`` brackets. Every parser asks it before the decoder sees the
  frame, so the decoder's recursion limit (msgspec raises ``RecursionError`` near depth
  1000, also while skipping unknown fields) is never reached and the client gets its
  dialect's error.
- The check is O(n) and runs in C: an ordinary frame costs two ``count`` calls (at
  most ``MAX_NESTING`` brackets cannot nest deeper); a frame with more is reduced to
  its structural brackets by ``replace``/``translate`` passes (the only regular
  expression left runs over at most ``MAX_BRACKETS`` characters) and matched once by
  a possessive regular expression of depth ``MAX_NESTING`` (no backtracking).
- Integers a client sends are 64-bit (``Int64``, checked by the decoder); a decimal has
  at most ``MAX_DIGITS`` significant digits (``too_many_digits``). Its size (``1e400``,
  ``Infinity``) is bounded where it becomes ticks or lots (``core.instrument``).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Final

import msgspec

MAX_NESTING: Final = 32
"""Deepest nesting of arrays/objects in one frame (the dialects' messages need 4)."""

MAX_DIGITS: Final = 50
"""Most significant digits of one decimal number (int64 has 19; 50 leaves room)."""

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1

Int64 = Annotated[int, msgspec.Meta(ge=INT64_MIN, le=INT64_MAX)]
"""An integer field of a client message: out of int64 is a validation error."""

MAX_BRACKETS: Final = 4096
"""Most brackets in one frame, strings included (a 50-order batch has about 100)."""

TOO_DEEP: Final = f"message nested too deeply (at most {MAX_NESTING} levels of arrays/objects)"
TOO_MANY_BRACKETS: Final = f"message has too many brackets (at most {MAX_BRACKETS})"

_KEEP: Final = b'[]{}"'
_NOT_KEPT: Final = bytes(b for b in range(256) if b not in _KEEP)
_STRING: Final = re.compile(rb'"[^"]*"')


def _within(levels: int) -> str:
    """Regex: complete groups nested at most ``levels`` deep (possessive: linear time)."""
    inner = ""
    for _ in range(levels):
        inner = rf"(?:[\[{{]{inner}[\]}}])*+"
    return inner


def _prefix_within(levels: int) -> re.Pattern[bytes]:
    """Regex: a prefix of a bracket sequence that never nests deeper than ``levels``:
    complete groups, then optionally one unclosed bracket and such a prefix inside it."""
    pattern = ""
    for depth in range(levels + 1):
        pattern = _within(depth) + (rf"(?:[\[{{]{pattern})?" if depth else "")
    return re.compile(pattern.encode())


_PREFIX: Final = _prefix_within(MAX_NESTING)


def _structure(frame: str | bytes) -> bytes | None:
    """The structural brackets of ``frame`` (outside JSON strings) in order, or None
    if it holds more than ``MAX_BRACKETS`` brackets (strings included)."""
    data = frame.encode("utf-8", "surrogatepass") if isinstance(frame, str) else frame
    if sum(data.count(c) for c in (b"[", b"]", b"{", b"}")) > MAX_BRACKETS:
        return None
    if b"\\" in data:  # no escaped quote may end a string early
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    kept = data.translate(None, _NOT_KEPT).replace(b'""', b"")  # no bracket between them
    return _STRING.sub(b"", kept) if b'"' in kept else kept  # <= MAX_BRACKETS strings left


def nesting_problem(frame: str | bytes) -> str | None:
    """Why ``frame`` is too deep or has too many brackets for any dialect, or None.

    Read left to right, as the decoder does: a frame that is malformed before it gets
    too deep (an unmatched closing bracket, a truncated end) is left to the decoder.

    >>> nesting_problem('{"a": [1, {"b": "[[[["}]}') is None
    True
    >>> nesting_problem('{"a":' * 33 + '1' + '}' * 33) == TOO_DEEP
    True
    """
    if isinstance(frame, str):
        if frame.count("[") + frame.count("{") <= MAX_NESTING:
            return None
    elif frame.count(b"[") + frame.count(b"{") <= MAX_NESTING:
        return None
    brackets = _structure(frame)
    if brackets is None:
        return TOO_MANY_BRACKETS
    match = _PREFIX.match(brackets)
    end = 0 if match is None else match.end()
    return TOO_DEEP if end < len(brackets) and brackets[end] in b"[{" else None


def digits_id(text: str) -> int | None:
    """An id written as ASCII digits that fits int64, else None (never raises).

    >>> digits_id("42"), digits_id("4" * 20), digits_id("\u00b2"), digits_id("")
    (42, None, None, None)
    """
    if not (0 < len(text) <= 19 and text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value <= INT64_MAX else None


def too_many_digits(value: Decimal | None) -> bool:
    """True if ``value`` has more than ``MAX_DIGITS`` significant digits.

    >>> too_many_digits(Decimal("42650.5")), too_many_digits(Decimal("9" * 51))
    (False, True)
    """
    if value is None or not value.is_finite():
        return False
    return len(value.as_tuple().digits) > MAX_DIGITS


def digits_problem(**fields: Decimal | None) -> str | None:
    """The first field (by wire name) with too many digits, as an error message."""
    for name, value in fields.items():
        if too_many_digits(value):
            return f"{name} has too many digits (at most {MAX_DIGITS} significant digits)"
    return None
