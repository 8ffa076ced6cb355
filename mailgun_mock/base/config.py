"""The mock's configuration: one frozen dataclass, and the one place ``MAILGUN_MOCK_*`` is read."""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from collections.abc import Mapping
from typing import Any

__all__ = ["Config", "ConfigError", "DEFAULT_API_KEY", "DEFAULT_EVENT_RETRY_SCHEDULE", "DEFAULT_SIGNING_KEY",
           "DEFAULT_SMTP_PASSWORD", "DEFAULT_TEST_RECIPIENT_DOMAIN", "ENV_PREFIX", "parse_schedule"]

ENV_PREFIX = "MAILGUN_MOCK_"
# Fixed defaults rather than random ones: a dev server restarted with the same command keeps
# working with the app already configured for it. They look like Mailgun's key formats.
DEFAULT_API_KEY = "key-mailgunmock0000000000000000000"
DEFAULT_SIGNING_KEY = "mailgunmock-signing-key-00000000"
#: The password of ``postmaster@<domain>`` on the SMTP relay, for every domain that has none of its own.
DEFAULT_SMTP_PASSWORD = "mailgunmock-smtp-0000"
#: Mailgun's documented retry delays for route webhooks: 10m, 10m, 15m, 30m, 1h, 2h, 4h.
DEFAULT_RETRY_SCHEDULE = (600.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0)
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")
#: Mailgun's current docs for event webhooks: 5m, 10m, 15m, 1h, 2h, 4h.
DEFAULT_EVENT_RETRY_SCHEDULE = (300.0, 600.0, 900.0, 3600.0, 7200.0, 14400.0)
#: The domain of the reserved test recipients (delivered@, bounce@, defer@…), which act without a rule.
DEFAULT_TEST_RECIPIENT_DOMAIN = "test-recipients.mailgun-mock.invalid"


class ConfigError(ValueError):
    """A configuration value that cannot be used (bad type, out of range)."""


@dataclasses.dataclass(frozen=True)
class Config:
    """Everything the server, the backend and the CLI can be told.

    :param host: interface to bind; ``127.0.0.1`` unless told otherwise.
    :param port: TCP port; ``0`` picks a free one (read back after binding).
    :param api_key: the password of HTTP Basic auth (user ``api``).
    :param signing_key: the webhook signing key, separate from the API key as in Mailgun.
    :param regex_timeout: seconds one filter function may spend matching its regular expression.
    :param public_url: base of storage and paging URLs when the mock sits behind a proxy
        (default: the server's own URL).
    :param retention: seconds a stored message is kept (Mailgun: 3 days).
    :param retry_schedule: seconds between route webhook attempts (forward, notify) after a failure.
    :param event_retry_schedule: seconds between event webhook attempts after a failure.
    :param test_recipient_domain: the domain of the reserved test recipients (``delivered@``,
        ``bounce@``, ``complain@``, ``unsubscribe@``, ``defer@``, ``reject@``, each with an optional ``+label``).
    :param delivery_timeout: seconds one webhook attempt may take.
    :param max_message_size: largest message accepted, in bytes (Mailgun: 25 MB).
    :param max_headers: most header lines an inbound message may have (more: 400).
    :param max_stored_messages: stored messages kept at most; past it the oldest are evicted.
    :param max_events: events kept per domain at most; past it the oldest are evicted.
    :param domains: the domains served; empty means any domain is accepted.
    :param smtp_port: port of the inbound SMTP listener: ``None`` = no listener, ``0`` = a free port
        (read back as :attr:`MailgunMock.smtp_port`). On the command line and in the environment
        ``0`` means no listener, as for ``--smtp-port``.
    :param smtp_submission_port: port of the SMTP relay (submission) listener, Mailgun's
        ``smtp.mailgun.org`` that applications send through with AUTH: ``None`` = no listener, ``0`` = a
        free port (read back as :attr:`MailgunMock.smtp_submission_port`). On the command line and in
        the environment ``0`` means no listener.
    :param smtp_submission_tls_port: a port where the relay speaks TLS from the first byte (Mailgun's
        465), with the ``tls`` certificate; ``None``/``0`` as for ``smtp_submission_port``.
    :param smtp_password: the relay password of ``postmaster@<domain>`` for a domain without a
        password of its own (SMTP credentials made through the API have theirs).
    :param snapshot: path of the JSON snapshot to load at start and keep up to date (``""`` = none).
    :param snapshot_delay: seconds between a change and the snapshot write that records it.
    :param allowed_hosts: more names the server answers to in the ``Host`` header (loopback, the bound
        address and the ``public_url`` host always are; the HTTPS certificate names them too); ``*`` =
        any, ``.example.com`` = a domain and its subdomains.
    :param ips: the account's shared sending IPs (``/v3/ips``); the default is one address of the
        documentation range 192.0.2.0/24. Dedicated IPs are added with ``POST /v3/ips/request/new``.
    :param ui_auth: ``user:password`` the web inbox asks for (``""``: open to clients on this machine).
    :param tls: serve HTTPS, with a certificate from a local CA the mock creates (see ``edges/tls.py``).
    :param deliver: ``"thread"``: webhooks and scheduled work run on the mock's own threads, one
        lane per destination; ``"inline"``: in the thread that caused them (an inject, a send,
        ``advance_clock``), so a test's receiver runs in the test's own thread and transaction.
    :param namespaces: each API key is an account of its own (state made on first use of the key, any
        key accepted, ``POST /mock/reset`` with a key resets its account alone); the configured key's
        account is the one SMTP, the web inbox and the Python helpers see.
    :param tls_dir: where that CA and certificate are kept (``""``: beside the snapshot, else a
        per-user data folder).
    """

    host: str = "127.0.0.1"
    port: int = 0
    api_key: str = DEFAULT_API_KEY
    signing_key: str = DEFAULT_SIGNING_KEY
    regex_timeout: float = 0.05
    public_url: str = ""
    retention: float = 3 * 24 * 3600
    retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE
    event_retry_schedule: tuple[float, ...] = DEFAULT_EVENT_RETRY_SCHEDULE
    test_recipient_domain: str = DEFAULT_TEST_RECIPIENT_DOMAIN
    delivery_timeout: float = 10.0
    max_message_size: int = 25 * 1024 * 1024
    max_headers: int = 5000
    max_stored_messages: int = 50_000
    max_events: int = 1_000_000
    # The flag is --domain (repeatable), so its environment twin is MAILGUN_MOCK_DOMAIN (comma-separated).
    domains: tuple[str, ...] = dataclasses.field(default=(), metadata={"env": "DOMAIN"})
    smtp_port: int | None = None
    smtp_submission_port: int | None = None
    smtp_submission_tls_port: int | None = None
    smtp_password: str = DEFAULT_SMTP_PASSWORD
    snapshot: str = ""
    snapshot_delay: float = 0.5
    # The flag is --allowed-host (repeatable), so its environment twin is MAILGUN_MOCK_ALLOWED_HOST (comma-separated).
    allowed_hosts: tuple[str, ...] = dataclasses.field(default=(), metadata={"env": "ALLOWED_HOST"})
    tls: bool = False
    tls_dir: str = ""
    deliver: str = "thread"
    ui_auth: str = ""
    namespaces: bool = False
    # The environment twin is MAILGUN_MOCK_IPS (comma-separated).
    ips: tuple[str, ...] = ("192.0.2.10",)

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be between 0 and 65535, got {self.port}")
        for name in ("api_key", "signing_key", "smtp_password"):
            value = getattr(self, name)
            if not value or any(c in value for c in "\r\n"):
                raise ConfigError(f"{name} must be a non-empty single-line string")
        for name in ("regex_timeout", "retention", "delivery_timeout", "max_message_size", "max_headers",
                     "max_stored_messages", "max_events"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be positive")
        for name in ("retry_schedule", "event_retry_schedule"):
            if any(not delay >= 0 for delay in getattr(self, name)):
                raise ConfigError(f"{name} must hold non-negative numbers of seconds")
        object.__setattr__(self, "test_recipient_domain", self.test_recipient_domain.strip().lower())
        if self.public_url and not self.public_url.startswith(("http://", "https://")):
            raise ConfigError(f"public_url must start with http:// or https://, got {self.public_url!r}")
        object.__setattr__(self, "public_url", self.public_url.rstrip("/"))
        object.__setattr__(self, "domains", _names(self.domains, "domains"))
        object.__setattr__(self, "allowed_hosts", _names(self.allowed_hosts, "allowed_hosts"))
        if self.smtp_port is not None and not 0 <= self.smtp_port <= 65535:
            raise ConfigError(f"smtp_port must be between 0 and 65535, got {self.smtp_port}")
        if self.deliver not in ("thread", "inline"):
            raise ConfigError(f"deliver must be 'thread' or 'inline', got {self.deliver!r}")
        for name in ("smtp_submission_port", "smtp_submission_tls_port"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 65535:
                raise ConfigError(f"{name} must be between 0 and 65535, got {value}")
        if self.smtp_submission_tls_port is not None and not self.tls:
            raise ConfigError("smtp_submission_tls_port needs tls (the relay's certificate comes from --tls)")
        if self.snapshot_delay < 0:
            raise ConfigError("snapshot_delay must not be negative")
        for host in self.allowed_hosts:
            if any(c.isspace() or c in "/@?#" for c in host):
                raise ConfigError(f"allowed_hosts: {host!r} is not a host name (give names like mailgun-mock or .example.com)")
        try:
            object.__setattr__(self, "ips", tuple(str(ipaddress.ip_address(ip.strip())) for ip in _names(self.ips, "ips")))
        except ValueError as exc:
            raise ConfigError(f"ips: {exc}") from None
        if self.ui_auth and (":" not in self.ui_auth or self.ui_auth.startswith(":") or "\n" in self.ui_auth):
            raise ConfigError("ui_auth must be user:password")

    def serves(self, domain: str) -> bool:
        """Whether mail for ``domain`` is accepted (always, unless ``domains`` restricts it)."""
        return not self.domains or domain.lower() in self.domains

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Config:
        """Build a config from ``MAILGUN_MOCK_<FIELD>`` variables, then apply ``overrides``.

        Overrides whose value is ``None`` are ignored, so a CLI can pass every flag through.

        :param environ: the environment to read (default :data:`os.environ`).
        :raises ConfigError: when a variable or override does not fit its field.
        """
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            env_name = ENV_PREFIX + field.metadata.get("env", field.name.upper())
            if env_name in environ:
                values[field.name] = _convert(field, environ[env_name], env_name)
        for name, value in overrides.items():
            if value is not None:
                values[name] = value
        if values.get("smtp_port") == 0:  # --smtp-port 0 / MAILGUN_MOCK_SMTP_PORT=0: no SMTP listener
            values["smtp_port"] = None
        for name in ("smtp_submission_port", "smtp_submission_tls_port"):
            if values.get(name) == 0:  # --smtp-submission-port 0 / ..._PORT=0: no relay listener
                values[name] = None
        try:
            return cls(**values)
        except TypeError as exc:  # an unknown override name
            raise ConfigError(str(exc)) from None

    def replace(self, **changes: Any) -> Config:
        """A copy with ``changes`` applied (``None`` values ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


def _names(value: object, field: str) -> tuple[str, ...]:
    """Host or domain names given as one string (comma-separated) or as an iterable of strings, lowercased."""
    items = value.split(",") if isinstance(value, str) else value
    try:
        names = [str(item).strip().lower() for item in items]  # type: ignore[attr-defined]
    except TypeError:
        raise ConfigError(f"{field} must be a string or an iterable of strings, got {type(value).__name__}") from None
    return tuple(name for name in names if name)


def parse_schedule(text: str) -> tuple[float, ...]:
    """Read a retry schedule written as comma-separated seconds, e.g. ``"600,600,900"`` (``""`` = no retries)."""
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ConfigError(f"a retry schedule is comma-separated seconds, got {text!r}") from None


def _convert(field: dataclasses.Field[Any], raw: str, source: str) -> Any:
    kind = field.type if isinstance(field.type, str) else getattr(field.type, "__name__", "")
    try:
        if kind in ("int", "int | None"):
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError:
        raise ConfigError(f"{source} must be a number, got {raw!r}") from None
    if kind == "bool":
        if raw.strip().lower() in _TRUE:
            return True
        if raw.strip().lower() in _FALSE:
            return False
        raise ConfigError(f"{source} must be true or false (1/0, yes/no, on/off), got {raw!r}")
    if kind.startswith("tuple[float"):
        return parse_schedule(raw)
    if kind.startswith("tuple[str"):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw
