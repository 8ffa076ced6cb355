"""Pure RFC 5322: header unfolding and RFC 2047 decoding, lazy message parsing, composing a MIME
message, quote and signature stripping, an HTML tokenizer and HTML rendered as text.

Knows nothing of Mailgun's API. May import ``base`` only.
"""
