"""One Flask blueprint per Mailgun resource, plus the mock's own control namespace."""
