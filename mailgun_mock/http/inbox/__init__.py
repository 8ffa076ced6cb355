"""The web inbox: server-rendered pages (:mod:`.pages`, Jinja2 templates, a little plain JavaScript in
``static/``, no build step) and the JSON they use under ``/mock/`` (:mod:`.api`).

Who may use it (:func:`..guard.ui_credentials_ok`): without ``--ui-auth``, clients on this machine
(loopback); with it, HTTP Basic with those credentials. User ``api`` with the API key always works.
The Host and Origin checks of :mod:`..guard` apply here as everywhere. The inbox reaches the Mailgun API and the ``/mock``
control API through ``/mock/ui/api/<path>`` (:func:`.api.bridge`), which adds the API key on the
server side: the key never reaches the browser, and every answer and validation message is the
API's own.
"""

from __future__ import annotations

from flask import Flask

from . import api, pages

__all__ = ["OPAQUE_READS", "is_ui_endpoint", "register"]

_BLUEPRINTS = frozenset({api.bp.name, pages.bp.name})
#: What a mail's HTML, shown in a sandboxed frame (an opaque origin, ``Origin: null``), may load:
#: its inline images.
OPAQUE_READS = frozenset({"inbox_api.message_attachment"})


def register(app: Flask) -> None:
    """Serve the inbox's pages and JSON on ``app``."""
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp, url_prefix="/mock")


def is_ui_endpoint(endpoint: str | None, extra: frozenset[str] = frozenset()) -> bool:
    """Whether ``endpoint`` belongs to the inbox (its blueprints, or one of ``extra``)."""
    return endpoint is not None and (endpoint.partition(".")[0] in _BLUEPRINTS or endpoint in extra)
