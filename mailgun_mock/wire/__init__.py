"""Pure Mailgun bodies: the fields of a forward or notify POST, event bodies, signatures and form
encoding. No I/O, no state, no clock of its own.

May import ``lang``, ``mail`` and ``base`` only.
"""
