"""The one base class of every exception openpit raises on purpose.

Invariants:
- Every exception class defined in ``openpit`` derives from ``OpenpitError`` (a test
  walks the package to keep it so), so a caller can catch "anything openpit refused"
  in one clause while bugs (``TypeError``, ``KeyError``...) still surface.
- Classes that were ``ValueError``/``RuntimeError`` stay so as well (a second base):
  existing ``except ValueError`` callers keep working.
- Client mistakes never escape a connection as exceptions: each dialect turns them
  into its own error replies; business rejections are events with a reason code.
"""

from __future__ import annotations


class OpenpitError(Exception):
    """Base of every deliberate openpit exception."""
