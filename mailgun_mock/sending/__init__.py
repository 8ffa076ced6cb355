"""Sending as Mailgun's ``/messages`` does: the form and MIME request parsers, and the outbox that
turns an accepted message into per-recipient delivery steps on the mock's clock.

May import ``delivery``, ``state`` and the pure layers below; never ``inbound``, ``backend`` or above.
"""
