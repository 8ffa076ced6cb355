"""Leaves: errors, records (dataclasses with their JSON shapes), configuration, the clock, id makers
and log-safe text.

May import only the standard library and ``_version``; everything else imports from here.
"""
