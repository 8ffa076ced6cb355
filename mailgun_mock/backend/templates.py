"""The Templates API (``/v3/<domain>/templates``, and the account's ``/v4/templates``): templates and
their versions, with Mailgun's paging, limits and messages; and a send's ``template`` rendered
into its fields before the send is parsed, or into a ready message (``messages.mime``, the SMTP relay).
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from ..base.errors import BadRequest, NotFound
from ..base.logtext import printable
from ..mail.edit import replace_body, text_body
from ..mail.headers import decode_header_value, split_head
from ..mail.parse import ParsedMessage
from ..sending.form import SendRequest
from ..sending.templates import check_template, render, template_variables, text_version
from ..state.suppressions import rfc2822
from ..state.templates import MAX_TEMPLATES, MAX_VERSIONS
from .context import Context
from .params import integer

__all__ = ["TemplateOperations"]

_HEADERS = ("From", "Subject", "Reply-To")
_PAGES = ("", "first", "last", "next", "previous")
_TRUE = ("yes", "true", "1", "on")
_SEND_OPTIONS = ("template", "t:version", "t:text", "t:variables")
Form = dict[str, list[str]]


def _version_json(version: Mapping[str, Any], *, content: bool = True) -> dict[str, Any]:
    shown = {"tag": version["tag"], "template": version["template"] if content else "", "engine": "handlebars",
             "mjml": "", "createdAt": rfc2822(version["createdAt"]), "comment": version["comment"],
             "active": version["active"], "id": version["id"]}
    if version.get("headers"):
        shown["headers"] = dict(version["headers"])
    return shown


def _template_json(template: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": template["name"], "description": template["description"],
            "createdAt": rfc2822(template["createdAt"]), "createdBy": template["createdBy"], "id": template["id"]}


def _lists(params: Any) -> Form:
    """Any form (a MultiDict or a dict of strings or lists) as ``{name: [values]}``, order kept."""
    getlist = getattr(params, "getlist", None)
    out: Form = {}
    for key in list(params.keys()):
        values = getlist(key) if callable(getlist) else params[key]
        out[str(key)] = [str(v) for v in values] if isinstance(values, (list, tuple)) else [str(values)]
    return out


class TemplateOperations(Context):
    """Templates and versions, per domain (``owner`` the domain) or for the account (``owner`` ``""``)."""

    def _owner(self, owner: str) -> str:
        if owner:
            self.check_domain(owner)
        return owner.lower()

    def _page_url(self, owner: str, path: str = "") -> str:
        base = f"{self.base_url}/v3/{quote(owner, safe='')}/templates" if owner else f"{self.base_url}/v4/templates"
        return base + path

    @staticmethod
    def _paging(url: str, keys: list[str], pivot: str, limit: int) -> dict[str, str]:
        def link(page: str, p: str | None = None) -> str:
            query: dict[str, str | int] = {"limit": limit}
            if p is not None:
                query["p"] = p
            query["page"] = page
            return f"{url}?{urlencode(query)}"

        first, last = (keys[0], keys[-1]) if keys else (pivot, pivot)
        return {"first": link("first"), "last": link("last"), "next": link("next", last),
                "previous": link("previous", first)}

    @staticmethod
    def _page(keys: list[str], params: Mapping[str, Any]) -> tuple[list[str], str, int]:
        limit = integer(params.get("limit"), "limit", 100)
        if not 1 <= limit <= 100:
            raise BadRequest("limit must be between 1 and 100")
        page, pivot = str(params.get("page") or ""), str(params.get("p") or "")
        if page not in _PAGES:
            raise BadRequest(f"Invalid page parameter {printable(page, 40)!r}: use first, last, next or previous")
        if page == "next":
            keys = [k for k in keys if k > pivot][:limit]
        elif page == "previous":
            keys = [k for k in keys if k < pivot][-limit:]
        elif page == "last":
            keys = keys[-limit:]
        else:
            keys = keys[:limit]
        return keys, pivot, limit

    def _template(self, owner: str, name: str) -> dict[str, Any]:
        template = self.store.resources.templates.get(self._owner(owner), name)
        if template is None:
            raise NotFound("template not found")
        return template

    def _new_version(self, form: Mapping[str, Any], tag: str | None) -> dict[str, Any]:
        source = str(form.get("template") or "")
        if not source:
            raise BadRequest("Missing mandatory parameter: template")
        check_template(source)
        tag = (tag or "").strip().lower()
        if not tag or "/" in tag or len(tag) > 255:
            raise BadRequest("Missing mandatory parameter: tag" if not tag else "tag must be 1 to 255 characters, no /")
        version = {"tag": tag, "template": source, "comment": str(form.get("comment") or ""),
                   "createdAt": self.clock.now(), "id": str(uuid.uuid4()), "headers": self._headers(form)}
        if str(form.get("active") or "").lower() in _TRUE:
            version["active"] = True
        return version

    @staticmethod
    def _headers(form: Mapping[str, Any]) -> dict[str, str]:
        raw = form.get("headers")
        if raw in (None, ""):
            return {}
        try:
            headers = json.loads(str(raw))
        except (ValueError, RecursionError):
            headers = None
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise BadRequest("'headers' must be a JSON object of header names to strings")
        for name in headers:
            if name not in _HEADERS:
                raise BadRequest(f"header {printable(str(name), 40)!r} is not supported: use {', '.join(_HEADERS)}")
        return headers

    # -- templates ------------------------------------------------------------------------

    def list_templates(self, owner: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """``GET …/templates``: a page of templates by name (``page``, ``p``, ``limit`` ≤ 100)."""
        templates = {t["name"]: t for t in self.store.resources.templates.all(self._owner(owner))}
        keys, pivot, limit = self._page(sorted(templates), params)
        return {"items": [_template_json(templates[k]) for k in keys],
                "paging": self._paging(self._page_url(owner), keys, pivot, limit)}

    def create_template(self, owner: str, form: Mapping[str, Any]) -> dict[str, Any]:
        """``POST …/templates``: ``name`` (down-cased), ``description``, and optionally a first version
        (``template``, ``tag`` default ``initial``, ``comment``, ``headers``)."""
        owner = self._owner(owner)
        name = str(form.get("name") or "").strip().lower()
        if not name:
            raise BadRequest("Missing mandatory parameter: name")
        if "/" in name or len(name) > 255:
            raise BadRequest("name must be 1 to 255 characters, no /")
        template = {"name": name, "description": str(form.get("description") or ""), "createdAt": self.clock.now(),
                    "createdBy": str(form.get("createdBy") or ""), "id": str(uuid.uuid4())}
        version = self._new_version(form, str(form.get("tag") or "initial")) if form.get("template") else None
        problem = self.store.resources.templates.create(owner, template, version)
        if problem == "exists":
            raise BadRequest(f"template with name '{name}' already exists")
        if problem == "limit":
            raise BadRequest(f"template limit reached: at most {MAX_TEMPLATES} templates")
        shown = _template_json(template)
        if version is not None:
            shown["version"] = _version_json({**version, "active": True})
        return {"message": "template has been stored", "template": shown}

    def get_template(self, owner: str, name: str, active: str | None = None) -> dict[str, Any]:
        """``GET …/templates/<name>``; ``active=yes`` adds the active version with its content."""
        template = self._template(owner, name)
        shown = _template_json(template)
        if str(active or "").lower() in _TRUE:
            version = next((v for v in template["versions"].values() if v["active"]), None)
            if version is not None:
                shown["version"] = _version_json(version)
        return {"template": shown}

    def update_template(self, owner: str, name: str, description: str | None) -> dict[str, Any]:
        """``PUT …/templates/<name>``: a new description."""
        template = self._template(owner, name)
        self.store.resources.templates.update(self._owner(owner), template["name"], description or "")
        return {"message": "template has been updated", "template": {"name": template["name"]}}

    def delete_template(self, owner: str, name: str | None = None) -> dict[str, Any]:
        """``DELETE …/templates/<name>``, or every template of the owner without a name."""
        if name is None:
            self.store.resources.templates.delete(self._owner(owner))
            return {"message": "templates have been deleted"}
        template = self._template(owner, name)
        self.store.resources.templates.delete(self._owner(owner), template["name"])
        return {"message": "template has been deleted", "template": {"name": template["name"]}}

    # -- versions -------------------------------------------------------------------------

    def _version_problem(self, problem: str | None, tag: str) -> None:
        if problem == "missing":
            raise NotFound("template not found")
        if problem == "unknown":
            raise NotFound("version not found")
        if problem == "exists":
            raise BadRequest(f"version '{tag}' already exists")
        if problem == "limit":
            raise BadRequest(f"version limit reached: at most {MAX_VERSIONS} versions per template")

    def list_versions(self, owner: str, name: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """``GET …/templates/<name>/versions``: a page of versions by tag (``page``, ``p``, ``limit``)."""
        template = self._template(owner, name)
        keys, pivot, limit = self._page(sorted(template["versions"]), params)
        shown = {**_template_json(template),
                 "versions": [_version_json(template["versions"][k], content=False) for k in keys]}
        url = self._page_url(owner, f"/{quote(template['name'], safe='')}/versions")
        return {"template": shown, "paging": self._paging(url, keys, pivot, limit)}

    def create_version(self, owner: str, name: str, form: Mapping[str, Any]) -> dict[str, Any]:
        """``POST …/templates/<name>/versions``: ``template``, ``tag``, ``comment``, ``active``, ``headers``."""
        template = self._template(owner, name)
        version = self._new_version(form, str(form.get("tag") or ""))
        self._version_problem(self.store.resources.templates.put_version(
            self._owner(owner), template["name"], version, create=True), version["tag"])
        stored = self._template(owner, name)
        return {"message": "new version of the template has been stored",
                "template": {**_template_json(stored), "version": _version_json(stored["versions"][version["tag"]])}}

    def get_version(self, owner: str, name: str, tag: str) -> dict[str, Any]:
        """``GET …/templates/<name>/versions/<tag>``: the version with its content."""
        template = self._template(owner, name)
        version = template["versions"].get(tag.lower())
        if version is None:
            raise NotFound("version not found")
        return {"template": {**_template_json(template), "version": _version_json(version)}}

    def update_version(self, owner: str, name: str, tag: str, form: Mapping[str, Any]) -> dict[str, Any]:
        """``PUT …/versions/<tag>``: new ``template``, ``comment``, ``active`` or ``headers``."""
        template = self._template(owner, name)
        tag = tag.lower()
        change: dict[str, Any] = {"tag": tag}
        if form.get("template") not in (None, ""):
            check_template(str(form["template"]))
            change["template"] = str(form["template"])
        if form.get("comment") is not None:
            change["comment"] = str(form["comment"])
        if form.get("headers") is not None:
            change["headers"] = self._headers(form)
        if str(form.get("active") or "").lower() in _TRUE:
            change["active"] = True
        self._version_problem(self.store.resources.templates.put_version(
            self._owner(owner), template["name"], change, create=False), tag)
        return {"message": "version has been updated", "template": {"name": template["name"], "version": {"tag": tag}}}

    def delete_version(self, owner: str, name: str, tag: str) -> dict[str, Any]:
        """``DELETE …/versions/<tag>``."""
        template = self._template(owner, name)
        self._version_problem(self.store.resources.templates.delete_version(
            self._owner(owner), template["name"], tag.lower()), tag)
        return {"message": "version has been deleted", "template": {"name": template["name"],
                                                                   "version": {"tag": tag.lower()}}}

    def copy_version(self, owner: str, name: str, tag: str, new_tag: str, comment: str | None) -> dict[str, Any]:
        """``PUT …/versions/<tag>/copy/<new_tag>``: a copy under a new tag (an existing one is replaced)."""
        template = self._template(owner, name)
        source = template["versions"].get(tag.lower())
        if source is None:
            raise NotFound("version not found")
        new_tag = new_tag.strip().lower()
        if not new_tag or len(new_tag) > 255:
            raise BadRequest("the new version's tag must be 1 to 255 characters")
        copied = {**source, "tag": new_tag, "active": False, "id": str(uuid.uuid4()), "createdAt": self.clock.now(),
                  "comment": source["comment"] if comment is None else comment}
        copied.pop("active")
        exists = new_tag in template["versions"]
        self._version_problem(self.store.resources.templates.put_version(
            self._owner(owner), template["name"], copied, create=not exists), new_tag)
        stored = self._template(owner, name)["versions"][new_tag]
        # The document's schema wants "template" beside "version" but gives it a version's shape; null fits it.
        return {"message": "version has been copied", "version": _version_json(stored), "template": None}

    # -- sending --------------------------------------------------------------------------

    def templated_form(self, domain: str, params: Any) -> Any:
        """A send's form with its ``template`` rendered in: ``html`` (and ``text`` with ``t:text=yes``),
        ``from``/``subject``/``Reply-To`` from the version's headers unless the send has them, and
        ``X-Mailgun-Template-Name``/``-Variables`` headers. A form without ``template`` is returned as is.

        :raises BadRequest: for ``html`` beside ``template``, an unknown template or version, or bad variables.
        """
        form = _lists(params)
        name = next(iter(form.get("template", [])), "")
        if not name:
            return params
        if any(form.get("html", [])):
            raise BadRequest("Only one parameters 'html' or 'template' is allowed")
        tag = next(iter(form.get("t:version", [])), None) or None
        headers = [(key[2:], value) for key, values in form.items() if key.startswith("h:") for value in values]
        user = {key[2:]: values[0] for key, values in form.items() if key.startswith("v:") and values}
        t_variables = next(iter(form.get("t:variables", [])), None)
        template, version, html = self._render(domain, name, tag, user, headers, t_variables)
        out = {key: values for key, values in form.items() if key not in _SEND_OPTIONS}
        out["html"] = [html]
        if next(iter(form.get("t:text", [])), "").lower() in _TRUE and not any(out.get("text", [])):
            out["text"] = [text_version(html)]
        stored = version.get("headers", {})
        if not any(v.strip() for v in out.get("from", [])):
            out["from"] = [stored.get("From") or f"postmaster@{domain.lower()}"]
        if not any(out.get("subject", [])) and stored.get("Subject"):
            out["subject"] = [stored["Subject"]]
        if stored.get("Reply-To") and not any(name.lower() == "reply-to" for name, _ in headers):
            out["h:Reply-To"] = [stored["Reply-To"]]
        out["h:X-Mailgun-Template-Name"] = [template["name"]]
        if t_variables is not None:
            out["h:X-Mailgun-Template-Variables"] = [t_variables]
        return out

    def templated_mime(self, req: SendRequest) -> SendRequest:
        """A ready message (``messages.mime``, the SMTP relay) that names a template (``template`` or
        ``X-Mailgun-Template-Name``), rendered as ``/messages`` renders one: the version's HTML
        becomes the body beside the message's own text part (or, with ``t:text``, a text version),
        attachments stay, From/Subject/Reply-To come from the version's headers when the message has
        none, and ``X-Mailgun-Template-Name``/``-Variables`` say what was used.

        :raises BadRequest: for an unknown template or version, or bad variables.
        """
        choice, mime = req.template, req.mime
        assert choice is not None and mime is not None
        variables = [(name, decode_header_value(value)) for name, value in split_head(mime)[0]
                     if name.lower() == "x-mailgun-variables"]
        template, version, html = self._render(req.domain, choice.name, choice.version, req.user_variables, variables,
                                               choice.variables)
        text = text_body(mime)
        if text is None and choice.text:
            text = text_version(html)
        present = {name.lower() for name, _ in split_head(mime)[0]}
        stored = version.get("headers", {})
        headers: list[tuple[str, str | None]] = [("X-Mailgun-Template-Name", template["name"]),
                                                 ("X-Mailgun-Template-Variables", choice.variables)]
        if "from" not in present:
            headers.append(("From", stored.get("From") or f"postmaster@{req.domain.lower()}"))
        headers += [(name, stored[name]) for name in ("Subject", "Reply-To") if name.lower() not in present
                    and stored.get(name)]
        try:
            raw = replace_body(mime, html=html, text=text, headers=headers)
        except (ValueError, TypeError, IndexError) as exc:  # a header the stdlib cannot write again
            raise BadRequest(f"cannot build the message: {exc}") from exc
        parsed = ParsedMessage(raw)
        return dataclasses.replace(req, mime=raw, template=None, from_=parsed.from_, subject=parsed.subject,
                                   sender=req.sender or next(iter(parsed.addresses("From")), ""))

    def _render(self, domain: str, name: str, tag: str | None, user: Mapping[str, str],
                headers: list[tuple[str, str]], t_variables: str | None) -> tuple[dict[str, Any], dict[str, Any], str]:
        """The template, the version and its HTML for a send's ``template``/``t:version``.

        :raises BadRequest: for an unknown template or version, or bad variables.
        """
        found = self.store.resources.templates.resolve([domain.lower(), ""], name, tag.lower() if tag else None)
        if isinstance(found, str):
            raise BadRequest({"missing": f"template '{printable(name, 100)}' not found",
                              "unknown": f"template version '{printable(tag or '', 100)}' not found",
                              "inactive": f"template '{printable(name, 100)}' has no active version"}[found])
        template, version = found
        return template, version, render(version["template"], template_variables(user, headers, t_variables))
