"""The only Flask: ``create_app`` (:mod:`.app`), one blueprint per Mailgun resource under :mod:`.api`
(plus ``api/mock.py`` for ``/mock``), and the OpenAPI document the mock serves.

Handlers parse the request, call one :class:`~mailgun_mock.backend.core.core.Backend` method and render
its answer. May import ``backend`` and every layer below it, and Flask and werkzeug; never ``edges``.
"""
