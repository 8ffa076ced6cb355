"""Entry points nobody inside the package imports: the threaded server (:class:`MailgunMock`), the SMTP
listener, ``replay``, the command line and the pytest plugin.

Holds what starts, stops and wires things to the outside world (sockets, threads, ``argv``, pytest).
May import every layer below; nothing in the package imports it, except the lazy facade in
``mailgun_mock/__init__.py``. The pytest plugin imports nothing heavy at module level.
"""
