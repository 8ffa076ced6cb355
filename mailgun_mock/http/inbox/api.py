"""The inbox's JSON and raw views under ``/mock``: one message (JSON, HTML, source, ``.eml``,
attachments), deleting and read marks, engagement events, webhook retry and replay, route dry runs,
the live change stream, and the bridge to the API.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from ...backend.inbox import previewable
from ...base.errors import BadRequest, NotFound
from ..api.common import backend, params, query
from .. import guard

bp = Blueprint("inbox_api", __name__)

#: A message's HTML is shown with nothing active: no script, no plugin, no form, no remote load
#: (unless asked), framed only by the inbox itself.
MAIL_CSP = ("default-src 'none'; img-src {images}; style-src 'unsafe-inline'; font-src data:; "
            "frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox")
_PREVIEW_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'; sandbox"
_CID = re.compile(r"""(?i)\bcid:([^"'\s>)]+)""")
_STREAM_HEARTBEAT = 15.0


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("send a JSON object (Content-Type: application/json)")
    return body


# -- one message ------------------------------------------------------------------------------


@bp.get("/messages/<entry_id>")
def message(entry_id: str) -> ResponseReturnValue:
    return jsonify(backend().message_detail(entry_id))


def mail_html(entry_id: str, remote_images: bool) -> Response:
    """A message's HTML part as a page of its own: inline images point at their attachments, and a
    Content-Security-Policy keeps it inert (remote images only when asked)."""
    _, parsed = backend().message_source(entry_id)
    index = {cid.strip("<>"): a.index for cid, a in parsed.content_id_map.items()}

    def inline(match: re.Match[str]) -> str:
        found = index.get(match.group(1))
        return match.group(0) if found is None else f"/mock/messages/{entry_id}/attachments/{found}?inline=1"

    html = _CID.sub(inline, parsed.body_html) if index else parsed.body_html
    if not html:
        html = "<p style='font-family:sans-serif;color:#888'>This message has no HTML part.</p>"
    # 'self' alone does not cover a sandboxed document (its origin is opaque): name this server too.
    own = request.host_url.rstrip("/")
    images = f"'self' {own} data:" + (" https: http:" if remote_images else "")
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = MAIL_CSP.format(images=images)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/messages/<entry_id>/html")
def message_html(entry_id: str) -> ResponseReturnValue:
    return mail_html(entry_id, query().get("remote") == "1")


@bp.get("/messages/<entry_id>/raw")
def message_raw(entry_id: str) -> ResponseReturnValue:
    _, parsed = backend().message_source(entry_id)
    return Response(parsed.raw.decode("utf-8", "replace"), mimetype="text/plain")


@bp.get("/messages/<entry_id>/eml")
def message_eml(entry_id: str) -> ResponseReturnValue:
    _, parsed = backend().message_source(entry_id)
    response = Response(parsed.raw, mimetype="message/rfc822")
    response.headers["Content-Disposition"] = f'attachment; filename="{entry_id[:16]}.eml"'
    return response


@bp.get("/messages/<entry_id>/attachments/<index>")
def message_attachment(entry_id: str, index: str) -> ResponseReturnValue:
    content, content_type, filename = backend().message_attachment(entry_id, index)
    preview = query().get("inline") == "1" and previewable(content_type)
    response = Response(content, mimetype=content_type if preview else "application/octet-stream")
    # The name comes from the mail: RFC 6266's filename* carries it whatever it holds, never raw.
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", filename)[:100] or "attachment"
    response.headers["Content-Disposition"] = (f"{'inline' if preview else 'attachment'}; filename=\"{safe}\"; "
                                               f"filename*=UTF-8''{quote(filename[:200], safe='')}")
    response.headers["Content-Security-Policy"] = _PREVIEW_CSP
    return response


# -- actions ----------------------------------------------------------------------------------


@bp.delete("/messages")
def delete_messages() -> ResponseReturnValue:
    gone = backend().delete_messages(_json_body().get("ids"))  # type: ignore[arg-type]
    return jsonify(message=f"{gone} message(s) deleted", deleted=gone)


@bp.delete("/messages/<entry_id>")
def delete_message(entry_id: str) -> ResponseReturnValue:
    if not backend().delete_messages([entry_id]):
        raise NotFound("Message not found")
    return jsonify(message="Message deleted", deleted=1)


@bp.post("/messages/read")
def mark_read() -> ResponseReturnValue:
    body = _json_body()
    read = body.get("read", True)
    if not isinstance(read, bool):
        raise BadRequest("'read' must be true or false")
    backend().mark_read(body.get("ids"), read)  # type: ignore[arg-type]
    return jsonify(message="Marked " + ("read" if read else "unread"))


@bp.post("/messages/<entry_id>/events")
def trigger_event(entry_id: str) -> ResponseReturnValue:
    data = request.get_json(silent=True) if request.is_json else None
    form: Any = data if isinstance(data, dict) else params()
    return jsonify(backend().trigger_event(entry_id, form.get("event"), form.get("recipient"),
                                           country=form.get("country"), device=form.get("device")))


@bp.post("/deliveries/<delivery_id>/retry")
def retry_delivery(delivery_id: str) -> ResponseReturnValue:
    return jsonify(message="Retried", attempt=backend().retry_delivery(delivery_id))


@bp.post("/deliveries/<delivery_id>/replay")
def replay_delivery(delivery_id: str) -> ResponseReturnValue:
    return jsonify(message="Replayed as a new delivery", attempt=backend().replay_delivery(delivery_id))


@bp.get("/routes/dry-run")
def dry_run() -> ResponseReturnValue:
    args = query()
    return jsonify(backend().dry_run_routes(args.get("address"), args.get("headers", "")))


# -- live updates -----------------------------------------------------------------------------


@bp.get("/stream")
def stream() -> ResponseReturnValue:
    """Server-Sent Events: ``change`` with the store's version at once and after every change.

    A client that does not ask for ``text/event-stream`` (as EventSource does) gets the first event
    only, so a plain GET ends.
    """
    served = backend()
    live = "text/event-stream" in request.headers.get("Accept", "")
    generation = served.inbox_generation

    def events() -> Iterator[str]:
        version = -1
        yield "retry: 1000\n\n"
        if not live:
            yield f"event: change\ndata: {served.store.version}\n\n"
            return
        while served.inbox_generation == generation:
            current = served.wait_for_change(version, _STREAM_HEARTBEAT, generation)
            if served.inbox_generation != generation:
                return
            if current != version:
                version = current
                yield f"event: change\ndata: {current}\n\n"
            else:
                yield ": keep-alive\n\n"

    response = Response(events(), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"
    return response


# -- the bridge to the API --------------------------------------------------------------------


@bp.route("/ui/api/<path:rest>", methods=["GET", "POST", "PUT", "DELETE"])
def bridge(rest: str) -> ResponseReturnValue:
    """``/mock/ui/api/v3/routes`` answers as ``/v3/routes`` would with the API key: the inbox uses the
    API (and its validation messages) without the key ever reaching the browser."""
    if not rest.startswith(("v3/", "mock/")) or rest.startswith("mock/ui/"):
        raise NotFound(f"Not Found: the inbox bridges /v3/ and /mock/ only, not /{rest[:60]}")
    body = request.get_data()
    environ = dict(request.environ)
    environ.update({
        "PATH_INFO": "/" + rest, "SCRIPT_NAME": "", "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)),
        "HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"api:{backend().config.api_key}".encode()).decode(),
        guard.IN_PROCESS: True,  # this request's Host and Origin were checked on the way in
    })
    environ.pop("werkzeug.request", None)
    return Response.from_app(current_app.wsgi_app, environ, buffered=True)
