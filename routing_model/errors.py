"""One base class for every error a user can cause.

The CLI prints a ``DisposisiError`` as one line and exits 2; anything else is a bug and keeps
its traceback (exit 1). Subclasses keep their old built-in bases (``ValueError`` …) so code
that caught those still works.
"""

from __future__ import annotations


class DisposisiError(Exception):
    """Something the user can fix: bad input, a missing file, an untrusted model. The message
    says what is wrong and, where it can, how to fix it."""
