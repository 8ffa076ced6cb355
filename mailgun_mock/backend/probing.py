"""The webhook attack lab as the running mock offers it (``POST /mock/webhook-probe``,
:meth:`MailgunMock.probe_webhook`), with the mock's keys, size limit, transport and storage.

The probe set itself is built and sent by :mod:`mailgun_mock.delivery.probe`.
"""

from __future__ import annotations

import time

from ..base.errors import BadRequest
from ..base.ids import new_storage_key
from ..base.records import StoredMessage
from ..delivery import probe
from ..mail.parse import ParsedMessage
from .context import Context

__all__ = ["ProbeOperations"]

#: The largest oversized probe one may ask for (the default follows ``max_message_size``): 64 MiB.
MAX_OVERSIZE = 64 << 20


class ProbeOperations(Context):
    """Probe an application's webhook receiver with a valid webhook and forged ones."""

    def probe_webhook(self, url: object, kind: object = "forward", *, recipient: object = None,
                      oversize: object = None) -> probe.ProbeReport:
        """Send the receiver at ``url`` one valid webhook of ``kind`` and the forged ones; answer the report.

        A ``notify`` or ``webhook`` probe's message is stored in the mock first, so its ``message-url``
        (``storage.url``) answers like a real one: a receiver that fetches it is not failed for that.
        Signatures and the event time use the wall clock (``time.time()``), not the mock's clock:
        receivers check them against their own. The probes are not recorded as deliveries.

        :param kind: ``forward``, ``notify``, ``webhook`` or ``webhook:<name>``.
        :param recipient: the address the probes' message is to (default ``webhook-probe@example.com``).
        :param oversize: the oversized probe's size in bytes (default: :func:`~.probe.oversize_for`
            the configured ``max_message_size``).
        :raises BadRequest: for a bad URL, kind, recipient or size, before anything is sent or stored.
        """
        checked_url, checked_kind = probe.check_url(url), probe.check_kind(kind)
        rcpt = probe.check_recipient(recipient)
        size = _size(oversize, self.config.max_message_size)
        raw = probe.sample_message(rcpt)
        now = self.clock.now()
        stored = StoredMessage(key=new_storage_key(), domain=rcpt.rpartition("@")[2].lower(), raw=raw,
                               recipients=(rcpt,), sender=probe.SENDER,
                               message_id=ParsedMessage(raw).message_id.strip(), stored_at=now,
                               expires_at=now + self.config.retention)
        probes = probe.build_probes(checked_kind, checked_url, self.config.signing_key, self.config.api_key,
                                    now=time.time(), oversize=size, recipient=rcpt,
                                    message_url=stored.storage_url(self.base_url), message=raw)
        if checked_kind != "forward":
            self.store.add_message(stored)  # only now: bad input above stores nothing
        return probe.send_probes(checked_url, checked_kind, probes, self.delivery.transport,
                                 self.config.delivery_timeout)


def _size(value: object, max_message_size: int) -> int:
    if value is None or value == "":
        return probe.oversize_for(max_message_size)
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit():
        raise BadRequest(f"'oversize' must be a number of bytes; got {str(value)[:40]!r}")
    size = int(value)
    if not 1 <= size <= MAX_OVERSIZE:
        raise BadRequest(f"'oversize' must be between 1 and {MAX_OVERSIZE} bytes; got {size}")
    return size
