"""Inbound mail through the routes: the plan for one recipient (which routes match, why, with what
captures) and running its actions (forward, store, notify).

May import ``sending``, ``delivery``, ``state`` and the pure layers below; never ``backend`` or the
layers above it.
"""
