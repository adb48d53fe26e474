"""One error shape for every failure: ``{"error": {"code", "message"}}``, never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from .logsafe import escaped

log = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    500: "internal_error",
    503: "unavailable",
}


class ApiError(HTTPException):
    """An HTTP error with a machine-readable ``error_code``."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(description=message)
        self.code = status
        self.error_code = code
        self.extra_headers = headers or {}


def error_response(status: int, code: str, message: str, headers: dict | None = None):
    resp = jsonify({"error": {"code": code, "message": message}})
    resp.status_code = status
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        status = exc.code or 500
        code = getattr(exc, "error_code", None) or _CODES.get(status, "http_error")
        headers = dict(getattr(exc, "extra_headers", {}) or {})
        valid = getattr(exc, "valid_methods", None)
        if status == 405 and valid:
            headers["Allow"] = ", ".join(sorted(valid))
        return error_response(status, code, exc.description or code, headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        # type and place only: the message or traceback locals could carry complaint text
        log.error(
            "unhandled %s on %s %s",
            type(exc).__name__,
            escaped(request.method),
            escaped(request.path),
            exc_info=log.isEnabledFor(logging.DEBUG),
        )
        return error_response(500, "internal_error", "internal error; the server log names the exception type")
