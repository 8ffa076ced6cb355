"""The pure little languages: the shared lexer, route filters and their time-bounded matcher,
route actions, the Events API's filter language and the sending rules.

Parsers return values or raise ``ExpressionError``/``BadRequest``; nothing here does I/O. May
import ``mail`` and ``base`` only.
"""
