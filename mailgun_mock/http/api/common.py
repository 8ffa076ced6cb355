"""What every blueprint needs: the backend of the current app, and Mailgun's form parameters."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from flask import current_app, g, request
from werkzeug.datastructures import MultiDict

from ...backend.core import Backend
from ...base.errors import BadRequest

__all__ = ["backend", "files", "params", "query"]


def backend() -> Backend:
    """The account state this request acts on (chosen once, with its API key, before the handler:
    see :mod:`mailgun_mock.backend.accounts`); the app's default account for requests without a key."""
    return g.get("mailgun_mock_state") or current_app.extensions["mailgun_mock"]  # type: ignore[no-any-return]


def _decode_pairs(raw: bytes, into: MultiDict[str, str]) -> None:
    # werkzeug silently drops a urlencoded body holding raw non-UTF-8 bytes and keeps "%FF"
    # escapes as text; decode strictly instead, so bad input is a 400 that says so.
    for pair in raw.split(b"&"):
        if not pair:
            continue
        key, _, value = pair.partition(b"=")
        try:
            name = unquote_to_bytes(key.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("a parameter name is not valid UTF-8") from None
        try:
            into.add(name, unquote_to_bytes(value.replace(b"+", b" ")).decode("utf-8"))
        except UnicodeDecodeError:
            raise BadRequest(f"parameter {name[:40]!r} is not valid UTF-8") from None


def query() -> MultiDict[str, str]:
    """The query-string parameters, strictly decoded."""
    values: MultiDict[str, str] = MultiDict()
    _decode_pairs(request.query_string, values)
    return values


def params() -> MultiDict[str, str]:
    """Query and form parameters together, as Mailgun's server (Twisted's ``request.args``) reads them.

    Both ``application/x-www-form-urlencoded`` and ``multipart/form-data`` bodies are read;
    repeated keys (``action``, ``to``) keep every value.

    :raises BadRequest: for a body that is malformed or not UTF-8.
    """
    values = query()
    if request.mimetype == "application/x-www-form-urlencoded":
        _decode_pairs(request.get_data(cache=True), values)
    elif request.mimetype == "multipart/form-data":
        try:
            form, files = request.form, request.files
        except ValueError as exc:
            raise BadRequest(f"malformed multipart/form-data request: {exc}") from None
        if not form and not files and request.content_length:
            raise BadRequest("malformed multipart/form-data request")
        for key, value in form.items(multi=True):
            if key is None:
                raise BadRequest("malformed multipart/form-data request: a part has no field name")
            # werkzeug decodes multipart text with errors="replace"; refuse rather than keep mangled text.
            if "\ufffd" in key or "\ufffd" in value:
                raise BadRequest(f"parameter {key[:40]!r} is not valid UTF-8")
            values.add(key, value)
    return values


def files() -> list[tuple[str, str, bytes, str]]:
    """The uploaded files as ``(field, filename, content, content_type)``, in order."""
    try:
        uploads = request.files
    except ValueError as exc:
        raise BadRequest(f"malformed multipart/form-data request: {exc}") from None
    return [(field, upload.filename or "", upload.read(), upload.mimetype or "application/octet-stream")
            for field, upload in uploads.items(multi=True) if field is not None]
