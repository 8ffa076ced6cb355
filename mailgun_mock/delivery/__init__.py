"""Getting webhooks out: the delivery worker with its retry schedule on the mock's clock, the HTTP
transport it posts through, and domain event webhooks.

Never holds the store's lock while doing I/O. May import ``state``, ``wire``, ``lang``, ``mail`` and
``base``; never ``sending``, ``inbound``, ``backend`` or above.
"""
