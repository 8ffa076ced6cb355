"""Pure RFC 5322: header unfolding and RFC 2047 decoding, lazy message parsing, charset detection for
text parts, uuencoded files, composing a MIME message (assembled without the header registry where
its bytes are known), quote and signature stripping (with the localized markers clients write), an
HTML tokenizer and HTML rendered as text.

Knows nothing of Mailgun's API. May import ``base`` only.
"""
