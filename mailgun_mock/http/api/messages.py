"""``/v3/domains/<domain>/messages/<key>``: stored messages (GET, raw MIME, attachments, DELETE)."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue

from .common import backend, params

bp = Blueprint("messages", __name__)


@bp.get("/domains/<domain>/messages/<key>")
def get_message(domain: str, key: str) -> ResponseReturnValue:
    # Mailgun answers JSON either way; Accept: message/rfc2822 adds body-mime (the raw message).
    raw_mime = "message/rfc2822" in request.headers.get("Accept", "")
    return jsonify(backend().stored_message_json(domain, key, raw_mime=raw_mime))


@bp.get("/domains/<domain>/messages/<key>/attachments/<index>")
def get_attachment(domain: str, key: str, index: str) -> ResponseReturnValue:
    content, content_type, filename = backend().get_attachment(domain, key, index)
    response = Response(content, mimetype=content_type)
    filename = "".join(c for c in filename if c.isprintable()) or "attachment"  # no header injection
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "'").replace("\\", "_")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
    )
    return response


@bp.delete("/domains/<domain>/messages/<key>")
def delete_message(domain: str, key: str) -> ResponseReturnValue:
    backend().delete_stored_message(domain, key)
    return jsonify(message="Message has been deleted")


@bp.post("/domains/<domain>/messages/<key>")
def resend_message(domain: str, key: str) -> ResponseReturnValue:
    return jsonify(backend().resend_message(domain, key, params().getlist("to")))
