"""A small Django app that records replies to customers from inbound mail."""
