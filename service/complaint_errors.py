"""The one error of the complaint desk (store, forwards, API and pages), in a module of its own so that every part
that raises it can import it without importing the store."""

from __future__ import annotations

from routing_model.errors import DisposisiError


class DeskError(DisposisiError, ValueError):
    """Something an admin or an integration asked for cannot be done; ``status``/``code`` for HTTP."""

    def __init__(self, message: str, code: str = "invalid_request", status: int = 422):
        super().__init__(message)
        self.code, self.status = code, status
