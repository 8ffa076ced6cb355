"""Stored templates and their versions, per domain and at account level (a store section).

Records are plain JSON: ``templates[owner][name]`` is ``{"name", "description", "createdAt",
"createdBy", "id", "versions": {tag: version}, "order": [tag, …]}``, where ``owner`` is a domain
(lower-case) or ``""`` for the account's templates (``/v4/templates``), ``createdAt`` epoch seconds,
and a version is ``{"tag", "template", "engine", "mjml", "createdAt", "comment", "active", "id",
"headers"}``. At most one version is active; the first one is.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from .section import Section

__all__ = ["MAX_TEMPLATES", "MAX_VERSIONS", "Templates"]

#: Mailgun's limits: templates per domain, versions per template.
MAX_TEMPLATES = 100
MAX_VERSIONS = 40


class Templates(Section):
    """Templates by owner and name; every method takes the store's lock and answers copies.

    Methods that refuse answer a short reason (``exists``, ``limit``, ``missing``…) for the backend to
    turn into Mailgun's message.
    """

    name = "templates"

    @classmethod
    def decode(cls, data: Any) -> dict[str, Any]:
        decoded = super().decode(data)
        for owner, templates in decoded.items():
            if not isinstance(templates, dict) or not all(
                    isinstance(t, dict) and isinstance(t.get("versions"), dict) and isinstance(t.get("order"), list)
                    for t in templates.values()):
                raise ValueError(f"templates: {owner!r} must map names to templates with versions and order")
        return decoded

    def _owned(self, owner: str) -> dict[str, Any]:
        owned: dict[str, Any] = self._data.setdefault(owner.lower(), {})
        return owned

    def _find(self, owner: str, name: str) -> dict[str, Any] | None:
        templates = self._data.get(owner.lower(), {})
        found: dict[str, Any] | None = templates.get(name.lower())
        if found is None:  # Mailgun also finds a template by its id
            found = next((t for t in templates.values() if t["id"] == name), None)
        return found

    def get(self, owner: str, name: str) -> dict[str, Any] | None:
        """A template (by name or id) with its versions, or ``None``."""
        with self._lock:
            found = self._find(owner, name)
            return None if found is None else copy.deepcopy(found)

    def all(self, owner: str) -> list[dict[str, Any]]:
        """Every template of ``owner``, by name."""
        with self._lock:
            templates = self._data.get(owner.lower(), {})
            return [copy.deepcopy(templates[key]) for key in sorted(templates)]

    def create(self, owner: str, template: dict[str, Any], version: dict[str, Any] | None) -> str | None:
        """Add a template (and its first version); ``None``, or why not: ``exists`` or ``limit``."""
        with self._lock:
            owned = self._owned(owner)
            if template["name"] in owned:
                return "exists"
            if len(owned) >= MAX_TEMPLATES:
                return "limit"
            record = {**template, "versions": {}, "order": []}
            if version is not None:
                record["versions"][version["tag"]] = {**version, "active": True}
                record["order"].append(version["tag"])
            owned[template["name"]] = record
            self._changed()
            return None

    def update(self, owner: str, name: str, description: str) -> bool:
        """Change a template's description; whether it exists."""
        with self._lock:
            found = self._find(owner, name)
            if found is None:
                return False
            found["description"] = description
            self._changed()
            return True

    def delete(self, owner: str, name: str | None = None) -> int:
        """Delete one template (``None``: every one of ``owner``); answers how many went."""
        with self._lock:
            owned = self._data.get(owner.lower(), {})
            if name is None:
                gone = len(owned)
                owned.clear()
            else:
                found = self._find(owner, name)
                gone = 0 if found is None else int(owned.pop(found["name"], None) is not None)
            if gone:
                self._changed()
            return gone

    def put_version(self, owner: str, name: str, version: dict[str, Any], *, create: bool) -> str | None:
        """Add (``create``) or replace a version; ``None``, or why not: ``missing`` (template),
        ``exists``, ``limit``, ``unknown`` (version). An active version makes the others inactive."""
        with self._lock:
            found = self._find(owner, name)
            if found is None:
                return "missing"
            versions: dict[str, Any] = found["versions"]
            tag = version["tag"]
            if create and tag in versions:
                return "exists"
            if not create and tag not in versions:
                return "unknown"
            if create and len(versions) >= MAX_VERSIONS:
                return "limit"
            merged = {**versions.get(tag, {}), **version}
            merged["active"] = bool(merged.get("active")) or not versions or versions.get(tag, {}).get("active", False)
            if merged["active"]:
                for other in versions.values():
                    other["active"] = False
            versions[tag] = merged
            if tag not in found["order"]:
                found["order"].append(tag)
            self._changed()
            return None

    def delete_version(self, owner: str, name: str, tag: str) -> str | None:
        """Delete a version (the newest left becomes active if it was); ``None``, or ``missing``/``unknown``."""
        with self._lock:
            found = self._find(owner, name)
            if found is None:
                return "missing"
            removed = found["versions"].pop(tag, None)
            if removed is None:
                return "unknown"
            found["order"].remove(tag)
            if removed["active"] and found["order"]:
                found["versions"][found["order"][-1]]["active"] = True
            self._changed()
            return None

    def resolve(self, owners: Mapping[str, None] | list[str], name: str, tag: str | None) -> tuple[
            dict[str, Any], dict[str, Any]] | str:
        """The template and version a send names: the first owner that has ``name`` (name or id),
        version ``tag`` or the active one. Answers ``(template, version)`` or why not: ``missing``,
        ``unknown`` (no such version) or ``inactive`` (no active version)."""
        with self._lock:
            for owner in owners:
                found = self._find(owner, name)
                if found is None:
                    continue
                versions = found["versions"]
                if tag is not None:
                    version = versions.get(tag)
                    if version is None:
                        return "unknown"
                else:
                    version = next((v for v in versions.values() if v["active"]), None)
                    if version is None:
                        return "inactive"
                return copy.deepcopy(found), copy.deepcopy(version)
            return "missing"
