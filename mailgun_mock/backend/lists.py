"""The Mailing Lists API (``/v3/lists``): lists, members, bulk uploads (JSON and CSV), with Mailgun's
shapes and messages; and, for sending, a list address expanded to its subscribed members and the
unsubscribe links Mailgun fills in (``%unsubscribe_url%``…), which the mock serves itself.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from ..base.errors import BadRequest, NotFound
from ..base.logtext import printable
from ..base.records import SuppressionRecord
from ..sending.form import SendRequest
from ..sending.lists import expand_lists, personalize
from ..state.suppressions import rfc2822
from .context import Context
from .params import ADDRESS, integer

__all__ = ["ListOperations"]

_ACCESS = ("readonly", "members", "everyone")
_REPLY = ("list", "sender")
_TRUE, _FALSE = ("yes", "true", "1", "on"), ("no", "false", "0", "off")
MAX_UPLOAD = 1000
_UPLOADED = "Mailing list upload started in background"


def _list_json(record: Mapping[str, Any]) -> dict[str, Any]:
    return {"address": record["address"], "name": record["name"], "description": record["description"],
            "access_level": record["access_level"], "reply_preference": record["reply_preference"],
            "created_at": rfc2822(record["created_at"])[:-3] + "-0000",
            "members_count": record.get("members_count", len(record.get("members", {})))}


def _member_json(member: Mapping[str, Any]) -> dict[str, Any]:
    return {"address": member["address"], "name": member["name"], "vars": dict(member["vars"]),
            "subscribed": member["subscribed"]}


def _flag(value: Any, name: str, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise BadRequest(f"'{name}' must be yes or no, got {printable(str(value), 40)!r}")


def _vars(value: Any) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if isinstance(value, dict):
        return value
    try:
        data = json.loads(str(value))
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        raise BadRequest("'vars' must be a valid JSON object")
    return data


class ListOperations(Context):
    """Mailing lists and members; list expansion and unsubscribe links for sends."""

    def _list(self, address: str) -> dict[str, Any]:
        record = self.store.resources.lists.get(address)
        if record is None:
            raise NotFound(f"Mailing list {printable(address, 100)} not found")
        return record

    def _member(self, item: Any, defaults: Mapping[str, Any] | None = None) -> dict[str, Any]:
        if isinstance(item, str):
            item = {"address": item}
        if not isinstance(item, Mapping):
            raise BadRequest("each member is an address or an object with an 'address'")
        address = str(item.get("address") or "").strip()
        if not address:
            raise BadRequest("Parameter 'address' is missing")
        if not ADDRESS.fullmatch(address):
            raise BadRequest(f"{printable(address, 100)} is not a valid address")
        defaults = defaults or {}
        return {"address": address, "name": str(item.get("name") or ""), "vars": _vars(item.get("vars")),
                "subscribed": _flag(item.get("subscribed"), "subscribed", _flag(defaults.get("subscribed"),
                                                                                "subscribed", True))}

    def _choices(self, form: Mapping[str, Any]) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        access = form.get("access_level")
        if access not in (None, ""):
            if access not in _ACCESS:
                raise BadRequest(f"Invalid access level '{printable(str(access), 40)}'. It can be any of: "
                                 "'readonly', 'members', 'everyone'.")
            changes["access_level"] = access
        reply = form.get("reply_preference")
        if reply not in (None, ""):
            if reply not in _REPLY:
                raise BadRequest(f"Invalid reply preference '{printable(str(reply), 40)}'. It can be any of: "
                                 "'list', 'sender'.")
            changes["reply_preference"] = reply
        for key in ("name", "description"):
            if form.get(key) is not None:
                changes[key] = str(form[key])
        return changes

    # -- lists ----------------------------------------------------------------------------

    def create_list(self, form: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /v3/lists``: ``address``, ``name``, ``description``, ``access_level``, ``reply_preference``."""
        address = str(form.get("address") or "").strip()
        if not address:
            raise BadRequest("Parameter 'address' is missing")
        if not ADDRESS.fullmatch(address):
            raise BadRequest(f"{printable(address, 100)} is not a valid address")
        record = {"address": address, "name": "", "description": "", "access_level": "readonly",
                  "reply_preference": "list", "created_at": self.clock.now(), **self._choices(form)}
        if not self.store.resources.lists.create(record):
            raise BadRequest(f"Mailing list with address '{address}' already exists")
        return {"list": _list_json(record), "message": "Mailing list has been created"}

    def list_lists(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``GET /v3/lists``: ``limit``, ``skip``, ``address``."""
        limit, skip = integer(params.get("limit"), "limit", 100), integer(params.get("skip"), "skip", 0)
        if not 1 <= limit <= 1000 or skip < 0:
            raise BadRequest("limit must be between 1 and 1000, skip at least 0")
        items = self.store.resources.lists.summaries()
        if params.get("address"):
            items = [i for i in items if i["address"].lower() == str(params["address"]).lower()]
        return {"total_count": len(items), "items": [_list_json(i) for i in items[skip:skip + limit]]}

    def list_pages(self, params: Mapping[str, Any], list_address: str | None = None) -> dict[str, Any]:
        """``GET /v3/lists/pages`` (or a list's ``members/pages``): a page by address with its links."""
        limit = integer(params.get("limit"), "limit", 100)
        if not 1 <= limit <= 1000:
            raise BadRequest("limit must be between 1 and 1000")
        page, pivot = str(params.get("page") or ""), str(params.get("address") or "").lower()
        if page not in ("", "first", "last", "next", "prev", "previous"):
            raise BadRequest(f"Invalid page {printable(page, 40)!r}: use first, last, next or prev")
        if list_address is None:
            rows = [(i["address"].lower(), _list_json(i)) for i in self.store.resources.lists.summaries()]
            url = f"{self.base_url}/v3/lists/pages"
        else:
            members = self._list(list_address)["members"].values()
            wanted = params.get("subscribed")
            if wanted not in (None, ""):
                members = [m for m in members if m["subscribed"] == _flag(wanted, "subscribed", True)]
            rows = sorted((m["address"].lower(), _member_json(m)) for m in members)
            url = f"{self.base_url}/v3/lists/{list_address}/members/pages"
        rows.sort(key=lambda row: row[0])
        if page == "next":
            chosen = [row for row in rows if row[0] > pivot][:limit]
        elif page in ("prev", "previous"):
            chosen = [row for row in rows if row[0] < pivot][-limit:]
        elif page == "last":
            chosen = rows[-limit:]
        else:
            chosen = rows[:limit]
        first, last = (chosen[0][0], chosen[-1][0]) if chosen else (pivot, pivot)

        def link(name: str, address: str | None = None) -> str:
            query: dict[str, str | int] = {"page": name, "limit": limit}
            if address is not None:
                query["address"] = address
            return f"{url}?{urlencode(query)}"

        return {"items": [item for _, item in chosen],
                "paging": {"first": link("first"), "last": link("last"), "next": link("next", last),
                           "previous": link("prev", first)}}

    def get_list(self, address: str) -> dict[str, Any]:
        """``GET /v3/lists/<address>``."""
        return {"list": _list_json(self._list(address))}

    def update_list(self, address: str, form: Mapping[str, Any]) -> dict[str, Any]:
        """``PUT /v3/lists/<address>``: ``address`` (renames), ``name``, ``description``, ``access_level``,
        ``reply_preference``."""
        self._list(address)
        changes = self._choices(form)
        new = str(form.get("address") or "").strip()
        if new:
            if not ADDRESS.fullmatch(new):
                raise BadRequest(f"{printable(new, 100)} is not a valid address")
            changes["address"] = new
        if self.store.resources.lists.update(address, changes) == "exists":
            raise BadRequest(f"Mailing list with address '{new}' already exists")
        return {"message": "Mailing list has been updated", "list": _list_json(self._list(new or address))}

    def delete_list(self, address: str) -> dict[str, Any]:
        """``DELETE /v3/lists/<address>``."""
        record = self._list(address)
        self.store.resources.lists.delete(address)
        return {"address": record["address"], "message": "Mailing list has been removed"}

    # -- members --------------------------------------------------------------------------

    def list_members(self, address: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """``GET /v3/lists/<address>/members``: ``subscribed``, ``address``, ``limit`` (≤ 100), ``skip``."""
        members = sorted(self._list(address)["members"].values(), key=lambda m: str(m["address"]).lower())
        limit, skip = integer(params.get("limit"), "limit", 100), integer(params.get("skip"), "skip", 0)
        if not 1 <= limit <= 100 or skip < 0:
            raise BadRequest("limit must be between 1 and 100, skip at least 0")
        if params.get("subscribed") not in (None, ""):
            wanted = _flag(params["subscribed"], "subscribed", True)
            members = [m for m in members if m["subscribed"] == wanted]
        if params.get("address"):
            members = [m for m in members if m["address"].lower() == str(params["address"]).lower()]
        return {"total_count": len(members), "items": [_member_json(m) for m in members[skip:skip + limit]]}

    def create_member(self, address: str, form: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /v3/lists/<address>/members``: ``address``, ``name``, ``vars`` (JSON), ``subscribed``, ``upsert``."""
        self._list(address)
        member = self._member(form)
        problem = self.store.resources.lists.put_members(address, [member], upsert=_flag(form.get("upsert"),
                                                                                          "upsert", False))
        if problem is not None and problem.startswith("exists:"):
            raise BadRequest(f"Address already exists '{member['address']}'")
        return {"member": _member_json(member), "message": "Mailing list member has been created"}

    def get_member(self, address: str, member: str) -> dict[str, Any]:
        """``GET /v3/lists/<address>/members/<member>``."""
        found = self._list(address)["members"].get(member.lower())
        if found is None:
            raise NotFound(f"Member {printable(member, 100)} of mailing list {printable(address, 100)} not found")
        return {"member": _member_json(found)}

    def update_member(self, address: str, member: str, form: Mapping[str, Any]) -> dict[str, Any]:
        """``PUT /v3/lists/<address>/members/<member>``: ``address``, ``name``, ``vars``, ``subscribed``."""
        self._list(address)
        changes: dict[str, Any] = {}
        if form.get("address"):
            changes["address"] = self._member({"address": form["address"]})["address"]
        if form.get("name") is not None:
            changes["name"] = str(form["name"])
        if form.get("vars") not in (None, ""):
            changes["vars"] = _vars(form["vars"])
        if form.get("subscribed") not in (None, ""):
            changes["subscribed"] = _flag(form["subscribed"], "subscribed", True)
        found = self.store.resources.lists.update_member(address, member, changes)
        if found == "exists":
            raise BadRequest(f"Address already exists '{changes['address']}'")
        if isinstance(found, str):
            raise NotFound(f"Member {printable(member, 100)} of mailing list {printable(address, 100)} not found")
        return {"member": _member_json(found), "message": "Mailing list member has been updated"}

    def delete_member(self, address: str, member: str) -> dict[str, Any]:
        """``DELETE /v3/lists/<address>/members/<member>``."""
        self._list(address)
        if self.store.resources.lists.delete_member(address, member) is not None:
            raise NotFound(f"Member {printable(member, 100)} of mailing list {printable(address, 100)} not found")
        return {"member": {"address": member}, "message": "Mailing list member has been deleted"}

    def upload_members(self, address: str, members: Any, upsert: Any, subscribed: Any = None) -> dict[str, Any]:
        """``POST …/members.json``: ``members`` a JSON array (≤ 1000) of addresses or member objects."""
        self._list(address)
        if isinstance(members, str):
            try:
                members = json.loads(members)
            except (ValueError, RecursionError):
                raise BadRequest("'members' must be a JSON array") from None
        if not isinstance(members, list):
            raise BadRequest("Parameter 'members' is missing" if members is None else "'members' must be a JSON array")
        if len(members) > MAX_UPLOAD:
            raise BadRequest(f"Too many members: at most {MAX_UPLOAD} per upload")
        parsed = [self._member(m, {"subscribed": subscribed}) for m in members]
        problem = self.store.resources.lists.put_members(address, parsed, upsert=_flag(upsert, "upsert", False))
        if problem is not None and problem.startswith("exists:"):
            raise BadRequest(f"Address already exists '{problem[7:]}'")
        return {"list": _list_json(self._list(address)), "task-id": self.ids.new(self.clock.now()), "message": _UPLOADED}

    def upload_members_csv(self, address: str, content: bytes | None, upsert: Any, subscribed: Any) -> dict[str, Any]:
        """``POST …/members.csv``: a ``members`` CSV file (``address``, and ``name``, ``vars`` columns)."""
        if content is None:
            raise BadRequest("Parameter 'members' is missing")
        if len(content) > 5 * 1024 * 1024:
            raise BadRequest("CSV file is too big, max allowed size is 5 MB")
        try:
            rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
        except (UnicodeDecodeError, csv.Error) as exc:
            raise BadRequest(f"while reading csv: {exc}") from None
        members = [{(k or "").strip().lower(): (v or "").strip() for k, v in row.items()} for row in rows]
        return self.upload_members(address, [m for m in members if m.get("address")], upsert, subscribed)

    # -- sending --------------------------------------------------------------------------

    def expand_send(self, req: SendRequest) -> SendRequest:
        """A send with its list recipients expanded to their subscribed members and Mailgun's
        per-recipient unsubscribe placeholders filled in."""
        lists = {r.lower(): found for r in req.recipients if (found := self.store.resources.lists.get(r)) is not None}
        tag = req.tags[0] if req.tags else "*"
        return personalize(expand_lists(req, lists),
                           lambda rcpt, kind, list_address: self.unsubscribe_link(req.domain, rcpt, kind, tag,
                                                                                  list_address))

    def unsubscribe_link(self, domain: str, recipient: str, kind: str, tag: str, list_address: str = "") -> str:
        """Where a recipient unsubscribes: ``/mock/unsubscribe/<token>``, signed with the signing key;
        ``tag_unsubscribe_email`` is an address instead."""
        body = {"d": domain.lower(), "r": recipient, "t": tag if kind.startswith("tag_") else "*"}
        if kind == "mailing_list_unsubscribe" and list_address:
            body["l"] = list_address
        data = base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode()).rstrip(b"=").decode()
        token = f"{data}.{self._sign(data)}"
        if kind == "tag_unsubscribe_email":
            return f"unsubscribe+{self._sign(data)[:16]}@{domain.lower()}"
        return f"{self.base_url}/mock/unsubscribe/{token}"

    def _sign(self, data: str) -> str:
        return hmac.new(self.config.signing_key.encode(), data.encode(), hashlib.sha256).hexdigest()[:32]

    def follow_unsubscribe(self, token: str) -> dict[str, Any]:
        """``GET /mock/unsubscribe/<token>``: what clicking an unsubscribe link does at Mailgun: the
        recipient goes on the domain's unsubscribes (for the tag, or ``*``), or leaves the list.

        :raises NotFound: for a token the mock did not make.
        """
        data, _, signature = token.partition(".")
        if not hmac.compare_digest(signature, self._sign(data)):
            raise NotFound("Unknown unsubscribe link")
        body = json.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))
        if body.get("l"):
            self.store.resources.lists.update_member(body["l"], body["r"], {"subscribed": False})
            return {"message": f"{body['r']} has been unsubscribed from {body['l']}"}
        self.store.add_suppressions("unsubscribes", body["d"], [SuppressionRecord(body["r"], self.clock.now(),
                                                                                  tag=body["t"])])
        return {"message": f"{body['r']} has been unsubscribed"}
