"""``probe_webhook``: the webhook attack lab as the running mock offers it (``POST /mock/webhook-probe``,
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
from .core import Backend

__all__ = ["probe_webhook"]

#: The largest oversized probe one may ask for (the default follows ``max_message_size``): 64 MiB.
MAX_OVERSIZE = 64 << 20


def probe_webhook(backend: Backend, url: object, kind: object = "forward", *, recipient: object = None,
                  oversize: object = None) -> probe.ProbeReport:
    """Send the receiver at ``url`` one valid webhook of ``kind`` and the forged ones; answer the report.

    A ``notify`` or ``webhook`` probe's message is stored in the mock first, so its ``message-url``
    (``storage.url``) answers like a real one: a receiver that fetches it is not failed for that. Signatures and the event
    time use the wall clock (``time.time()``), not the mock's clock: receivers check against their own.

    :param oversize: the oversized probe's size in bytes (default: :func:`~.probe.oversize_for`
        the configured ``max_message_size``).
    :raises BadRequest: for a bad URL, kind, recipient or size, before anything is sent or stored.
    """
    checked_url, checked_kind = probe.check_url(url), probe.check_kind(kind)
    rcpt = probe.check_recipient(recipient)
    size = _size(oversize, backend.config.max_message_size)
    raw = probe.sample_message(rcpt)
    now = backend.clock.now()
    stored = StoredMessage(key=new_storage_key(), domain=rcpt.rpartition("@")[2].lower(), raw=raw,
                           recipients=(rcpt,), sender=probe.SENDER, message_id=ParsedMessage(raw).message_id.strip(),
                           stored_at=now, expires_at=now + backend.config.retention)
    config = backend.config
    probes = probe.build_probes(checked_kind, checked_url, config.signing_key, config.api_key, now=time.time(),
                                oversize=size, recipient=rcpt, message_url=stored.storage_url(backend.base_url),
                                message=raw)
    if checked_kind != "forward":
        backend.store.add_message(stored)  # only now: bad input above stores nothing
    return probe.send_probes(checked_url, checked_kind, probes, backend.delivery.transport, config.delivery_timeout)


def _size(value: object, max_message_size: int) -> int:
    if value is None or value == "":
        return probe.oversize_for(max_message_size)
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit():
        raise BadRequest(f"'oversize' must be a number of bytes; got {str(value)[:40]!r}")
    size = int(value)
    if not 1 <= size <= MAX_OVERSIZE:
        raise BadRequest(f"'oversize' must be between 1 and {MAX_OVERSIZE} bytes; got {size}")
    return size
