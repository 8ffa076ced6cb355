"""The Mailgun operations (``create_route``, ``receive_inbound``, ``send_message``, ``list_events``…)
as one :class:`~.core.Backend`, composed of one part per resource; no Flask.

Validation and Mailgun's error messages live here, so the test client, the threaded server and
direct Python calls behave alike. May import ``inbound``, ``sending``, ``delivery`` and everything
below them; never ``http`` or ``edges``, and never Flask, werkzeug or pytest.
"""
