"""The Domains API (``/v4/domains``, and the ``/v3/domains`` forms older SDKs call), domain tracking
settings, SMTP credentials and sending queues, with Mailgun's shapes and messages.

The account's domains are those given with ``--domain`` and those created here; with no
``--domain`` any domain is served and joins the list on first use (:meth:`Context.check_domain`).
"""

from __future__ import annotations

import email.utils
import hmac
import re
from collections.abc import Mapping
from typing import Any

from ..base.errors import BadRequest, NotFound, ReasonError, Unauthorized
from ..base.logtext import printable
from ..base.records import rfc1123
from .context import DOMAIN_NAME
from .dkim import DkimOperations
from .params import integer

__all__ = ["BAD_SMTP_LOGIN", "DomainOperations", "dns_records", "domain_json"]

#: What Mailgun's relay answers a wrong SMTP login or password (with 535 5.7.0).
BAD_SMTP_LOGIN = "Mailgun is not loving your login or password"

_TRUE, _FALSE = ("yes", "true", "1", "on"), ("no", "false", "0", "off")
_BOOLEANS = ("require_tls", "skip_verification", "use_automatic_sender_security", "wildcard",
             "encrypt_incoming_message")
_CHOICES = {"spam_action": ("disabled", "tag", "block"), "web_scheme": ("http", "https")}
_TEXTS = ("web_prefix", "archive_to", "mailfrom_host")
_UPDATED = "Domain tracking settings have been updated"


def _rfc2822(timestamp: float) -> str:
    """Credentials' date format: ``Wed, 08 Mar 2023 23:34:57 +0000``."""
    return email.utils.formatdate(timestamp)[:-5] + "+0000"


def _flag(value: Any, name: str) -> bool:
    word = str(value).strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ReasonError(f"Invalid boolean value {printable(str(value), 40)!r} for '{name}'")


def domain_json(record: Mapping[str, Any]) -> dict[str, Any]:
    """A domain as Mailgun's API shows it."""
    settings = record["settings"]
    shown: dict[str, Any] = {
        "created_at": rfc1123(record["created_at"]), "id": record["id"], "is_disabled": False,
        "name": record["name"], "smtp_login": f"postmaster@{record['name']}", "state": record["state"],
    }
    shown.update({key: settings[key] for key in (*_BOOLEANS, "spam_action", "type", "web_prefix", "web_scheme",
                                                 "message_ttl")})
    if settings.get("archive_to"):
        shown["archive_to"] = settings["archive_to"]
    return shown


def dns_records(record: Mapping[str, Any], dkim: tuple[str, str, bool]) -> dict[str, list[dict[str, Any]]]:
    """The DNS records Mailgun asks a domain to publish (valid once verified: the mock checks no DNS).

    :param dkim: the DKIM record: host, value (the public key), whether its key is active.
    """
    name, valid = record["name"], "valid" if record["state"] == "active" else "unknown"
    prefix = record["settings"]["web_prefix"] or "email"

    def entry(kind: str, host: str, value: str, **extra: str) -> dict[str, Any]:
        return {"record_type": kind, "name": host, "value": value, "valid": valid, "is_active": True,
                "cached": [], **extra}

    return {
        "sending_dns_records": [entry("TXT", name, "v=spf1 include:mailgun.org ~all"),
                                {**entry("TXT", dkim[0], dkim[1]), "is_active": dkim[2]},
                                entry("CNAME", f"{prefix}.{name}", "mailgun.org")],
        "receiving_dns_records": [entry("MX", "", "mxa.mailgun.org", priority="10"),
                                  entry("MX", "", "mxb.mailgun.org", priority="10")],
    }


class DomainOperations(DkimOperations):
    """Domains, their tracking settings and SMTP credentials."""

    def _domain(self, name: str) -> dict[str, Any]:
        """The record of a domain the account has (a ``--domain`` one is made on first use).

        :raises NotFound: ``Domain not found``.
        """
        record = self.store.resources.domains.get(name)
        if record is None and name.lower() in self.config.domains:
            self.check_domain(name)
            record = self.store.resources.domains.get(name)
        if record is None:
            raise NotFound("Domain not found")
        return record

    def _answer(self, record: Mapping[str, Any], message: str | None = None) -> dict[str, Any]:
        answer: dict[str, Any] = {} if message is None else {"message": message}
        return {**answer, "domain": domain_json(record), **dns_records(record, self.domain_dkim_record(record))}

    def _settings(self, form: Mapping[str, Any]) -> dict[str, Any]:
        settings: dict[str, Any] = {}
        for key in _BOOLEANS:
            if form.get(key) not in (None, ""):
                settings[key] = _flag(form[key], key)
        for key, choices in _CHOICES.items():
            value = form.get(key)
            if value not in (None, ""):
                if value not in choices:
                    raise ReasonError(f"Invalid '{key}' value {printable(str(value), 40)!r}: use {', '.join(choices)}")
                settings[key] = value
        for key in _TEXTS:
            if form.get(key) is not None:
                settings[key] = str(form[key])
        if form.get("message_ttl") not in (None, ""):
            settings["message_ttl"] = integer(form["message_ttl"], "message_ttl", 0)
        password = form.get("smtp_password")
        if password not in (None, ""):
            if not 5 <= len(str(password)) <= 32:
                raise ReasonError("Password is too short. It must be between 5 and 32 characters."
                                  if len(str(password)) < 5 else "Password is too long. It must be between 5 and "
                                                                 "32 characters.")
            settings["smtp_password"] = str(password)
        return settings

    def list_domains(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``GET /v4/domains``: ``limit`` (≤ 1000), ``skip``, ``state``, ``sort``, ``search``."""
        for name in self.config.domains:
            self.check_domain(name)
        limit, skip = integer(params.get("limit"), "limit", 100), integer(params.get("skip"), "skip", 0)
        if not 1 <= limit <= 1000 or skip < 0:
            raise BadRequest("limit must be between 1 and 1000, skip at least 0")
        records = self.store.resources.domains.all()
        if params.get("state"):
            records = [r for r in records if r["state"] == params["state"]]
        if params.get("search"):
            records = [r for r in records if str(params["search"]).lower() in r["name"]]
        sort = str(params.get("sort") or "")
        if sort in ("name", "name:asc", "name:desc"):
            records.sort(key=lambda r: str(r["name"]), reverse=sort == "name:desc")
        elif sort:
            raise BadRequest(f"Invalid sort option {printable(sort, 40)!r}: use name, name:asc or name:desc")
        return {"total_count": len(records), "items": [domain_json(r) for r in records[skip:skip + limit]]}

    def create_domain(self, form: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /v4/domains``: a new (unverified) domain with its DNS records."""
        name = str(form.get("name") or "").strip().lower()
        if not name:
            raise ReasonError("Missing mandatory parameter: name")
        if not DOMAIN_NAME.fullmatch(name) or "." not in name.strip("."):
            raise ReasonError(f"'{printable(name, 100)}' is not a valid domain name")
        settings = {**self._settings(form), **self.dkim_settings(form)}
        record = self.store.resources.domains.create(name, domain_id=self.ids.new(self.clock.now()),
                                                     now=self.clock.now(), settings=settings)
        if record is None:
            raise ReasonError("This domain name is already taken")
        return self._answer(record, "Domain DNS records have been created")

    def get_domain(self, name: str) -> dict[str, Any]:
        """``GET /v4/domains/<name>``: the domain and its DNS records."""
        return self._answer(self._domain(name))

    def update_domain(self, name: str, form: Mapping[str, Any]) -> dict[str, Any]:
        """``PUT /v4/domains/<name>``: change the settings given."""
        self._domain(name)
        record = self.store.resources.domains.update(name, settings=self._settings(form))
        if record is None:
            raise NotFound("Domain not found")
        return self._answer(record, "Domain has been updated")

    def verify_domain(self, name: str) -> dict[str, Any]:
        """``PUT /v4/domains/<name>/verify``: the mock checks no DNS, so the domain becomes active."""
        self._domain(name)
        record = self.store.resources.domains.update(name, state="active")
        if record is None:
            raise NotFound("Domain not found")
        return self._answer(record, "Domain DNS records have been updated")

    def delete_domain(self, name: str) -> dict[str, Any]:
        """``DELETE /v3/domains/<name>``: forgotten at once (Mailgun: "in the background")."""
        self._domain(name)
        self.store.resources.domains.delete(name)
        return {"message": "Domain will be deleted in the background"}

    # -- tracking -------------------------------------------------------------------------

    def get_tracking(self, name: str) -> dict[str, Any]:
        """``GET /v3/domains/<name>/tracking``."""
        record = self._domain(name)
        return {"tracking": {**record["tracking"], "web_scheme": record["settings"]["web_scheme"]}}

    def update_tracking(self, name: str, kind: str, form: Mapping[str, Any]) -> dict[str, Any]:
        """``PUT /v3/domains/<name>/tracking/<open|click|unsubscribe>``."""
        self._domain(name)
        change: dict[str, Any] = {}
        active = form.get("active")
        if active not in (None, ""):
            change["active"] = "htmlonly" if kind == "click" and active == "htmlonly" else _flag(active, "active")
        if kind == "open" and form.get("place_at_the_top") not in (None, ""):
            change["place_at_the_top"] = _flag(form["place_at_the_top"], "place_at_the_top")
        if kind == "unsubscribe":
            change.update({key: str(form[key]) for key in ("html_footer", "text_footer") if form.get(key) is not None})
        record = self.store.resources.domains.update(name, tracking=(kind, change))
        if record is None:
            raise NotFound("Domain not found")
        return {"message": _UPDATED, kind: record["tracking"][kind]}

    def tracking_of(self, name: str) -> dict[str, Any]:
        """A served domain's tracking settings (for sending: they gate opens and clicks)."""
        self.check_domain(name)
        record = self.store.resources.domains.get(name)
        return {} if record is None else dict(record["tracking"])

    # -- credentials ----------------------------------------------------------------------

    def _login(self, name: str, login: str) -> str:
        login = login.strip()
        if not login:
            raise BadRequest("Parameter 'login' is missing")
        if "@" not in login:
            login = f"{login}@{name.lower()}"
        if not re.fullmatch(r"[^\s@]+@[^\s@]+", login) or login.rpartition("@")[2].lower() != name.lower():
            raise BadRequest(f"Login {printable(login, 100)!r} must be an address at {name.lower()}")
        return login

    def list_credentials(self, name: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """``GET /v3/domains/<name>/credentials``."""
        record = self._domain(name)
        limit, skip = integer(params.get("limit"), "limit", 100), integer(params.get("skip"), "skip", 0)
        if limit > 1000:
            raise BadRequest("Limit parameter can't be larger than 1000")
        if limit < 1 or skip < 0:
            raise BadRequest("limit must be at least 1 and skip at least 0")
        entries = sorted(record["credentials"].values(), key=lambda c: (c["created_at"], c["login"]))
        items = [{"mailbox": c["login"], "login": c["login"], "created_at": _rfc2822(c["created_at"]),
                  "size_bytes": None} for c in entries]
        return {"items": items[skip:skip + limit], "total_count": len(items)}

    def create_credential(self, name: str, login: str | None, password: str | None) -> dict[str, Any]:
        """``POST /v3/domains/<name>/credentials`` (``login``, ``password`` of 5 to 32 characters)."""
        self._domain(name)
        address = self._login(name, login or "")
        self._check_password(password)
        assert password is not None
        if self.store.resources.domains.set_credential(name, address, password, self.clock.now(), create=True):
            raise BadRequest(f"Credentials for {address} already exist")
        return {"message": "Created 1 credentials pair(s)"}

    def update_credential(self, name: str, spec: str, password: str | None) -> dict[str, Any]:
        """``PUT /v3/domains/<name>/credentials/<login>``: a new password."""
        self._domain(name)
        self._check_password(password)
        assert password is not None
        address = self._login(name, spec)
        if self.store.resources.domains.set_credential(name, address, password, self.clock.now(), create=False):
            raise NotFound("Credentials not found")
        return {"message": "Password changed"}

    def delete_credential(self, name: str, spec: str | None = None) -> dict[str, Any]:
        """``DELETE /v3/domains/<name>/credentials[/<login>]``."""
        self._domain(name)
        if spec is None:
            count = self.store.resources.domains.delete_credentials(name)
            return {"message": "All domain credentials have been deleted", "count": count}
        address = self._login(name, spec)
        if not self.store.resources.domains.delete_credentials(name, address):
            raise NotFound("Credentials not found")
        return {"message": "Credentials have been deleted", "spec": address}

    @staticmethod
    def _check_password(password: str | None) -> None:
        if not password:
            raise BadRequest("Parameter 'password' is missing")
        if not 5 <= len(password) <= 32:
            raise BadRequest("Password length must be between 5 and 32 characters")

    def check_smtp_login(self, domain: str, login: str, password: str) -> bool:
        """Whether ``login``/``password`` is an SMTP credential of ``domain`` (the seam SMTP AUTH asks):
        a login created through the credentials API, or ``postmaster@<domain>`` with the domain's
        ``smtp_password``, else the mock's ``smtp_password`` (``--smtp-password``)."""
        record = self.store.resources.domains.get(domain)
        if record is None:
            return False
        address = login if "@" in login else f"{login}@{domain.lower()}"
        stored = self.store.resources.domains.password_of(domain, address)
        if stored is None and address.lower() == f"postmaster@{domain.lower()}":
            stored = record["settings"].get("smtp_password") or self.config.smtp_password
        return stored is not None and hmac.compare_digest(str(stored).encode(), password.encode())

    def smtp_login(self, login: str, password: str) -> str:
        """AUTH on the SMTP relay: the sending domain of ``login``, an address at one of the account's
        domains (which, with no ``--domain``, joins the account as on the API).

        :raises NotFound: ``Domain not found: <domain>`` for a login at a domain the account does not have.
        :raises Unauthorized: with Mailgun's relay text, for a login without a domain or a wrong password.
        """
        local, at, domain = login.strip().rpartition("@")
        if not (local and at and domain):
            raise Unauthorized(BAD_SMTP_LOGIN)
        self.check_domain(domain)
        if not self.check_smtp_login(domain, login.strip(), password):
            raise Unauthorized(BAD_SMTP_LOGIN)
        return domain.lower()

    def update_dkim_authority(self, name: str, own: Any) -> dict[str, Any]:
        """``PUT /v3/domains/<name>/dkim_authority``: ``self`` yes (the domain signs for itself) or no."""
        record = self._domain(name)
        value = _flag(own if own not in (None, "") else "yes", "self")
        changed = record["settings"].get("dkim_authority_self", True) != value
        record = self.store.resources.domains.update(name, settings={"dkim_authority_self": value}) or record
        return {"message": "Domain DKIM authority has been changed", "changed": changed,
                "sending_dns_records": dns_records(record, self.domain_dkim_record(record))["sending_dns_records"]}

    def update_dkim_selector(self, name: str, selector: str | None) -> dict[str, Any]:
        """``PUT /v3/domains/<name>/dkim_selector``: the selector the DKIM record is published under."""
        self._domain(name)
        selector = (selector or "").strip()
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]{0,62}", selector):
            raise BadRequest("Invalid DKIM selector: letters, digits and hyphens, at most 63")
        record = self.store.resources.domains.update(name, settings={"dkim_selector": selector})
        if record is not None:  # the new selector publishes a key of its own
            self._ensure_key(self.dkim_authority(record), selector)
        return {"message": "DKIM selector changed"}

    def sending_queues(self, name: str) -> dict[str, Any]:
        """``GET /v3/domains/<name>/sending_queues``: the mock's queues are never disabled."""
        self._domain(name)
        return {"regular": {"is_disabled": False}, "scheduled": {"is_disabled": False}}
