"""Reading a request body as JSON without trusting it: every way a body can be wrong is a 4xx.

Python's ``json`` accepts things the rest of the service cannot handle: lone UTF-16 surrogates
(``"\\ud800"`` parses, then breaks the JSON encoder, the log and the database), nesting deep
enough to exhaust the stack, integers of thousands of digits (``int()`` refuses past 4,300),
``NaN``/``Infinity``, and any charset a client names. All of that is refused here, before any
endpoint or the feedback store sees a value, with the service's one error shape.
"""

from __future__ import annotations

import json
import math
import re

from flask import current_app, request

from .errors import ApiError

MAX_DEPTH = 32  # the deepest legitimate body (/invocations dataframe_split) is 4 levels
MAX_INT_DIGITS = 30
_UTF8 = frozenset({"utf-8", "utf8"})
_SURROGATE = re.compile("[\ud800-\udfff]")


def _bad(code: str, message: str, status: int = 400) -> ApiError:
    return ApiError(status, code, message)


def _parse_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise _bad("invalid_json", f"the body has a number of {len(digits):,} digits; the limit is {MAX_INT_DIGITS}")
    return int(digits)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _bad("invalid_json", f"the body has a number out of range ({text[:20]}…)")
    return value


def _parse_constant(name: str):
    raise _bad("invalid_json", f"the body is not valid JSON: {name} is not a JSON value")


def _where(path: list) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def check_values(value: object) -> None:
    """Refuse nesting deeper than MAX_DEPTH and strings (keys too) with lone surrogates; iterative, no recursion."""
    stack: list[tuple[object, list]] = [(value, [])]
    while stack:
        item, path = stack.pop()
        if len(path) > MAX_DEPTH:
            raise _bad("too_deep", f"the body is nested more than {MAX_DEPTH} levels deep")
        if isinstance(item, str):
            if not item.isascii() and _SURROGATE.search(item):
                raise _bad(
                    "invalid_unicode", f"{_where(path)} contains a lone UTF-16 surrogate; send valid Unicode text"
                )
        elif isinstance(item, dict):
            for key, sub in item.items():
                if not key.isascii() and _SURROGATE.search(key):
                    raise _bad(
                        "invalid_unicode",
                        f"a key in {_where(path)} contains a lone UTF-16 surrogate; send valid Unicode text",
                    )
                stack.append((sub, [*path, key if len(key) <= 40 else key[:40] + "…"]))
        elif isinstance(item, list):
            stack.extend((sub, [*path, i]) for i, sub in enumerate(item))


def _body_bytes() -> bytes:
    """The raw body, 413 past MAX_CONTENT_LENGTH whether it came with Content-Length or chunked."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is not None:
        return request.get_data(cache=True)  # Werkzeug refuses a declared length past the limit (413)
    # chunked (no Content-Length): read the server-terminated stream ourselves, one byte past the limit
    stream = request.environ.get("wsgi.input")
    if stream is None or not request.environ.get("wsgi.input_terminated"):
        return request.get_data(cache=True)  # not chunked: an empty body
    chunks, size = [], 0
    while size <= limit:
        try:
            block = stream.read(min(64 * 1024, limit + 1 - size))
        except (OSError, ValueError) as exc:  # gunicorn's InvalidChunkSize, ChunkMissingTerminator, NoMoreData
            raise _bad("invalid_chunked_body", f"the chunked body is malformed ({type(exc).__name__})") from None
        if not block:
            break
        chunks.append(block)
        size += len(block)
    if size > limit:
        raise _bad("payload_too_large", f"the body is larger than {limit:,} bytes", 413)
    return b"".join(chunks)


def read_json() -> object:
    """The request body as a checked JSON value: 415 unless declared JSON in UTF-8, 413 if too big, 400 if bad."""
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise _bad("unsupported_media_type", "send the body as JSON with 'Content-Type: application/json'", 415)
    charset = request.mimetype_params.get("charset", "utf-8").strip().lower()
    if charset not in _UTF8:
        raise _bad("unsupported_media_type", "JSON bodies must be UTF-8 (send no charset, or charset=utf-8)", 415)
    raw = _body_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad("invalid_encoding", "the body is not valid UTF-8") from None
    try:
        value = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
    except json.JSONDecodeError as exc:
        raise _bad(
            "invalid_json", f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise _bad("too_deep", f"the body is nested more than {MAX_DEPTH} levels deep") from None
    except ValueError:  # int() past sys.get_int_max_str_digits, and the like
        raise _bad("invalid_json", "the body has a value Python's JSON reader cannot hold") from None
    check_values(value)
    return value
