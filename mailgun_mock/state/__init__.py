"""The one lock and the disk: the store (routes, stored messages, event logs, send state, delivery
attempts), suppression lists, the event log's indexes and paging, and JSON snapshots.

Public store methods take the lock and return copies. May import ``wire``, ``lang``, ``mail`` and
``base``; never a layer that does delivery, sending or HTTP.
"""
